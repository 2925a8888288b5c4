//! Corruption for training and evaluation. Every function takes its randomness from a seeded
//! RNG passed in, so the same seed gives the same audio.
//!
//! Domain: signal (operates on 16 kHz samples).

pub mod bursts;
pub mod channel;
pub mod reverb;
pub mod specaug;

use rand::RngExt;

use crate::audio::rms;
use rand::rngs::Xoshiro256PlusPlus;

/// The seeded RNG type used across hark.
pub type Rng = Xoshiro256PlusPlus;

/// Make an RNG from a seed.
pub fn rng(seed: u64) -> Rng {
    rand::SeedableRng::seed_from_u64(seed)
}

/// Kinds of generated noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoiseColor {
    White,
    Pink,
    /// Brownian (1/f²): integrated white noise, leaky so it stays bounded.
    Brown,
}

impl NoiseColor {
    pub fn name(self) -> &'static str {
        match self {
            NoiseColor::White => "white",
            NoiseColor::Pink => "pink",
            NoiseColor::Brown => "brown",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [NoiseColor::White, NoiseColor::Pink, NoiseColor::Brown]
            .into_iter()
            .find(|c| c.name() == name)
    }
}

/// A value drawn uniformly from `[lo, hi)`; `lo` when the range is empty.
pub(crate) fn uniform((lo, hi): (f32, f32), rng: &mut Rng) -> f32 {
    if hi > lo {
        rng.random_range(lo..hi)
    } else {
        lo
    }
}

/// One standard-normal sample (Box–Muller).
pub fn gaussian(rng: &mut Rng) -> f32 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random::<f64>();
    ((-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()) as f32
}

/// Generate `len` samples of noise with unit RMS (approximately).
pub fn generate_noise(color: NoiseColor, len: usize, rng: &mut Rng) -> Vec<f32> {
    match color {
        NoiseColor::White => (0..len).map(|_| gaussian(rng)).collect(),
        NoiseColor::Pink => {
            // Paul Kellet's economy filter on white noise, then normalised.
            let (mut b0, mut b1, mut b2) = (0.0f32, 0.0f32, 0.0f32);
            let mut out: Vec<f32> = (0..len)
                .map(|_| {
                    let w = gaussian(rng);
                    b0 = 0.99765 * b0 + w * 0.0990460;
                    b1 = 0.96300 * b1 + w * 0.2965164;
                    b2 = 0.57000 * b2 + w * 1.0526913;
                    b0 + b1 + b2 + w * 0.1848
                })
                .collect();
            normalise_rms(&mut out);
            out
        }
        NoiseColor::Brown => {
            let mut level = 0.0f32;
            let mut out: Vec<f32> = (0..len)
                .map(|_| {
                    level = 0.995 * level + 0.1 * gaussian(rng);
                    level
                })
                .collect();
            normalise_rms(&mut out);
            out
        }
    }
}

fn normalise_rms(x: &mut [f32]) {
    let r = rms(x).max(1e-12);
    x.iter_mut().for_each(|v| *v /= r);
}

/// `len` samples of `noise`, looped, from a random offset.
pub fn noise_segment(noise: &[f32], len: usize, rng: &mut Rng) -> Vec<f32> {
    if noise.is_empty() {
        return vec![0.0; len];
    }
    let offset = rng.random_range(0..noise.len());
    (0..len)
        .map(|i| noise[(offset + i) % noise.len()])
        .collect()
}

/// RMS of the active part of speech: the 20 ms frames whose energy is within 40 dB of the
/// loudest frame (leading, trailing and inter-word silence left out).
pub fn active_speech_rms(speech: &[f32]) -> f32 {
    let frames: Vec<f64> = speech
        .chunks(320)
        .map(|f| f.iter().map(|&s| (s as f64) * (s as f64)).sum::<f64>() / f.len() as f64)
        .collect();
    let peak = frames.iter().cloned().fold(0.0f64, f64::max);
    let (sum, n) = frames
        .iter()
        .filter(|&&e| e > 0.0 && e >= peak * 1e-4)
        .fold((0.0, 0usize), |(s, n), e| (s + e, n + 1));
    if n == 0 {
        0.0
    } else {
        (sum / n as f64).sqrt() as f32
    }
}

/// Add `segment` (as long as `speech`) scaled so that active speech is `snr_db` above it.
pub fn mix_segment_at_active_snr(speech: &[f32], segment: &[f32], snr_db: f32) -> Vec<f32> {
    add_at_snr(speech, segment, active_speech_rms(speech), snr_db)
}

/// `speech + g · segment` with `g` putting `segment` `snr_db` below `speech_rms`; `speech`
/// unchanged when either level is zero.
pub(crate) fn add_at_snr(
    speech: &[f32],
    segment: &[f32],
    speech_rms: f32,
    snr_db: f32,
) -> Vec<f32> {
    let noise_rms = rms(segment);
    if speech_rms == 0.0 || noise_rms == 0.0 {
        return speech.to_vec();
    }
    let gain = speech_rms / (noise_rms * 10f32.powf(snr_db / 20.0));
    speech
        .iter()
        .zip(segment)
        .map(|(s, n)| s + gain * n)
        .collect()
}

/// Add `noise` (looped or cut to length, starting at a random offset) to `speech` at
/// `snr_db` dB signal-to-noise ratio, measured over the whole utterance.
/// Silent speech is returned unchanged.
pub fn mix_at_snr(speech: &[f32], noise: &[f32], snr_db: f32, rng: &mut Rng) -> Vec<f32> {
    let speech_rms = rms(speech);
    if speech_rms == 0.0 || noise.is_empty() {
        return speech.to_vec();
    }
    let segment = noise_segment(noise, speech.len(), rng);
    add_at_snr(speech, &segment, speech_rms, snr_db)
}

/// Speed perturbation: play `samples` (16 kHz) `factor` times faster (tempo and pitch change
/// together, as in Ko et al. 2015), by resampling from `16000 × factor` Hz (rounded to 100 Hz)
/// to 16 kHz. Returns the input unchanged if resampling fails.
pub fn speed_perturb(samples: &[f32], factor: f32) -> Vec<f32> {
    let from = ((16_000.0 * factor / 100.0).round() as u32).max(1) * 100;
    crate::audio::resample::resample(samples, from, 16_000).unwrap_or_else(|_| samples.to_vec())
}

/// Add generated noise of `color` at `snr_db`.
pub fn add_noise(speech: &[f32], color: NoiseColor, snr_db: f32, rng: &mut Rng) -> Vec<f32> {
    let noise = generate_noise(color, speech.len(), rng);
    mix_at_snr(speech, &noise, snr_db, rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixes_at_the_requested_snr() {
        let mut r = rng(7);
        let speech: Vec<f32> = (0..16000).map(|i| (i as f32 * 0.05).sin() * 0.3).collect();
        for snr in [20.0f32, 10.0, 0.0, -5.0] {
            let noisy = add_noise(&speech, NoiseColor::White, snr, &mut r);
            let noise: Vec<f32> = noisy.iter().zip(&speech).map(|(a, b)| a - b).collect();
            let measured = 20.0 * (rms(&speech) / rms(&noise)).log10();
            assert!((measured - snr).abs() < 0.01, "asked {snr}, got {measured}");
        }
    }

    #[test]
    fn active_snr_ignores_silence() {
        let mut speech = vec![0.0f32; 16000];
        speech.extend((0..16000).map(|i| (i as f32 * 0.05).sin() * 0.3));
        speech.extend(vec![0.0f32; 16000]);
        let mut r = rng(4);
        for color in [NoiseColor::White, NoiseColor::Pink, NoiseColor::Brown] {
            let noise = generate_noise(color, speech.len(), &mut r);
            let noisy = mix_segment_at_active_snr(&speech, &noise, 10.0);
            let added: Vec<f32> = noisy.iter().zip(&speech).map(|(a, b)| a - b).collect();
            let active = rms(&speech[16000..32000]);
            let measured = 20.0 * (active / rms(&added)).log10();
            assert!((measured - 10.0).abs() < 0.2, "{color:?}: {measured}");
        }
    }

    #[test]
    fn speed_perturbation_changes_length() {
        let x: Vec<f32> = (0..16000).map(|i| (i as f32 * 0.05).sin()).collect();
        assert!((speed_perturb(&x, 1.1).len() as i64 - 14545).abs() < 5);
        assert!((speed_perturb(&x, 0.9).len() as i64 - 17778).abs() < 5);
        assert_eq!(speed_perturb(&x, 1.0), x);
    }

    #[test]
    fn same_seed_same_noise() {
        let a = generate_noise(NoiseColor::Pink, 100, &mut rng(3));
        let b = generate_noise(NoiseColor::Pink, 100, &mut rng(3));
        assert_eq!(a, b);
        assert!((rms(&a) - 1.0).abs() < 1e-3);
    }
}
