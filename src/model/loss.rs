//! The CTC loss of the acoustic model on a batch: what training descends and what adversarial
//! examples ascend.

use burn::nn::loss::CTCLossConfig;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;

use super::AcousticModel;
use crate::data::Batch;

/// The batch's own features as a `[N, T, D]` tensor on `device`.
pub fn batch_features(batch: &Batch, device: &Device) -> Tensor<3> {
    features_tensor(batch, batch.features.clone(), device)
}

/// `features` (laid out like `batch.features`) as a `[N, T, D]` tensor on `device`.
pub fn features_tensor(batch: &Batch, features: Vec<f32>, device: &Device) -> Tensor<3> {
    let shape = [batch.len(), batch.max_frames, batch.dim];
    Tensor::<3>::from_data(TensorData::new(features, shape), device)
}

/// The CTC loss of a batch, averaged over utterances after dividing by target length.
pub fn batch_loss(model: &AcousticModel, batch: &Batch, device: &Device) -> Tensor<1> {
    utterance_losses(model, batch_features(batch, device), batch, device).mean()
}

/// The CTC loss of each utterance of `batch` (`[N]`, divided by target length), with input
/// features `x` (`[N, T, D]`, the batch's own or a perturbed copy).
pub fn utterance_losses(
    model: &AcousticModel,
    x: Tensor<3>,
    batch: &Batch,
    device: &Device,
) -> Tensor<1> {
    let n = batch.len();
    let logits = model.forward(x, &batch.lengths); // [N, T', V]
    let log_probs = log_softmax(logits, 2).swap_dims(0, 1); // [T', N, V]
    let out_lengths: Vec<i64> = model
        .output_lengths(&batch.lengths)
        .into_iter()
        .map(|l| l as i64)
        .collect();
    let targets = Tensor::<2, Int>::from_data(
        TensorData::new(batch.targets.clone(), [n, batch.max_target]),
        device,
    );
    let input_lengths = Tensor::<1, Int>::from_data(TensorData::new(out_lengths, [n]), device);
    let tl: Vec<i64> = batch.target_lengths.iter().map(|&l| l as i64).collect();
    let target_lengths = Tensor::<1, Int>::from_data(TensorData::new(tl, [n]), device);
    let loss = CTCLossConfig::new()
        .with_zero_infinity(true)
        .init()
        .forward(log_probs, targets, input_lengths, target_lengths.clone()); // [N]
    loss / target_lengths.float()
}
