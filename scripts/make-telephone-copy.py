#!/usr/bin/env python3
"""A telephone-channel copy of a manifest: every clip through sox to an 8 kHz G.711 mu-law WAV
with the 300-3400 Hz telephone band (the files a phone system or a voicemail export gives; hark
reads them since 2026-12-06). The transcript and the other fields are kept.

    python3 scripts/make-telephone-copy.py IN.jsonl OUT_DIR     # writes OUT_DIR/telephone.jsonl

Needs `sox` (apt-get install sox). Used for the digits model's telephone rows
(models/digits/README.md). A clip sox cannot read is reported and left out; the rest go on.
"""
import json
import os
import subprocess
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    manifest, out = sys.argv[1], os.path.abspath(sys.argv[2])
    base = os.path.dirname(os.path.abspath(manifest))
    os.makedirs(os.path.join(out, "wav"), exist_ok=True)
    written = skipped = 0
    with open(manifest) as src, open(os.path.join(out, "telephone.jsonl"), "w") as dst:
        for n, line in enumerate(src):
            if not line.strip():
                continue
            row = json.loads(line)
            audio = row["audio"] if os.path.isabs(row["audio"]) else os.path.join(base, row["audio"])
            wav = os.path.join(out, "wav", f"{n:05d}.wav")
            # -R: repeatable dither. -3 dB first: the band-pass can overshoot a clip at full scale.
            cmd = ["sox", "-R", "-V1", audio, "-r", "8000", "-c", "1", "-e", "mu-law", wav,
                   "gain", "-3", "sinc", "300-3400"]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode != 0:
                print(f"{audio}: sox failed, left out: {done.stderr.strip()}", file=sys.stderr)
                skipped += 1
                continue
            row["audio"] = wav
            dst.write(json.dumps(row) + "\n")
            written += 1
    print(f"{written} clips in {out}/telephone.jsonl ({skipped} left out)")
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main())
