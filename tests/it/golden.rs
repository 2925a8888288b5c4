//! Golden references: hark's MFCC front end, burn's CTC loss and hark's recurrent layers checked
//! value by value against PyTorch / torchaudio outputs stored in `tests/fixtures/*_golden.json`.
//!
//! The fixtures are committed; Python is only needed to regenerate them, with the generator
//! scripts in `scripts/fixtures/` (torch 2.9.0 and torchaudio 2.9.0, CPU), run from the
//! repository root, e.g. `python scripts/fixtures/make_mfcc_golden.py`.

use burn::module::Param;
use burn::nn::loss::CTCLossConfig;
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use hark::features::{Mfcc, MfccConfig};
use hark::model::{CellKind, RecurrentLayer, reverse_index};
use serde::Deserialize;

use crate::common::fixture;
use crate::common::recurrence::fused_matches_stepwise_on;

fn load<T: for<'de> Deserialize<'de>>(name: &str) -> T {
    let text = std::fs::read_to_string(fixture(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn to_vec(t: Tensor<3>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_to_vec::<f32>().unwrap()
}

// ---------------------------------------------------------------------------------------------
// MFCC
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct MfccGolden {
    num_frames: usize,
    num_ceps: usize,
    mfcc: Vec<Vec<f32>>,
    mfcc_f64: Vec<Vec<f64>>,
}

/// Check every value against `want` with |a - b| <= 2e-3 + 1e-4·|b|; returns the max abs diff
/// and where it occurred.
fn compare_mfcc(
    what: &str,
    feats: &hark::features::Features,
    want: &[Vec<f64>],
) -> (f64, usize, usize) {
    assert_eq!(want.len(), feats.num_frames, "{what}: frame count");
    let mut worst = (0.0f64, 0, 0);
    for (t, want_row) in want.iter().enumerate() {
        assert_eq!(want_row.len(), feats.dim, "{what}: coefficient count");
        for (c, (&got, &want)) in feats.frame(t).iter().zip(want_row).enumerate() {
            let diff = (got as f64 - want).abs();
            assert!(
                diff <= 2e-3 + 1e-4 * want.abs(),
                "{what}: frame {t} coefficient {c}: hark {got} vs torchaudio {want} (diff {diff})"
            );
            if diff > worst.0 {
                worst = (diff, t, c);
            }
        }
    }
    worst
}

/// Static MFCCs of `overfit-1.wav` against torchaudio's Kaldi implementation.
///
/// Fixture: `scripts/fixtures/make_mfcc_golden.py` reads the WAV with Python's `wave` module
/// (int16 / 32768) and stores `torchaudio.compliance.kaldi.mfcc(waveform * 32768,
/// sample_frequency=16000, dither=0, use_energy=True, num_mel_bins=23, num_ceps=13,
/// frame_length=25, frame_shift=10, preemphasis_coefficient=0.97, window_type='povey',
/// remove_dc_offset=True, raw_energy=True, low_freq=20, high_freq=0, cepstral_lifter=22,
/// snip_edges=True, energy_floor=0)` (113 frames × 13), computed once in float32 (`mfcc`, the
/// reference as torchaudio users get it) and once in float64 (`mfcc_f64`).
///
/// Tolerance: |a - b| <= 2e-3 + 1e-4·|b|, against both. Values reach ~±80 (lifted cepstra);
/// torchaudio's own float32 and float64 results differ by up to 1.8e-3 on this file, so this
/// is float32 noise, while any wrong step (window, mel edges, pre-emphasis, DCT scaling,
/// lifter, energy) moves values by far more.
#[test]
fn mfcc_matches_torchaudio_kaldi() {
    let golden: MfccGolden = load("mfcc_golden.json");
    let wave = hark::audio::wav::read(&fixture("overfit-1.wav")).unwrap();
    let mfcc = Mfcc::new(MfccConfig {
        delta_order: 0,
        cmvn: false,
        ..MfccConfig::default()
    })
    .unwrap();
    let feats = mfcc.static_mfcc(wave.samples());
    assert_eq!(feats.num_frames, golden.num_frames);
    assert_eq!(feats.dim, golden.num_ceps);
    let f32_ref: Vec<Vec<f64>> = golden
        .mfcc
        .iter()
        .map(|row| row.iter().map(|&v| v as f64).collect())
        .collect();
    let (d32, t32, c32) = compare_mfcc("float32 reference", &feats, &f32_ref);
    let (d64, t64, c64) = compare_mfcc("float64 reference", &feats, &golden.mfcc_f64);
    eprintln!(
        "mfcc: max abs diff vs torchaudio f32 {d32:.3e} (frame {t32}, c{c32}), \
         vs f64 {d64:.3e} (frame {t64}, c{c64})"
    );
}

// ---------------------------------------------------------------------------------------------
// CTC
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct CtcGolden {
    blank: usize,
    cases: Vec<CtcCase>,
}

#[derive(Deserialize)]
struct CtcCase {
    name: String,
    t: usize,
    n: usize,
    v: usize,
    s: usize,
    logits: Vec<f32>,
    targets: Vec<i64>,
    input_lengths: Vec<i64>,
    target_lengths: Vec<i64>,
    loss: Vec<f64>,
    grad: Vec<f64>,
}

/// burn's CTC loss and its gradient against PyTorch.
///
/// Fixture: `scripts/fixtures/make_ctc_golden.py` draws seeded logits [T, N, V] (stored as the
/// exact float32 values) and stores `F.ctc_loss(log_softmax(logits, 2), targets, input_lengths,
/// target_lengths, blank=0, reduction='none')` and `d sum(loss) / d logits`, both computed in
/// float64. Cases cover unequal input lengths (padding frames get zero gradient), a repeated
/// label, a target that needs every frame, a single-path alignment and an empty target.
///
/// Tolerances: loss relative 1e-4, gradient absolute 1e-4.
#[test]
fn ctc_loss_and_gradient_match_pytorch() {
    let golden: CtcGolden = load("ctc_golden.json");
    assert_eq!(golden.blank, 0);
    let device = Device::flex().autodiff();
    let ctc = CTCLossConfig::new().init();
    for case in &golden.cases {
        let (t, n, v, s) = (case.t, case.n, case.v, case.s);
        let logits =
            Tensor::<3>::from_data(TensorData::new(case.logits.clone(), [t, n, v]), &device)
                .require_grad();
        let targets =
            Tensor::<2, Int>::from_data(TensorData::new(case.targets.clone(), [n, s]), &device);
        let input_lengths =
            Tensor::<1, Int>::from_data(TensorData::new(case.input_lengths.clone(), [n]), &device);
        let target_lengths =
            Tensor::<1, Int>::from_data(TensorData::new(case.target_lengths.clone(), [n]), &device);
        let loss = ctc.forward(
            log_softmax(logits.clone(), 2),
            targets,
            input_lengths,
            target_lengths,
        );
        let grads = loss.clone().sum().backward();
        let got_loss = loss
            .into_data()
            .convert::<f32>()
            .try_to_vec::<f32>()
            .unwrap();
        let got_grad = to_vec(logits.grad(&grads).expect("logits have a gradient"));

        assert_eq!(got_loss.len(), n);
        let mut worst_loss = 0.0f64;
        for (i, (&got, &want)) in got_loss.iter().zip(&case.loss).enumerate() {
            let rel = (got as f64 - want).abs() / want.abs().max(1e-12);
            assert!(
                rel <= 1e-4,
                "{}: loss[{i}] burn {got} vs torch {want} (rel {rel:.2e})",
                case.name
            );
            worst_loss = worst_loss.max(rel);
        }
        assert_eq!(got_grad.len(), t * n * v);
        let mut worst_grad = 0.0f64;
        for (k, (&got, &want)) in got_grad.iter().zip(&case.grad).enumerate() {
            let diff = (got as f64 - want).abs();
            let (ti, ni, vi) = (k / (n * v), (k / v) % n, k % v);
            assert!(
                diff <= 1e-4,
                "{}: grad[t={ti}, n={ni}, v={vi}] burn {got} vs torch {want} (diff {diff:.2e})",
                case.name
            );
            worst_grad = worst_grad.max(diff);
        }
        eprintln!(
            "ctc {}: max loss rel diff {worst_loss:.3e}, max grad abs diff {worst_grad:.3e}",
            case.name
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Recurrent layers
// ---------------------------------------------------------------------------------------------

#[derive(Deserialize)]
struct RnnGolden {
    n: usize,
    t: usize,
    input_size: usize,
    hidden: usize,
    lengths: Vec<usize>,
    x: Vec<f32>,
    gru: RnnCell,
    lstm: RnnCell,
}

#[derive(Deserialize)]
struct RnnCell {
    params: std::collections::HashMap<String, StoredTensor>,
    full: Vec<f64>,
    packed: Vec<f64>,
}

#[derive(Deserialize)]
struct StoredTensor {
    shape: Vec<usize>,
    data: Vec<f32>,
}

impl RnnCell {
    fn param(&self, name: &str) -> &StoredTensor {
        self.params
            .get(name)
            .unwrap_or_else(|| panic!("missing {name}"))
    }

    /// PyTorch `[rows, cols]` row-major → transposed `[cols, rows]` row-major.
    fn transposed(&self, name: &str) -> Vec<f32> {
        let p = self.param(name);
        let (rows, cols) = (p.shape[0], p.shape[1]);
        let mut out = vec![0.0; rows * cols];
        for r in 0..rows {
            for c in 0..cols {
                out[c * rows + r] = p.data[r * cols + c];
            }
        }
        out
    }
}

/// Build a hark layer carrying PyTorch's weights.
fn layer_from_pytorch(
    cell: CellKind,
    golden: &RnnGolden,
    stored: &RnnCell,
    device: &Device,
) -> RecurrentLayer {
    let (d_in, h) = (golden.input_size, golden.hidden);
    let gh = cell.gates() * h;
    let mut layer = RecurrentLayer::new(cell, d_in, h, true, device);
    // Input projection: [d_in, 2·G·H]; columns 0..G·H are direction 0 (forward), then reverse.
    let w_f = stored.transposed("weight_ih_l0"); // [d_in, G·H]
    let w_r = stored.transposed("weight_ih_l0_reverse");
    let mut w_ih = Vec::with_capacity(d_in * 2 * gh);
    for i in 0..d_in {
        w_ih.extend_from_slice(&w_f[i * gh..(i + 1) * gh]);
        w_ih.extend_from_slice(&w_r[i * gh..(i + 1) * gh]);
    }
    let mut b_ih = stored.param("bias_ih_l0").data.clone();
    b_ih.extend_from_slice(&stored.param("bias_ih_l0_reverse").data);
    layer.input.weight = Param::from_tensor(Tensor::from_data(
        TensorData::new(w_ih, [d_in, 2 * gh]),
        device,
    ));
    layer.input.bias = Some(Param::from_tensor(Tensor::from_data(
        TensorData::new(b_ih, [2 * gh]),
        device,
    )));
    // Recurrent weights: [2, H, G·H], each direction PyTorch's weight_hh transposed.
    let mut w_hh = stored.transposed("weight_hh_l0");
    w_hh.extend(stored.transposed("weight_hh_l0_reverse"));
    layer.w_hh = Param::from_tensor(Tensor::from_data(TensorData::new(w_hh, [2, h, gh]), device));
    let mut b_hh = stored.param("bias_hh_l0").data.clone();
    b_hh.extend_from_slice(&stored.param("bias_hh_l0_reverse").data);
    layer.b_hh = Param::from_tensor(Tensor::from_data(TensorData::new(b_hh, [2, 1, gh]), device));
    layer
}

/// Compare `[N, T, 2H]` outputs at positions `t < lengths[n]`; returns the max abs diff.
fn compare_rnn(
    what: &str,
    got: &[f32],
    want: &[f64],
    golden: &RnnGolden,
    lengths: &[usize],
) -> f64 {
    let width = 2 * golden.hidden;
    assert_eq!(
        got.len(),
        golden.n * golden.t * width,
        "{what}: output size"
    );
    let mut worst = 0.0f64;
    for (b, &len) in lengths.iter().enumerate() {
        for t in 0..len {
            for c in 0..width {
                let k = (b * golden.t + t) * width + c;
                let diff = (got[k] as f64 - want[k]).abs();
                assert!(
                    diff <= 1e-5,
                    "{what}: [n={b}, t={t}, c={c}] hark {} vs torch {} (diff {diff:.2e})",
                    got[k],
                    want[k]
                );
                worst = worst.max(diff);
            }
        }
    }
    worst
}

/// hark's bidirectional GRU and LSTM layers against `nn.GRU` / `nn.LSTM`.
///
/// Fixture: `scripts/fixtures/make_rnn_golden.py` stores seeded PyTorch weights (input 5,
/// hidden 4, bidirectional, batch_first), an input x [2, 6, 5], the output for full-length
/// sequences and, for lengths [6, 4], each sequence's output computed by PyTorch on that
/// sequence alone, unpadded (float64 from the float32 weights). The padded frames of x are
/// real data, so any leak into the reverse direction shows up.
///
/// Tolerance: absolute 1e-5 on every valid position (outputs are in (-1, 1)).
#[test]
fn recurrent_layers_match_pytorch() {
    let golden: RnnGolden = load("rnn_golden.json");
    let device = Device::flex();
    let (n, t) = (golden.n, golden.t);
    let x_data = TensorData::new(golden.x.clone(), [n, t, golden.input_size]);
    for (name, cell, stored) in [
        ("gru", CellKind::Gru, &golden.gru),
        ("lstm", CellKind::Lstm, &golden.lstm),
    ] {
        let layer = layer_from_pytorch(cell, &golden, stored, &device);
        let x = Tensor::<3>::from_data(x_data.clone(), &device);

        let full_lengths = vec![t; n];
        let index = reverse_index(&full_lengths, t, &device);
        let full = to_vec(layer.forward(x.clone(), Some(&index)));
        let worst_full = compare_rnn(name, &full, &stored.full, &golden, &full_lengths);

        // Without an index the layer flips the whole (full-length) batch: same result.
        let flipped = to_vec(layer.forward(x.clone(), None));
        compare_rnn(name, &flipped, &stored.full, &golden, &full_lengths);

        let index = reverse_index(&golden.lengths, t, &device);
        let packed = to_vec(layer.forward(x.clone(), Some(&index)));
        let what = format!("{name} lengths {:?}", golden.lengths);
        let worst_packed = compare_rnn(&what, &packed, &stored.packed, &golden, &golden.lengths);

        // The per-step reference path against PyTorch too.
        let stepwise = to_vec(layer.forward_stepwise(x.clone(), Some(&index)));
        let what = format!("{name} stepwise lengths {:?}", golden.lengths);
        compare_rnn(&what, &stepwise, &stored.packed, &golden, &golden.lengths);

        // And the fused path on an autodiff device (the training path).
        let ad = device.clone().autodiff();
        let layer_ad = layer_from_pytorch(cell, &golden, stored, &ad);
        let x_ad = Tensor::<3>::from_data(x_data.clone(), &ad).require_grad();
        let index_ad = reverse_index(&golden.lengths, t, &ad);
        let trained = to_vec(layer_ad.forward(x_ad, Some(&index_ad)));
        let what = format!("{name} autodiff lengths {:?}", golden.lengths);
        compare_rnn(&what, &trained, &stored.packed, &golden, &golden.lengths);
        eprintln!(
            "{name}: max abs diff full {worst_full:.3e}, with lengths {:?} {worst_packed:.3e}",
            golden.lengths
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Fused recurrence: gradients against the per-step path
// ---------------------------------------------------------------------------------------------

/// The fused recurrence on flex (one autodiff operation with a hand-written backward pass)
/// gives the per-step path's outputs and gradients ([`fused_matches_stepwise_on`]), also with
/// gradient checkpointing on.
#[test]
fn fused_recurrence_gradients_match_the_per_step_path() {
    let plain = Device::flex().autodiff();
    let checkpointed = Device::flex().autodiff().gradient_checkpointing();
    for device in [plain, checkpointed] {
        fused_matches_stepwise_on(&device);
    }
}
