//! The reference kernel: the time loop as one small burn operation per step, on any backend.

use burn::prelude::*;
use burn::tensor::activation::{sigmoid, tanh};

use super::{CellKind, LayerState};

/// Shapes of one layer's recurrence.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    pub cell: CellKind,
    pub hidden: usize,
    /// 1 or 2.
    pub directions: usize,
}

/// The time loop from the input projection, continuing from `state`; returns the output and
/// the state after the last step.
///
/// # Shapes
/// - `projected`: `[N, T, D·G·H]`, `w`: `[D, H, G·H]`, `b`: `[D, 1, G·H]`
/// - `reverse_index`: `[N, T]` (backward direction only; `None` flips all of `T`)
/// - output: `[N, T, D·H]`
pub(crate) fn run(
    shape: Shape,
    projected: Tensor<3>,
    w: Tensor<3>,
    b: Tensor<3>,
    reverse_index: Option<&Tensor<2, Int>>,
    state: LayerState,
) -> (Tensor<3>, LayerState) {
    let Shape {
        cell,
        hidden: h,
        directions,
    } = shape;
    let [n, t_len, _] = projected.dims();
    let gh = cell.gates() * h;
    let per_dir: Vec<Tensor<3>> = projected.chunk(directions, 2); // D × [N, T, G*H]
    let mut inputs = Vec::with_capacity(directions);
    for (d, p) in per_dir.into_iter().enumerate() {
        inputs.push(if d == 1 {
            reverse_time(p, reverse_index)
        } else {
            p
        });
    }
    let xs: Tensor<4> = Tensor::stack(inputs, 0); // [D, N, T, G*H]
    let LayerState {
        h: mut state_h,
        c: mut state_c,
    } = state;
    let mut outputs = Vec::with_capacity(t_len);
    for t in 0..t_len {
        // [D, N, 1, G*H] -> [D, N, G*H]
        let xt = xs.clone().narrow(2, t, 1).reshape([directions, n, gh]);
        let rec = state_h.clone().matmul(w.clone()) + b.clone(); // [D, N, G*H]
        match cell {
            CellKind::Lstm => {
                let [i, f, g, o] = chunks::<4>(xt + rec);
                state_c = sigmoid(f) * state_c + sigmoid(i) * tanh(g);
                state_h = sigmoid(o) * tanh(state_c.clone());
            }
            CellKind::Gru => {
                let [xr, xz, xn] = chunks::<3>(xt);
                let [hr, hz, hn] = chunks::<3>(rec);
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
        let empty = Tensor::<3>::zeros([n, 0, directions * h], &xs.device());
        return (empty, last);
    }
    let out: Tensor<4> = Tensor::stack(outputs, 2); // [D, N, T, H]
    let dirs: Vec<Tensor<4>> = out.chunk(directions, 0);
    let mut per_dir_out = Vec::with_capacity(directions);
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

/// The gate blocks of `x` along its last axis.
fn chunks<const K: usize>(x: Tensor<3>) -> [Tensor<3>; K] {
    x.chunk(K, 2)
        .try_into()
        .expect("the last axis is K gate blocks wide, so chunk(K) yields K tensors")
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
