#!/usr/bin/env python3
"""WAV seeds for the wav_pipeline fuzz target: 0.2 s of a test sample in several layouts, and
headers broken the ways tests/it/common builds them. Stdlib only."""
import struct
import sys
import wave

out = sys.argv[1]
with wave.open("audio/samples/clean_flite_rms_fox.wav", "rb") as w:
    pcm = w.readframes(3200)
samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)


def riff(tag, channels, rate, bits, data, extra_fmt=b""):
    block = channels * ((bits + 7) // 8)
    fmt = struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits) + extra_fmt
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    body += b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def put(name, data):
    with open(f"{out}/{name}", "wb") as f:
        f.write(data)


put("pcm16-mono-16k.wav", riff(1, 1, 16000, 16, pcm))
put("pcm16-stereo-44k.wav", riff(1, 2, 44100, 16, b"".join(struct.pack("<hh", s, -s) for s in samples)))
put("pcm8-8k.wav", riff(1, 1, 8000, 8, bytes((s >> 8) + 128 for s in samples)))
put("pcm24-mono-48k.wav", riff(1, 1, 48000, 24, b"".join(struct.pack("<i", s << 8)[:3] for s in samples)))
put("float32-22k.wav", riff(3, 1, 22050, 32, b"".join(struct.pack("<f", s / 32768) for s in samples)))
ext = struct.pack("<HHI", 22, 16, 4) + b"\x01\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
put("extensible.wav", riff(0xFFFE, 1, 16000, 16, pcm, ext))
put("mulaw.wav", riff(7, 1, 8000, 8, bytes(200)))
put("truncated.wav", riff(1, 1, 16000, 16, pcm)[:300])
put("zero-channels.wav", riff(1, 0, 16000, 16, bytes(8)))
put("nan.wav", riff(3, 1, 16000, 32, struct.pack("<4f", 0.0, float("nan"), 0.1, 0.2)))
put("empty-data.wav", riff(1, 1, 16000, 16, b""))
