#!/usr/bin/env python3
"""Long recordings: peak memory and real-time factor of `hark transcribe` at 1, 10 and 60 min.

Builds WAVs by laying utterances end to end with 0.3-1.2 s of room tone (-50 dBFS noise)
between them, runs the release binary on each (windowed, the default) and, for the shorter
ones, in one piece (`--window` longer than the file), and prints peak RSS (from wait4) and
RTF. With --manifest the utterances come from a JSONL manifest and the WER of the long
transcript is printed beside the WER of the same utterances recognised one by one.

    cargo build --release && python3 bench/longform.py [--manifest test.jsonl] [--minutes 1,10,60]

Stdlib only.
"""

import argparse
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import time
import wave

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HARK = os.path.join(ROOT, "target", "release", "hark")
SAMPLES = [
    ("audio/samples/clean_flite_rms_fox.wav", "the quick brown fox jumps over the lazy dog"),
    ("audio/samples/clean_festival_ked_lights.wav",
     "please turn off the lights in the kitchen before you leave"),
    ("audio/samples/noisy_flite_rms_fox_crowd_snr10.wav",
     "the quick brown fox jumps over the lazy dog"),
]


def read_pcm16(path):
    with wave.open(path, "rb") as w:
        if w.getframerate() != 16000 or w.getnchannels() != 1 or w.getsampwidth() != 2:
            sys.exit(f"{path}: the bench needs 16 kHz mono 16-bit WAV")
        return w.readframes(w.getnframes())


def room_tone(rng, n):
    return struct.pack(f"<{n}h", *(rng.randint(-100, 100) for _ in range(n)))


def build(path, utterances, minutes, seed=0):
    """Write `minutes` of utterances (cycled) separated by room tone; return the reference."""
    rng = random.Random(seed)
    target = int(minutes * 60 * 16000)
    refs, written = [], 0
    with wave.open(path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(16000)
        i = 0
        while written < target:
            audio, text = utterances[i % len(utterances)]
            gap = room_tone(rng, int(rng.uniform(0.3, 1.2) * 16000))
            out.writeframes(gap)
            out.writeframes(audio)
            written += (len(gap) + len(audio)) // 2
            refs.append(text)
            i += 1
    return " ".join(refs), written / 16000


def run(hark, wav_path, extra):
    """Run hark on one file; return (json line, wall seconds, peak RSS MiB)."""
    cmd = [hark, "--threads", "1", "transcribe", "--format", "json", *extra, wav_path]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        sys.exit(f"{' '.join(cmd)} failed: {err.decode()}")
    return json.loads(out), wall, usage.ru_maxrss / 1024


def wer(ref, hyp):
    r, h = ref.split(), hyp.split()
    prev = list(range(len(h) + 1))
    for i in range(1, len(r) + 1):
        cur = [i] + [0] * len(h)
        for j in range(1, len(h) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r[i - 1] != h[j - 1]))
        prev = cur
    return 100.0 * prev[-1] / max(1, len(r))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", help="JSONL with audio and text (default: audio/samples)")
    ap.add_argument("--minutes", default="1,10,60")
    ap.add_argument("--whole-up-to", type=float, default=10,
                    help="also run in one piece for files up to this many minutes")
    ap.add_argument("--hark", default=HARK, help="the hark binary (default: target/release/hark)")
    ap.add_argument("--hark-args", default="",
                    help="more `hark transcribe` flags, e.g. '--split-pause 0.5'")
    args = ap.parse_args()
    if not os.path.exists(args.hark):
        sys.exit("build first: cargo build --release")
    if args.manifest:
        base = os.path.dirname(os.path.abspath(args.manifest))
        utts = []
        with open(args.manifest) as f:
            for line in f:
                e = json.loads(line)
                utts.append((read_pcm16(os.path.join(base, e["audio"])), e["text"]))
    else:
        utts = [(read_pcm16(os.path.join(ROOT, p)), t) for p, t in SAMPLES]
    print(f"{len(utts)} utterances; hark --threads 1; machine: {os.cpu_count()} cores")
    print(f"{'audio':>8} {'mode':>10} {'RTF':>7} {'peak RSS MiB':>13} {'WER%':>6}")
    with tempfile.TemporaryDirectory() as tmp:
        for minutes in (float(m) for m in args.minutes.split(",")):
            path = os.path.join(tmp, f"long-{minutes:g}min.wav")
            ref, seconds = build(path, utts, minutes)
            more = args.hark_args.split()
            modes = [("windowed", more)]
            if minutes <= args.whole_up_to:
                modes.append(("one piece", [*more, "--window", str(seconds + 60)]))
            for mode, extra in modes:
                line, wall, rss = run(args.hark, path, extra)
                print(f"{minutes:>6g}min {mode:>10} {wall / seconds:>7.4f} {rss:>13.1f} "
                      f"{wer(ref, line['text']):>6.1f}", flush=True)


if __name__ == "__main__":
    main()
