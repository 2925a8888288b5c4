#!/usr/bin/env python3
"""Synthesise a multi-speaker English speech corpus with offline TTS engines.

Engines (run as subprocesses): espeak-ng, flite, festival (text2wave); sox
converts every clip to 16 kHz mono 16-bit PCM WAV.  Debian packages needed:

    apt-get install espeak-ng flite festival festvox-kallpc16k \
        festvox-kdlpc16k festvox-us-slt-hts sox

Speakers.  A "voice" is an engine voice (plus, for espeak-ng, an accent and a
variant such as +m3).  A speaker id is voice + pitch bucket + rate bucket.
Splits are made by VOICE: the voices of test and dev never occur in train
(note flite kal/kal16 and festival kal_diphone are one human speaker, as are
flite slt and festival cmu_us_slt_arctic_hts, so each pair stays in one split).
Sentences are split too: dev and test sentences never occur in train.

Output (OUT = --out):
    OUT/wav/{split}/{split}_NNNNN.wav
    OUT/{train,dev,test}.jsonl   {"audio", "text", "speaker", "duration"}
    OUT/summary.json

Deterministic given --seed and the other arguments; resumable (existing WAVs
are kept); --jobs N runs N utterances at once.  Stdlib only (Python >= 3.8).

Example:
    python3 scripts/synth_corpus.py --sentences data/sentences.txt \
        --out /work/corpus/synth-v1 --count 4000 --dev-count 300 \
        --test-count 300 --seed 1 --jobs 1
"""

import argparse
import concurrent.futures as cf
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import wave

# ---------------------------------------------------------------------------
# Voice inventory
# ---------------------------------------------------------------------------

# espeak-ng accents (voice names from `espeak-ng --voices=en`) and variants
# (`espeak-ng --voices=variant`); None = the accent's default voice.
ESPEAK_ACCENTS = {
    "train": ["en-us", "en", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-us-nyc"],
    "dev": ["en-029"],
    "test": ["en-gb-scotland"],
}
ESPEAK_VARIANTS = {
    "train": [None, "m1", "m2", "m3", "m4", "m7", "f1", "f2", "f3", "klatt2", "klatt4", "Alex", "Annie"],
    "dev": [None, "m5", "f5", "klatt"],
    "test": [None, "m6", "f4", "klatt3", "Andy"],
}

# (engine, voice, split, weight within split)
ENGINE_VOICES = [
    ("flite", "kal", "train", 10),
    ("flite", "kal16", "train", 12),
    ("flite", "slt", "train", 18),
    ("festival", "kal_diphone", "train", 12),
    ("festival", "cmu_us_slt_arctic_hts", "train", 18),
    ("flite", "awb", "dev", 65),
    ("flite", "rms", "test", 35),
    ("festival", "ked_diphone", "test", 35),
]
# share of espeak-ng utterances per split (the remainder goes to ENGINE_VOICES)
ESPEAK_SHARE = {"train": 0.30, "dev": 0.35, "test": 0.30}

# Approximate mean F0 (Hz) used to centre the native pitch buckets.
BASE_F0 = {"kal": 105, "kal16": 105, "awb": 110, "slt": 175,
           "kal_diphone": 105, "ked_diphone": 106}
# voices whose pitch cannot be set natively: pitch bucket = sox pitch shift
SOX_PITCH = {"rms", "cmu_us_slt_arctic_hts"}
# voices whose rate cannot be set natively: rate bucket = sox tempo
SOX_RATE = {"cmu_us_slt_arctic_hts"}

PITCH_BUCKETS = ["lo", "mid", "hi"]
RATE_BUCKETS = ["slow", "norm", "fast"]
PITCH_MULT = {"lo": 0.85, "mid": 1.0, "hi": 1.18}
PITCH_CENTS = {"lo": -250, "mid": 0, "hi": 250}
ESPEAK_PITCH = {"lo": 30, "mid": 50, "hi": 72}
ESPEAK_RATE = {"slow": 140, "norm": 165, "fast": 190}
STRETCH = {"slow": 1.15, "norm": 1.0, "fast": 0.88}  # duration stretch


# ---------------------------------------------------------------------------
# Planning (pure, deterministic)
# ---------------------------------------------------------------------------

def load_sentences(path, min_words, max_words):
    seen, out = set(), []
    with open(path, encoding="utf-8") as f:
        for line in f:
            s = " ".join(line.split())
            if s and min_words <= len(s.split()) <= max_words and s not in seen:
                seen.add(s)
                out.append(s)
    return out


def sentence_pools(sentences, seed, n_dev, n_test):
    order = list(sentences)
    random.Random("%s:sentences" % seed).shuffle(order)
    test, dev, train = order[:n_test], order[n_test:n_test + n_dev], order[n_test + n_dev:]
    if not train:
        raise SystemExit("not enough sentences for the requested dev/test sizes")
    return {"train": train, "dev": dev, "test": test}


def choose_voice(rng, split):
    if rng.random() < ESPEAK_SHARE[split]:
        accent = rng.choice(ESPEAK_ACCENTS[split])
        variant = rng.choice(ESPEAK_VARIANTS[split])
        return "espeak", accent if variant is None else "%s+%s" % (accent, variant)
    cands = [(e, v, w) for e, v, s, w in ENGINE_VOICES if s == split]
    x = rng.random() * sum(w for _, _, w in cands)
    for e, v, w in cands:
        x -= w
        if x < 0:
            return e, v
    return cands[-1][0], cands[-1][1]


def plan_utterance(seed, split, idx, text):
    rng = random.Random("%s:%s:%d" % (seed, split, idx))
    engine, voice = choose_voice(rng, split)
    pb = rng.choice(PITCH_BUCKETS)
    rb = rng.choice(RATE_BUCKETS)
    jitter = rng.uniform(-0.04, 0.04)  # small within-bucket variation
    # extra speed perturbation (not part of the speaker id), half the time
    tempo = round(rng.uniform(0.9, 1.1), 3) if rng.random() < 0.5 else 1.0
    uid = "%s_%05d" % (split, idx)
    return {
        "id": uid, "split": split, "text": text, "engine": engine,
        "voice": voice, "pitch": pb, "rate": rb, "jitter": round(jitter, 4),
        "tempo": tempo, "speaker": "%s:%s:%s:%s" % (engine, voice, pb, rb),
        "audio": "wav/%s/%s.wav" % (split, uid),
    }


def make_plan(sentences, seed, counts):
    pools = sentence_pools(sentences, seed, counts["dev"], counts["test"])
    plan = []
    for split in ("train", "dev", "test"):
        pool = pools[split]
        for i in range(counts[split]):
            plan.append(plan_utterance(seed, split, i, pool[i % len(pool)]))
    return plan, pools


# ---------------------------------------------------------------------------
# Synthesis
# ---------------------------------------------------------------------------

def run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (cmd[0], r.returncode,
                                                   r.stderr.decode(errors="replace")[-400:]))
    return r


def tts_command(u, txt_path, raw_path):
    """Return (command, sox_pitch_cents, sox_tempo_factor)."""
    e, v, pb, rb, j = u["engine"], u["voice"], u["pitch"], u["rate"], u["jitter"]
    cents, tempo = 0, u["tempo"]
    if e == "espeak":
        p = int(round(ESPEAK_PITCH[pb] * (1 + j)))
        s = int(round(ESPEAK_RATE[rb] * (1 + j)))
        cmd = ["espeak-ng", "-v", v, "-p", str(p), "-s", str(s), "-w", raw_path, "-f", txt_path]
    elif e == "flite":
        cmd = ["flite", "-voice", v]
        if v in SOX_PITCH:
            cents = int(round(PITCH_CENTS[pb] + 300 * j))
        else:
            f0 = BASE_F0[v] * PITCH_MULT[pb] * (1 + j)
            cmd += ["--setf", "int_f0_target_mean=%.1f" % f0]
        cmd += ["--setf", "duration_stretch=%.3f" % (STRETCH[rb] * (1 - j))]
        cmd += ["-f", txt_path, "-o", raw_path]
    elif e == "festival":
        cmd = ["text2wave", "-eval", "(voice_%s)" % v]
        if v in SOX_PITCH:
            cents = int(round(PITCH_CENTS[pb] + 300 * j))
        else:
            f0 = BASE_F0[v] * PITCH_MULT[pb] * (1 + j)
            cmd += ["-eval", "(set! int_lr_params '((target_f0_mean %.1f) (target_f0_std %.1f)"
                    " (model_f0_mean 170) (model_f0_std 34)))" % (f0, 0.14 * f0)]
        if v in SOX_RATE:
            tempo = tempo / (STRETCH[rb] * (1 - j))
        else:
            cmd += ["-eval", "(Parameter.set 'Duration_Stretch %.3f)" % (STRETCH[rb] * (1 - j))]
        cmd += ["-o", raw_path, txt_path]
    else:
        raise ValueError(e)
    return cmd, cents, tempo


def synth_one(u, out_dir, tmp_root):
    dst = os.path.join(out_dir, u["audio"])
    if os.path.exists(dst) and os.path.getsize(dst) > 44:
        return "skip"
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=u["id"] + "_", dir=tmp_root)
    try:
        txt = os.path.join(tmp, "t.txt")
        raw = os.path.join(tmp, "raw.wav")
        with open(txt, "w", encoding="utf-8") as f:
            f.write(u["text"] + "\n")
        cmd, cents, tempo = tts_command(u, txt, raw)
        run(cmd)
        fx = []
        if cents:
            fx += ["pitch", str(cents)]
        if abs(tempo - 1.0) > 1e-3:
            fx += ["tempo", "-s", "%.4f" % tempo]
        # light silence trim at both ends, 10 ms fades (no clicks), padding, peak-normalise
        fx += ["silence", "1", "0.02", "-45d", "fade", "q", "0.01", "reverse",
               "silence", "1", "0.02", "-45d", "fade", "q", "0.01", "reverse",
               "pad", "0.1", "0.15", "gain", "-n", "-3"]
        part = dst + ".part.wav"
        run(["sox", "-V1", "-R", raw, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", part] + fx)
        if wav_duration(part) < 0.3:
            raise RuntimeError("output too short")
        os.replace(part, dst)
        return "ok"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def wav_duration(path):
    with wave.open(path, "rb") as w:
        return w.getnframes() / float(w.getframerate())


# ---------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description="Synthesise a multi-speaker TTS corpus.")
    ap.add_argument("--sentences", required=True, help="one normalised sentence per line")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--count", type=int, default=4000, help="train utterances")
    ap.add_argument("--dev-count", type=int, default=300)
    ap.add_argument("--test-count", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--min-words", type=int, default=3)
    ap.add_argument("--max-words", type=int, default=12)
    ap.add_argument("--plan-only", action="store_true", help="print the plan summary and exit")
    args = ap.parse_args(argv)

    for tool in ("espeak-ng", "flite", "text2wave", "sox"):
        if not shutil.which(tool):
            raise SystemExit("missing tool %s (see the docstring for apt packages)" % tool)

    sentences = load_sentences(args.sentences, args.min_words, args.max_words)
    counts = {"train": args.count, "dev": args.dev_count, "test": args.test_count}
    plan, pools = make_plan(sentences, args.seed, counts)
    print("%d sentences with %d-%d words; pools train/dev/test = %d/%d/%d" % (
        len(sentences), args.min_words, args.max_words,
        len(pools["train"]), len(pools["dev"]), len(pools["test"])), flush=True)
    if args.plan_only:
        for split in ("train", "dev", "test"):
            us = [u for u in plan if u["split"] == split]
            by_eng = {}
            for u in us:
                by_eng[u["engine"]] = by_eng.get(u["engine"], 0) + 1
            print(split, len(us), by_eng, "speakers", len({u["speaker"] for u in us}))
        return 0

    os.makedirs(args.out, exist_ok=True)
    tmp_root = os.path.join(args.out, "tmp")
    os.makedirs(tmp_root, exist_ok=True)
    with open(os.path.join(args.out, "plan.jsonl"), "w") as f:
        for u in plan:
            f.write(json.dumps(u, sort_keys=True) + "\n")

    lock = threading.Lock()
    stats = {"ok": 0, "skip": 0, "fail": 0}
    failed = set()
    t0 = time.time()

    def work(u):
        try:
            r = synth_one(u, args.out, tmp_root)
        except Exception as ex:  # keep going; failures are listed at the end
            r = "fail"
            with lock:
                failed.add(u["id"])
                print("FAIL %s (%s %s): %s" % (u["id"], u["engine"], u["voice"], ex),
                      file=sys.stderr, flush=True)
        with lock:
            stats[r] += 1
            done = sum(stats.values())
            if done % 100 == 0 or done == len(plan):
                el = time.time() - t0
                rate = stats["ok"] / el * 60 if el > 0 else 0
                print("[%d/%d] ok=%d skip=%d fail=%d  %.1f min  %.1f utt/min" % (
                    done, len(plan), stats["ok"], stats["skip"], stats["fail"], el / 60, rate),
                    flush=True)

    with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        list(ex.map(work, plan))
    shutil.rmtree(tmp_root, ignore_errors=True)

    summary = {"seed": args.seed, "sentences_file": os.path.abspath(args.sentences),
               "words": [args.min_words, args.max_words], "splits": {}}
    for split in ("train", "dev", "test"):
        rows, secs, spk, voices, eng = [], 0.0, set(), set(), {}
        for u in plan:
            if u["split"] != split or u["id"] in failed:
                continue
            path = os.path.join(args.out, u["audio"])
            if not os.path.exists(path):
                continue
            d = round(wav_duration(path), 3)
            rows.append({"audio": u["audio"], "text": u["text"], "speaker": u["speaker"], "duration": d})
            secs += d
            spk.add(u["speaker"])
            voices.add("%s:%s" % (u["engine"], u["voice"]))
            e = eng.setdefault(u["engine"], {"utterances": 0, "hours": 0.0})
            e["utterances"] += 1
            e["hours"] += d / 3600
        with open(os.path.join(args.out, "%s.jsonl" % split), "w") as f:
            for r in rows:
                f.write(json.dumps(r) + "\n")
        for e in eng.values():
            e["hours"] = round(e["hours"], 3)
        summary["splits"][split] = {
            "utterances": len(rows), "hours": round(secs / 3600, 3),
            "speakers": len(spk), "voices": sorted(voices), "engines": eng,
        }
    el = time.time() - t0
    prev_runs = []
    try:
        with open(os.path.join(args.out, "summary.json")) as f:
            prev_runs = json.load(f).get("runs", [])
    except (OSError, ValueError):
        pass
    summary["runs"] = prev_runs + [{"synthesised": stats["ok"], "skipped_existing": stats["skip"],
                      "failed": stats["fail"], "jobs": args.jobs, "seconds": round(el, 1),
                      "utt_per_min": round(stats["ok"] / el * 60, 1) if el > 0 and stats["ok"] else None,
                      "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}]
    with open(os.path.join(args.out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps({k: {kk: v[kk] for kk in ("utterances", "hours", "speakers")}
                      for k, v in summary["splits"].items()}), flush=True)
    return 1 if stats["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
