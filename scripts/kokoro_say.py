# Speak one text file with a Kokoro voice: `hark corpus synth --kokoro DIR` runs this (built
# into the binary) with DIR/venv/bin/python, once per utterance, on one thread.
#
#   python kokoro_say.py MODEL.onnx VOICES.npz VOICE LANG SPEED TEXT_FILE OUT.wav
#
# VOICE: a Kokoro voice name (af_heart, bm_george, ...); LANG: en-us or en-gb; SPEED: > 1 faster.
# Writes a mono 24 kHz WAV. scripts/setup-kokoro.sh installs what it needs.
import sys

import onnxruntime as ort
import soundfile as sf
from kokoro_onnx import Kokoro

model, voices, voice, lang, speed, text_file, out = sys.argv[1:8]
options = ort.SessionOptions()
options.intra_op_num_threads = 1
options.inter_op_num_threads = 1
session = ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])
kokoro = Kokoro.from_session(session, voices)
with open(text_file, encoding="utf-8") as f:
    text = f.read().strip()
samples, rate = kokoro.create(text, voice=voice, speed=float(speed), lang=lang)
sf.write(out, samples, rate, subtype="PCM_16")
