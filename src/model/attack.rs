//! Adversarial examples on the normalised input features: FGSM (one signed-gradient step of
//! size ε) and PGD (K steps of size α from a random start in the ε-ball, projected back onto
//! it after each step; Madry et al., 2018). Gradients with respect to the input come from burn's
//! autodiff. Only real frames are perturbed, never the padding.
//!
//! Training uses [`perturb`] for adversarial batches; `eval::attack` uses it to attack a
//! recogniser at test time.

use burn::prelude::*;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use super::AcousticModel;
use super::loss::{features_tensor, utterance_losses};
use crate::data::Batch;

/// An L∞ attack. `steps == 0` is FGSM; `steps ≥ 1` is PGD.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AttackConfig {
    /// L∞ radius, in units of the normalised features (their standard deviation is about 1).
    pub epsilon: f32,
    pub steps: usize,
    /// PGD step size α.
    pub step_size: f32,
    /// PGD starts from a uniform random point in the ε-ball.
    pub random_start: bool,
}

impl AttackConfig {
    pub fn fgsm(epsilon: f32) -> Self {
        Self {
            epsilon,
            steps: 0,
            step_size: epsilon,
            random_start: false,
        }
    }

    /// PGD with the usual α = 2.5 ε / K.
    pub fn pgd(epsilon: f32, steps: usize) -> Self {
        Self {
            epsilon,
            steps,
            step_size: 2.5 * epsilon / steps.max(1) as f32,
            random_start: true,
        }
    }
}

/// Which entries of the padded `[N, T, D]` batch are real frames.
fn frame_mask(batch: &Batch) -> Vec<bool> {
    let (t, d) = (batch.max_frames, batch.dim);
    let mut mask = vec![false; batch.features.len()];
    for (b, &len) in batch.lengths.iter().enumerate() {
        mask[b * t * d..b * t * d + len * d].fill(true);
    }
    mask
}

/// The per-utterance loss of `batch` with `features` (same layout as `batch.features`) in place
/// of its own, and the gradient of the summed loss with respect to those features.
fn loss_and_input_grad(
    model: &AcousticModel,
    batch: &Batch,
    features: Vec<f32>,
    device: &Device,
) -> (f32, Vec<f32>) {
    let size = features.len();
    let x = features_tensor(batch, features, device).require_grad();
    let loss = utterance_losses(model, x.clone(), batch, device).sum();
    let value = loss.clone().into_scalar::<f32>();
    let grads = loss.backward();
    let g = x
        .grad(&grads)
        .and_then(|g| g.into_data().try_to_vec::<f32>().ok())
        .unwrap_or_else(|| vec![0.0; size]);
    (value, g)
}

/// Adversarial features for `batch` against `model` (on an autodiff `device`): a copy of
/// `batch.features` moved by at most ε per entry in the direction that raises the CTC loss.
/// Returns the features and the loss the last step saw.
pub fn perturb(
    model: &AcousticModel,
    batch: &Batch,
    device: &Device,
    cfg: &AttackConfig,
    rng: &mut impl RngExt,
) -> (Vec<f32>, f32) {
    let mask = frame_mask(batch);
    let eps = cfg.epsilon.max(0.0);
    let mut delta: Vec<f32> = mask
        .iter()
        .map(|&m| {
            if m && cfg.steps > 0 && cfg.random_start && eps > 0.0 {
                rng.random_range(-eps..eps)
            } else {
                0.0
            }
        })
        .collect();
    let (step, rounds) = if cfg.steps == 0 {
        (eps, 1)
    } else {
        (cfg.step_size, cfg.steps)
    };
    let mut last_loss = f32::NAN;
    for _ in 0..rounds {
        let x: Vec<f32> = batch
            .features
            .iter()
            .zip(&delta)
            .map(|(a, d)| a + d)
            .collect();
        let (loss, grad) = loss_and_input_grad(model, batch, x, device);
        last_loss = loss;
        for ((d, g), &m) in delta.iter_mut().zip(&grad).zip(&mask) {
            if m && g.is_finite() {
                *d = (*d + step * g.signum() * f32::from(*g != 0.0)).clamp(-eps, eps);
            }
        }
    }
    let adv = batch
        .features
        .iter()
        .zip(&delta)
        .map(|(a, d)| a + d)
        .collect();
    (adv, last_loss)
}

/// The summed CTC loss of `batch` with `features` in place of its own (no gradient kept).
pub fn loss_with(model: &AcousticModel, batch: &Batch, features: Vec<f32>, device: &Device) -> f32 {
    let x = features_tensor(batch, features, device);
    utterance_losses(model, x, batch, device)
        .sum()
        .into_scalar::<f32>()
}
