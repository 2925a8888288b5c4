#!/usr/bin/env bash
# Training step on a CUDA GPU: hark (LibTorch through burn-tch, cuDNN recurrence) against the
# same model in PyTorch on the same GPU, in one run. For a GPU machine without a Rust toolchain,
# the benchmark is built elsewhere against the same LibTorch as the machine's PyTorch:
#
#   LIBTORCH=<a CUDA LibTorch> cargo bench --features tch --bench train_step --no-run
#   bench/gpu.sh <path of the train_step executable>      (on the GPU machine)
#
# Prints hark's and PyTorch's milliseconds per step and their ratio, for the default
# architecture (2 x 192) and the built-in model's (4 x 256), at batch 16 and 64.
set -euo pipefail
STEP_EXE="${1:?usage: bench/gpu.sh TRAIN_STEP_EXE}"
PY="${PYTHON:-python3}"
cd "$(dirname "$0")/.."
num() { grep -o "$1" | head -1 | grep -o '[0-9.]*' | head -1; }
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }

echo "== GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null || echo unknown)"
for shape in "2 192" "4 256"; do
    read -r layers hidden <<<"$shape"
    for batch in 16 64; do
        hark_out="$(HARK_BENCH_DEVICES=cuda:0 HARK_BENCH_BATCH=$batch HARK_BENCH_LAYERS=$layers \
            HARK_BENCH_HIDDEN=$hidden "$STEP_EXE" 2>&1 | grep 'on cuda')"
        torch_out="$("$PY" bench/pytorch_train_step.py --device cuda --batch "$batch" \
            --layers "$layers" --hidden "$hidden")"
        h="$(echo "$hark_out" | num '[0-9.]* ms')"
        t="$(echo "$torch_out" | num '[0-9.]* ms')"
        echo "$layers x $hidden, batch $batch: hark $h ms, $torch_out; ratio hark/pytorch $(ratio "$h" "$t")"
    done
done
