//! The fused recurrence against the per-step path, on any device: shared by `golden.rs`
//! (flex) and `tch_backend.rs` (LibTorch).
#![allow(dead_code)]

use burn::prelude::*;
use hark::model::{CellKind, RecurrentLayer, reverse_index};

pub fn to_vec_any<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

/// `max |a - b| / (1e-3 + max |b|)` over two equally long vectors.
pub fn rel_diff(what: &str, got: &[f32], want: &[f32]) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: sizes");
    let scale = want.iter().fold(0.0f64, |m, &v| m.max((v as f64).abs()));
    let worst = got
        .iter()
        .zip(want)
        .fold(0.0f64, |m, (&a, &b)| m.max((a as f64 - b as f64).abs()));
    worst / (1e-3 + scale)
}

/// Outputs and gradients (w.r.t. the input, the input projection's weight and bias and the
/// recurrent weight and bias) of [`RecurrentLayer::forward_fused`] against
/// [`RecurrentLayer::forward_stepwise`] on `device`: GRU and LSTM, uni- and bidirectional, with
/// unequal lengths in the batch (padding frames included: both paths run them the same way) and
/// with all sequences full length, then the untracked case. Tolerance: 1e-4 relative to the
/// largest value of each compared tensor.
pub fn fused_matches_stepwise_on(device: &Device) {
    fused_matches_stepwise_within(device, 1e-4);
}

/// [`fused_matches_stepwise_on`] with a relative tolerance of `tolerance`.
pub fn fused_matches_stepwise_within(device: &Device, tolerance: f64) {
    let (n, t, d_in, h) = (3, 7, 5, 4);
    let mut rng = hark::augment::rng(7);
    let mut random = |len: usize| -> Vec<f32> {
        (0..len)
            .map(|_| hark::augment::gaussian(&mut rng))
            .collect()
    };
    for (cell, bidirectional, lengths) in [CellKind::Gru, CellKind::Lstm]
        .into_iter()
        .flat_map(|cell| [(cell, false), (cell, true)])
        .flat_map(|(cell, bi)| [(cell, bi, [7usize, 4, 1]), (cell, bi, [7, 7, 7])])
    {
        let what = format!("{device:?} {cell:?} bidirectional={bidirectional} {lengths:?}");
        let layer = RecurrentLayer::new(cell, d_in, h, bidirectional, device);
        let dirs = if bidirectional { 2 } else { 1 };
        let x_data = TensorData::new(random(n * t * d_in), [n, t, d_in]);
        let w_data = TensorData::new(random(n * t * dirs * h), [n, t, dirs * h]);
        let index = reverse_index(&lengths, t, device);
        let run = |fused: bool| {
            let x = Tensor::<3>::from_data(x_data.clone(), device).require_grad();
            let weights = Tensor::<3>::from_data(w_data.clone(), device);
            let index = bidirectional.then_some(&index);
            let y = if fused {
                layer
                    .forward_fused(x.clone(), index)
                    .expect("the fused path applies on this device")
            } else {
                layer.forward_stepwise(x.clone(), index)
            };
            let grads = (y.clone() * weights).sum().backward();
            let grad3 = |p: &Tensor<3>| to_vec_any(p.grad(&grads).expect("gradient"));
            let input_bias = layer.input.bias.as_ref().expect("bias").val();
            vec![
                ("output", to_vec_any(y)),
                ("d input", grad3(&x)),
                ("d w_hh", grad3(&layer.w_hh.val())),
                ("d b_hh", grad3(&layer.b_hh.val())),
                (
                    "d input weight",
                    to_vec_any(layer.input.weight.val().grad(&grads).expect("gradient")),
                ),
                (
                    "d input bias",
                    to_vec_any(input_bias.grad(&grads).expect("gradient")),
                ),
            ]
        };
        let fused = run(true);
        let stepwise = run(false);
        for ((name, got), (_, want)) in fused.iter().zip(&stepwise) {
            let diff = rel_diff(name, got, want);
            eprintln!("{what}: {name} relative diff {diff:.2e}");
            assert!(diff <= tolerance, "{what}: {name} relative diff {diff:.2e}");
        }

        // Nothing requires a gradient: the untracked branch.
        let frozen = layer.clone().no_grad();
        let x = Tensor::<3>::from_data(x_data.clone(), device);
        let index = bidirectional.then_some(&index);
        let y = frozen
            .forward_fused(x.clone(), index)
            .expect("the fused path applies on this device");
        let diff = rel_diff(
            "untracked output",
            &to_vec_any(y),
            &to_vec_any(frozen.forward_stepwise(x, index)),
        );
        eprintln!("{what}: untracked output relative diff {diff:.2e}");
        assert!(
            diff <= tolerance,
            "{what}: untracked output relative diff {diff:.2e}"
        );
    }
}
