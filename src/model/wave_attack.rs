//! Adversarial examples on the waveform, bounded in signal-to-noise ratio: the perturbation's
//! energy stays `snr_db` below the utterance's, so ε is a level a listener can judge (30 dB is a
//! faint hiss under the voice, 10 dB clearly audible).
//!
//! PGD in the L2 ball of radius `‖x‖ · 10^(−snr/20)`: `steps` normalised-gradient steps of
//! `2.5 r / steps` from a random start, each projected back onto the ball and onto `[-1, 1]`;
//! `steps == 0` is one step of the full radius (the L2 form of FGSM). The gradient flows
//! through [`TensorMfcc`], the MFCC pipeline as tensor operations, for a whole batch of
//! utterances at once (their features padded to one `[N, T, D]` tensor).
//!
//! `eval::attack::WaveAttacker` attacks a recogniser at test time with [`perturb`]; training
//! (`--adversarial wave`) replaces a share of its batches by their attacked audio.

use burn::prelude::*;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::AcousticModel;
use super::loss::utterance_losses;
use crate::data::Batch;
use crate::features::Features;
use crate::features::differentiable::TensorMfcc;

/// A waveform attack: its SNR bound and its PGD steps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WaveAttackConfig {
    /// Signal-to-perturbation ratio in dB (the bound; higher is a weaker attack).
    pub snr_db: f32,
    pub steps: usize,
}

impl WaveAttackConfig {
    /// The L2 radius for an utterance of L2 norm `norm`.
    pub fn radius(&self, norm: f32) -> f32 {
        norm * 10f32.powf(-self.snr_db / 20.0)
    }
}

fn l2(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

/// The CTC loss (per target letter) of each of `waves` against its target, and the gradient of
/// each loss with respect to its samples, through `front_end` and `model` (on an autodiff
/// `device`). `None` when a wave is shorter than one frame or the gradient cannot be read.
pub fn losses_and_grads(
    model: &AcousticModel,
    front_end: &TensorMfcc,
    waves: &[&[f32]],
    targets: &[&[u32]],
    device: &Device,
) -> Option<(Vec<f32>, Vec<Vec<f32>>)> {
    let inputs: Vec<Tensor<1>> = waves
        .iter()
        .map(|w| {
            Tensor::<1>::from_data(TensorData::new(w.to_vec(), [w.len()]), device).require_grad()
        })
        .collect();
    let feats = inputs
        .iter()
        .map(|x| front_end.forward(x.clone()))
        .collect::<Option<Vec<Tensor<2>>>>()?;
    let frames: Vec<usize> = feats.iter().map(|f| f.dims()[0]).collect();
    let dim = feats.first()?.dims()[1];
    let longest = frames.iter().copied().max()?;
    let padded: Vec<Tensor<2>> = feats
        .into_iter()
        .zip(&frames)
        .map(|(f, &t)| match longest - t {
            0 => f,
            pad => Tensor::cat(vec![f, Tensor::zeros([pad, dim], device)], 0),
        })
        .collect();
    let x = Tensor::stack::<3>(padded, 0);
    // Only the frame counts and the targets of the batch are read; its features are `x`.
    let shapes: Vec<Features> = frames
        .iter()
        .map(|&t| Features {
            data: Vec::new(),
            num_frames: t,
            dim,
        })
        .collect();
    let items: Vec<(&Features, &[u32])> = shapes.iter().zip(targets.iter().copied()).collect();
    let batch = Batch::collate(&items);
    let losses = utterance_losses(model, x, &batch, device);
    let values = losses.clone().into_data().try_to_vec::<f32>().ok()?;
    let grads = losses.sum().backward();
    let grads = inputs
        .iter()
        .map(|x| x.grad(&grads)?.into_data().try_to_vec::<f32>().ok())
        .collect::<Option<Vec<_>>>()?;
    Some((values, grads))
}

/// Each of `waves` moved within its SNR ball towards a higher CTC loss of its target. Waves
/// with no target, no energy or no frame come back unchanged.
pub fn perturb(
    model: &AcousticModel,
    front_end: &TensorMfcc,
    waves: &[&[f32]],
    targets: &[&[u32]],
    device: &Device,
    cfg: &WaveAttackConfig,
    rng: &mut impl RngExt,
) -> Vec<Vec<f32>> {
    let radii: Vec<f32> = waves.iter().map(|w| cfg.radius(l2(w))).collect();
    let active: Vec<usize> = (0..waves.len())
        .filter(|&i| {
            !targets[i].is_empty()
                && radii[i].is_finite()
                && radii[i] > 0.0
                && front_end.frames(waves[i].len()) > 0
        })
        .collect();
    let mut deltas: Vec<Vec<f32>> = waves.iter().map(|w| vec![0.0; w.len()]).collect();
    let project = |i: usize, delta: &mut Vec<f32>| {
        let norm = l2(delta);
        if norm > radii[i] {
            delta.iter_mut().for_each(|d| *d *= radii[i] / norm);
        }
        for (d, &s) in delta.iter_mut().zip(waves[i]) {
            *d = (s + *d).clamp(-1.0, 1.0) - s;
        }
    };
    if cfg.steps > 0 {
        for &i in &active {
            let direction: Vec<f32> = (0..waves[i].len())
                .map(|_| rng.random_range(-1.0f32..1.0))
                .collect();
            let scale = radii[i] * rng.random_range(0.0f32..1.0) / l2(&direction).max(1e-12);
            deltas[i] = direction.iter().map(|d| d * scale).collect();
            project(i, &mut deltas[i]);
        }
    }
    let rounds = cfg.steps.max(1);
    let moved = |i: usize, deltas: &[Vec<f32>]| -> Vec<f32> {
        waves[i]
            .iter()
            .zip(&deltas[i])
            .map(|(s, d)| s + d)
            .collect()
    };
    for _ in 0..rounds {
        let current: Vec<Vec<f32>> = active.iter().map(|&i| moved(i, &deltas)).collect();
        let refs: Vec<&[f32]> = current.iter().map(Vec::as_slice).collect();
        let their_targets: Vec<&[u32]> = active.iter().map(|&i| targets[i]).collect();
        let Some((_, grads)) = losses_and_grads(model, front_end, &refs, &their_targets, device)
        else {
            break;
        };
        for (&i, grad) in active.iter().zip(&grads) {
            let norm = l2(grad);
            if !(norm.is_finite() && norm > 0.0) {
                continue;
            }
            let step = match cfg.steps {
                0 => radii[i],
                k => 2.5 * radii[i] / k as f32,
            };
            for (d, g) in deltas[i].iter_mut().zip(grad) {
                *d += step * g / norm;
            }
            project(i, &mut deltas[i]);
        }
    }
    (0..waves.len()).map(|i| moved(i, &deltas)).collect()
}
