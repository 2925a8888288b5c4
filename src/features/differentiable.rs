//! The MFCC pipeline as burn tensor operations, so that a loss on the features has a gradient
//! with respect to the waveform: what waveform-domain attacks need (`eval::attack`).
//!
//! It computes what [`Mfcc::compute_samples`] computes, step for step: framing (snip edges),
//! scaling to the 16-bit range, DC removal, raw log energy, pre-emphasis, window, power
//! spectrum, mel bank, log, DCT with lifter, deltas with replicated edges, and per-utterance or
//! global CMVN. The linear steps of one frame (DC removal, pre-emphasis, window, and the real
//! and imaginary DFT at the `fft_len / 2 + 1` bins the mel bank reads) fold into two
//! `[frame, bins]` matrices, so a frame's spectrum is two matmuls. Slower than the FFT, and
//! only used where a gradient is wanted; the test below holds it to the FFT path.

use burn::prelude::*;

use super::{Mfcc, MfccConfig};

/// [`Mfcc`] as differentiable tensor operations on one device.
pub struct TensorMfcc {
    config: MfccConfig,
    /// `[frame_len, bins]`: DC removal, pre-emphasis, window and the DFT's real part.
    real: Tensor<2>,
    /// The same with the DFT's imaginary part.
    imag: Tensor<2>,
    /// `[bins, mel]`: the triangular mel bank.
    mel: Tensor<2>,
    /// `[mel, ceps]`: DCT-II with the lifter folded in.
    dct: Tensor<2>,
}

/// Below this a power or an energy is clamped before the log, as in [`Mfcc`].
const FLOOR: f32 = f32::EPSILON;
/// Kaldi's scaling of samples in `[-1, 1]` to the 16-bit range.
const SCALE: f32 = 32768.0;

impl TensorMfcc {
    pub fn new(mfcc: &Mfcc, device: &Device) -> Self {
        let cfg = mfcc.config().clone();
        let n = cfg.frame_length();
        let bins = mfcc.fft_len / 2 + 1;
        // The linear map from a raw frame to the windowed, pre-emphasised frame, as a matrix
        // `m[j][i]`: the weight of input sample j in output sample i.
        let mut m = vec![0.0f64; n * n];
        let dc = if cfg.remove_dc_offset {
            1.0 / n as f64
        } else {
            0.0
        };
        let p = f64::from(cfg.preemphasis);
        for i in 0..n {
            // Pre-emphasis after DC removal: y[i] = x[i] − p·x[i−1], y[0] = (1 − p)·x[0],
            // where x = f − mean(f).
            let mut coeff = vec![(i, 1.0)];
            if i == 0 {
                coeff[0].1 = 1.0 - p;
            } else {
                coeff.push((i - 1, -p));
            }
            let w = f64::from(mfcc.window[i]);
            for (k, c) in coeff {
                for j in 0..n {
                    let x_k = f64::from(u8::from(j == k)) - dc;
                    m[j * n + i] += c * x_k * w;
                }
            }
        }
        // The DFT's (cos, sin) of sample i at bin b, computed once rather than per input row.
        let fft = mfcc.fft_len as f64;
        let dft: Vec<(f64, f64)> = (0..n * bins)
            .map(|ib| {
                let (i, b) = (ib / bins, ib % bins);
                let angle = -2.0 * std::f64::consts::PI * (i * b) as f64 / fft;
                (angle.cos(), angle.sin())
            })
            .collect();
        let mut real = vec![0.0f32; n * bins];
        let mut imag = vec![0.0f32; n * bins];
        for j in 0..n {
            for b in 0..bins {
                let (mut re, mut im) = (0.0f64, 0.0f64);
                for i in 0..n {
                    let (cos, sin) = dft[i * bins + b];
                    re += m[j * n + i] * cos;
                    im += m[j * n + i] * sin;
                }
                real[j * bins + b] = re as f32;
                imag[j * bins + b] = im as f32;
            }
        }
        let mel_bins = cfg.num_mel_bins;
        let mut mel = vec![0.0f32; bins * mel_bins];
        for (k, (first, weights)) in mfcc.mel_bank.iter().enumerate() {
            for (i, w) in weights.iter().enumerate() {
                mel[(first + i) * mel_bins + k] = *w;
            }
        }
        let ceps = cfg.num_ceps;
        let mut dct = vec![0.0f32; mel_bins * ceps];
        for c in 0..ceps {
            for j in 0..mel_bins {
                dct[j * ceps + c] = mfcc.dct[c * mel_bins + j] * mfcc.lifter[c];
            }
        }
        let matrix = |v: Vec<f32>, rows: usize, cols: usize| {
            Tensor::<2>::from_data(TensorData::new(v, [rows, cols]), device)
        };
        Self {
            real: matrix(real, n, bins),
            imag: matrix(imag, n, bins),
            mel: matrix(mel, bins, mel_bins),
            dct: matrix(dct, mel_bins, ceps),
            config: cfg,
        }
    }

    /// Feature frames of `samples` samples (0 when shorter than one frame).
    pub fn frames(&self, samples: usize) -> usize {
        self.config.num_frames(samples)
    }

    /// Normalised features `[frames, dim]` of `samples` (`[len]`, in `[-1, 1]`); `None` when
    /// the samples are shorter than one frame.
    pub fn forward(&self, samples: Tensor<1>) -> Option<Tensor<2>> {
        let cfg = &self.config;
        let device = samples.device();
        let (n, shift) = (cfg.frame_length(), cfg.frame_shift());
        let frames = cfg.num_frames(samples.dims()[0]);
        if frames == 0 {
            return None;
        }
        let index: Vec<i64> = (0..frames)
            .flat_map(|t| (0..n).map(move |i| (t * shift + i) as i64))
            .collect();
        let index = Tensor::<1, Int>::from_data(TensorData::new(index, [frames * n]), &device);
        let framed = samples.select(0, index).reshape([frames, n]) * SCALE;
        let spectrum_re = framed.clone().matmul(self.real.clone());
        let spectrum_im = framed.clone().matmul(self.imag.clone());
        let power = spectrum_re.powi_scalar(2) + spectrum_im.powi_scalar(2);
        let log_mel = power.matmul(self.mel.clone()).clamp_min(FLOOR).log();
        let mut ceps = log_mel.matmul(self.dct.clone()); // [T, ceps]
        if cfg.use_energy {
            let centred = if cfg.remove_dc_offset {
                framed.clone() - framed.mean_dim(1)
            } else {
                framed
            };
            let energy = centred.powi_scalar(2).sum_dim(1).clamp_min(FLOOR).log(); // [T, 1]
            let rest = ceps.clone().slice([0..frames, 1..cfg.num_ceps]);
            ceps = Tensor::cat(vec![energy, rest], 1);
        }
        let mut orders = vec![ceps];
        for _ in 0..cfg.delta_order {
            let last = orders.last().expect("the statics are there").clone();
            orders.push(delta(last));
        }
        let feats = Tensor::cat(orders, 1);
        Some(if cfg.cmvn {
            // Statistics over the loud extent, as the FFT pipeline takes them; which frames
            // those are is not differentiated.
            let dim = feats.dims()[1];
            let extent = cfg.cmvn_extent(frames, || {
                feats
                    .clone()
                    .slice([0..frames, 0..1])
                    .into_data()
                    .try_to_vec::<f32>()
                    .expect("the features are an f32 tensor")
            });
            let stats = feats.clone().slice([extent, 0..dim]);
            let mean = stats.clone().mean_dim(0);
            let std = (stats - mean.clone()).powi_scalar(2).mean_dim(0).sqrt() + 1e-5;
            (feats - mean) / std
        } else if let Some(g) = &cfg.global_cmvn {
            let dim = g.mean.len();
            let row =
                |v: &[f32]| Tensor::<2>::from_data(TensorData::new(v.to_vec(), [1, dim]), &device);
            (feats - row(&g.mean)) / row(&g.std)
        } else {
            feats
        })
    }
}

/// Kaldi's deltas (window 2, edges replicated) of `x` `[T, d]`: `Σₙ n (x[t+n] − x[t−n]) / 10`.
fn delta(x: Tensor<2>) -> Tensor<2> {
    let [frames, _] = x.dims();
    let device = x.device();
    let shifted = |by: isize| {
        let index: Vec<i64> = (0..frames as isize)
            .map(|t| (t + by).clamp(0, frames as isize - 1) as i64)
            .collect();
        x.clone().select(
            0,
            Tensor::<1, Int>::from_data(TensorData::new(index, [frames]), &device),
        )
    };
    let mut acc = (shifted(1) - shifted(-1)) * 1.0;
    acc = acc + (shifted(2) - shifted(-2)) * 2.0;
    acc / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::GlobalCmvn;
    use crate::test_support::max_difference;

    fn speech_like(len: usize) -> Vec<f32> {
        // Two chirping partials, a DC offset and a little deterministic noise: every step of
        // the pipeline (DC removal, energy, mel bins across the band) has something to do.
        (0..len)
            .map(|i| {
                let t = i as f32 / 16_000.0;
                0.3 * (2.0 * std::f32::consts::PI * (200.0 + 400.0 * t) * t).sin()
                    + 0.1 * (2.0 * std::f32::consts::PI * 2_500.0 * t).sin()
                    + 0.02
                    + 0.01 * (((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            })
            .collect()
    }

    /// The tensor pipeline computes the FFT pipeline's features: per-utterance CMVN (the
    /// bidirectional models), global CMVN (streaming models) and none. Normalised features have
    /// unit spread, so 1e-3 is far below anything a model could tell apart.
    #[test]
    fn matches_the_fft_front_end() {
        let device = Device::flex();
        let samples = speech_like(16_000);
        let global = GlobalCmvn {
            mean: (0..39).map(|i| i as f32 * 0.1).collect(),
            std: (0..39).map(|i| 1.0 + i as f32 * 0.05).collect(),
        };
        for (cmvn, global_cmvn) in [(true, None), (false, Some(global)), (false, None)] {
            let cfg = MfccConfig {
                cmvn,
                global_cmvn,
                ..MfccConfig::default()
            };
            let mfcc = Mfcc::new(cfg).expect("valid");
            let want = mfcc.compute_samples(&samples);
            let tensor = TensorMfcc::new(&mfcc, &device);
            let x =
                Tensor::<1>::from_data(TensorData::new(samples.clone(), [samples.len()]), &device);
            let got = tensor.forward(x).expect("long enough");
            assert_eq!(got.dims(), [want.num_frames, want.dim]);
            let got: Vec<f32> = got.into_data().iter::<f32>().collect();
            let scale = want.data.iter().fold(1.0f32, |m, v| m.max(v.abs()));
            let diff = max_difference(&got, &want.data);
            assert!(
                diff < 1e-3 * scale,
                "cmvn {cmvn}: differs by {diff} (largest value {scale})"
            );
        }
    }

    #[test]
    fn too_short_for_a_frame_gives_none() {
        let device = Device::flex();
        let mfcc = Mfcc::new(MfccConfig::default()).expect("valid");
        let x = Tensor::<1>::from_data(TensorData::new(vec![0.1f32; 399], [399]), &device);
        assert!(TensorMfcc::new(&mfcc, &device).forward(x).is_none());
    }
}
