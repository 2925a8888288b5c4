//! The acoustic model: frame stacking, a stack of recurrent layers, a linear output layer.

pub mod attack;
pub mod average;
pub mod loss;
pub mod recurrence;
mod rnn;
pub mod transplant;
pub mod wave_attack;

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;

pub use recurrence::{CellKind, Kernel, LayerState, reverse_index};
pub use rnn::RecurrentLayer;

/// Architecture of an [`AcousticModel`]. Saved in the model directory's `config.json`.
#[derive(Config, Debug, PartialEq)]
pub struct AcousticModelConfig {
    /// Feature dimension per frame (MFCC + deltas).
    pub input_dim: usize,
    /// Output classes including blank.
    pub vocab_size: usize,
    /// Frames stacked into one recurrent step (also the time subsampling factor).
    #[config(default = 3)]
    pub stack: usize,
    #[config(default = 192)]
    pub hidden: usize,
    #[config(default = 2)]
    pub layers: usize,
    #[config(default = "CellKind::Gru")]
    pub cell: CellKind,
    #[config(default = true)]
    pub bidirectional: bool,
    /// Dropout between layers and before the output layer.
    #[config(default = 0.1)]
    pub dropout: f64,
}

impl AcousticModelConfig {
    pub fn validate(&self) -> crate::Result<()> {
        self.problem()
            .map_or(Ok(()), |m| Err(crate::Error::Config(m)))
    }

    /// What is wrong with the architecture, if anything.
    fn problem(&self) -> Option<String> {
        if self.input_dim == 0 || self.vocab_size < 2 || self.stack == 0 {
            return Some(format!(
                "input_dim {} / vocab_size {} / stack {} must be positive (vocab >= 2)",
                self.input_dim, self.vocab_size, self.stack
            ));
        }
        if self.hidden == 0 || self.layers == 0 {
            return Some("hidden and layers must be positive".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Some(format!("dropout {} outside [0, 1)", self.dropout));
        }
        None
    }

    /// Number of weights, computed from the shapes without building anything (saturating, so
    /// absurd configs give huge numbers instead of overflowing).
    pub fn num_params(&self) -> usize {
        let directions = if self.bidirectional { 2 } else { 1 };
        let gh = self.cell.gates().saturating_mul(self.hidden);
        let mut d_in = self.input_dim.saturating_mul(self.stack);
        let mut total = 0usize;
        for _ in 0..self.layers.min(1 << 16) {
            let input = d_in
                .saturating_add(1)
                .saturating_mul(gh.saturating_mul(directions));
            let recurrent = self
                .hidden
                .saturating_add(1)
                .saturating_mul(gh.saturating_mul(directions));
            total = total.saturating_add(input).saturating_add(recurrent);
            d_in = self.hidden.saturating_mul(directions);
        }
        total.saturating_add(d_in.saturating_add(1).saturating_mul(self.vocab_size))
    }

    pub fn init(&self, device: &Device) -> AcousticModel {
        let mut layers = Vec::with_capacity(self.layers);
        let mut d_in = self.input_dim * self.stack;
        for _ in 0..self.layers {
            let layer =
                RecurrentLayer::new(self.cell, d_in, self.hidden, self.bidirectional, device);
            d_in = layer.output_dim();
            layers.push(layer);
        }
        AcousticModel {
            layers,
            dropout: DropoutConfig::new(self.dropout).init(),
            output: LinearConfig::new(d_in, self.vocab_size).init(device),
            stack: self.stack,
            bidirectional: self.bidirectional,
        }
    }

    /// Number of model output frames for `frames` input frames.
    pub fn output_length(&self, frames: usize) -> usize {
        frames.div_ceil(self.stack)
    }
}

/// Recurrent CTC acoustic model.
#[derive(Module, Debug)]
pub struct AcousticModel {
    pub layers: Vec<RecurrentLayer>,
    pub dropout: Dropout,
    pub output: Linear,
    pub stack: usize,
    pub bidirectional: bool,
}

impl AcousticModel {
    /// The model with every layer's time loop restricted to `kernel` (the per-step reference
    /// for comparisons, say).
    pub fn with_kernel(mut self, kernel: Kernel) -> Self {
        for layer in &mut self.layers {
            layer.kernel = kernel;
        }
        self
    }

    /// Output lengths after frame stacking.
    pub fn output_lengths(&self, lengths: &[usize]) -> Vec<usize> {
        lengths.iter().map(|l| l.div_ceil(self.stack)).collect()
    }

    /// Streaming forward of a unidirectional model: `features` `[1, T, C]` with `T` a
    /// multiple of `stack`, continuing from `state` (`None` at the start of a stream).
    /// Chunk by chunk this gives the same scores as [`forward`](Self::forward) on the whole.
    pub fn forward_stream(
        &self,
        features: Tensor<3>,
        state: Option<Vec<LayerState>>,
    ) -> (Tensor<3>, Vec<LayerState>) {
        let (hidden, state) = self.forward_stream_hidden(features, state);
        (self.output_of(hidden), state)
    }

    /// The scores of the top recurrent layer's output `hidden` (`[N, T, H]`).
    pub fn output_of(&self, hidden: Tensor<3>) -> Tensor<3> {
        self.output.forward(self.dropout.forward(hidden))
    }

    /// [`forward_stream`](Self::forward_stream) up to the top recurrent layer: its output
    /// `[1, T / stack, H]` (what a speech-activity head reads) and the state to carry on.
    pub fn forward_stream_hidden(
        &self,
        features: Tensor<3>,
        state: Option<Vec<LayerState>>,
    ) -> (Tensor<3>, Vec<LayerState>) {
        let [n, t, c] = features.dims();
        let s = self.stack;
        debug_assert!(!self.bidirectional && t % s == 0);
        let device = features.device();
        let mut x = features.reshape([n, t / s, s * c]);
        let state = state.unwrap_or_else(|| {
            self.layers
                .iter()
                .map(|l| LayerState::zeros(1, n, l.hidden, &device))
                .collect()
        });
        let mut next = Vec::with_capacity(self.layers.len());
        for (i, (layer, st)) in self.layers.iter().zip(state).enumerate() {
            if i > 0 {
                x = self.dropout.forward(x);
            }
            let (y, st) = layer.forward_stream(x, st);
            x = y;
            next.push(st);
        }
        (x, next)
    }

    /// Unnormalised scores per output frame.
    ///
    /// # Shapes
    /// - `features`: `[N, T, C]` (zero-padded after each length)
    /// - `lengths`: `N` valid input frame counts
    /// - output: `[N, ceil(T / stack), vocab]`
    pub fn forward(&self, features: Tensor<3>, lengths: &[usize]) -> Tensor<3> {
        let [n, t, c] = features.dims();
        let s = self.stack;
        let t_out = t.div_ceil(s);
        let x = if t_out * s != t {
            let pad = Tensor::zeros([n, t_out * s - t, c], &features.device());
            Tensor::cat(vec![features, pad], 1) // [N, T_out*s, C]
        } else {
            features
        };
        let mut x = x.reshape([n, t_out, s * c]); // stack s frames: [N, T_out, s*C]
        let out_lengths = self.output_lengths(lengths);
        let rev = self
            .bidirectional
            .then(|| reverse_index(&out_lengths, t_out, &x.device()));
        for (i, layer) in self.layers.iter().enumerate() {
            if i > 0 {
                x = self.dropout.forward(x);
            }
            x = layer.forward(x, rev.as_ref());
        }
        self.output.forward(self.dropout.forward(x)) // [N, T_out, V]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_count_from_shapes_matches_the_built_model() {
        let device = Device::flex();
        for (cell, bidirectional, layers) in [
            (CellKind::Gru, true, 2),
            (CellKind::Lstm, false, 3),
            (CellKind::Lstm, true, 1),
        ] {
            let cfg = AcousticModelConfig::new(39, 29)
                .with_hidden(16)
                .with_layers(layers)
                .with_cell(cell)
                .with_bidirectional(bidirectional);
            assert_eq!(cfg.num_params(), cfg.init(&device).num_params(), "{cfg:?}");
        }
        let absurd = AcousticModelConfig::new(usize::MAX, 29).with_hidden(usize::MAX);
        assert_eq!(absurd.num_params(), usize::MAX);
    }
}
