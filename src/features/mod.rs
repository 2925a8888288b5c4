//! MFCC features, Kaldi-compatible: framing (snip edges), DC removal, raw log energy,
//! pre-emphasis, Povey/Hamming window, power spectrum (rustfft), triangular mel bank, log,
//! orthonormal DCT-II, cepstral liftering, optional deltas and per-utterance CMVN.
//!
//! Plain functions over slices; no tensors. Input samples are in `[-1, 1]` and are scaled to the
//! 16-bit integer range first, as Kaldi does, so log energies match Kaldi's.

use std::sync::Arc;

use rustfft::{Fft, FftPlanner, num_complex::Complex32};
use serde::{Deserialize, Serialize};

use crate::audio::Waveform;

pub mod differentiable;
mod streaming;

pub use streaming::StreamingFeatures;

/// Analysis window shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowKind {
    /// Kaldi's default: a Hann window raised to the power 0.85.
    Povey,
    Hamming,
    Hann,
    Rectangular,
}

/// MFCC settings. Saved with every model so inference computes exactly what training saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MfccConfig {
    pub sample_rate: u32,
    /// Window length in milliseconds (25).
    pub frame_length_ms: f32,
    /// Hop in milliseconds (10).
    pub frame_shift_ms: f32,
    /// Pre-emphasis coefficient (0.97).
    pub preemphasis: f32,
    pub window: WindowKind,
    pub remove_dc_offset: bool,
    /// Number of triangular mel filters (23, Kaldi's default).
    pub num_mel_bins: usize,
    /// Number of cepstra kept (13).
    pub num_ceps: usize,
    /// Lower edge of the mel bank in Hz (20).
    pub low_freq: f32,
    /// Upper edge in Hz; zero or negative means Nyquist plus this offset (0).
    pub high_freq: f32,
    /// Cepstral lifter coefficient (22); 0 disables.
    pub cepstral_lifter: f32,
    /// Replace c0 by the frame's raw log energy (Kaldi's `--use-energy`, true).
    pub use_energy: bool,
    /// 0: static only; 1: + deltas; 2: + deltas and delta-deltas (window 2, as Kaldi).
    pub delta_order: usize,
    /// Per-utterance mean and variance normalisation.
    pub cmvn: bool,
    /// Fixed normalisation with statistics of the training data, for streaming models (which
    /// cannot see the whole utterance). Used when `cmvn` is false.
    pub global_cmvn: Option<GlobalCmvn>,
}

/// Per-dimension mean and standard deviation measured on training features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlobalCmvn {
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl GlobalCmvn {
    /// Statistics of all frames of `feats`.
    pub fn measure(feats: &[Features]) -> Option<Self> {
        let dim = feats.first()?.dim;
        let mut sum = vec![0.0f64; dim];
        let mut sq = vec![0.0f64; dim];
        let mut n = 0usize;
        for f in feats.iter().filter(|f| f.dim == dim) {
            for t in 0..f.num_frames {
                for (c, &v) in f.frame(t).iter().enumerate() {
                    sum[c] += v as f64;
                    sq[c] += (v as f64) * (v as f64);
                }
            }
            n += f.num_frames;
        }
        if n == 0 {
            return None;
        }
        let mean: Vec<f64> = sum.iter().map(|s| s / n as f64).collect();
        let std = sq
            .iter()
            .zip(&mean)
            .map(|(q, m)| ((q / n as f64 - m * m).max(0.0).sqrt() + 1e-5) as f32)
            .collect();
        Some(Self {
            mean: mean.into_iter().map(|m| m as f32).collect(),
            std,
        })
    }

    /// Normalise frames laid out as `[frames × dim]`.
    pub fn apply(&self, data: &mut [f32]) {
        let dim = self.mean.len();
        for row in data.chunks_exact_mut(dim) {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - m) / s;
            }
        }
    }
}

impl Default for MfccConfig {
    fn default() -> Self {
        Self {
            sample_rate: crate::audio::SAMPLE_RATE,
            frame_length_ms: 25.0,
            frame_shift_ms: 10.0,
            preemphasis: 0.97,
            window: WindowKind::Povey,
            remove_dc_offset: true,
            num_mel_bins: 23,
            num_ceps: 13,
            low_freq: 20.0,
            high_freq: 0.0,
            cepstral_lifter: 22.0,
            use_energy: true,
            delta_order: 2,
            cmvn: true,
            global_cmvn: None,
        }
    }
}

impl MfccConfig {
    /// The frames per-utterance CMVN takes its statistics from, out of `frames`: the
    /// [`loud_extent`] of the first feature (`log_energy()`, asked only then) when that is the
    /// log energy, else all of them.
    pub fn cmvn_extent(
        &self,
        frames: usize,
        log_energy: impl FnOnce() -> Vec<f32>,
    ) -> std::ops::Range<usize> {
        if self.use_energy {
            loud_extent(&log_energy())
        } else {
            0..frames
        }
    }

    /// Samples per analysis window.
    pub fn frame_length(&self) -> usize {
        (self.sample_rate as f32 * self.frame_length_ms / 1000.0).round() as usize
    }

    /// Samples between frame starts.
    pub fn frame_shift(&self) -> usize {
        (self.sample_rate as f32 * self.frame_shift_ms / 1000.0).round() as usize
    }

    /// Dimension of one output frame.
    pub fn dim(&self) -> usize {
        self.num_ceps * (1 + self.delta_order)
    }

    /// Number of frames produced for `num_samples` samples (Kaldi `snip_edges = true`).
    pub fn num_frames(&self, num_samples: usize) -> usize {
        let len = self.frame_length();
        if num_samples < len {
            0
        } else {
            1 + (num_samples - len) / self.frame_shift()
        }
    }

    /// Check the settings make sense.
    pub fn validate(&self) -> crate::Result<()> {
        self.problem()
            .map_or(Ok(()), |m| Err(crate::Error::Config(m)))
    }

    /// What is wrong with the settings, if anything.
    fn problem(&self) -> Option<String> {
        let nyquist = self.sample_rate as f32 / 2.0;
        let high = self.effective_high_freq();
        if self.sample_rate == 0 || self.frame_length() == 0 || self.frame_shift() == 0 {
            return Some("frame length, frame shift and sample rate must be positive".into());
        }
        if self.num_mel_bins < 3 || self.num_ceps == 0 || self.num_ceps > self.num_mel_bins {
            return Some(format!(
                "need 3 <= num_mel_bins ({}) and 1 <= num_ceps ({}) <= num_mel_bins",
                self.num_mel_bins, self.num_ceps
            ));
        }
        if !(0.0 <= self.low_freq && self.low_freq < high && high <= nyquist) {
            return Some(format!(
                "mel bank edges {}..{} Hz do not fit 0..{} Hz",
                self.low_freq, high, nyquist
            ));
        }
        if self.delta_order > 2 {
            return Some(format!("delta_order {} > 2", self.delta_order));
        }
        None
    }

    fn effective_high_freq(&self) -> f32 {
        let nyquist = self.sample_rate as f32 / 2.0;
        if self.high_freq <= 0.0 {
            nyquist + self.high_freq
        } else {
            self.high_freq
        }
    }
}

/// A feature matrix, frame-major: `data[t * dim + c]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    pub data: Vec<f32>,
    pub num_frames: usize,
    pub dim: usize,
}

impl Features {
    pub fn frame(&self, t: usize) -> &[f32] {
        &self.data[t * self.dim..(t + 1) * self.dim]
    }
}

/// A ready-to-use MFCC extractor (window, mel bank, DCT and FFT plan precomputed).
pub struct Mfcc {
    config: MfccConfig,
    window: Vec<f32>,
    fft_len: usize,
    fft: Arc<dyn Fft<f32>>,
    /// One row of `fft_len / 2 + 1` weights per mel bin (sparse: first index and weights).
    mel_bank: Vec<(usize, Vec<f32>)>,
    /// `num_ceps × num_mel_bins`, row-major.
    dct: Vec<f32>,
    lifter: Vec<f32>,
}

impl std::fmt::Debug for Mfcc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mfcc")
            .field("config", &self.config)
            .finish()
    }
}

fn mel(hz: f32) -> f32 {
    1127.0 * (1.0 + hz / 700.0).ln()
}

impl Mfcc {
    pub fn new(config: MfccConfig) -> crate::Result<Self> {
        config.validate()?;
        let n = config.frame_length();
        let window = make_window(config.window, n);
        let fft_len = n.next_power_of_two();
        let fft = FftPlanner::new().plan_fft_forward(fft_len);
        let mel_bank = make_mel_bank(&config, fft_len);
        let dct = make_dct(config.num_ceps, config.num_mel_bins);
        let lifter = (0..config.num_ceps)
            .map(|i| {
                if config.cepstral_lifter == 0.0 {
                    1.0
                } else {
                    let l = config.cepstral_lifter;
                    1.0 + 0.5 * l * (std::f32::consts::PI * i as f32 / l).sin()
                }
            })
            .collect();
        Ok(Self {
            config,
            window,
            fft_len,
            fft,
            mel_bank,
            dct,
            lifter,
        })
    }

    pub fn config(&self) -> &MfccConfig {
        &self.config
    }

    /// Static MFCCs (no deltas, no CMVN) for raw samples in `[-1, 1]`.
    pub fn static_mfcc(&self, samples: &[f32]) -> Features {
        let cfg = &self.config;
        let n = cfg.frame_length();
        let shift = cfg.frame_shift();
        let num_frames = cfg.num_frames(samples.len());
        let ceps = cfg.num_ceps;
        let bins = cfg.num_mel_bins;
        let mut out = vec![0.0f32; num_frames * ceps];
        let mut frame = vec![0.0f32; n];
        let mut spectrum = vec![Complex32::new(0.0, 0.0); self.fft_len];
        let mut scratch = vec![Complex32::new(0.0, 0.0); self.fft.get_inplace_scratch_len()];
        let mut power = vec![0.0f32; self.fft_len / 2 + 1];
        let mut log_mel = vec![0.0f32; bins];
        let eps = f32::EPSILON;
        for t in 0..num_frames {
            let start = t * shift;
            for (dst, &s) in frame.iter_mut().zip(&samples[start..start + n]) {
                *dst = s * 32768.0;
            }
            if cfg.remove_dc_offset {
                let mean = frame.iter().sum::<f32>() / n as f32;
                frame.iter_mut().for_each(|v| *v -= mean);
            }
            let energy = frame.iter().map(|v| v * v).sum::<f32>().max(eps).ln();
            if cfg.preemphasis != 0.0 {
                for i in (1..n).rev() {
                    frame[i] -= cfg.preemphasis * frame[i - 1];
                }
                frame[0] -= cfg.preemphasis * frame[0];
            }
            for (i, c) in spectrum.iter_mut().enumerate() {
                *c = if i < n {
                    Complex32::new(frame[i] * self.window[i], 0.0)
                } else {
                    Complex32::new(0.0, 0.0)
                };
            }
            self.fft.process_with_scratch(&mut spectrum, &mut scratch);
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.norm_sqr();
            }
            for (m, (first, weights)) in self.mel_bank.iter().enumerate() {
                let e: f32 = weights
                    .iter()
                    .zip(&power[*first..])
                    .map(|(w, p)| w * p)
                    .sum();
                log_mel[m] = e.max(eps).ln();
            }
            let row = &mut out[t * ceps..(t + 1) * ceps];
            for (k, value) in row.iter_mut().enumerate() {
                let d = &self.dct[k * bins..(k + 1) * bins];
                *value = d.iter().zip(&log_mel).map(|(a, b)| a * b).sum::<f32>() * self.lifter[k];
            }
            if cfg.use_energy {
                row[0] = energy;
            }
        }
        Features {
            data: out,
            num_frames,
            dim: ceps,
        }
    }

    /// The full feature pipeline: static MFCC, deltas, CMVN.
    pub fn compute(&self, wave: &Waveform) -> Features {
        self.compute_samples(wave.samples())
    }

    /// [`compute`](Self::compute) on raw 16 kHz samples.
    pub fn compute_samples(&self, samples: &[f32]) -> Features {
        let mut feats = add_deltas(&self.static_mfcc(samples), self.config.delta_order);
        if self.config.cmvn {
            let extent = self.config.cmvn_extent(feats.num_frames, || {
                feats
                    .data
                    .iter()
                    .step_by(feats.dim.max(1))
                    .copied()
                    .collect()
            });
            cmvn_from(&mut feats, extent);
        } else if let Some(g) = &self.config.global_cmvn {
            g.apply(&mut feats.data);
        }
        feats
    }
}

/// Frames of look-ahead the deltas need (window 2 per order).
fn make_window(kind: WindowKind, n: usize) -> Vec<f32> {
    let a = 2.0 * std::f64::consts::PI / (n as f64 - 1.0);
    (0..n)
        .map(|i| {
            let x = a * i as f64;
            (match kind {
                WindowKind::Povey => (0.5 - 0.5 * x.cos()).powf(0.85),
                WindowKind::Hamming => 0.54 - 0.46 * x.cos(),
                WindowKind::Hann => 0.5 - 0.5 * x.cos(),
                WindowKind::Rectangular => 1.0,
            }) as f32
        })
        .collect()
}

fn make_mel_bank(cfg: &MfccConfig, fft_len: usize) -> Vec<(usize, Vec<f32>)> {
    let bins = cfg.num_mel_bins;
    let mel_low = mel(cfg.low_freq);
    let mel_high = mel(cfg.effective_high_freq());
    let delta = (mel_high - mel_low) / (bins as f32 + 1.0);
    let hz_per_bin = cfg.sample_rate as f32 / fft_len as f32;
    // As Kaldi: only bins below Nyquist (fft_len / 2 of them) take part.
    (0..bins)
        .map(|m| {
            let left = mel_low + m as f32 * delta;
            let center = left + delta;
            let right = center + delta;
            let weights: Vec<(usize, f32)> = (0..fft_len / 2)
                .filter_map(|k| {
                    let x = mel(k as f32 * hz_per_bin);
                    if x > left && x < right {
                        let w = if x <= center {
                            (x - left) / (center - left)
                        } else {
                            (right - x) / (right - center)
                        };
                        Some((k, w))
                    } else {
                        None
                    }
                })
                .collect();
            let first = weights.first().map_or(0, |(k, _)| *k);
            let mut dense = vec![0.0; weights.last().map_or(0, |(k, _)| k + 1 - first)];
            for (k, w) in weights {
                dense[k - first] = w;
            }
            (first, dense)
        })
        .collect()
}

/// Orthonormal DCT-II, `rows × cols`.
fn make_dct(rows: usize, cols: usize) -> Vec<f32> {
    let n = cols as f64;
    let mut m = vec![0.0f32; rows * cols];
    for k in 0..rows {
        let scale = if k == 0 {
            (1.0 / n).sqrt()
        } else {
            (2.0 / n).sqrt()
        };
        for j in 0..cols {
            m[k * cols + j] =
                (scale * (std::f64::consts::PI / n * (j as f64 + 0.5) * k as f64).cos()) as f32;
        }
    }
    m
}

/// Append deltas (window 2, edges replicated, as Kaldi's `add-deltas`).
pub fn add_deltas(feats: &Features, order: usize) -> Features {
    let t_len = feats.num_frames;
    let d = feats.dim;
    let out_dim = d * (order + 1);
    let mut out = vec![0.0f32; t_len * out_dim];
    for t in 0..t_len {
        out[t * out_dim..t * out_dim + d].copy_from_slice(feats.frame(t));
    }
    let window = 2isize;
    let denom: f32 = 2.0 * (1..=window).map(|n| (n * n) as f32).sum::<f32>();
    for o in 1..=order {
        let src = (o - 1) * d;
        let dst = o * d;
        for t in 0..t_len {
            for c in 0..d {
                let mut acc = 0.0;
                for n in 1..=window {
                    let fwd = (t as isize + n).min(t_len as isize - 1) as usize;
                    let back = (t as isize - n).max(0) as usize;
                    acc +=
                        n as f32 * (out[fwd * out_dim + src + c] - out[back * out_dim + src + c]);
                }
                out[t * out_dim + dst + c] = acc / denom;
            }
        }
    }
    Features {
        data: out,
        num_frames: t_len,
        dim: out_dim,
    }
}

/// A log-energy range (natural log of power) below which the quiet frames at an utterance's
/// edges are not worth telling apart: 10 dB.
const EXTENT_MIN_RANGE: f32 = 10.0 * std::f32::consts::LN_10 / 10.0;
/// Frames (10 ms) kept on each side of the loud extent, for the quiet ends of words.
const EXTENT_MARGIN: usize = 30;

/// The frames from the first to the last loud one (0.3 s more on each side), where a frame is
/// loud when its log energy is at least 40 % of the way from the quiet end of the recording
/// (5th percentile) to the loud end (95th). Silence or room tone around an utterance would
/// otherwise dominate its CMVN statistics: a clip recognised with two seconds of room tone on
/// each side read 12 points worse WER. Where the range is under 10 dB (steady noise, or all
/// speech) every frame counts, as before.
pub fn loud_extent(log_energy: &[f32]) -> std::ops::Range<usize> {
    let n = log_energy.len();
    let mut sorted: Vec<f32> = log_energy
        .iter()
        .copied()
        .filter(|e| e.is_finite())
        .collect();
    if sorted.len() < 2 {
        return 0..n;
    }
    sorted.sort_unstable_by(f32::total_cmp);
    let at = |q: f32| sorted[((sorted.len() - 1) as f32 * q).round() as usize];
    let (quiet, loud) = (at(0.05), at(0.95));
    if loud - quiet < EXTENT_MIN_RANGE {
        return 0..n;
    }
    let threshold = quiet + 0.4 * (loud - quiet);
    let first = log_energy.iter().position(|&e| e >= threshold);
    let last = log_energy.iter().rposition(|&e| e >= threshold);
    match (first, last) {
        (Some(first), Some(last)) => {
            first.saturating_sub(EXTENT_MARGIN)..(last + 1 + EXTENT_MARGIN).min(n)
        }
        _ => 0..n,
    }
}

/// Normalise each dimension of every frame with the mean and variance of the frames in
/// `extent` (all frames when it is empty).
pub fn cmvn_from(feats: &mut Features, extent: std::ops::Range<usize>) {
    let (t_len, d) = (feats.num_frames, feats.dim);
    if t_len == 0 {
        return;
    }
    let extent = if extent.is_empty() || extent.end > t_len {
        0..t_len
    } else {
        extent
    };
    let count = extent.len() as f64;
    for c in 0..d {
        let mean = extent
            .clone()
            .map(|t| feats.data[t * d + c] as f64)
            .sum::<f64>()
            / count;
        let var = extent
            .clone()
            .map(|t| (feats.data[t * d + c] as f64 - mean).powi(2))
            .sum::<f64>()
            / count;
        let inv = 1.0 / (var.sqrt() + 1e-5);
        for t in 0..t_len {
            let v = &mut feats.data[t * d + c];
            *v = ((*v as f64 - mean) * inv) as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1 s of loud frames between 2 s of quiet ones: the extent is the loud second and 0.3 s
    /// on each side. Steady levels (a range under 10 dB) and too few frames give every frame.
    #[test]
    fn the_loud_extent_leaves_out_long_quiet_edges() {
        let mut energy = vec![-9.0f32; 200];
        energy.extend(std::iter::repeat_n(2.0, 100));
        energy.extend(std::iter::repeat_n(-9.0, 200));
        assert_eq!(loud_extent(&energy), 170..330);
        let steady: Vec<f32> = (0..300).map(|t| (t % 7) as f32 * 0.3).collect();
        assert_eq!(loud_extent(&steady), 0..300);
        assert_eq!(loud_extent(&[1.0]), 0..1);
        assert_eq!(loud_extent(&[f32::NEG_INFINITY; 4]), 0..4);
    }

    /// A noise burst shaped like a syllable train, alone and with 2 s of quiet noise (−50
    /// dBFS) on each side. Normalised over the loud extent, the burst's frames move about half
    /// as far from the unpadded ones (mean absolute difference 0.089) as normalised over every
    /// frame (0.165, the quiet edges dominating the statistics); what is left comes from the
    /// 0.3 s margins of quiet noise on each side that the extent keeps.
    #[test]
    fn quiet_padding_barely_moves_the_normalised_speech() {
        let mut seed = 3u32;
        let mut noise = move |amp: f32| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            ((seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 2.0 * amp
        };
        let burst: Vec<f32> = (0..16_000)
            .map(|i| {
                let envelope = (std::f32::consts::PI * i as f32 / 2_000.0).sin().abs();
                noise(0.3 * envelope + 0.003)
            })
            .collect();
        let mut padded: Vec<f32> = (0..32_000).map(|_| noise(0.003)).collect();
        padded.extend(&burst);
        padded.extend((0..32_000).map(|_| noise(0.003)).collect::<Vec<_>>());
        let mfcc = Mfcc::new(MfccConfig::default()).unwrap();
        let alone = mfcc.compute_samples(&burst);
        let with_pads = mfcc.compute_samples(&padded);
        let mut over_all = add_deltas(&mfcc.static_mfcc(&padded), 2);
        let every_frame = 0..over_all.num_frames;
        cmvn_from(&mut over_all, every_frame);
        let (d, offset) = (alone.dim, 200);
        let distance = |f: &Features| {
            let span = 10..alone.num_frames - 10;
            let sum: f32 = span
                .clone()
                .flat_map(|t| (0..d).map(move |c| (t, c)))
                .map(|(t, c)| (f.data[(t + offset) * d + c] - alone.data[t * d + c]).abs())
                .sum();
            sum / (span.len() * d) as f32
        };
        let (extent, all) = (distance(&with_pads), distance(&over_all));
        assert!(
            extent < 0.6 * all,
            "over the extent {extent}, over all frames {all}"
        );
    }

    #[test]
    fn frame_count_follows_snip_edges() {
        let cfg = MfccConfig::default();
        assert_eq!(cfg.num_frames(399), 0);
        assert_eq!(cfg.num_frames(400), 1);
        assert_eq!(cfg.num_frames(16_000), 98);
    }

    #[test]
    fn dct_is_orthonormal() {
        let m = make_dct(23, 23);
        for a in 0..23 {
            for b in 0..23 {
                let dot: f32 = (0..23).map(|j| m[a * 23 + j] * m[b * 23 + j]).sum();
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-4, "({a},{b}) = {dot}");
            }
        }
    }

    #[test]
    fn deltas_of_a_ramp_are_constant() {
        let feats = Features {
            data: (0..10).map(|t| t as f32).collect(),
            num_frames: 10,
            dim: 1,
        };
        let d = add_deltas(&feats, 1);
        // Away from the edges the delta of a unit ramp is exactly 1.
        for t in 2..8 {
            assert!((d.data[t * 2 + 1] - 1.0).abs() < 1e-6);
        }
    }

    #[test]
    fn rejects_bad_configs() {
        let cfg = MfccConfig {
            num_ceps: 40,
            ..MfccConfig::default()
        };
        assert!(Mfcc::new(cfg).is_err());
    }
}
