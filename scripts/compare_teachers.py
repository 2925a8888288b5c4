#!/usr/bin/env python3
"""How far two Whisper teachers are from the games' own text, and whether their agreement
tells a sure pseudo-label from a doubtful one.

On a random sample of FOTAQ clips snapped to a game line (the reference), compares the first
teacher's transcript kept in the label file (tiny.en) with a second teacher's (default base),
overall and by how much the two disagree. The sample favours the first teacher: its transcript
chose the line.

    .venv-peers/bin/python scripts/compare_teachers.py /work/corpus/games --sample 400
"""

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from label_games import chunks, normalise, teacher_dir, transcribe_chunk, word_errors  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path, help="folder with clips.jsonl")
    ap.add_argument("--labels", type=Path, default=Path("data/games/labels.jsonl"))
    ap.add_argument("--sample", type=int, default=400)
    ap.add_argument("--seed", type=int, default=35)
    ap.add_argument("--teacher", default="base")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache/hark/whisper-base")
    ap.add_argument("--out", type=Path, help="also write each clip's three texts (JSONL)")
    args = ap.parse_args()
    from faster_whisper import WhisperModel

    clips = {json.loads(l)["id"]: json.loads(l) for l in open(args.corpus / "clips.jsonl")}
    snapped = [json.loads(l) for l in open(args.labels) if l.strip()]
    snapped = [l for l in snapped if l["label"] == "snapped"]
    random.seed(args.seed)
    sample = sorted(random.sample(snapped, args.sample), key=lambda l: l["id"])
    by_id = {l["id"]: l for l in sample}
    model = WhisperModel(teacher_dir(args.teacher, args.cache), device="cpu", compute_type="int8", cpu_threads=1)
    out = open(args.out, "w") if args.out else None
    groups = {}
    for chunk in chunks([clips[l["id"]] for l in sample], 28.0):
        for clip, second in transcribe_chunk(model, args.corpus, chunk, 5):
            label = by_id[clip["id"]]
            ref, first, second_n = normalise(label["text"]), normalise(label["teacher"]), normalise(second)
            apart, n_first = word_errors(first, second_n)
            share = apart / max(n_first, 1)
            group = "the same" if apart == 0 else ("up to 1/4 apart" if share <= 0.25 else "over 1/4 apart")
            e1, n = word_errors(ref, first)
            e2, _ = word_errors(ref, second_n)
            g = groups.setdefault(group, [0, 0, 0, 0])
            g[0], g[1], g[2], g[3] = g[0] + 1, g[1] + n, g[2] + e1, g[3] + e2
            if out:
                out.write(json.dumps({"id": clip["id"], "ref": label["text"], "first": label["teacher"], "second": second}) + "\n")
    total = [sum(g[i] for g in groups.values()) for i in range(4)]
    print(f"{'teachers':<16} {'clips':>6} {'words':>6} {'first WER %':>12} {'second WER %':>13}")
    for name, (c, n, e1, e2) in sorted(groups.items()) + [("all", total)]:
        print(f"{name:<16} {c:>6} {n:>6} {100 * e1 / max(n, 1):>12.1f} {100 * e2 / max(n, 1):>13.1f}")


if __name__ == "__main__":
    main()
