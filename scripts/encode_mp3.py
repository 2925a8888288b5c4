#!/usr/bin/env python3
"""A manifest's audio as low-bit-rate MP3, with a manifest that points at the copies.

    python3 scripts/encode_mp3.py IN.jsonl OUT_DIR [--rate 11025] [--kbps 16] [--every N]

Writes OUT_DIR/NNNNN.mp3 and OUT_DIR/manifest.jsonl (paths relative to OUT_DIR, every other
field kept). hark reads MP3 in manifests directly, so a corpus can travel small: real-train of
the games corpus (3.7 h, band-limited to 5.5 kHz) is 27 MB at 11,025 Hz and 16 kbit/s, the
games' own FOTAQ rate, against 420 MB of 16 kHz WAVs. Needs `sox` and PyPI's `lameenc`.
"""
import argparse
import json
import os
import subprocess
from concurrent.futures import ProcessPoolExecutor

import lameenc


def encode(job):
    src, dst, rate, kbps = job
    pcm = subprocess.run(
        ["sox", src, "-r", str(rate), "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-"],
        check=True, capture_output=True).stdout
    enc = lameenc.Encoder()
    enc.set_bit_rate(kbps)
    enc.set_in_sample_rate(rate)
    enc.set_channels(1)
    enc.set_quality(2)
    with open(dst, "wb") as f:
        f.write(enc.encode(pcm) + enc.flush())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("manifest")
    ap.add_argument("out")
    ap.add_argument("--rate", type=int, default=11025)
    ap.add_argument("--kbps", type=int, default=16)
    ap.add_argument("--every", type=int, default=1, help="keep every N-th line")
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    base = os.path.dirname(os.path.abspath(a.manifest))
    entries = [json.loads(l) for l in open(a.manifest) if l.strip()][:: a.every]
    jobs, lines = [], []
    for i, e in enumerate(entries):
        name = f"{i:05d}.mp3"
        jobs.append((os.path.join(base, e["audio"]), os.path.join(a.out, name), a.rate, a.kbps))
        lines.append(json.dumps(dict(e, audio=name)) + "\n")
    with ProcessPoolExecutor(a.jobs) as ex:
        list(ex.map(encode, jobs, chunksize=32))
    with open(os.path.join(a.out, "manifest.jsonl"), "w") as f:
        f.writelines(lines)
    print(f"{len(lines)} clips in {a.out}")


if __name__ == "__main__":
    main()
