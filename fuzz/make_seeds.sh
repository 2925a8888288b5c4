#!/usr/bin/env bash
# Seed corpora for the fuzz targets, from the test fixtures. Run from the repository root
# after `cargo build --release`; writes fuzz/corpus/{wav_pipeline,manifest_line,model_files}.
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/corpus
mkdir -p "$out/wav_pipeline" "$out/manifest_line" "$out/model_files"
python3 fuzz/make_wav_seeds.py "$out/wav_pipeline"
# Manifest lines: the fixtures' own, plus the shapes importers write.
i=0
while IFS= read -r line; do
  printf '%s' "$line" > "$out/manifest_line/fixture-$i"; i=$((i + 1))
done < tests/fixtures/overfit.jsonl
printf '%s' '{"audio": "a.wav", "text": "Dr. Smith paid $3.50 on 12/25!", "duration": 2.5, "speaker": "x"}' > "$out/manifest_line/numbers"
printf '%s' '{"audio": "", "text": ""}' > "$out/manifest_line/empty-fields"
# Model files: a real (tiny) model directory made by `hark train`, as config, NUL, weights.
tmp=$(mktemp -d)
target/release/hark train --train tests/fixtures/overfit.jsonl --out "$tmp/m" \
  --hidden 4 --layers 1 --max-steps 1 --epochs 1 --quiet > /dev/null
for mode in 0 1; do
  { printf "\\x0$mode"; cat "$tmp/m/config.json"; printf '\0'; cat "$tmp/m/model.bpk"; } \
    > "$out/model_files/tiny-mode$mode"
done
rm -rf "$tmp"
ls "$out"/* | wc -l
