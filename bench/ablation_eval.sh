#!/usr/bin/env bash
# Score the ablation's models (bench/ablation.sh) on the test voices: clean; seen noises (white,
# crowd) and unseen ones (babble, music, wind) at 20, 10, 5, 0 and -5 dB; and white-box PGD
# (3 steps) at three radii. Then one table and one plot for all of them.
# Usage: bench/ablation_eval.sh CORPUS_DIR OUT_DIR [MODEL_NAMES...]; TASK=digits scores on
# digits_test.jsonl instead of test.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=$1; out=$2; shift 2
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(a-clean b-augment c-adversarial d-bayes-dro)
hark=target/release/hark
test=$corpus/test.jsonl
[ "${TASK:-}" = digits ] && test=$corpus/digits_test.jsonl
reports=()
for name in "${names[@]}"; do
  [ -f "$out/$name/model.bpk" ] || { echo "skip $name: not trained" >&2; continue; }
  if [ ! -f "$out/$name.eval.json" ]; then
    "$hark" --threads 1 eval --model "$out/$name" --manifest "$test" --quiet \
      --snr clean,20,10,5,0,-5 --noise white,crowd,babble,music,wind \
      --attack-eps 0.05,0.1,0.2 --attack-steps 3 --json "$out/$name.eval.json" \
      > "$out/$name.eval.txt"
  fi
  reports+=("$out/$name.eval.json")
done
"$hark" compare "${reports[@]}" --plot "$out/wer_by_snr.png" | tee "$out/table.md"
