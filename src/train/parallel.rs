//! Data-parallel training steps with burn-train's `MultiDevicesTrainStep`: each batch is cut
//! into one shard per device, burn's workers fork the model onto their devices and run the
//! step there, and the shards' gradients are moved to the main device and summed by burn's
//! `GradientsAccumulator`. Each shard's loss is scaled by its share of the batch, so the sum is
//! the gradient of the whole batch's mean loss, as on one device.
//!
//! On the CPU backend every device has the same id, so `--devices cpu,cpu` gives two workers
//! on two threads sharing the cores; with LibTorch, `--devices cuda:0,cuda:1` puts one worker
//! on each GPU.

use std::sync::Arc;

use burn::data::dataloader::{DataLoaderIterator, Progress};
use burn::data::dataset::DatasetError;
use burn::optim::{GradientsAccumulator, GradientsParams};
use burn::prelude::*;
use burn::train::train::MultiDevicesTrainStep;
use burn::train::{InferenceStep, ItemLazy, TrainOutput, TrainStep};

use super::TrainingConfig;
use super::objective::training_loss;
use crate::augment;
use crate::data::Batch;
use crate::error::{Error, Result};
use crate::model::AcousticModel;

/// One worker's part of a batch.
pub struct Shard {
    batch: Batch,
    /// This shard's share of the batch's utterances.
    scale: f32,
    cfg: Arc<TrainingConfig>,
    /// Seeds the shard's attack starts.
    seed: u64,
}

/// A shard's mean loss (NaN when it was not finite) and its share of the batch.
pub struct ShardLoss {
    loss: f32,
    scale: f32,
}

impl ItemLazy for ShardLoss {
    fn sync(self) -> std::result::Result<Self, burn_std::ExecutionError> {
        Ok(self)
    }
}

impl TrainStep for AcousticModel {
    type Input = Shard;
    type Output = ShardLoss;

    fn step(&self, shard: Shard) -> TrainOutput<ShardLoss> {
        let device = self.output.weight.val().device();
        let mut rng = augment::rng(shard.seed);
        match training_loss(
            &shard.cfg,
            self,
            &shard.batch,
            &[],
            None,
            &device,
            None,
            &mut rng,
        ) {
            Some(loss) => {
                let value = loss.clone().into_scalar::<f32>();
                TrainOutput::new(
                    self,
                    (loss * shard.scale).backward(),
                    ShardLoss {
                        loss: value,
                        scale: shard.scale,
                    },
                )
            }
            // Nothing to learn from: a zero gradient, and a NaN that tells the caller to skip
            // the batch.
            None => {
                let zero = self
                    .output
                    .bias
                    .as_ref()
                    .map_or_else(|| self.output.weight.val().sum(), |b| b.val().sum())
                    * 0.0;
                TrainOutput::new(
                    self,
                    zero.backward(),
                    ShardLoss {
                        loss: f32::NAN,
                        scale: shard.scale,
                    },
                )
            }
        }
    }
}

impl InferenceStep for AcousticModel {
    type Input = Batch;
    type Output = ();

    fn step(&self, _batch: Batch) {}
}

/// Hands one shard to one worker.
struct OneShard(Option<Shard>);

impl Iterator for OneShard {
    type Item = std::result::Result<Shard, DatasetError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.take().map(Ok)
    }
}

impl DataLoaderIterator<Shard> for OneShard {
    fn progress(&self) -> Progress {
        Progress::new(usize::from(self.0.is_none()), 1, None)
    }
}

/// burn's workers, one per device; the first device holds the model and the optimizer.
pub struct DataParallel {
    workers: MultiDevicesTrainStep<AcousticModel>,
    main: Device,
    devices: usize,
}

impl DataParallel {
    pub fn new(devices: &[Device]) -> Result<Self> {
        let main = devices
            .first()
            .cloned()
            .ok_or_else(|| Error::Config("data-parallel training needs a device".into()))?;
        Ok(Self {
            workers: MultiDevicesTrainStep::new(devices),
            main,
            devices: devices.len(),
        })
    }

    /// The batch's mean loss and its gradients on the main device; `None` when some shard's
    /// loss was not finite.
    pub fn step(
        &self,
        model: &AcousticModel,
        cfg: &Arc<TrainingConfig>,
        batch: &Batch,
        seed: u64,
    ) -> Result<Option<(f64, GradientsParams)>> {
        let total = batch.len().max(1) as f32;
        let mut loaders: Vec<Box<dyn DataLoaderIterator<Shard>>> = batch
            .split(self.devices)
            .into_iter()
            .enumerate()
            .map(|(k, part)| {
                let shard = Shard {
                    scale: part.len() as f32 / total,
                    batch: part,
                    cfg: Arc::clone(cfg),
                    seed: seed ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                };
                Box::new(OneShard(Some(shard))) as Box<dyn DataLoaderIterator<Shard>>
            })
            .collect();
        let (outputs, _) = self
            .workers
            .step(&mut loaders, model)
            .map_err(|e| Error::Data(format!("data-parallel step: {e}")))?;
        let mut loss = 0.0f64;
        let mut finite = true;
        let mut sum = GradientsAccumulator::new();
        for out in outputs {
            let ShardLoss { loss: value, scale } = out.output.item;
            finite &= value.is_finite();
            loss += f64::from(value) * f64::from(scale);
            sum.accumulate(model, out.output.grads.to_device(&self.main, model));
        }
        Ok(finite.then(|| (loss, sum.grads())))
    }
}
