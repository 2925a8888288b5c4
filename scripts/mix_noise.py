#!/usr/bin/env python3
"""Mix a noise clip into a speech WAV at a given SNR (stdlib only).

Both inputs must be 16-bit PCM mono WAV at the same sample rate.  The noise
is looped (from a seeded random start offset) to cover the speech.  Speech
power is measured over "active" 20 ms frames (frames within 40 dB of the
loudest frame), so leading/trailing silence does not lower the speech level;
noise power is measured over the whole looped segment.  If the mix would
clip, speech and noise are scaled down together (the SNR is unchanged).

    python3 scripts/mix_noise.py --speech a.wav --noise audio/noise/rain.wav \
        --snr 10 --seed 0 --out a_rain10.wav
"""

import argparse
import array
import math
import random
import sys
import wave


def read_wav(path):
    with wave.open(path, "rb") as w:
        if w.getsampwidth() != 2 or w.getnchannels() != 1:
            raise SystemExit("%s: need 16-bit mono PCM" % path)
        rate = w.getframerate()
        data = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder == "big":
        data.byteswap()
    return rate, [x / 32768.0 for x in data]


def write_wav(path, rate, samples):
    data = array.array("h", (max(-32768, min(32767, int(round(x * 32768.0)))) for x in samples))
    if sys.byteorder == "big":
        data.byteswap()
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.tobytes())


def active_power(x, rate, frame_ms=20, floor_db=40.0):
    n = max(1, int(rate * frame_ms / 1000))
    frames = [sum(v * v for v in x[i:i + n]) / len(x[i:i + n]) for i in range(0, len(x), n)]
    peak = max(frames) if frames else 0.0
    if peak <= 0:
        return 0.0
    thr = peak * 10 ** (-floor_db / 10)
    act = [p for p in frames if p >= thr]
    return sum(act) / len(act)


def mix(speech, noise, rate, snr_db, seed=0):
    if not noise:
        raise ValueError("empty noise")
    start = random.Random(seed).randrange(len(noise))
    seg = [noise[(start + i) % len(noise)] for i in range(len(speech))]
    ps = active_power(speech, rate)
    pn = sum(v * v for v in seg) / len(seg)
    if ps <= 0 or pn <= 0:
        raise ValueError("silent speech or noise")
    g = math.sqrt(ps / (pn * 10 ** (snr_db / 10)))
    out = [s + g * n for s, n in zip(speech, seg)]
    peak = max(abs(v) for v in out)
    if peak > 0.99:
        out = [v * 0.99 / peak for v in out]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description="Mix noise into speech at a given SNR.")
    ap.add_argument("--speech", required=True)
    ap.add_argument("--noise", required=True)
    ap.add_argument("--snr", type=float, required=True, help="dB")
    ap.add_argument("--seed", type=int, default=0, help="picks the noise start offset")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    rs, speech = read_wav(a.speech)
    rn, noise = read_wav(a.noise)
    if rs != rn:
        raise SystemExit("sample rates differ: %d vs %d" % (rs, rn))
    write_wav(a.out, rs, mix(speech, noise, rs, a.snr, a.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
