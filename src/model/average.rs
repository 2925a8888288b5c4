//! Weight averaging: one model whose every weight is the mean of the same weight in several
//! models of one architecture.
//!
//! Averaging the ends of fine-tuning runs that start from one model (cosine cycles from a common
//! ancestor, or the last checkpoints of one run) lands nearer the middle of the flat region they
//! share, which usually generalises better than any one of them (stochastic weight averaging,
//! Izmailov et al. 2018; ESPnet and NeMo average their last checkpoints the same way). Models
//! trained from different random starts do not share a region, and their mean is noise: average
//! relatives only, and measure.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;

use super::AcousticModel;
use crate::error::{Error, Result};

/// Every float weight of a model, flattened, in the order burn visits them, with its shape.
struct Weights(Vec<(Vec<usize>, Tensor<1>)>);

impl ModuleVisitor for Weights {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let dims = tensor.dims().to_vec();
        let len: usize = dims.iter().product();
        self.0.push((dims, tensor.reshape([len])));
    }
}

fn weights_of(model: &AcousticModel) -> Weights {
    let mut weights = Weights(Vec::new());
    model.visit(&mut weights);
    weights
}

/// Puts the given flattened weights back, in visiting order.
struct Replace(std::vec::IntoIter<Tensor<1>>);

impl ModuleMapper for Replace {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        match self.0.next() {
            Some(flat) => param.map(|old| {
                let shape = old.shape();
                flat.reshape(shape)
            }),
            // Unreachable when the shapes were checked; keeping the weight is the safe answer.
            None => param,
        }
    }
}

/// The model whose weights are the weighted mean of `models`' (`mix`: one non-negative weight
/// per model, normalised here; `None` for the plain mean). All must share one architecture:
/// the same weights in the same shapes, or an error says which differs.
pub fn average(models: Vec<AcousticModel>, mix: Option<&[f32]>) -> Result<AcousticModel> {
    let n = models.len();
    if n == 0 {
        return Err(Error::Config("no models to average".into()));
    }
    let mix: Vec<f32> = match mix {
        None => vec![1.0; n],
        Some(m) if m.len() == n && m.iter().all(|w| w.is_finite() && *w >= 0.0) => m.to_vec(),
        Some(m) => {
            return Err(Error::Config(format!(
                "{} mixing weights for {n} models (each must be finite and >= 0)",
                m.len()
            )));
        }
    };
    let total: f32 = mix.iter().sum();
    if total <= 0.0 {
        return Err(Error::Config("the mixing weights sum to zero".into()));
    }
    let mut models = models.into_iter();
    let Some(first) = models.next() else {
        return Err(Error::Config("no models to average".into()));
    };
    let Weights(base) = weights_of(&first);
    let mut sums: Vec<Tensor<1>> = base
        .iter()
        .map(|(_, t)| t.clone() * (mix[0] / total))
        .collect();
    for (i, model) in models.enumerate() {
        let Weights(other) = weights_of(&model);
        if other.len() != base.len() {
            return Err(Error::Config(format!(
                "model {} has {} weight tensors, model 1 has {}",
                i + 2,
                other.len(),
                base.len()
            )));
        }
        for (k, ((dims, t), (base_dims, _))) in other.into_iter().zip(&base).enumerate() {
            if &dims != base_dims {
                return Err(Error::Config(format!(
                    "weight {k} of model {} has shape {dims:?}, model 1's has {base_dims:?}",
                    i + 2
                )));
            }
            sums[k] = sums[k].clone() + t * (mix[i + 1] / total);
        }
    }
    Ok(first.map(&mut Replace(sums.into_iter())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AcousticModelConfig, CellKind};

    /// A small random model (each call draws fresh weights).
    fn tiny() -> AcousticModel {
        AcousticModelConfig::new(4, 5)
            .with_hidden(3)
            .with_layers(2)
            .with_cell(CellKind::Gru)
            .init(&Device::flex())
    }

    fn flat(model: &AcousticModel) -> Vec<f32> {
        weights_of(model)
            .0
            .into_iter()
            .flat_map(|(_, t)| t.into_data().iter::<f32>().collect::<Vec<_>>())
            .collect()
    }

    #[test]
    fn every_weight_is_the_weighted_mean_of_the_models_weights() {
        let (a, b) = (tiny(), tiny());
        let (wa, wb) = (flat(&a), flat(&b));
        assert_ne!(
            wa, wb,
            "the two random models must differ for the test to mean anything"
        );
        // Weights 1 and 3 normalise to 0.25 and 0.75.
        let mean = flat(&average(vec![a, b], Some(&[1.0, 3.0])).unwrap());
        assert_eq!(mean.len(), wa.len());
        for ((m, x), y) in mean.iter().zip(&wa).zip(&wb) {
            assert!((m - (0.25 * x + 0.75 * y)).abs() < 1e-6, "{m} vs {x}, {y}");
        }
    }

    #[test]
    fn the_mean_of_one_model_is_that_model() {
        let a = tiny();
        let before = flat(&a);
        assert_eq!(flat(&average(vec![a], None).unwrap()), before);
    }

    #[test]
    fn models_of_different_architectures_are_refused() {
        let device = Device::flex();
        let wide = AcousticModelConfig::new(4, 5)
            .with_hidden(4)
            .with_layers(2)
            .init(&device);
        let err = average(vec![tiny(), wide], None).unwrap_err().to_string();
        assert!(err.contains("shape"), "{err}");
        let err = average(vec![tiny(), tiny()], Some(&[1.0])).unwrap_err();
        assert!(err.to_string().contains("mixing weights"), "{err}");
        assert!(average(Vec::new(), None).is_err());
    }
}
