//! Recurrent layers with the input projection hoisted out of the time loop and both directions
//! of a bidirectional layer advanced together in one batched matmul per time step.
//!
//! Gate layouts follow PyTorch (`nn.LSTM`: i, f, g, o; `nn.GRU`: r, z, n) so weights can be
//! compared with PyTorch directly.

use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{sigmoid, tanh};
use serde::{Deserialize, Serialize};

use super::fused;

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

/// One recurrent layer, uni- or bidirectional.
#[derive(Module, Debug)]
pub struct RecurrentLayer {
    /// `d_input → directions × gates × hidden`, all time steps in one matmul.
    pub input: Linear,
    /// Recurrent weights `[directions, hidden, gates × hidden]`.
    pub w_hh: Param<Tensor<3>>,
    /// Recurrent bias `[directions, 1, gates × hidden]` (PyTorch's `b_hh`).
    pub b_hh: Param<Tensor<3>>,
    pub hidden: usize,
    pub directions: usize,
    #[module(skip)]
    pub cell: CellKind,
}

impl RecurrentLayer {
    pub fn new(
        cell: CellKind,
        d_input: usize,
        hidden: usize,
        bidirectional: bool,
        device: &Device,
    ) -> Self {
        let directions = if bidirectional { 2 } else { 1 };
        let g = cell.gates();
        let k = 1.0 / (hidden as f64).sqrt();
        let init = Initializer::Uniform { min: -k, max: k };
        Self {
            input: LinearConfig::new(d_input, directions * g * hidden)
                .with_initializer(init.clone())
                .init(device),
            w_hh: init.init([directions, hidden, g * hidden], device),
            b_hh: init.init([directions, 1, g * hidden], device),
            hidden,
            directions,
            cell,
        }
    }

    /// Output width: `directions × hidden`.
    pub fn output_dim(&self) -> usize {
        self.directions * self.hidden
    }

    /// # Shapes
    /// - `x`: `[N, T, d_input]`
    /// - `reverse_index`: `[N, T]` — for each sequence, `len-1-t` for `t < len`, else `t`
    ///   (only used when bidirectional)
    /// - output: `[N, T, directions × hidden]`
    ///
    /// On burn's `flex` CPU backend the whole time loop runs as one operation with a
    /// hand-written backward pass ([`super::fused`]); on LibTorch the whole layer is one
    /// operation through LibTorch's RNN kernels (`backend::tch::recurrence`); elsewhere, and in
    /// [`forward_stepwise`](Self::forward_stepwise), one small operation per step.
    pub fn forward(&self, x: Tensor<3>, reverse_index: Option<&Tensor<2, Int>>) -> Tensor<3> {
        let [n, _, _] = x.dims();
        #[cfg(feature = "tch")]
        if let Some(y) = self.libtorch_recurrence(&x, reverse_index) {
            return y;
        }
        let projected = self.input.forward(x); // [N, T, D*G*H]
        if let Some(y) = self.fused_recurrence(&projected, reverse_index) {
            return y;
        }
        let zeros = LayerState::zeros(self.directions, n, self.hidden, &projected.device());
        self.recur(projected, reverse_index, zeros).0
    }

    /// [`forward`](Self::forward) through the fused operation, or `None` (with nothing
    /// recorded) where it doesn't apply: a backend other than `flex` or LibTorch, on `flex` a
    /// dtype other than `f32`, or `HARK_STEPWISE_RNN` set in the environment.
    pub fn forward_fused(
        &self,
        x: Tensor<3>,
        reverse_index: Option<&Tensor<2, Int>>,
    ) -> Option<Tensor<3>> {
        #[cfg(feature = "tch")]
        if let Some(y) = self.libtorch_recurrence(&x, reverse_index) {
            return Some(y);
        }
        self.fused_recurrence(&self.input.forward(x), reverse_index)
    }

    /// On LibTorch, the whole layer (input projection included) through LibTorch's own RNN
    /// kernels as one operation; `None` on other backends.
    #[cfg(feature = "tch")]
    fn libtorch_recurrence(
        &self,
        x: &Tensor<3>,
        reverse_index: Option<&Tensor<2, Int>>,
    ) -> Option<Tensor<3>> {
        if stepwise_forced() {
            return None;
        }
        crate::backend::libtorch_recurrence(crate::backend::LayerTensors {
            cell: self.cell,
            hidden: self.hidden,
            directions: self.directions,
            x,
            w_in: self.input.weight.val(),
            b_in: self.input.bias.as_ref()?.val(),
            w_hh: self.w_hh.val(),
            b_hh: self.b_hh.val(),
            reverse_index,
        })
    }

    fn fused_recurrence(
        &self,
        projected: &Tensor<3>,
        reverse_index: Option<&Tensor<2, Int>>,
    ) -> Option<Tensor<3>> {
        let [n, t, _] = projected.dims();
        let spec = self.fused_spec(n, t, reverse_index)?;
        fused::try_recurrence(spec, projected, &self.w_hh.val(), &self.b_hh.val())
    }

    /// [`forward`](Self::forward) through the per-step path only: the reference the fused
    /// operation is tested against.
    pub fn forward_stepwise(
        &self,
        x: Tensor<3>,
        reverse_index: Option<&Tensor<2, Int>>,
    ) -> Tensor<3> {
        let [n, _, _] = x.dims();
        let zeros = LayerState::zeros(self.directions, n, self.hidden, &x.device());
        self.forward_from(x, reverse_index, zeros).0
    }

    /// The fused operation's description of this layer for an `[N, T, _]` input, or `None`
    /// where it doesn't apply.
    fn fused_spec(
        &self,
        n: usize,
        t: usize,
        reverse_index: Option<&Tensor<2, Int>>,
    ) -> Option<fused::Spec> {
        if stepwise_forced() {
            return None;
        }
        let rev = if self.directions == 2 {
            let index: Option<Vec<i64>> =
                reverse_index.map(|i| i.to_data().iter::<i64>().collect());
            fused::Spec::reversal(index.as_deref(), n, t)?
        } else if self.directions == 1 {
            Vec::new()
        } else {
            return None;
        };
        Some(fused::Spec {
            cell: self.cell,
            n,
            t,
            h: self.hidden,
            dirs: self.directions,
            rev,
        })
    }

    /// Run a unidirectional layer from `state`, returning its output and the state after the
    /// last step, so a stream can be processed in chunks with the same result as in one piece.
    ///
    /// # Shapes
    /// - `x`: `[N, T, d_input]`, state `[1, N, hidden]` each → output `[N, T, hidden]`
    pub fn forward_stream(&self, x: Tensor<3>, state: LayerState) -> (Tensor<3>, LayerState) {
        debug_assert_eq!(self.directions, 1, "streaming needs a unidirectional layer");
        self.forward_from(x, None, state)
    }

    fn forward_from(
        &self,
        x: Tensor<3>,
        reverse_index: Option<&Tensor<2, Int>>,
        state: LayerState,
    ) -> (Tensor<3>, LayerState) {
        let projected = self.input.forward(x); // [N, T, D*G*H]
        self.recur(projected, reverse_index, state)
    }

    /// The time loop, one small operation per step, from the input projection `[N, T, D*G*H]`.
    fn recur(
        &self,
        projected: Tensor<3>,
        reverse_index: Option<&Tensor<2, Int>>,
        state: LayerState,
    ) -> (Tensor<3>, LayerState) {
        let [n, t_len, _] = projected.dims();
        let h = self.hidden;
        let gh = self.cell.gates() * h;
        let per_dir: Vec<Tensor<3>> = projected.chunk(self.directions, 2); // D × [N, T, G*H]
        let mut inputs = Vec::with_capacity(self.directions);
        for (d, p) in per_dir.into_iter().enumerate() {
            inputs.push(if d == 1 {
                reverse_time(p, reverse_index)
            } else {
                p
            });
        }
        let xs: Tensor<4> = Tensor::stack(inputs, 0); // [D, N, T, G*H]
        let w = self.w_hh.val();
        let b = self.b_hh.val();
        let LayerState {
            h: mut state_h,
            c: mut state_c,
        } = state;
        let mut outputs = Vec::with_capacity(t_len);
        for t in 0..t_len {
            // [D, N, 1, G*H] -> [D, N, G*H]
            let xt = xs.clone().narrow(2, t, 1).reshape([self.directions, n, gh]);
            let rec = state_h.clone().matmul(w.clone()) + b.clone(); // [D, N, G*H]
            match self.cell {
                CellKind::Lstm => {
                    let gates = (xt + rec).chunk(4, 2);
                    let [i, f, g, o]: [Tensor<3>; 4] = gates
                        .try_into()
                        .unwrap_or_else(|_| unreachable!("chunk(4) yields 4 tensors"));
                    state_c = sigmoid(f) * state_c + sigmoid(i) * tanh(g);
                    state_h = sigmoid(o) * tanh(state_c.clone());
                }
                CellKind::Gru => {
                    let xg = xt.chunk(3, 2);
                    let hg = rec.chunk(3, 2);
                    let [xr, xz, xn]: [Tensor<3>; 3] = xg
                        .try_into()
                        .unwrap_or_else(|_| unreachable!("chunk(3) yields 3 tensors"));
                    let [hr, hz, hn]: [Tensor<3>; 3] = hg
                        .try_into()
                        .unwrap_or_else(|_| unreachable!("chunk(3) yields 3 tensors"));
                    let r = sigmoid(xr + hr);
                    let z = sigmoid(xz + hz);
                    let cand = tanh(xn + r * hn);
                    // h' = (1 - z) * n + z * h = n + z * (h - n)
                    state_h = cand.clone() + z * (state_h - cand);
                }
            }
            outputs.push(state_h.clone());
        }
        let last = LayerState {
            h: state_h,
            c: state_c,
        };
        if t_len == 0 {
            let empty = Tensor::<3>::zeros([n, 0, self.directions * h], &xs.device());
            return (empty, last);
        }
        let out: Tensor<4> = Tensor::stack(outputs, 2); // [D, N, T, H]
        let dirs: Vec<Tensor<4>> = out.chunk(self.directions, 0);
        let mut per_dir_out = Vec::with_capacity(self.directions);
        for (d, o) in dirs.into_iter().enumerate() {
            let o = o.reshape([n, t_len, h]); // [1, N, T, H] -> [N, T, H]
            per_dir_out.push(if d == 1 {
                reverse_time(o, reverse_index)
            } else {
                o
            });
        }
        (Tensor::cat(per_dir_out, 2), last) // [N, T, D*H]
    }
}

/// `HARK_STEPWISE_RNN` set: every layer takes the per-step path (for comparisons).
fn stepwise_forced() -> bool {
    std::env::var_os("HARK_STEPWISE_RNN").is_some()
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

/// Reverse each sequence within its valid length (padding stays in place).
///
/// # Shapes
/// - `x`: `[N, T, C]`, `index`: `[N, T]` → `[N, T, C]`
fn reverse_time(x: Tensor<3>, index: Option<&Tensor<2, Int>>) -> Tensor<3> {
    match index {
        Some(index) => {
            let [n, t, c] = x.dims();
            let idx: Tensor<3, Int> = index.clone().unsqueeze_dim::<3>(2).expand([n, t, c]);
            x.gather(1, idx)
        }
        None => x.flip([1]),
    }
}

/// The `[N, T]` index that reverses each sequence within its length.
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
