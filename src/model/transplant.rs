//! Warm starts across architectures: a trained model's weights placed into a wider, deeper or
//! differently directed model.
//!
//! Every weight of the source that has a place in the target is copied there. A unit or
//! direction the source lacks keeps the target's random *incoming* weights (so it computes
//! something and can learn), and its *outgoing* weights (into later layers' inputs, into other
//! units' recurrences, into the output layer) start at zero. So:
//! - widening (`hidden` 192 → 256) computes exactly the source's function at step 0;
//! - adding a direction (unidirectional → bidirectional) does too;
//! - dropping the backward direction (bidirectional → a streaming unidirectional model) keeps the
//!   forward direction's weights: not the same function, but a start that already knows the
//!   sounds, where a random start stalls for hours on one core.
//! - deepening (2 → 3 layers) puts each new layer on top as a *pass-through*: its candidate
//!   (GRU `n`, LSTM `g`) reads the unit below it through a small gain and its update/forget
//!   gates start nearly shut, so it passes `tanh(gain · x)` up; the output layer is scaled by
//!   `1 / gain`. Not exactly the source's function (tanh bends large values, and the gates are
//!   not quite shut), but close to it, and every weight of the new layer can learn.
//!
//! Layer weights are indexed as in [`super::RecurrentLayer`]: the input projection's columns and
//! the recurrent weights' columns are `direction × gate × unit`, a layer's output is
//! `direction × unit`.

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;

use super::{AcousticModel, RecurrentLayer};
use crate::error::{Error, Result};

/// The architecture facts a transplant maps between.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Shape {
    directions: usize,
    hidden: usize,
    gates: usize,
}

impl Shape {
    fn of(layer: &RecurrentLayer) -> Self {
        Self {
            directions: layer.directions,
            hidden: layer.hidden,
            gates: layer.cell.gates(),
        }
    }

    /// Position of (direction, gate, unit) in a projection's columns.
    fn gate_column(&self, d: usize, g: usize, j: usize) -> usize {
        (d * self.gates + g) * self.hidden + j
    }

    /// Position of (direction, unit) in the layer's output.
    fn output(&self, d: usize, j: usize) -> usize {
        d * self.hidden + j
    }
}

/// How the rows (inputs) of one weight matrix map from source to target: `Some(source row)`
/// for each target row, `None` where the target row is new.
type RowMap = Vec<Option<usize>>;

/// `target` with `source`'s weights wherever they have a place; see the module docs.
///
/// Both must have the same cell, depth, frame stacking, input and output sizes; the target's
/// `hidden` must be at least the source's.
pub fn transplant(source: &AcousticModel, mut target: AcousticModel) -> Result<AcousticModel> {
    check_compatible(source, &target)?;
    let mut rows: RowMap = (0..source.layers[0].input.weight.dims()[0])
        .map(Some)
        .collect();
    for (s, t) in source.layers.iter().zip(target.layers.iter_mut()) {
        let (from, to) = (Shape::of(s), Shape::of(t));
        let columns = gate_columns(from, to);
        t.input = linear(&s.input, &t.input, &rows, &columns);
        t.w_hh = recurrent(&s.w_hh, &t.w_hh, from, to, Recurrent::Weights);
        t.b_hh = recurrent(&s.b_hh, &t.b_hh, from, to, Recurrent::Bias);
        rows = output_rows(from, to);
    }
    // Layers the source lacks pass their input up (module docs); the output layer undoes
    // their gain.
    let mut scale = 1.0;
    for layer in target.layers.iter_mut().skip(source.layers.len()) {
        scale /= pass_through(layer);
    }
    let classes: Vec<Option<usize>> = (0..source.output.weight.dims()[1]).map(Some).collect();
    target.output = linear(&source.output, &target.output, &rows, &classes);
    if scale != 1.0 {
        let weight = &target.output.weight;
        let scaled = values(weight.val())
            .into_iter()
            .map(|w| w * scale)
            .collect();
        target.output.weight = param(scaled, weight.dims(), &weight.device());
    }
    Ok(target)
}

/// How strongly a pass-through layer's candidate reads the unit below it.
const PASS_GAIN: f32 = 0.5;
/// Bias that shuts a gate (σ(−3) ≈ 0.047) or opens it (σ(3) ≈ 0.953).
const GATE_SHUT: f32 = -3.0;
/// The random incoming weights of a pass-through layer's gates are scaled by this, so that
/// they barely move the gates at the start.
const GATE_WEIGHT_SCALE: f32 = 0.1;

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Makes `layer` (a new top layer whose input is a layer of its own shape) pass each unit's
/// input up: unit `j` of direction `d` reads input position `(d, j)`. Returns the small-signal
/// gain from input to output, which the output layer divides out.
fn pass_through(layer: &mut RecurrentLayer) -> f32 {
    let shape = Shape::of(layer);
    let device = layer.input.weight.device();
    let (mut weight, width) = matrix(layer.input.weight.val());
    let inputs = weight.len() / width;
    // PyTorch gate order: GRU r, z, n; LSTM i, f, g, o.
    let (candidate, biases, gain): (usize, Vec<(usize, f32)>, f32) = match layer.cell {
        crate::model::CellKind::Gru => (2, vec![(1, GATE_SHUT)], 1.0 - sigmoid(GATE_SHUT)),
        crate::model::CellKind::Lstm => (
            2,
            vec![(0, -GATE_SHUT), (1, GATE_SHUT), (3, -GATE_SHUT)],
            sigmoid(-GATE_SHUT) * sigmoid(-GATE_SHUT),
        ),
    };
    let mut bias = vec![0.0; width];
    for d in 0..shape.directions {
        for g in 0..shape.gates {
            for j in 0..shape.hidden {
                let col = shape.gate_column(d, g, j);
                for row in 0..inputs {
                    let w = &mut weight[row * width + col];
                    *w = if g == candidate {
                        if row == shape.output(d, j) {
                            PASS_GAIN
                        } else {
                            0.0
                        }
                    } else {
                        *w * GATE_WEIGHT_SCALE
                    };
                }
                if let Some((_, b)) = biases.iter().find(|(gate, _)| *gate == g) {
                    bias[col] = *b;
                }
            }
        }
    }
    layer.input = Linear {
        weight: param(weight, [inputs, width], &device),
        bias: Some(param(bias, [width], &device)),
    };
    let zeros = |dims: [usize; 3]| param(vec![0.0; dims.iter().product()], dims, &device);
    layer.w_hh = zeros(layer.w_hh.dims());
    layer.b_hh = zeros(layer.b_hh.dims());
    PASS_GAIN * gain
}

fn check_compatible(source: &AcousticModel, target: &AcousticModel) -> Result<()> {
    let refuse = |why: String| {
        Err(Error::Config(format!(
            "cannot start from that model: {why}"
        )))
    };
    if source.layers.len() > target.layers.len() {
        return refuse(format!(
            "it has {} recurrent layers and this model only {}; layers can be added, not \
             removed",
            source.layers.len(),
            target.layers.len()
        ));
    }
    if source.stack != target.stack {
        return refuse(format!(
            "it stacks {} frames and this model {}",
            source.stack, target.stack
        ));
    }
    let (s0, t0) = (&source.layers[0], &target.layers[0]);
    if s0.input.weight.dims()[0] != t0.input.weight.dims()[0] {
        return refuse("its input features differ in size".into());
    }
    if source.output.weight.dims()[1] != target.output.weight.dims()[1] {
        return refuse("its vocabulary differs in size".into());
    }
    if s0.cell != t0.cell {
        return refuse(format!(
            "its cell is {:?}, this model's {:?}",
            s0.cell, t0.cell
        ));
    }
    if s0.hidden > t0.hidden {
        return refuse(format!(
            "it is wider ({} units) than this model ({}); only widening is supported",
            s0.hidden, t0.hidden
        ));
    }
    Ok(())
}

/// For each target gate column, the source column it takes, if any.
fn gate_columns(from: Shape, to: Shape) -> Vec<Option<usize>> {
    let mut map = vec![None; to.directions * to.gates * to.hidden];
    for d in 0..from.directions.min(to.directions) {
        for g in 0..to.gates {
            for j in 0..from.hidden {
                map[to.gate_column(d, g, j)] = Some(from.gate_column(d, g, j));
            }
        }
    }
    map
}

/// For each input row of the next layer (this layer's output positions), the source row.
fn output_rows(from: Shape, to: Shape) -> RowMap {
    let mut map = vec![None; to.directions * to.hidden];
    for d in 0..from.directions.min(to.directions) {
        for j in 0..from.hidden {
            map[to.output(d, j)] = Some(from.output(d, j));
        }
    }
    map
}

/// A trainable parameter holding `values` in `shape`: built from data, so it is a leaf of the
/// autodiff graph (a tensor computed from another parameter would be a node that the first
/// backward pass consumes).
fn param<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device))
}

/// A tensor's values, row-major.
fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().iter::<f32>().collect()
}

/// A row-major matrix as floats with its column count.
fn matrix(tensor: Tensor<2>) -> (Vec<f32>, usize) {
    let [_, cols] = tensor.dims();
    (values(tensor), cols)
}

/// A `[rows, cols]` matrix: target row `r` is source row `rows[r]` mapped through `cols`
/// (unmapped columns keep `init`'s values), and a new row is zero (a new unit's outgoing
/// weights).
fn place(
    source: (&[f32], usize),
    init: (&[f32], usize),
    rows: &[Option<usize>],
    cols: &[Option<usize>],
) -> Vec<f32> {
    let (src, src_cols) = source;
    let (ini, width) = init;
    let mut out = ini.to_vec();
    for (r, from_row) in rows.iter().enumerate() {
        let row = &mut out[r * width..(r + 1) * width];
        match from_row {
            None => row.fill(0.0),
            Some(fr) => {
                for (c, from_col) in cols.iter().enumerate() {
                    if let Some(fc) = from_col {
                        row[c] = src[fr * src_cols + fc];
                    }
                }
            }
        }
    }
    out
}

fn linear(source: &Linear, init: &Linear, rows: &RowMap, cols: &[Option<usize>]) -> Linear {
    let device = init.weight.device();
    let (src, src_cols) = matrix(source.weight.val());
    let (ini, width) = matrix(init.weight.val());
    let weight = place((&src, src_cols), (&ini, width), rows, cols);
    let shape = [rows.len(), width];
    let bias = match (&source.bias, &init.bias) {
        (Some(sb), Some(ib)) => {
            let (sb, ib) = (values(sb.val()), values(ib.val()));
            let b = place((&sb, sb.len()), (&ib, width), &[Some(0)], cols);
            Some(param(b, [width], &device))
        }
        (_, ib) => ib.clone(),
    };
    Linear {
        weight: param(weight, shape, &device),
        bias,
    }
}

/// Which of a layer's recurrent parameters is being mapped.
#[derive(Clone, Copy)]
enum Recurrent {
    /// `w_hh` `[D, H, G×H]`: rows are the units feeding back.
    Weights,
    /// `b_hh` `[D, 1, G×H]`.
    Bias,
}

fn recurrent(
    source: &Param<Tensor<3>>,
    init: &Param<Tensor<3>>,
    from: Shape,
    to: Shape,
    kind: Recurrent,
) -> Param<Tensor<3>> {
    let device = init.device();
    let [_, src_rows, src_cols] = source.dims();
    let [dirs, rows, cols] = init.dims();
    let src = values(source.val());
    let ini = values(init.val());
    let unit_columns: Vec<Option<usize>> = {
        // Columns within one direction: gate × unit.
        let one = |s: Shape| Shape { directions: 1, ..s };
        gate_columns(one(from), one(to))
    };
    let row_map: RowMap = match kind {
        Recurrent::Weights => (0..rows).map(|i| (i < from.hidden).then_some(i)).collect(),
        Recurrent::Bias => vec![Some(0)],
    };
    let mut out = Vec::with_capacity(ini.len());
    for d in 0..dirs {
        let block = &ini[d * rows * cols..(d + 1) * rows * cols];
        if d >= from.directions {
            // A new direction: its own recurrence is random, like any new unit's.
            out.extend_from_slice(block);
            continue;
        }
        let src_block = &src[d * src_rows * src_cols..(d + 1) * src_rows * src_cols];
        out.extend(place(
            (src_block, src_cols),
            (block, cols),
            &row_map,
            &unit_columns,
        ));
    }
    param(out, [dirs, rows, cols], &device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AcousticModelConfig, CellKind};
    use crate::test_support::max_difference;

    fn scores(model: &AcousticModel, features: &Tensor<3>, lengths: &[usize]) -> Vec<f32> {
        model
            .forward(features.clone(), lengths)
            .into_data()
            .iter::<f32>()
            .collect()
    }

    fn features(device: &Device) -> (Tensor<3>, Vec<usize>) {
        // Two sequences of 12 frames (the second 9 long), 5 coefficients, values in [-1, 1].
        let values: Vec<f32> = (0..2 * 12 * 5)
            .map(|i| ((i * 37 % 23) as f32 / 11.0) - 1.0)
            .collect();
        (
            Tensor::from_data(TensorData::new(values, [2, 12, 5]), device),
            vec![12, 9],
        )
    }

    /// Widening, and adding a direction, leave the scores exactly as they were (up to float
    /// summation order): the new units' outgoing weights are zero.
    #[test]
    fn widening_and_adding_a_direction_preserve_the_function() {
        let device = Device::flex();
        let (x, lengths) = features(&device);
        for (cell, from_bi, to_bi) in [
            (CellKind::Gru, true, true),
            (CellKind::Lstm, true, true),
            (CellKind::Gru, false, true),
            (CellKind::Gru, false, false),
        ] {
            let small = AcousticModelConfig::new(5, 7)
                .with_hidden(6)
                .with_stack(2)
                .with_cell(cell)
                .with_bidirectional(from_bi)
                .with_dropout(0.0)
                .init(&device);
            let wide_cfg = AcousticModelConfig::new(5, 7)
                .with_hidden(9)
                .with_stack(2)
                .with_cell(cell)
                .with_bidirectional(to_bi)
                .with_dropout(0.0);
            let wide = transplant(&small, wide_cfg.init(&device)).expect("compatible");
            let (a, b) = (scores(&small, &x, &lengths), scores(&wide, &x, &lengths));
            let diff = max_difference(&a, &b);
            assert!(
                diff < 1e-5,
                "{cell:?} {from_bi}->{to_bi}: differs by {diff}"
            );
            // And the new units are live: a fresh wide model gives other scores.
            let fresh = scores(&wide_cfg.init(&device), &x, &lengths);
            assert!(max_difference(&a, &fresh) > 1e-3);
        }
    }

    /// Dropping the backward direction keeps the forward direction's weights: the streaming
    /// model's first layer computes exactly the source's forward half.
    #[test]
    fn dropping_the_backward_direction_keeps_the_forward_weights() {
        let device = Device::flex();
        let cfg = AcousticModelConfig::new(5, 7).with_hidden(6).with_stack(1);
        let bi = cfg.init(&device);
        let uni = transplant(&bi, cfg.with_bidirectional(false).init(&device)).expect("ok");
        let (x, lengths) = features(&device);
        let rev = crate::model::reverse_index(&lengths, 12, &device);
        let both = bi.layers[0].forward(x.clone(), Some(&rev)); // [2, 12, 12]
        let forward_half = both.slice([0..2, 0..12, 0..6]);
        let alone = uni.layers[0].forward(x, None);
        let diff = max_difference(
            &forward_half.into_data().iter::<f32>().collect::<Vec<_>>(),
            &alone.into_data().iter::<f32>().collect::<Vec<_>>(),
        );
        assert!(diff < 1e-6, "forward half differs by {diff}");
    }

    /// A deepened model starts close to its source: the new top layer passes `tanh(0.5 x)`
    /// up through nearly shut gates and the output layer divides the gain out. The remaining
    /// error is tanh's bend (under 8 % at |x| = 1) and the gates' leak (σ(−3) ≈ 5 %), so the
    /// scores must agree to within 10 % of their spread, where a fresh layer is far off.
    #[test]
    fn deepening_starts_close_to_the_source() {
        let device = Device::flex();
        let (x, lengths) = features(&device);
        for cell in [CellKind::Gru, CellKind::Lstm] {
            let base = AcousticModelConfig::new(5, 7)
                .with_hidden(6)
                .with_stack(2)
                .with_cell(cell)
                .with_dropout(0.0);
            let shallow = base.clone().init(&device);
            let deep_cfg = base.with_layers(3).with_hidden(8);
            let deep = transplant(&shallow, deep_cfg.init(&device)).expect("compatible");
            let a = scores(&shallow, &x, &lengths);
            let b = scores(&deep, &x, &lengths);
            let spread = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let diff = max_difference(&a, &b);
            assert!(
                diff < 0.1 * spread,
                "{cell:?}: differs by {diff} (spread {spread})"
            );
            let fresh = scores(&deep_cfg.init(&device), &x, &lengths);
            assert!(max_difference(&a, &fresh) > 0.3 * spread);
            assert_eq!(deep.layers.len(), 3);
        }
    }

    #[test]
    fn narrowing_or_another_depth_is_refused() {
        let device = Device::flex();
        let base = AcousticModelConfig::new(5, 7).with_hidden(8);
        let model = base.init(&device);
        for other in [
            base.clone().with_hidden(4),
            base.clone().with_layers(1),
            base.clone().with_cell(CellKind::Lstm),
            base.clone().with_stack(2),
            AcousticModelConfig::new(6, 7).with_hidden(8),
        ] {
            let err = transplant(&model, other.init(&device)).expect_err("incompatible");
            assert!(err.to_string().contains("cannot start from"), "{err}");
        }
    }
}
