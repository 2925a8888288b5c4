#!/usr/bin/env bash
# The robust-training ablation: four models, same data, same architecture, same epochs.
#   (a) clean only; (b) + noise, reverberation and channel augmentation; (c) (b) + PGD
#   adversarial batches; (d) (c) + Gaussian weight noise + group DRO.
# Usage: bench/ablation.sh CORPUS_DIR OUT_DIR [EPOCHS]
# CORPUS_DIR is a `hark corpus synth` output; training uses a seeded 4,000-utterance subset
# of its train.jsonl (train-4k.jsonl, made here if missing) and dev.jsonl. With TASK=digits it
# uses the connected-digit sets instead (digits_train.jsonl, digits_dev.jsonl). Logs go to
# OUT_DIR/*.log.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=$1; out=$2; epochs=${3:-5}
mkdir -p "$out"
train=$corpus/train-4k.jsonl; dev=$corpus/dev.jsonl
if [ "${TASK:-}" = digits ]; then
  train=$corpus/digits_train.jsonl; dev=$corpus/digits_dev.jsonl
elif [ ! -f "$train" ]; then
  python3 -c "
import random, sys
lines = open(sys.argv[1] + '/train.jsonl').read().splitlines()
random.Random(0).shuffle(lines)
open(sys.argv[1] + '/train-4k.jsonl', 'w').write('\n'.join(lines[:4000]) + '\n')" "$corpus"
fi
hark=target/release/hark
common=(--threads 1 train --train "$train" --dev "$dev"
        --epochs "$epochs" --hidden 128 --layers 2 --dropout 0.2 --speed-prob 0.5 --quiet)
augment=(--noise-bank audio/noise --noise-prob 0.7 --snr-range=-5,30
         --reverb-prob 0.3 --channel-prob 0.3 --spec-augment-prob 0.5)
adversarial=(--adversarial pgd --adv-epsilon 0.1 --adv-steps 2 --adv-ratio 0.5)
bayes=(--weight-noise 0.01 --dro)
# --resume: an interrupted run continues, a finished one returns at once.
run() { local name=$1; shift
        "$hark" "${common[@]}" --out "$out/$name" --resume "$@" 2>> "$out/$name.log"; }
run a-clean --noise-prob 0
run b-augment "${augment[@]}"
run c-adversarial "${augment[@]}" "${adversarial[@]}"
run d-bayes-dro "${augment[@]}" "${adversarial[@]}" "${bayes[@]}"
