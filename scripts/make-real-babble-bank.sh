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
# The babble clips, spelled once: the Python below registers exactly these.
real_talkers=6
real_seeds="1 2 3"
extra_talkers="4 6 8"
for seed in $real_seeds; do
    "$hark" --threads 1 corpus babble --manifest "$train" --talkers "$real_talkers" --seconds 30 \
        --seed "$seed" --out "$out/babble_real$seed.wav"
done
if [ -n "$extra" ]; then
    for talkers in $extra_talkers; do
        "$hark" --threads 1 corpus babble --manifest "$extra" --talkers "$talkers" --seconds 30 \
            --seed "$talkers" --out "$out/babble_extra$talkers.wav"
    done
else
    extra_talkers=""
fi
python3 - "$repo/audio/noise" "$out" "$extra" "$real_talkers" "$real_seeds" "$extra_talkers" <<'PY'
import json, os, sys
src, out, extra, real_talkers = sys.argv[1:5]
real_seeds, extra_talkers = sys.argv[5].split(), sys.argv[6].split()
bank = json.load(open(os.path.join(src, "bank.json")))
clips = [c for c in bank["clips"] if c["split"] == "train"]
for c in clips:
    link = os.path.join(out, c["file"])
    if os.path.lexists(link):
        os.remove(link)
    os.symlink(os.path.join(src, c["file"]), link)
for seed in real_seeds:
    clips.append({"name": f"babble-real{seed}", "file": f"babble_real{seed}.wav",
                  "type": "babble-real", "split": "train"})
for talkers in extra_talkers:
    clips.append({"name": f"babble-extra{talkers}", "file": f"babble_extra{talkers}.wav",
                  "type": "babble-extra", "split": "train"})
about = (f"hark's train noise clips (links into audio/noise) plus {real_talkers}-talker babble of "
         "real-train voices made by scripts/make-real-babble-bank.sh")
if extra:
    counts = ", ".join(f"{t}-" for t in extra_talkers[:-1]) + f" and {extra_talkers[-1]}-talker"
    about += f", and {counts} babble of {extra}'s voices"
json.dump({"about": about, "clips": clips}, open(os.path.join(out, "bank.json"), "w"), indent=1)
print(f"{len(clips)} train clips in {out}/bank.json")
PY
