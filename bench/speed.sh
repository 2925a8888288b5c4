#!/usr/bin/env bash
# hark's speed beside its peers, measured in the same run, as ratios:
#   1. MFCC: hark vs torchaudio's Kaldi-compatible MFCC and librosa (same audio, one thread);
#   2. training step of the default architecture: hark on flex (and LibTorch with TCH=1) vs the
#      same model in PyTorch (bench/pytorch_train_step.py), on 1 and 2 threads;
#   3. peak memory (RSS) of `hark transcribe` and of the training-step benchmarks.
# Transcription RTF against PocketSphinx and Whisper tiny.en is bench/peers.sh.
#
# Usage: bench/speed.sh            (TCH=1 adds hark on LibTorch; needs a C toolchain)
# Sets up LibTorch/PyTorch with scripts/setup-libtorch.sh and installs librosa into its venv.
set -euo pipefail
cd "$(dirname "$0")/.."

[ -f .libtorch-env ] || scripts/setup-libtorch.sh
# shellcheck disable=SC1091
source .libtorch-env
PY="$HARK_TORCH_PYTHON"
"$PY" -c 'import librosa' 2>/dev/null \
    || "$PY" -m pip install -q --no-cache-dir --disable-pip-version-check librosa==0.11.0
FEATURES=()
[ "${TCH:-0}" = 1 ] && FEATURES=(--features tch)
cargo build --release --quiet
# The benches below may rebuild target/release/hark with LibTorch linked in (TCH=1); the memory
# row measures the default build, so keep a copy of it.
HARK_BIN="$(mktemp -d)/hark"
cp target/release/hark "$HARK_BIN"
cargo bench --no-run --quiet "${FEATURES[@]}" --bench mfcc --bench train_step 2>/dev/null || true
bench_exe() {
    cargo bench --no-run "${FEATURES[@]}" --bench "$1" 2>&1 \
        | sed -n "s/.*Executable.*(\(target\/release\/deps\/$1-[0-9a-f]*\)).*/\1/p" | tail -1
}
MFCC_EXE="$(bench_exe mfcc)"
STEP_EXE="$(bench_exe train_step)"

# Peak RSS (MiB) of a command, whose output goes to stderr.
peak() {
    python3 - "$@" <<'PY'
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=sys.stderr, check=True)
print(f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.1f}")
PY
}
num() { grep -o "$1" | head -1 | grep -o '[0-9.]*' | head -1; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)"
echo "== load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== 1. MFCC (39-dim with deltas and CMVN, 10 s of speech, one thread)"
hark_mfcc="$(OMP_NUM_THREADS=1 "$MFCC_EXE" nomatch 2>/dev/null | grep '^mfcc:')"
echo "hark: ${hark_mfcc#mfcc: }"
peers_mfcc="$("$PY" bench/mfcc_peers.py)"
echo "$peers_mfcc"
h="$(echo "$hark_mfcc" | num '[0-9]*x real')"
ta="$(echo "$peers_mfcc" | grep torchaudio | num '[0-9]*x real')"
lr="$(echo "$peers_mfcc" | grep librosa | num '[0-9]*x real')"
echo "ratio hark/torchaudio: $(ratio "$h" "$ta")x   hark/librosa: $(ratio "$h" "$lr")x"

echo "== 2. training step (2-layer BiGRU 192, stack 3, batch 16 x 300 frames, CTC + AdamW)"
for threads in 1 2; do
    hark_out="$(HARK_BENCH_THREADS=$threads "$STEP_EXE" 2>/dev/null)"
    torch_out="$(OMP_NUM_THREADS=$threads "$PY" bench/pytorch_train_step.py --threads "$threads")"
    t="$(echo "$torch_out" | num '[0-9.]* ms')"
    echo "$torch_out"
    echo "$hark_out" | grep 'on ' | while read -r line; do
        ms="$(echo "$line" | num '[0-9.]* ms')"
        echo "hark $line ($threads thread(s)): ratio hark/pytorch $(ratio "$ms" "$t")"
    done
done

echo "== 3. peak memory (RSS)"
echo "hark transcribe audio/samples/*.wav: $(peak "$HARK_BIN" transcribe audio/samples/*.wav 2>/dev/null) MiB"
echo "hark training-step benchmark: $(HARK_BENCH_THREADS=1 peak "$STEP_EXE" 2>/dev/null) MiB"
echo "pytorch training-step script: $(peak "$PY" bench/pytorch_train_step.py --threads 1 2>/dev/null) MiB"
echo "== load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
