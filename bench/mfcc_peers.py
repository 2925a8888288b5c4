#!/usr/bin/env python3
"""MFCC throughput of the peers on the same audio as `cargo bench --bench mfcc`: torchaudio's
Kaldi-compatible MFCC (same settings as hark: 25/10 ms, povey window, 23 mel bins, 13 cepstra
with energy, lifter 22) with deltas and CMVN, and librosa's MFCC (13 cepstra, 23 mel bins,
400-sample FFT, 160-sample hop) with deltas. One thread each.

Prints one line per system: "<name>: <N>x real time on one core (<ms> ms per 10 s of audio)".
Run: .venv-torch/bin/python bench/mfcc_peers.py   (bench/speed.sh installs what it needs)
"""
import os
import time
import wave

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

SAMPLE = os.path.join(os.path.dirname(__file__), "..", "audio", "samples",
                      "clean_flite_rms_fox.wav")
SECONDS = 10
RUNS = 20


def audio():
    with wave.open(SAMPLE, "rb") as w:
        assert w.getframerate() == 16000 and w.getsampwidth() == 2 and w.getnchannels() == 1
        clip = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768
    reps = SECONDS * 16000 // len(clip) + 1
    return np.tile(clip, reps)[: SECONDS * 16000].copy()


def timed(name, fn):
    fn()  # warm-up
    t0 = time.perf_counter()
    for _ in range(RUNS):
        fn()
    per_run = (time.perf_counter() - t0) / RUNS
    print(f"{name}: {SECONDS / per_run:.0f}x real time on one core "
          f"({per_run * 1000:.2f} ms per {SECONDS} s of audio)", flush=True)


def main():
    y = audio()
    import torch
    import torchaudio
    torch.set_num_threads(1)
    wav = torch.from_numpy(y).unsqueeze(0) * 32768

    def kaldi():
        m = torchaudio.compliance.kaldi.mfcc(
            wav, sample_frequency=16000, dither=0.0, use_energy=True, num_mel_bins=23,
            num_ceps=13, frame_length=25, frame_shift=10, preemphasis_coefficient=0.97,
            window_type="povey", remove_dc_offset=True, raw_energy=True, low_freq=20,
            high_freq=0, cepstral_lifter=22, snip_edges=True, energy_floor=0.0)
        t = m.T.unsqueeze(0)
        d1 = torchaudio.functional.compute_deltas(t)
        d2 = torchaudio.functional.compute_deltas(d1)
        f = torch.cat([t, d1, d2], 1)[0].T
        return (f - f.mean(0)) / (f.std(0) + 1e-5)

    timed(f"torchaudio {torchaudio.__version__} kaldi.mfcc + deltas + CMVN", kaldi)

    import librosa

    def rosa():
        m = librosa.feature.mfcc(y=y, sr=16000, n_mfcc=13, n_fft=400, hop_length=160,
                                 n_mels=23, fmin=20)
        f = np.concatenate([m, librosa.feature.delta(m), librosa.feature.delta(m, order=2)])
        return (f - f.mean(1, keepdims=True)) / (f.std(1, keepdims=True) + 1e-5)

    timed(f"librosa {librosa.__version__} mfcc + deltas + CMVN", rosa)


if __name__ == "__main__":
    main()
