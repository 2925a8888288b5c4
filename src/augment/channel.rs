//! Channel effects: the telephone band (8 kHz sampling and a 300–3400 Hz band-pass), µ-law and
//! A-law companding at 8 bits, gain, and clipping.

use rand::RngExt;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex32;

use super::Rng;
use crate::audio::SAMPLE_RATE;
use crate::audio::resample::resample;

/// 8-bit companding laws (ITU-T G.711).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Companding {
    MuLaw,
    ALaw,
}

/// Resample to 8 kHz and back, then keep 300–3400 Hz (FFT mask with 50 Hz raised-cosine edges).
pub fn telephone_band(x: &[f32]) -> Vec<f32> {
    let narrow = resample(x, SAMPLE_RATE, 8000)
        .and_then(|y| resample(&y, 8000, SAMPLE_RATE))
        .unwrap_or_else(|_| x.to_vec());
    let mut y = band_pass(&narrow, 300.0, 3400.0);
    y.resize(x.len(), 0.0);
    y
}

/// Keep `lo`–`hi` Hz of 16 kHz audio.
pub fn band_pass(x: &[f32], lo: f32, hi: f32) -> Vec<f32> {
    if x.is_empty() {
        return Vec::new();
    }
    let n = x.len().next_power_of_two();
    let mut planner = FftPlanner::<f32>::new();
    let (fwd, inv) = (planner.plan_fft_forward(n), planner.plan_fft_inverse(n));
    let mut buf: Vec<Complex32> = x.iter().map(|&s| Complex32::new(s, 0.0)).collect();
    buf.resize(n, Complex32::new(0.0, 0.0));
    fwd.process(&mut buf);
    let edge = 50.0;
    let gain = |f: f32| {
        let rise = ((f - (lo - edge)) / (2.0 * edge)).clamp(0.0, 1.0);
        let fall = (((hi + edge) - f) / (2.0 * edge)).clamp(0.0, 1.0);
        let smooth = |t: f32| 0.5 - 0.5 * (std::f32::consts::PI * t).cos();
        smooth(rise) * smooth(fall)
    };
    for (k, c) in buf.iter_mut().enumerate() {
        let bin = k.min(n - k);
        *c *= gain(bin as f32 * SAMPLE_RATE as f32 / n as f32);
    }
    inv.process(&mut buf);
    buf[..x.len()].iter().map(|c| c.re / n as f32).collect()
}

/// Encode to 8 bits with `law` and decode again (the quantisation noise of a G.711 channel).
pub fn compand(x: &[f32], law: Companding) -> Vec<f32> {
    x.iter()
        .map(|&s| {
            let s = s.clamp(-1.0, 1.0);
            type Law = fn(f32) -> f32;
            let (enc, dec): (Law, Law) = match law {
                Companding::MuLaw => (mu_encode, mu_decode),
                Companding::ALaw => (a_encode, a_decode),
            };
            // 8 bits: 256 levels over [-1, 1] in the companded domain.
            let q = (enc(s) * 127.5).round() / 127.5;
            dec(q)
        })
        .collect()
}

const MU: f32 = 255.0;
const A: f32 = 87.6;

fn mu_encode(x: f32) -> f32 {
    x.signum() * (1.0 + MU * x.abs()).ln() / (1.0 + MU).ln()
}

fn mu_decode(y: f32) -> f32 {
    y.signum() * ((1.0 + MU).powf(y.abs()) - 1.0) / MU
}

fn a_encode(x: f32) -> f32 {
    let ax = x.abs();
    let y = if ax < 1.0 / A {
        A * ax / (1.0 + A.ln())
    } else {
        (1.0 + (A * ax).ln()) / (1.0 + A.ln())
    };
    x.signum() * y
}

fn a_decode(y: f32) -> f32 {
    let ay = y.abs();
    let x = if ay < 1.0 / (1.0 + A.ln()) {
        ay * (1.0 + A.ln()) / A
    } else {
        ((ay * (1.0 + A.ln()) - 1.0).exp()) / A
    };
    y.signum() * x
}

/// Scale by `db` decibels.
pub fn gain(x: &[f32], db: f32) -> Vec<f32> {
    let g = 10f32.powf(db / 20.0);
    x.iter().map(|s| s * g).collect()
}

/// Hard-clip at `fraction` of the peak magnitude (e.g. 0.3 clips everything above 30% of peak).
pub fn clip(x: &[f32], fraction: f32) -> Vec<f32> {
    let peak = x.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    let limit = peak * fraction.clamp(0.01, 1.0);
    x.iter().map(|s| s.clamp(-limit, limit)).collect()
}

/// Which channel effects to apply, with probabilities and ranges.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChannelConfig {
    pub telephone_prob: f64,
    pub companding_prob: f64,
    pub gain_db: (f32, f32),
    pub clip_prob: f64,
    /// Clip level as a fraction of the peak.
    pub clip_fraction: (f32, f32),
}

impl Default for ChannelConfig {
    fn default() -> Self {
        Self {
            telephone_prob: 0.3,
            companding_prob: 0.3,
            gain_db: (-12.0, 6.0),
            clip_prob: 0.15,
            clip_fraction: (0.2, 0.7),
        }
    }
}

/// One random channel: telephone band, companding, clipping (each by its probability), then
/// a gain from the range.
pub fn random_channel(x: &[f32], cfg: &ChannelConfig, rng: &mut Rng) -> Vec<f32> {
    let mut y = x.to_vec();
    if rng.random::<f64>() < cfg.telephone_prob {
        y = telephone_band(&y);
    }
    if rng.random::<f64>() < cfg.companding_prob {
        let law = if rng.random::<bool>() {
            Companding::MuLaw
        } else {
            Companding::ALaw
        };
        y = compand(&y, law);
    }
    if rng.random::<f64>() < cfg.clip_prob {
        let (lo, hi) = cfg.clip_fraction;
        y = clip(
            &y,
            if hi > lo {
                rng.random_range(lo..hi)
            } else {
                lo
            },
        );
    }
    let (lo, hi) = cfg.gain_db;
    gain(
        &y,
        if hi > lo {
            rng.random_range(lo..hi)
        } else {
            lo
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| 0.5 * (2.0 * std::f32::consts::PI * freq * i as f32 / 16_000.0).sin())
            .collect()
    }

    fn level(x: &[f32]) -> f32 {
        crate::audio::rms(&x[2000..x.len() - 2000])
    }

    #[test]
    fn telephone_band_keeps_speech_band_and_removes_the_rest() {
        for (freq, kept) in [
            (100.0, false),
            (1000.0, true),
            (3000.0, true),
            (5000.0, false),
        ] {
            let x = tone(freq, 16_000);
            let ratio = level(&telephone_band(&x)) / level(&x);
            if kept {
                assert!(ratio > 0.9, "{freq} Hz: {ratio}");
            } else {
                assert!(ratio < 0.05, "{freq} Hz: {ratio}");
            }
        }
    }

    #[test]
    fn companding_is_close_to_identity_with_8_bit_noise() {
        let x = tone(440.0, 4000);
        for law in [Companding::MuLaw, Companding::ALaw] {
            let y = compand(&x, law);
            let err: Vec<f32> = x.iter().zip(&y).map(|(a, b)| a - b).collect();
            let snr = 20.0 * (crate::audio::rms(&x) / crate::audio::rms(&err)).log10();
            // G.711 gives roughly 35–39 dB SNR on a loud tone.
            assert!((30.0..45.0).contains(&snr), "{law:?}: {snr} dB");
        }
    }

    #[test]
    fn gain_and_clipping() {
        let x = tone(440.0, 16_000);
        let y = gain(&x, -6.0);
        assert!((level(&y) / level(&x) - 0.501).abs() < 0.01);
        let peak = |v: &[f32]| v.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        let c = clip(&x, 0.5);
        assert!((peak(&c) - 0.5 * peak(&x)).abs() < 1e-6);
    }
}
