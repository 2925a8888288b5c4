//! Channel effects: the telephone band (8 kHz sampling and a 300–3400 Hz band-pass), a random
//! band limit (3–8 kHz), µ-law and A-law companding and linear 8-bit PCM, a low-bit-rate
//! transform codec, random equalisation and spectral tilt, gain, and clipping.

use rand::RngExt;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex32;

use super::{Rng, uniform};
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
    let edge = 50.0;
    shape_spectrum(x, |f| {
        let rise = ((f - (lo - edge)) / (2.0 * edge)).clamp(0.0, 1.0);
        let fall = (((hi + edge) - f) / (2.0 * edge)).clamp(0.0, 1.0);
        raised_cosine(rise) * raised_cosine(fall)
    })
}

/// Keep what lies below `cutoff` Hz, with a raised-cosine edge 400 Hz wide: the band of 8 kHz
/// telephone audio (cut-off near 3.6 kHz), 11 kHz game audio (5.5 kHz) or wideband audio.
pub fn low_pass(x: &[f32], cutoff: f32) -> Vec<f32> {
    let edge = 200.0;
    shape_spectrum(x, |f| raised_cosine(((cutoff + edge) - f) / (2.0 * edge)))
}

/// Equalise: a tilt of `tilt_db_per_octave` about 1 kHz, plus peaking bands given as
/// (centre Hz, gain dB, width in octaves) with a raised-cosine shape on the log-frequency axis.
pub fn equalise(x: &[f32], tilt_db_per_octave: f32, peaks: &[(f32, f32, f32)]) -> Vec<f32> {
    shape_spectrum(x, |f| {
        let octaves = (f.max(50.0) / 1000.0).log2();
        let mut db = tilt_db_per_octave * octaves;
        for &(centre, gain_db, width) in peaks {
            let d = ((f.max(1.0) / centre).log2() / width).abs();
            if d < 1.0 {
                db += gain_db * raised_cosine(1.0 - d);
            }
        }
        10f32.powf(db / 20.0)
    })
}

fn raised_cosine(t: f32) -> f32 {
    0.5 - 0.5 * (std::f32::consts::PI * t.clamp(0.0, 1.0)).cos()
}

/// Multiply the spectrum of 16 kHz audio by `gain(f)` (one FFT over the whole signal).
fn shape_spectrum(x: &[f32], gain: impl Fn(f32) -> f32) -> Vec<f32> {
    if x.is_empty() {
        return Vec::new();
    }
    let n = x.len().next_power_of_two();
    let mut planner = FftPlanner::<f32>::new();
    let (fwd, inv) = (planner.plan_fft_forward(n), planner.plan_fft_inverse(n));
    let mut buf: Vec<Complex32> = x.iter().map(|&s| Complex32::new(s, 0.0)).collect();
    buf.resize(n, Complex32::new(0.0, 0.0));
    fwd.process(&mut buf);
    for (k, c) in buf.iter_mut().enumerate() {
        let bin = k.min(n - k);
        *c *= gain(bin as f32 * SAMPLE_RATE as f32 / n as f32);
    }
    inv.process(&mut buf);
    buf[..x.len()].iter().map(|c| c.re / n as f32).collect()
}

/// Linear PCM at `bits` bits (8: the unsigned 8-bit audio of old games), at the signal's level.
pub fn quantise_linear(x: &[f32], bits: u32) -> Vec<f32> {
    let half = ((1u32 << bits.clamp(2, 24)) as f32 - 1.0) / 2.0;
    x.iter()
        .map(|&s| (s.clamp(-1.0, 1.0) * half).round() / half)
        .collect()
}

/// What a low-bit-rate transform codec (MP3 at 16 kbit/s, say) does to audio: 32 ms frames
/// (sine window, 50% overlap), spectral lines quantised per band with a step `band_snr_db`
/// below the band's level, so that weak lines vanish (spectral holes) and strong ones are
/// coarse; bands above `cutoff` Hz are dropped.
pub fn lossy_codec(x: &[f32], band_snr_db: f32, cutoff: f32) -> Vec<f32> {
    const FRAME: usize = 512;
    const HOP: usize = FRAME / 2;
    if x.is_empty() {
        return Vec::new();
    }
    let window: Vec<f32> = (0..FRAME)
        .map(|i| (std::f32::consts::PI * (i as f32 + 0.5) / FRAME as f32).sin())
        .collect();
    let mut planner = FftPlanner::<f32>::new();
    let (fwd, inv) = (
        planner.plan_fft_forward(FRAME),
        planner.plan_fft_inverse(FRAME),
    );
    // Bands a third of an octave wide above 250 Hz, one band below.
    let bin_hz = SAMPLE_RATE as f32 / FRAME as f32;
    let mut edges = vec![0usize, (250.0 / bin_hz) as usize];
    while let Some(&last) = edges.last() {
        let next = ((last as f32 * 2f32.powf(1.0 / 3.0)).ceil() as usize).max(last + 1);
        if next >= FRAME / 2 {
            edges.push(FRAME / 2 + 1);
            break;
        }
        edges.push(next);
    }
    let cut_bin = (cutoff / bin_hz) as usize;
    let step_ratio = 10f32.powf(-band_snr_db / 20.0);
    let padded = x.len() + 2 * FRAME;
    let mut out = vec![0.0f32; padded];
    let mut buf = vec![Complex32::new(0.0, 0.0); FRAME];
    let sample = |i: isize| {
        if i >= 0 && (i as usize) < x.len() {
            x[i as usize]
        } else {
            0.0
        }
    };
    let mut start = -(FRAME as isize);
    while start < x.len() as isize {
        for (i, c) in buf.iter_mut().enumerate() {
            *c = Complex32::new(sample(start + i as isize) * window[i], 0.0);
        }
        fwd.process(&mut buf);
        for b in edges.windows(2) {
            let (lo, hi) = (b[0], b[1].min(FRAME / 2 + 1));
            if lo >= hi {
                continue;
            }
            let energy: f32 =
                buf[lo..hi].iter().map(|c| c.norm_sqr()).sum::<f32>() / (hi - lo) as f32;
            let step = energy.sqrt() * step_ratio;
            for k in lo..hi {
                let q = if k >= cut_bin || step <= 0.0 {
                    Complex32::new(0.0, 0.0)
                } else {
                    Complex32::new(
                        (buf[k].re / step).round() * step,
                        (buf[k].im / step).round() * step,
                    )
                };
                buf[k] = q;
                if k > 0 && k < FRAME / 2 {
                    buf[FRAME - k] = q.conj();
                }
            }
        }
        inv.process(&mut buf);
        for (i, c) in buf.iter().enumerate() {
            out[(start + FRAME as isize) as usize + i] += c.re / FRAME as f32 * window[i];
        }
        start += HOP as isize;
    }
    out[FRAME..FRAME + x.len()].to_vec()
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
    /// A low-pass at a cut-off drawn from `band_limit_hz` (real recordings' bandwidths). The
    /// effects from here on came with real speech in training; a config saved before them
    /// reads as 0 (off), which is what its model was trained with.
    #[serde(default)]
    pub band_limit_prob: f64,
    #[serde(default = "default_band_limit_hz")]
    pub band_limit_hz: (f32, f32),
    /// Linear 8-bit PCM.
    #[serde(default)]
    pub quantise_prob: f64,
    /// The low-bit-rate codec, with its per-band SNR drawn from `codec_snr_db`.
    #[serde(default)]
    pub codec_prob: f64,
    #[serde(default = "default_codec_snr_db")]
    pub codec_snr_db: (f32, f32),
    /// Random equalisation: a tilt within ±`eq_tilt_db_per_octave` and two peaking bands of up
    /// to ±`eq_peak_db`.
    #[serde(default)]
    pub eq_prob: f64,
    #[serde(default = "default_eq_tilt")]
    pub eq_tilt_db_per_octave: f32,
    #[serde(default = "default_eq_peak")]
    pub eq_peak_db: f32,
}

fn default_band_limit_hz() -> (f32, f32) {
    (3000.0, 8000.0)
}

fn default_codec_snr_db() -> (f32, f32) {
    (6.0, 18.0)
}

fn default_eq_tilt() -> f32 {
    3.0
}

fn default_eq_peak() -> f32 {
    8.0
}

impl Default for ChannelConfig {
    fn default() -> Self {
        Self {
            telephone_prob: 0.3,
            companding_prob: 0.3,
            gain_db: (-12.0, 6.0),
            clip_prob: 0.15,
            clip_fraction: (0.2, 0.7),
            band_limit_prob: 0.85,
            band_limit_hz: default_band_limit_hz(),
            quantise_prob: 0.15,
            codec_prob: 0.25,
            codec_snr_db: default_codec_snr_db(),
            eq_prob: 0.5,
            eq_tilt_db_per_octave: default_eq_tilt(),
            eq_peak_db: default_eq_peak(),
        }
    }
}

/// One random channel: equalisation, telephone band or a band limit, a lossy codec, companding
/// or linear 8-bit PCM, clipping (each by its probability), then a gain from the range.
pub fn random_channel(x: &[f32], cfg: &ChannelConfig, rng: &mut Rng) -> Vec<f32> {
    let mut y = x.to_vec();
    if rng.random::<f64>() < cfg.eq_prob {
        let tilt = uniform((-cfg.eq_tilt_db_per_octave, cfg.eq_tilt_db_per_octave), rng);
        let peaks: Vec<(f32, f32, f32)> = (0..2)
            .map(|_| {
                (
                    200f32 * 2f32.powf(uniform((0.0, 5.0), rng)),
                    uniform((-cfg.eq_peak_db, cfg.eq_peak_db), rng),
                    uniform((0.5, 2.0), rng),
                )
            })
            .collect();
        y = equalise(&y, tilt, &peaks);
    }
    let mut cutoff = SAMPLE_RATE as f32 / 2.0;
    if rng.random::<f64>() < cfg.telephone_prob {
        y = telephone_band(&y);
        cutoff = 3400.0;
    } else if rng.random::<f64>() < cfg.band_limit_prob {
        cutoff = uniform(cfg.band_limit_hz, rng);
        y = low_pass(&y, cutoff);
    }
    if rng.random::<f64>() < cfg.codec_prob {
        y = lossy_codec(&y, uniform(cfg.codec_snr_db, rng), cutoff);
    }
    if rng.random::<f64>() < cfg.companding_prob {
        let law = if rng.random::<bool>() {
            Companding::MuLaw
        } else {
            Companding::ALaw
        };
        y = compand(&y, law);
    } else if rng.random::<f64>() < cfg.quantise_prob {
        y = quantise_linear(&y, 8);
    }
    if rng.random::<f64>() < cfg.clip_prob {
        y = clip(&y, uniform(cfg.clip_fraction, rng));
    }
    gain(&y, uniform(cfg.gain_db, rng))
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

    #[test]
    fn low_pass_keeps_what_is_below_the_cut_off() {
        for (freq, cutoff, kept) in [
            (1000.0, 3000.0, true),
            (5000.0, 3000.0, false),
            (5000.0, 6000.0, true),
            (7000.0, 5500.0, false),
        ] {
            let x = tone(freq, 16_000);
            let ratio = level(&low_pass(&x, cutoff)) / level(&x);
            assert_eq!(ratio > 0.9, kept, "{freq} Hz through {cutoff} Hz: {ratio}");
            assert_eq!(
                ratio < 0.05,
                !kept,
                "{freq} Hz through {cutoff} Hz: {ratio}"
            );
        }
    }

    #[test]
    fn equalisation_tilts_and_peaks() {
        // +3 dB per octave about 1 kHz: 4 kHz is two octaves up (+6 dB, x1.995), 250 Hz two down.
        let up = |f: f32, tilt: f32, peaks: &[(f32, f32, f32)]| {
            let x = tone(f, 16_000);
            level(&equalise(&x, tilt, peaks)) / level(&x)
        };
        assert!((up(4000.0, 3.0, &[]) - 1.995).abs() < 0.05);
        assert!((up(250.0, 3.0, &[]) - 0.501).abs() < 0.02);
        // A +6 dB peak at 2 kHz: full gain at its centre, none two widths away.
        assert!((up(2000.0, 0.0, &[(2000.0, 6.0, 1.0)]) - 1.995).abs() < 0.05);
        assert!((up(500.0, 0.0, &[(2000.0, 6.0, 1.0)]) - 1.0).abs() < 0.02);
    }

    #[test]
    fn eight_bit_pcm_has_the_noise_of_256_levels() {
        let x = tone(440.0, 16_000);
        let y = quantise_linear(&x, 8);
        let err: Vec<f32> = x.iter().zip(&y).map(|(a, b)| a - b).collect();
        // Uniform quantisation noise: step 2/255, rms step/sqrt(12) = 0.00226.
        assert!((crate::audio::rms(&err) - 0.00226).abs() < 0.0003);
        let levels: std::collections::BTreeSet<i32> =
            y.iter().map(|s| (s * 127.5).round() as i32).collect();
        assert!(levels.len() <= 256);
    }

    #[test]
    fn the_codec_keeps_strong_lines_and_drops_the_band_above_the_cut_off() {
        // A loud 1 kHz tone with a tone 40 dB weaker beside it in the same band, and a 6 kHz tone.
        let n = 16_000;
        let mix: Vec<f32> = (0..n)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                let w = |f: f32| (2.0 * std::f32::consts::PI * f * t).sin();
                0.5 * w(1000.0) + 0.005 * w(1060.0) + 0.2 * w(6000.0)
            })
            .collect();
        let y = lossy_codec(&mix, 12.0, 4000.0);
        let band = |v: &[f32], lo: f32, hi: f32| level(&band_pass(v, lo, hi));
        // The strong line survives within the codec's 12 dB step.
        let strong = band(&y, 950.0, 1040.0) / band(&mix, 950.0, 1040.0);
        assert!((0.7..1.3).contains(&strong), "1 kHz kept at {strong}");
        // Above the cut-off nothing is left.
        assert!(band(&y, 5500.0, 6500.0) < 0.01 * band(&mix, 5500.0, 6500.0));
        // At a very high band SNR the codec is transparent.
        let clean = lossy_codec(&mix, 60.0, 8000.0);
        let err: Vec<f32> = mix.iter().zip(&clean).map(|(a, b)| a - b).collect();
        assert!(level(&err) < 0.01 * level(&mix), "{}", level(&err));
    }
}
