#!/bin/sh
# Build a noise bank of hark's train clips plus babble of real voices: three 30 s clips of six
# talkers each, drawn from the real-speech TRAIN split (the voice-acted games; game audio is never
# committed, so the clips are made here). Test noise types are not copied.
#
#   scripts/make-real-babble-bank.sh /work/corpus/games/real-train.jsonl /work/runs/bank-real
#
# Used by models/streaming's speech head and models/digits (see their cards).
#
# With a third argument, a TRAIN manifest of other voices (such as the Kokoro voices of
# `hark corpus synth --engines kokoro`), three more clips of 4, 6 and 8 of its talkers join the
# bank as type babble-extra:
#
#   scripts/make-real-babble-bank.sh REAL_TRAIN.jsonl DIR /work/corpus/synth-k1/train.jsonl
set -eu
train=$1
out=$2
extra=${3:-}
hark=${HARK:-target/release/hark}
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$out"
for seed in 1 2 3; do
    "$hark" --threads 1 corpus babble --manifest "$train" --talkers 6 --seconds 30 \
        --seed "$seed" --out "$out/babble_real$seed.wav"
done
if [ -n "$extra" ]; then
    for talkers in 4 6 8; do
        "$hark" --threads 1 corpus babble --manifest "$extra" --talkers "$talkers" --seconds 30 \
            --seed "$talkers" --out "$out/babble_extra$talkers.wav"
    done
fi
python3 - "$repo/audio/noise" "$out" "$extra" <<'PY'
import json, os, sys
src, out, extra = sys.argv[1], sys.argv[2], sys.argv[3]
bank = json.load(open(os.path.join(src, "bank.json")))
clips = [c for c in bank["clips"] if c["split"] == "train"]
for c in clips:
    link = os.path.join(out, c["file"])
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.join(src, c["file"]), link)
# The babble clips made above are registered by their file names, so the talker counts and seeds
# live only in the shell loops.
kinds = [("babble_real", "babble-real")] + ([("babble_extra", "babble-extra")] if extra else [])
for prefix, kind in kinds:
    for f in sorted(os.listdir(out)):
        stem = f[: -len(".wav")] if f.endswith(".wav") else ""
        if stem.startswith(prefix) and stem[len(prefix):].isdigit():
            clips.append({"name": stem.replace("_", "-"), "file": f, "type": kind, "split": "train"})
about = ("hark's train noise clips (links into audio/noise) plus 6-talker babble of real-train "
         "voices made by scripts/make-real-babble-bank.sh")
if extra:
    about += f", and 4-, 6- and 8-talker babble of {extra}'s voices"
json.dump({"about": about, "clips": clips}, open(os.path.join(out, "bank.json"), "w"), indent=1)
print(f"{len(clips)} train clips in {out}/bank.json")
PY
