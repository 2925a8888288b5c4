#!/usr/bin/env python3
"""How long do utterances go quiet inside? For each clip of a manifest, the longest stretch
between its first and last speech frame (10 ms) whose energy lies more than X dB below the clip's
active speech level (the mean power of frames within 35 dB of its peak). With noise mixed at
X dB SNR over active speech, such a stretch is as loud as the noise or quieter: a level-based
endpointer sees a pause there. Standard library only.

    python3 bench/inner_pauses.py MANIFEST.jsonl [X_DB ...]      # default X: 10 15 20
"""
import array
import json
import math
import sys
import wave
from pathlib import Path


def frame_db(path):
    with wave.open(str(path)) as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise ValueError("expected 16-bit mono WAV")
        hop = w.getframerate() // 100
        x = array.array("h", w.readframes(w.getnframes()))
    n = len(x) // hop
    if n == 0:
        raise ValueError("no audio (shorter than one 10 ms frame)")
    return [10 * math.log10(sum(v * v for v in x[i * hop:(i + 1) * hop]) / hop + 1e-9) for i in range(n)]


def longest_inner_pause_ms(db, below):
    peak = max(db)
    active = [10 ** (d / 10) for d in db if d > peak - 35]
    level = 10 * math.log10(sum(active) / len(active))
    speech = [d > level - below for d in db]
    idx = [i for i, s in enumerate(speech) if s]
    longest = run = 0
    for s in speech[idx[0]:idx[-1] + 1]:
        run = 0 if s else run + 1
        longest = max(longest, run)
    return longest * 10


def main():
    manifest = Path(sys.argv[1])
    xs = [float(a) for a in sys.argv[2:]] or [10.0, 15.0, 20.0]
    clips, skipped = [], 0
    for line in manifest.read_text().splitlines():
        if line.strip():
            a = Path(json.loads(line)["audio"])
            a = a if a.is_absolute() else manifest.parent / a
            try:
                clips.append(frame_db(a))
            except (OSError, EOFError, wave.Error, ValueError) as e:
                print(f"skipped {a}: {e}", file=sys.stderr)
                skipped += 1
    if not clips:
        raise SystemExit(f"{manifest}: no readable clip")
    print(f"{len(clips)} clips of {manifest} ({skipped} skipped)")
    for x in xs:
        p = sorted(longest_inner_pause_ms(db, x) for db in clips)
        counts = ", ".join(f">= {t} ms: {sum(v >= t for v in p)}" for t in (300, 400, 500, 700))
        print(f"quieter than {x:g} dB below the active level: median longest {p[len(p) // 2]} ms; {counts}")


if __name__ == "__main__":
    main()
