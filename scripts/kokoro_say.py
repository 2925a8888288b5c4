# Kokoro speaking for `hark corpus synth --kokoro DIR`, which runs this (built into the binary)
# with DIR/venv/bin/python, one process per synthesis job, on one thread each:
#
#   python kokoro_say.py MODEL.onnx VOICES.npz
#
# It loads the model once, then reads one request per line on standard input, tab-separated:
#
#   VOICE  LANG  SPEED  TEXT_FILE  OUT.wav
#
# (VOICE: a Kokoro voice name such as af_heart, or a blend FIRST+SECOND@W, which speaks with
# W x FIRST's style vector + (1 - W) x SECOND's; LANG: en-us or en-gb; SPEED: > 1 faster), writes
# a mono 24 kHz WAV and answers one line on standard output: "ok", or "error MESSAGE" when that
# utterance failed (the next request is served all the same). It stops at the end of its input.
# scripts/setup-kokoro.sh installs what it needs.
import sys

import onnxruntime as ort
import soundfile as sf
from kokoro_onnx import Kokoro

model, voices = sys.argv[1:3]
options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
session = ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
kokoro = Kokoro.from_session(session, voices)


def style(voice):
    if "+" not in voice:
        return voice
    first, rest = voice.split("+", 1)
    second, weight = rest.split("@", 1)
    w = float(weight)
    return w * kokoro.get_voice_style(first) + (1.0 - w) * kokoro.get_voice_style(second)


for line in sys.stdin:
    try:
        voice, lang, speed, text_file, out = line.rstrip("\n").split("\t")
        with open(text_file, encoding="utf-8") as f:
            text = f.read().strip()
        samples, rate = kokoro.create(text, voice=style(voice), speed=float(speed), lang=lang)
        sf.write(out, samples, rate, subtype="PCM_16")
        answer = "ok"
    except Exception as e:  # one bad utterance must not stop the others
        answer = "error " + " ".join(f"{type(e).__name__}: {e}".split())
    print(answer, flush=True)
