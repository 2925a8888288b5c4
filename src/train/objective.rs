//! What a training step descends: the CTC loss of a batch, on clean or adversarial features,
//! through weights with Gaussian noise, as a mean over utterances or weighted by DRO group.

use burn::module::Module;
use burn::prelude::*;
use rand::RngExt;

use super::{TrainingConfig, dro};
use crate::augment;
use crate::data::Batch;
use crate::model::AcousticModel;
use crate::model::attack;
use crate::model::loss::{features_tensor, utterance_losses};

/// The loss to descend for one batch: clean or adversarial features (by
/// `cfg.adversarial_ratio`), through weights with Gaussian noise when `cfg.weight_noise > 0`,
/// averaged over utterances or weighted by DRO group. `None` when the loss is not finite.
pub(crate) fn training_loss(
    cfg: &TrainingConfig,
    model: &AcousticModel,
    batch: &Batch,
    groups: &[usize],
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
    let features = match &cfg.adversarial {
        Some(attack) if rng.random::<f64>() < cfg.adversarial_ratio => {
            attack::perturb(model, batch, device, attack, rng).0
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
