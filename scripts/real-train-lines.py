#!/usr/bin/env python3
"""The games corpus's real-train transcripts as TTS prompts, for synth-k2 (docs/corpora.md).

usage: python3 scripts/real-train-lines.py GAMES_DIR OUT.txt

Writes each distinct real-train transcript once, in manifest order, leaving out every text that
also occurs in real-dev, real-test or their cutscene sets (the games repeat short lines across
characters), so no held-out line is spoken in training by any voice. Standard library only.
"""
import json
import sys
from pathlib import Path

HELD_OUT = ("real-dev", "real-test", "real-dev-cutscenes", "real-test-cutscenes")


def texts(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                out.append(json.loads(line)["text"])
            except (json.JSONDecodeError, KeyError) as e:
                sys.exit(f"{path}:{n}: not a manifest line ({e})")
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    games, out = Path(sys.argv[1]), Path(sys.argv[2])
    held = set()
    for name in HELD_OUT:
        held.update(texts(games / f"{name}.jsonl"))
    seen, lines, dropped = set(), [], set()
    for t in texts(games / "real-train.jsonl"):
        if t in held:
            dropped.add(t)
        elif t and t not in seen:
            seen.add(t)
            lines.append(t)
    out.write_text("".join(t + "\n" for t in lines), encoding="utf-8")
    print(f"{len(lines)} lines -> {out}; {len(dropped)} real-train texts left out as held-out texts")


if __name__ == "__main__":
    main()
