//! A recurrent layer through LibTorch's own RNN kernels (`at::lstm` / `at::gru`: cuDNN on CUDA,
//! ATen's C++ time loop on the CPU) as **one** burn autodiff operation whose backward pass is
//! LibTorch's autograd.
//!
//! On LibTorch the per-step path records about ten burn operations per time step, each a
//! LibTorch call plus burn's autodiff bookkeeping; this is what made a training step 2× slower
//! than PyTorch's `nn.LSTM`. Here burn sees a single node with five parents — the layer input,
//! the input projection's weight and bias, the recurrent weight and bias — and its backward
//! pass hands the incoming gradient to LibTorch's autograd, which runs the kernels' own
//! backward (the same ones PyTorch's `nn.LSTM`/`nn.GRU` use).
//!
//! A bidirectional layer whose sequences are all full length is one bidirectional call. In a
//! ragged batch the backward direction is its own call on each sequence reversed within its
//! own length (the `[N, T]` reversal index of [`super::reverse_index`]), so padding
//! never reaches a sequence's real frames.
//! Weights keep hark's layout (`[d_in, D·G·H]`, `[D, H, G·H]`); each call gets per-direction
//! views in PyTorch's layout (`[G·H, d_in]`, `[G·H, H]`), so gradients come back in hark's.

#![allow(deprecated)]

use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::libtorch::TchTensor;
use burn::backend::{Autodiff, DispatchKindConversion, DispatchTensor, LibTorch};
use burn::prelude::*;
use tch::TchError;

use super::{CellKind, FusedKernel, run_fused};

/// One recurrent layer's tensors, in hark's layout.
pub struct LayerTensors<'a> {
    pub cell: CellKind,
    pub hidden: usize,
    /// 1 or 2.
    pub directions: usize,
    /// `[N, T, d_in]`
    pub x: &'a Tensor<3>,
    /// Input projection weight `[d_in, D·G·H]`.
    pub w_in: Tensor<2>,
    /// Input projection bias `[D·G·H]`.
    pub b_in: Tensor<1>,
    /// `[D, H, G·H]`
    pub w_hh: Tensor<3>,
    /// `[D, 1, G·H]`
    pub b_hh: Tensor<3>,
    /// `[N, T]` within-length reversal for the backward direction (`None`: flip all of `T`).
    pub reverse_index: Option<&'a Tensor<2, Int>>,
}

/// Shapes and time order, known before LibTorch is called.
#[derive(Debug, Clone)]
struct Plan {
    cell: CellKind,
    hidden: i64,
    directions: i64,
    /// Row-major `[N, T]` reversal index, if any.
    reverse: Option<Vec<i64>>,
}

/// The layer's output `[N, T, D·H]`, or `None` (with nothing recorded) when the tensors are not
/// LibTorch tensors.
pub fn try_recurrence(layer: LayerTensors<'_>) -> Option<Tensor<3>> {
    let [n, t, _] = layer.x.dims();
    if n == 0 || t == 0 || !matches!(layer.directions, 1 | 2) {
        return None;
    }
    // Read only once the inputs are known to be LibTorch tensors.
    let plan = || -> Option<Plan> {
        let reverse = match (layer.directions, layer.reverse_index) {
            (2, Some(index)) => {
                let index: Vec<i64> = index.to_data().iter::<i64>().collect();
                // Every sequence full length: the reversal is a flip of all of `T`.
                let flip = (0..n * t).all(|k| index.get(k) == Some(&((t - 1 - k % t) as i64)));
                (!flip).then_some(index)
            }
            _ => None,
        };
        Some(Plan {
            cell: layer.cell,
            hidden: i64::try_from(layer.hidden).ok()?,
            directions: i64::try_from(layer.directions).ok()?,
            reverse,
        })
    };
    let inputs = [
        layer.x.clone(),
        layer.w_in.unsqueeze::<3>(),
        layer.b_in.unsqueeze::<3>(),
        layer.w_hh,
        layer.b_hh,
    ];
    let device = layer.x.device();
    run_fused(&device, TorchLayer { plan, inputs })
}

/// One layer's recurrence on LibTorch: the plan, read lazily, and the five inputs.
struct TorchLayer<P> {
    plan: P,
    inputs: [Tensor<3>; 5],
}

impl<P: FnOnce() -> Option<Plan>> FusedKernel for TorchLayer<P> {
    type Inner = LibTorch;

    fn plain(self) -> Option<Tensor<3>> {
        plain_run(self.plan, self.inputs)
    }

    fn tracked<C: CheckpointStrategy>(self) -> Option<Tensor<3>>
    where
        DispatchTensor: DispatchKindConversion<Autodiff<LibTorch, C>>,
    {
        autodiff_run::<C>(self.plan, self.inputs)
    }
}

/// The five inputs as LibTorch tensors, in the order of [`try_recurrence`]'s parents: `x`,
/// `w_in`, `b_in`, `w_hh`, `b_hh`, each shaped as hark stores it (`w_in` and `b_in` with a leading
/// unit axis, so all five are rank 3).
type TorchInputs = [tch::Tensor; 5];

/// `x` reversed in time per sequence, within its length (`index` `[N, T]`).
fn reverse_time(x: &tch::Tensor, index: &tch::Tensor) -> Result<tch::Tensor, TchError> {
    let expanded = index.f_unsqueeze(2)?.f_expand(&x.size()[..], false)?;
    x.f_gather(1, &expanded, false)
}

/// The layer through `at::lstm` / `at::gru`, recorded by LibTorch's autograd when the inputs
/// require a gradient.
fn run_torch(plan: &Plan, inputs: &TorchInputs, train: bool) -> Result<tch::Tensor, TchError> {
    let [x, w_in, b_in, w_hh, b_hh] = inputs;
    let size = x.size();
    let (n, t) = (size[0], size[1]);
    let h = plan.hidden;
    let gh = plan.cell.gates() as i64 * h;
    let options = (x.kind(), x.device());
    let w_in = w_in.f_squeeze_dim(0)?; // [d_in, D·G·H]
    let b_in = b_in.f_reshape([-1])?; // [D·G·H]
    // PyTorch's layout for direction `d`: w_ih, w_hh, b_ih, b_hh.
    let params = |d: i64| -> Result<[tch::Tensor; 4], TchError> {
        Ok([
            w_in.f_narrow(1, d * gh, gh)?
                .f_transpose(0, 1)?
                .f_contiguous()?,
            w_hh.f_select(0, d)?.f_transpose(0, 1)?.f_contiguous()?,
            b_in.f_narrow(0, d * gh, gh)?,
            b_hh.f_select(0, d)?.f_reshape([gh])?,
        ])
    };
    // One call over `input`; `params` holds 4 tensors per direction.
    let run = |input: &tch::Tensor, params: &[tch::Tensor]| -> Result<tch::Tensor, TchError> {
        let dirs = (params.len() / 4) as i64;
        let bidirectional = dirs == 2;
        let h0 = tch::Tensor::f_zeros([dirs, n, h], options)?;
        Ok(match plan.cell {
            CellKind::Lstm => {
                let c0 = tch::Tensor::f_zeros([dirs, n, h], options)?;
                let params: Vec<&tch::Tensor> = params.iter().collect();
                let state = [&h0, &c0];
                input
                    .f_lstm(&state, &params, true, 1, 0.0, train, bidirectional, true)?
                    .0
            }
            CellKind::Gru => {
                input
                    .f_gru(&h0, params, true, 1, 0.0, train, bidirectional, true)?
                    .0
            }
        })
    };
    match &plan.reverse {
        // Unidirectional, or every sequence full length: one call, LibTorch flips the
        // backward direction itself.
        None => {
            let mut all = Vec::with_capacity(4 * plan.directions as usize);
            for d in 0..plan.directions {
                all.extend(params(d)?);
            }
            run(x, &all)
        }
        Some(rev) => {
            let index = tch::Tensor::f_from_slice(rev)?
                .f_view([n, t])?
                .f_to_device(x.device())?;
            let forward = run(x, &params(0)?)?;
            let reversed = run(&reverse_time(x, &index)?, &params(1)?)?;
            tch::Tensor::f_cat(&[forward, reverse_time(&reversed, &index)?], 2)
        }
    }
}

fn plain_run(plan: impl FnOnce() -> Option<Plan>, inputs: [Tensor<3>; 5]) -> Option<Tensor<3>> {
    let [x, w_in, b_in, w_hh, b_hh] = inputs.map(|t| t.try_into_primitive::<LibTorch>().ok());
    let torch = [
        x?.tensor,
        w_in?.tensor,
        b_in?.tensor,
        w_hh?.tensor,
        b_hh?.tensor,
    ];
    let plan = plan()?;
    let y = tch::no_grad(|| run_torch(&plan, &torch, false)).ok()?;
    Some(Tensor::from_primitive::<LibTorch>(TchTensor::new(y)))
}

/// What the backward pass needs: LibTorch's graph (its output and its leaves, one per burn
/// parent that wants a gradient) and burn's own handles on the inputs and the output, which keep
/// burn from updating those buffers in place while LibTorch's graph still reads them.
#[derive(Debug, Clone)]
struct Graph {
    output: Arc<TchTensor>,
    leaves: Arc<[Option<TchTensor>; 5]>,
    _pinned: Arc<Vec<TchTensor>>,
}

#[derive(Debug)]
struct TorchRecurrence;

impl Backward<LibTorch, 5> for TorchRecurrence {
    type State = Graph;

    fn backward(self, ops: Ops<Self::State, 5>, grads: &mut Gradients, _: &mut Checkpointer) {
        let graph = ops.state;
        let grad = grads.consume::<LibTorch>(&ops.node);
        let mut wanted = Vec::with_capacity(5);
        for (parent, leaf) in ops.parents.iter().zip(graph.leaves.iter()) {
            if let (Some(parent), Some(leaf)) = (parent, leaf) {
                wanted.push((parent.id, leaf.tensor.shallow_clone()));
            }
        }
        if wanted.is_empty() {
            return;
        }
        // d(sum(y ⊙ g))/d leaf is the vector-Jacobian product of g.
        let computed = tch::with_grad(|| {
            let loss = graph
                .output
                .tensor
                .f_mul(&grad.tensor)?
                .f_sum(graph.output.tensor.kind())?;
            let leaves: Vec<&tch::Tensor> = wanted.iter().map(|(_, t)| t).collect();
            tch::Tensor::f_run_backward(&[loss], &leaves, false, false)
        });
        let computed = match computed {
            Ok(g) => g,
            // burn's backward cannot fail; a LibTorch error here is a bug, not bad input.
            Err(e) => panic!("LibTorch backward of the fused recurrence failed: {e}"),
        };
        for ((id, _), g) in wanted.into_iter().zip(computed) {
            grads.register::<LibTorch>(id, TchTensor::new(g));
        }
    }
}

fn autodiff_run<C: CheckpointStrategy>(
    plan: impl FnOnce() -> Option<Plan>,
    inputs: [Tensor<3>; 5],
) -> Option<Tensor<3>>
where
    DispatchTensor: DispatchKindConversion<Autodiff<LibTorch, C>>,
{
    let [x, w_in, b_in, w_hh, b_hh] =
        inputs.map(|t| t.try_into_primitive::<Autodiff<LibTorch, C>>().ok());
    let all = [x?, w_in?, b_in?, w_hh?, b_hh?];
    let plan = plan()?;
    let nodes = all.each_ref().map(|t| t.node());
    let tracked = all.each_ref().map(|t| t.is_tracked());
    let out = match TorchRecurrence
        .prepare::<C>(nodes)
        .compute_bound()
        .stateful()
    {
        OpsKind::Tracked(prep) => {
            let leaves: TorchInputs = std::array::from_fn(|i| {
                let leaf = all[i].primitive().tensor.detach();
                if tracked[i] {
                    leaf.set_requires_grad(true)
                } else {
                    leaf
                }
            });
            let y = tch::with_grad(|| run_torch(&plan, &leaves, true)).ok()?;
            let output = TchTensor::new(y.detach());
            let mut kept: Vec<TchTensor> = all.iter().map(|t| t.primitive().clone()).collect();
            kept.push(output.clone());
            let graph = Graph {
                output: Arc::new(TchTensor::new(y)),
                leaves: Arc::new(std::array::from_fn(|i| {
                    tracked[i].then(|| TchTensor::new(leaves[i].shallow_clone()))
                })),
                _pinned: Arc::new(kept),
            };
            prep.finish(graph, output)
        }
        OpsKind::UnTracked(prep) => {
            let torch: TorchInputs =
                std::array::from_fn(|i| all[i].primitive().tensor.shallow_clone());
            let y = tch::no_grad(|| run_torch(&plan, &torch, false)).ok()?;
            prep.finish(TchTensor::new(y))
        }
    };
    Some(Tensor::from_primitive::<Autodiff<LibTorch, C>>(out))
}
