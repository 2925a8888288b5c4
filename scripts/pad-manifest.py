#!/usr/bin/env python3
"""Copy a manifest's clips with room tone around them, for measuring how silence at an
utterance's edges changes recognition.

    python3 scripts/pad-manifest.py IN.jsonl OUT_DIR [--seconds 2] [--peak 100] [--seed 5]

Writes OUT_DIR/<line number>-<name>.wav for every clip (16 kHz mono 16-bit WAV in, the same out), with
`--seconds` of uniform noise of at most `--peak` 16-bit steps (100: about -55 dBFS RMS) before
and after it, and OUT_DIR/<IN's name> with the audio paths and durations updated. Relative audio
paths are read against IN's folder.
"""
import argparse
import json
import os
import random
import struct
import sys
import wave


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("out_dir")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--peak", type=int, default=100)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    base = os.path.dirname(os.path.abspath(args.manifest))
    os.makedirs(args.out_dir, exist_ok=True)
    peak = args.peak

    def tone(n):
        return struct.pack(f"<{n}h", *(rng.randint(-peak, peak) for _ in range(n)))

    out_manifest = os.path.join(args.out_dir, os.path.basename(args.manifest))
    pad = int(args.seconds * 16000)
    with open(args.manifest) as f, open(out_manifest, "w") as out:
        for number, line in enumerate(f):
            entry = json.loads(line)
            src = os.path.join(base, entry["audio"])
            with wave.open(src, "rb") as w:
                if w.getframerate() != 16000 or w.getnchannels() != 1 or w.getsampwidth() != 2:
                    sys.exit(f"{src}: 16 kHz mono 16-bit WAV needed")
                audio = w.readframes(w.getnframes())
            dst = os.path.join(args.out_dir, f"{number:06d}-{os.path.basename(src)}")
            with wave.open(dst, "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(16000)
                w.writeframes(tone(pad) + audio + tone(pad))
            entry["audio"] = os.path.abspath(dst)
            if "duration" in entry:
                entry["duration"] = round(entry["duration"] + 2 * args.seconds, 3)
            out.write(json.dumps(entry) + "\n")
    print(f"wrote {out_manifest}")


if __name__ == "__main__":
    main()
