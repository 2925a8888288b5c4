//! What a training step descends: the CTC loss of a batch, on clean or adversarial features
//! (attacked on the features or on the audio), through weights with Gaussian noise, as a mean
//! over utterances or weighted by DRO group.

use burn::module::Module;
use burn::prelude::*;
use rand::RngExt;

use super::{TrainingConfig, dro};
use crate::augment;
use crate::data::Batch;
use crate::error::Result;
use crate::features::differentiable::TensorMfcc;
use crate::features::{Mfcc, MfccConfig};
use crate::model::loss::{features_tensor, utterance_losses};
use crate::model::wave_attack::{self, WaveAttackConfig};
use crate::model::{AcousticModel, attack};

/// What waveform-adversarial batches need: the front end as tensor operations, for the
/// gradient with respect to the samples, and the ordinary one, for the attacked audio's
/// features (what any audio goes through).
pub(crate) struct WaveAdversary {
    front_end: TensorMfcc,
    mfcc: Mfcc,
    attack: WaveAttackConfig,
}

impl WaveAdversary {
    pub fn new(features: &MfccConfig, attack: WaveAttackConfig, device: &Device) -> Result<Self> {
        let mfcc = Mfcc::new(features.clone())?;
        Ok(Self {
            front_end: TensorMfcc::new(&mfcc, device),
            mfcc,
            attack,
        })
    }

    /// Features of `waves` (the batch's corrupted audio) attacked against `model`, laid out
    /// like `batch.features` (no SpecAugment masks).
    fn features(
        &self,
        model: &AcousticModel,
        batch: &Batch,
        waves: &[Vec<f32>],
        device: &Device,
        rng: &mut augment::Rng,
    ) -> Vec<f32> {
        let targets: Vec<Vec<u32>> = (0..batch.len())
            .map(|i| batch.target(i).iter().map(|&t| t as u32).collect())
            .collect();
        let wave_refs: Vec<&[f32]> = waves.iter().map(Vec::as_slice).collect();
        let target_refs: Vec<&[u32]> = targets.iter().map(Vec::as_slice).collect();
        let attacked = wave_attack::perturb(
            model,
            &self.front_end,
            &wave_refs,
            &target_refs,
            device,
            &self.attack,
            rng,
        );
        let mut out = vec![0.0f32; batch.features.len()];
        let row = batch.max_frames * batch.dim;
        for (i, wave) in attacked.iter().enumerate() {
            let f = self.mfcc.compute_samples(wave);
            // The same samples give the same frames; the guard only keeps a mismatch in bounds.
            let n = f.data.len().min(row);
            out[i * row..i * row + n].copy_from_slice(&f.data[..n]);
        }
        out
    }
}

/// The loss to descend for one batch: clean or adversarial features (by
/// `cfg.adversarial_ratio`; on the audio when `wave` brings the adversary and the batch's
/// corrupted audio), through weights with Gaussian noise when `cfg.weight_noise > 0`, averaged
/// over utterances or weighted by DRO group. `None` when the loss is not finite.
#[allow(clippy::too_many_arguments)]
pub(crate) fn training_loss(
    cfg: &TrainingConfig,
    model: &AcousticModel,
    batch: &Batch,
    groups: &[usize],
    wave: Option<(&WaveAdversary, &[Vec<f32>])>,
    device: &Device,
    dro: Option<&mut dro::GroupWeights>,
    rng: &mut augment::Rng,
) -> Option<Tensor<1>> {
    let noisy;
    let forward_model = if cfg.weight_noise > 0.0 {
        noisy = model.clone().map(&mut WeightNoise(cfg.weight_noise));
        &noisy
    } else {
        model
    };
    // The attack is crafted against the noise-free weights: a backward through the noisy
    // copy would consume the graph the training loss still needs.
    let features = match (&cfg.adversarial, wave) {
        (Some(attack), _) if rng.random::<f64>() < cfg.adversarial_ratio => {
            attack::perturb(model, batch, device, attack, rng).0
        }
        (None, Some((adversary, waves)))
            if waves.len() == batch.len() && rng.random::<f64>() < cfg.adversarial_ratio =>
        {
            adversary.features(model, batch, waves, device, rng)
        }
        _ => batch.features.clone(),
    };
    let x = features_tensor(batch, features, device);
    let losses = utterance_losses(forward_model, x, batch, device); // [N]
    let loss = match dro {
        None => losses.mean(),
        Some(weights) => {
            let values = losses.clone().into_data().try_to_vec::<f32>().ok()?;
            let mut sums = [(0.0f64, 0usize); dro::GROUPS];
            for (&g, &v) in groups.iter().zip(&values) {
                sums[g].0 += v as f64;
                sums[g].1 += 1;
            }
            let means: Vec<Option<f64>> = sums
                .iter()
                .map(|&(s, n)| (n > 0).then(|| s / n as f64))
                .collect();
            let coef = weights.update(&means);
            // Each utterance carries its group's weight shared among the group's utterances.
            let per_utt: Vec<f32> = groups
                .iter()
                .map(|&g| (coef[g] / sums[g].1.max(1) as f64) as f32)
                .collect();
            let w = Tensor::<1>::from_data(TensorData::new(per_utt, [groups.len()]), device);
            (losses * w).sum()
        }
    };
    let value = loss.clone().into_scalar::<f32>();
    value.is_finite().then_some(loss)
}

/// Adds Gaussian noise of the given standard deviation to every float parameter. The noisy
/// tensors are built from the original parameters, so gradients flow back to them.
struct WeightNoise(f32);

impl burn::module::ModuleMapper for WeightNoise {
    fn map_float<const D: usize>(
        &mut self,
        param: burn::module::Param<Tensor<D>>,
    ) -> burn::module::Param<Tensor<D>> {
        let std = self.0 as f64;
        param.map(|t| {
            let noise = t.random_like(burn::tensor::Distribution::Normal(0.0, std));
            t + noise
        })
    }
}
