//! The recurrence of a layer: its cell, its state, and the kernels that run its time loop.
//!
//! Three kernels compute the same thing:
//! - [`stepwise`]: one small burn operation per time step, on any backend. The reference.
//! - [`flex`]: burn's `flex` CPU backend, the whole loop as one autodiff operation with a
//!   hand-written backward pass.
//! - `tch` (with the `tch` feature): LibTorch's own RNN kernels as one autodiff operation whose
//!   backward pass is LibTorch's autograd.
//!
//! The two fused kernels are recorded on burn's autodiff graph the same way; [`run_fused`] picks
//! the path (no autodiff, or autodiff under the device's checkpointing strategy) for both.

pub(crate) mod flex;
pub mod row_product;
pub(crate) mod stepwise;
#[cfg(feature = "tch")]
pub(crate) mod tch;

use burn::backend::autodiff::checkpoint::strategy::{
    BalancedCheckpointing, CheckpointStrategy, NoCheckpointing,
};
use burn::backend::{Autodiff, Backend, DispatchKindConversion, DispatchTensor};
use burn::prelude::*;
use burn::tensor::GradientCheckpointingStrategy;
use serde::{Deserialize, Serialize};

/// Which recurrent cell a layer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    Lstm,
    Gru,
}

impl CellKind {
    /// Gates per cell: 4 for LSTM, 3 for GRU.
    pub fn gates(self) -> usize {
        match self {
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        }
    }
}

/// Which kernel a layer's time loop may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Kernel {
    /// One fused operation where the backend has one (`flex` with `f32`, LibTorch), the
    /// per-step loop elsewhere.
    #[default]
    Fused,
    /// Always the per-step loop: the reference the fused kernels are compared with.
    Stepwise,
}

/// Recurrent state of one layer: `h` and (LSTM only; zeros for GRU) `c`, `[D, N, hidden]`.
#[derive(Debug, Clone)]
pub struct LayerState {
    pub h: Tensor<3>,
    pub c: Tensor<3>,
}

impl LayerState {
    pub fn zeros(directions: usize, n: usize, hidden: usize, device: &Device) -> Self {
        Self {
            h: Tensor::zeros([directions, n, hidden], device),
            c: Tensor::zeros([directions, n, hidden], device),
        }
    }
}

/// The `[N, T]` index that reverses each sequence within its length (padding stays in place):
/// `len - 1 - t` for `t < len`, else `t`.
pub fn reverse_index(lengths: &[usize], t_len: usize, device: &Device) -> Tensor<2, Int> {
    let mut data = Vec::with_capacity(lengths.len() * t_len);
    for &len in lengths {
        let len = len.min(t_len);
        for t in 0..t_len {
            data.push(if t < len {
                (len - 1 - t) as i64
            } else {
                t as i64
            });
        }
    }
    Tensor::from_data(TensorData::new(data, [lengths.len(), t_len]), device)
}

/// A time loop that runs as one operation on its backend `Inner`, with or without autodiff.
pub(crate) trait FusedKernel: Sized {
    /// The backend the kernel runs on, under autodiff or not.
    type Inner: Backend;

    /// The output without autodiff, or `None` when the inputs are not `Inner` tensors.
    fn plain(self) -> Option<Tensor<3>>;

    /// The output recorded on burn's autodiff graph under checkpoint strategy `C`, or `None`
    /// (with nothing recorded) when the inputs are not `Autodiff<Inner, C>` tensors.
    fn tracked<C: CheckpointStrategy>(self) -> Option<Tensor<3>>
    where
        DispatchTensor: DispatchKindConversion<Autodiff<Self::Inner, C>>;
}

/// Run `kernel` the way `device` asks: plain, or on the autodiff graph with its checkpointing.
pub(crate) fn run_fused<K: FusedKernel>(device: &Device, kernel: K) -> Option<Tensor<3>>
where
    DispatchTensor: DispatchKindConversion<Autodiff<K::Inner, NoCheckpointing>>
        + DispatchKindConversion<Autodiff<K::Inner, BalancedCheckpointing>>,
{
    match device.gradient_checkpointing_strategy() {
        None => kernel.plain(),
        Some(GradientCheckpointingStrategy::Disabled) => kernel.tracked::<NoCheckpointing>(),
        Some(GradientCheckpointingStrategy::Balanced) => kernel.tracked::<BalancedCheckpointing>(),
    }
}
