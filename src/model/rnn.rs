//! Recurrent layers with the input projection hoisted out of the time loop and both directions
//! of a bidirectional layer advanced together. The time loop itself is one of the kernels in
//! [`super::recurrence`].
//!
//! Gate layouts follow PyTorch (`nn.LSTM`: i, f, g, o; `nn.GRU`: r, z, n) so weights can be
//! compared with PyTorch directly.

use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;

#[cfg(feature = "tch")]
use super::recurrence;
use super::recurrence::{CellKind, Kernel, LayerState, flex, stepwise};

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
    /// Which time-loop kernel [`forward`](Self::forward) may take.
    #[module(skip)]
    pub kernel: Kernel,
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
            kernel: Kernel::default(),
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
    /// With [`Kernel::Fused`], on burn's `flex` CPU backend the whole time loop runs as one
    /// operation with a hand-written backward pass, and on LibTorch the whole layer is one
    /// operation through LibTorch's RNN kernels; elsewhere, and with [`Kernel::Stepwise`], one
    /// small operation per step.
    pub fn forward(&self, x: Tensor<3>, reverse_index: Option<&Tensor<2, Int>>) -> Tensor<3> {
        let fused = self.kernel == Kernel::Fused;
        #[cfg(feature = "tch")]
        if fused && let Some(y) = self.libtorch_recurrence(&x, reverse_index) {
            return y;
        }
        let projected = self.input.forward(x); // [N, T, D*G*H]
        if fused && let Some(y) = self.flex_recurrence(&projected, reverse_index) {
            return y;
        }
        let [n, _, _] = projected.dims();
        let zeros = LayerState::zeros(self.directions, n, self.hidden, &projected.device());
        self.recur(projected, reverse_index, zeros).0
    }

    /// [`forward`](Self::forward) through a fused kernel, or `None` (with nothing recorded)
    /// where none applies: a backend other than `flex` or LibTorch, or on `flex` a dtype other
    /// than `f32`.
    pub fn forward_fused(
        &self,
        x: Tensor<3>,
        reverse_index: Option<&Tensor<2, Int>>,
    ) -> Option<Tensor<3>> {
        #[cfg(feature = "tch")]
        if let Some(y) = self.libtorch_recurrence(&x, reverse_index) {
            return Some(y);
        }
        self.flex_recurrence(&self.input.forward(x), reverse_index)
    }

    fn flex_recurrence(
        &self,
        projected: &Tensor<3>,
        reverse_index: Option<&Tensor<2, Int>>,
    ) -> Option<Tensor<3>> {
        let [n, t, _] = projected.dims();
        let spec = self.flex_spec(n, t, reverse_index)?;
        flex::try_recurrence(spec, projected, &self.w_hh.val(), &self.b_hh.val())
    }

    /// On LibTorch, the whole layer (input projection included) through LibTorch's own RNN
    /// kernels as one operation; `None` on other backends.
    #[cfg(feature = "tch")]
    fn libtorch_recurrence(
        &self,
        x: &Tensor<3>,
        reverse_index: Option<&Tensor<2, Int>>,
    ) -> Option<Tensor<3>> {
        recurrence::tch::try_recurrence(recurrence::tch::LayerTensors {
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

    /// [`forward`](Self::forward) through the per-step kernel only: the reference the fused
    /// kernels are tested against.
    pub fn forward_stepwise(
        &self,
        x: Tensor<3>,
        reverse_index: Option<&Tensor<2, Int>>,
    ) -> Tensor<3> {
        let [n, _, _] = x.dims();
        let zeros = LayerState::zeros(self.directions, n, self.hidden, &x.device());
        self.forward_from(x, reverse_index, zeros).0
    }

    /// The `flex` kernel's description of this layer for an `[N, T, _]` input, or `None`
    /// where it doesn't apply.
    fn flex_spec(
        &self,
        n: usize,
        t: usize,
        reverse_index: Option<&Tensor<2, Int>>,
    ) -> Option<flex::Spec> {
        let rev = if self.directions == 2 {
            let index: Option<Vec<i64>> =
                reverse_index.map(|i| i.to_data().iter::<i64>().collect());
            flex::Spec::reversal(index.as_deref(), n, t)?
        } else if self.directions == 1 {
            Vec::new()
        } else {
            return None;
        };
        Some(flex::Spec {
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
        self.recur(self.input.forward(x), reverse_index, state)
    }

    /// The per-step kernel from the input projection `[N, T, D*G*H]`.
    fn recur(
        &self,
        projected: Tensor<3>,
        reverse_index: Option<&Tensor<2, Int>>,
        state: LayerState,
    ) -> (Tensor<3>, LayerState) {
        let shape = stepwise::Shape {
            cell: self.cell,
            hidden: self.hidden,
            directions: self.directions,
        };
        stepwise::run(
            shape,
            projected,
            self.w_hh.val(),
            self.b_hh.val(),
            reverse_index,
            state,
        )
    }
}
