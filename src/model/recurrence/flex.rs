//! A whole recurrent layer's time loop as one operation with a hand-written backward pass.
//!
//! The per-step kernel ([`super::stepwise`]) records about ten small tensor operations per time step,
//! and burn's autodiff then replays each of them backward. Here the recurrence of a layer
//! (every step of both directions) is a single autodiff node: the forward pass runs over
//! contiguous `f32` buffers with one small matmul per step and direction, keeps the gate
//! activations, and the backward pass is back-propagation through time in the same kind of loop,
//! with the recurrent weight gradient done as one large matmul at the end.
//!
//! The input projection (`x · W_ih + b_ih`, all time steps at once) stays an ordinary burn
//! operation in front of this one, so gradients reach the input features as before.
//!
//! Only burn's `flex` CPU backend (with or without autodiff) takes this path; any other backend,
//! a non-`f32` dtype or an index that is not a within-length reversal falls back to the per-step
//! path, which is kept as the reference.

use std::borrow::Cow;
use std::sync::Arc;

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::flex::FlexTensor;
use burn::backend::{Autodiff, DispatchKindConversion, DispatchTensor, Flex};
use burn::prelude::*;
use burn::tensor::DType;

use super::row_product::row_times_matrix;
use super::{CellKind, FusedKernel, run_fused};

/// Shapes and time order of one fused recurrence.
#[derive(Debug, Clone)]
pub struct Spec {
    pub cell: CellKind,
    /// Batch size.
    pub n: usize,
    /// Time steps.
    pub t: usize,
    /// Hidden size.
    pub h: usize,
    /// 1 or 2.
    pub dirs: usize,
    /// For the backward direction: at step `s` sequence `i` reads (and writes) time
    /// `rev[i * t + s]`. Must be an involution per sequence (a reversal within the length).
    pub rev: Vec<usize>,
}

impl Spec {
    fn gh(&self) -> usize {
        self.cell.gates() * self.h
    }

    /// Time read and written by sequence `i` at step `s` of direction `d`.
    #[inline]
    fn time(&self, d: usize, i: usize, s: usize) -> usize {
        if d == 0 { s } else { self.rev[i * self.t + s] }
    }

    /// The time order for the backward direction from a `[N, T]` reversal index (`None`: the
    /// whole padded length is flipped). `None` when the index is not a per-sequence involution
    /// over `0..T`, which the fused path relies on.
    pub fn reversal(index: Option<&[i64]>, n: usize, t: usize) -> Option<Vec<usize>> {
        let Some(index) = index else {
            return Some((0..n).flat_map(|_| (0..t).rev()).collect());
        };
        if index.len() != n * t {
            return None;
        }
        let mut rev = Vec::with_capacity(n * t);
        for &v in index {
            rev.push(usize::try_from(v).ok().filter(|&v| v < t)?);
        }
        for i in 0..n {
            let row = &rev[i * t..(i + 1) * t];
            if (0..t).any(|s| row[row[s]] != s) {
                return None;
            }
        }
        Some(rev)
    }
}

/// What the backward pass needs from the forward pass, per direction in step order.
#[derive(Debug)]
pub struct Saved {
    /// Hidden states `[D][T + 1][N][H]`, step 0 the zero initial state.
    hs: Vec<f32>,
    /// LSTM cell states `[D][T + 1][N][H]` (empty for GRU).
    cs: Vec<f32>,
    /// Gate activations `[D][T][N][4H]`: LSTM `i, f, g, o`; GRU `r, z, n, h·W_n + b_n`.
    acts: Vec<f32>,
    /// Recurrent weights `[D, H, G·H]`.
    w: Vec<f32>,
}

/// `e^x` without branches or calls, so loops over it vectorise: `2^n · p(r)` with
/// `r = x - n·ln 2`, `|r| ≤ ln 2 / 2`, `p` the degree-6 Taylor polynomial. Relative error below
/// 3e-7; `x` is clamped to `[-87, 88]` (normal results only), NaN stays NaN.
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    // Adding and removing 1.5·2^23 rounds to the nearest integer.
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let p = 1.0
        + r * (1.0
            + r * (0.5
                + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0 + r * (1.0 / 720.0))))));
    // n ∈ [-126, 127] after the clamp, so the biased exponent is a normal one.
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    p * scale
}

#[inline(always)]
fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + exp(-x))
}

/// `tanh` through one [`exp`], branch-free; a short Taylor series near 0, where
/// `1 - 2 / (e^2x + 1)` would cancel. Relative error about 1e-6.
#[inline(always)]
fn tanh(x: f32) -> f32 {
    let a = x.abs();
    let x2 = x * x;
    // x - x³/3 + 2x⁵/15 - 17x⁷/315, for |x| < 1/16
    let series = a * (1.0 + x2 * (-1.0 / 3.0 + x2 * (2.0 / 15.0 - x2 * (17.0 / 315.0))));
    let far = 1.0 - 2.0 / (exp(2.0 * a) + 1.0);
    let t = if a < 0.0625 { series } else { far };
    t.copysign(x)
}

/// One GRU step of one sequence: gates from the input projection `x` and the recurrent
/// product `r` (both `[3H]`, without `b_hh`), previous state `hp` → new state `hn`;
/// activations `r, z, n, h·W_n + b_n` into `a` (`[4H]`).
#[inline(always)]
fn gru_cell(h: usize, x: &[f32], r: &[f32], b: &[f32], hp: &[f32], a: &mut [f32], hn: &mut [f32]) {
    let (xr, xz, xn) = (&x[..h], &x[h..2 * h], &x[2 * h..3 * h]);
    let (rr, rz, rn) = (&r[..h], &r[h..2 * h], &r[2 * h..3 * h]);
    let (br, bz, bn) = (&b[..h], &b[h..2 * h], &b[2 * h..3 * h]);
    let (ar, rest) = a.split_at_mut(h);
    let (az, rest) = rest.split_at_mut(h);
    let (an, rest) = rest.split_at_mut(h);
    let (ar, az, an, ahw) = (&mut ar[..h], &mut az[..h], &mut an[..h], &mut rest[..h]);
    let (hp, hn) = (&hp[..h], &mut hn[..h]);
    for j in 0..h {
        let gr = sigmoid(xr[j] + rr[j] + br[j]);
        let gz = sigmoid(xz[j] + rz[j] + bz[j]);
        let hw = rn[j] + bn[j];
        let gn = tanh(xn[j] + gr * hw);
        hn[j] = gn + gz * (hp[j] - gn);
        ar[j] = gr;
        az[j] = gz;
        an[j] = gn;
        ahw[j] = hw;
    }
}

/// One LSTM step of one sequence, as [`gru_cell`] with cell state `cp` → `cn`; activations
/// `i, f, g, o` into `a` (`[4H]`).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn lstm_cell(
    h: usize,
    x: &[f32],
    r: &[f32],
    b: &[f32],
    cp: &[f32],
    cn: &mut [f32],
    a: &mut [f32],
    hn: &mut [f32],
) {
    let (xi, xf, xg, xo) = (&x[..h], &x[h..2 * h], &x[2 * h..3 * h], &x[3 * h..4 * h]);
    let (ri, rf, rg, ro) = (&r[..h], &r[h..2 * h], &r[2 * h..3 * h], &r[3 * h..4 * h]);
    let (bi, bf, bg, bo) = (&b[..h], &b[h..2 * h], &b[2 * h..3 * h], &b[3 * h..4 * h]);
    let (ai, rest) = a.split_at_mut(h);
    let (af, rest) = rest.split_at_mut(h);
    let (ag, rest) = rest.split_at_mut(h);
    let (ai, af, ag, ao) = (&mut ai[..h], &mut af[..h], &mut ag[..h], &mut rest[..h]);
    let (cp, cn, hn) = (&cp[..h], &mut cn[..h], &mut hn[..h]);
    for j in 0..h {
        let gi = sigmoid(xi[j] + ri[j] + bi[j]);
        let gf = sigmoid(xf[j] + rf[j] + bf[j]);
        let gg = tanh(xg[j] + rg[j] + bg[j]);
        let go = sigmoid(xo[j] + ro[j] + bo[j]);
        let c = gf * cp[j] + gi * gg;
        cn[j] = c;
        hn[j] = go * tanh(c);
        ai[j] = gi;
        af[j] = gf;
        ag[j] = gg;
        ao[j] = go;
    }
}

/// The first `K` consecutive length-`h` blocks of `a`.
#[inline(always)]
fn split<const K: usize>(a: &[f32], h: usize) -> [&[f32]; K] {
    std::array::from_fn(|k| &a[k * h..(k + 1) * h])
}

/// The first `K` consecutive length-`h` blocks of `a`, mutably.
#[inline(always)]
fn split_mut<const K: usize>(a: &mut [f32], h: usize) -> [&mut [f32]; K] {
    let mut rest = a;
    std::array::from_fn(|_| {
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(h);
        rest = tail;
        head
    })
}

/// `dst[m×n] (+)= lhs[m×k] · rhs[k×n]` with arbitrary row/column strides, single-threaded.
#[allow(clippy::too_many_arguments)]
fn matmul(
    (m, n, k): (usize, usize, usize),
    dst: &mut [f32],
    (dst_rs, dst_cs): (usize, usize),
    accumulate: bool,
    lhs: &[f32],
    (lhs_rs, lhs_cs): (usize, usize),
    rhs: &[f32],
    (rhs_rs, rhs_cs): (usize, usize),
) {
    if m == 0 || n == 0 {
        return;
    }
    let last = |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs;
    assert!(
        last(m, n, dst_rs, dst_cs) < dst.len(),
        "matmul: dst too small"
    );
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                for c in 0..n {
                    dst[r * dst_rs + c * dst_cs] = 0.0;
                }
            }
        }
        return;
    }
    assert!(
        last(m, k, lhs_rs, lhs_cs) < lhs.len(),
        "matmul: lhs too small"
    );
    assert!(
        last(k, n, rhs_rs, rhs_cs) < rhs.len(),
        "matmul: rhs too small"
    );
    // SAFETY: the asserts above keep every element the strides address inside the slices, and
    // `dst` is borrowed mutably while `lhs`/`rhs` are shared borrows, so they don't alias.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_cs as isize,
            dst_rs as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            if accumulate { 1.0 } else { 0.0 },
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Run `f(d)` for each direction `d < dirs`: both at once on two threads when the layer is
/// bidirectional and the thread pool has more than one thread, else one after the other.
fn per_direction<T: Send>(dirs: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    if dirs == 2 && rayon::current_num_threads() > 1 {
        let (a, b) = rayon::join(|| f(0), || f(1));
        vec![a, b]
    } else {
        (0..dirs).map(f).collect()
    }
}

/// What one direction's forward pass produces: its output `[N, T, H]` (in time order) and, in
/// step order, its states and activations.
struct DirectionForward {
    y: Vec<f32>,
    hs: Vec<f32>,
    cs: Vec<f32>,
    acts: Vec<f32>,
}

/// Forward pass over raw buffers.
///
/// - `xp`: `[N, T, D·G·H]` (input projection, including its bias)
/// - `w`: `[D, H, G·H]`, `b`: `[D, G·H]`
/// - returns the output `[N, T, D·H]` and, with `keep`, what the backward pass needs.
///
/// The two directions of a bidirectional layer are independent and run on two threads when
/// the pool has them.
pub fn forward(spec: &Spec, xp: &[f32], w: &[f32], b: &[f32], keep: bool) -> (Vec<f32>, Saved) {
    let Spec { n, t, h, dirs, .. } = *spec;
    let gh = spec.gh();
    let dh_out = dirs * h;
    assert_eq!(xp.len(), n * t * dirs * gh, "fused rnn: input size");
    assert_eq!(w.len(), dirs * h * gh, "fused rnn: w_hh size");
    assert_eq!(b.len(), dirs * gh, "fused rnn: b_hh size");
    let parts = per_direction(dirs, |d| {
        forward_direction(
            spec,
            d,
            xp,
            &w[d * h * gh..(d + 1) * h * gh],
            &b[d * gh..(d + 1) * gh],
        )
    });
    let mut y = vec![0.0f32; n * t * dh_out];
    for (d, part) in parts.iter().enumerate() {
        for (dst, src) in y.chunks_exact_mut(dh_out).zip(part.y.chunks_exact(h)) {
            dst[d * h..(d + 1) * h].copy_from_slice(src);
        }
    }
    let saved = if keep {
        let mut saved = Saved {
            hs: Vec::with_capacity(dirs * (t + 1) * n * h),
            cs: Vec::new(),
            acts: Vec::with_capacity(dirs * t * n * 4 * h),
            w: w.to_vec(),
        };
        for part in parts {
            saved.hs.extend_from_slice(&part.hs);
            saved.cs.extend_from_slice(&part.cs);
            saved.acts.extend_from_slice(&part.acts);
        }
        saved
    } else {
        Saved {
            hs: Vec::new(),
            cs: Vec::new(),
            acts: Vec::new(),
            w: Vec::new(),
        }
    };
    (y, saved)
}

/// The forward pass of direction `d` with its recurrent weights `wd` `[H, G·H]` and bias `bd`.
fn forward_direction(
    spec: &Spec,
    d: usize,
    xp: &[f32],
    wd: &[f32],
    bd: &[f32],
) -> DirectionForward {
    let Spec { n, t, h, dirs, .. } = *spec;
    let gh = spec.gh();
    let dgh = dirs * gh;
    let lstm = spec.cell == CellKind::Lstm;
    let nh = n * h;
    let mut y = vec![0.0f32; n * t * h];
    let mut hs = vec![0.0f32; (t + 1) * nh];
    let mut cs = if lstm {
        vec![0.0f32; (t + 1) * nh]
    } else {
        Vec::new()
    };
    let mut acts = vec![0.0f32; t * n * 4 * h];
    let mut rec = vec![0.0f32; n * gh];
    for s in 0..t {
        let (prev, next) = hs.split_at_mut((s + 1) * nh);
        let h_prev = &prev[s * nh..];
        let h_next = &mut next[..nh];
        // rec = h_prev · W_d
        if n == 1 {
            row_times_matrix(h_prev, wd, &mut rec);
        } else {
            matmul(
                (n, gh, h),
                &mut rec,
                (gh, 1),
                false,
                h_prev,
                (h, 1),
                wd,
                (gh, 1),
            );
        }
        let acts_s = &mut acts[s * n * 4 * h..(s + 1) * n * 4 * h];
        for i in 0..n {
            let tau = spec.time(d, i, s);
            let x = &xp[(i * t + tau) * dgh + d * gh..][..gh];
            let r = &rec[i * gh..(i + 1) * gh];
            let a = &mut acts_s[i * 4 * h..(i + 1) * 4 * h];
            let hn = &mut h_next[i * h..(i + 1) * h];
            if lstm {
                let (cprev, cnext) = cs.split_at_mut((s + 1) * nh);
                let c_prev = &cprev[s * nh + i * h..][..h];
                let c_next = &mut cnext[i * h..(i + 1) * h];
                lstm_cell(h, x, r, bd, c_prev, c_next, a, hn);
            } else {
                let hp = &h_prev[i * h..(i + 1) * h];
                gru_cell(h, x, r, bd, hp, a, hn);
            }
            y[(i * t + tau) * h..][..h].copy_from_slice(hn);
        }
    }
    DirectionForward { y, hs, cs, acts }
}

/// Gradients of one fused recurrence.
pub struct Grads {
    /// `[N, T, D·G·H]`
    pub xp: Vec<f32>,
    /// `[D, H, G·H]`
    pub w: Vec<f32>,
    /// `[D, G·H]`
    pub b: Vec<f32>,
}

/// One direction's gradients: input projection `[N, T, G·H]`, `W_d` `[H, G·H]`, `b_d` `[G·H]`.
struct DirectionGrads {
    xp: Vec<f32>,
    w: Vec<f32>,
    b: Vec<f32>,
}

/// Back-propagation through time from the output gradient `dy` `[N, T, D·H]`, the two
/// directions of a bidirectional layer on two threads when the pool has them.
pub fn backward(spec: &Spec, saved: &Saved, dy: &[f32]) -> Grads {
    let Spec { n, t, h, dirs, .. } = *spec;
    let gh = spec.gh();
    assert_eq!(
        dy.len(),
        n * t * dirs * h,
        "fused rnn: output gradient size"
    );
    let parts = per_direction(dirs, |d| backward_direction(spec, d, saved, dy));
    let dgh = dirs * gh;
    let mut grads = Grads {
        xp: vec![0.0f32; n * t * dgh],
        w: Vec::with_capacity(dirs * h * gh),
        b: Vec::with_capacity(dirs * gh),
    };
    for (d, part) in parts.into_iter().enumerate() {
        for (dst, src) in grads.xp.chunks_exact_mut(dgh).zip(part.xp.chunks_exact(gh)) {
            dst[d * gh..(d + 1) * gh].copy_from_slice(src);
        }
        grads.w.extend_from_slice(&part.w);
        grads.b.extend_from_slice(&part.b);
    }
    grads
}

/// The backward pass of direction `d`.
fn backward_direction(spec: &Spec, d: usize, saved: &Saved, dy: &[f32]) -> DirectionGrads {
    let Spec { n, t, h, dirs, .. } = *spec;
    let gh = spec.gh();
    let dh_out = dirs * h;
    let nh = n * h;
    let lstm = spec.cell == CellKind::Lstm;
    let mut dxp = vec![0.0f32; n * t * gh];
    let mut dw = vec![0.0f32; h * gh];
    let mut db = vec![0.0f32; gh];
    // Gradient w.r.t. the recurrent pre-activation (h·W + b) of every step, `[T][N][G·H]`.
    let mut drec = vec![0.0f32; t * n * gh];
    let mut dh_next = vec![0.0f32; nh];
    let mut dc_next = vec![0.0f32; nh];
    let mut dh = vec![0.0f32; h];
    let wd = &saved.w[d * h * gh..(d + 1) * h * gh];
    // W_dᵀ as its own contiguous [G·H, H] copy: with it gemm reads the weights in place each
    // step instead of packing them again (its layout preference for a row-major destination).
    let mut wt = vec![0.0f32; gh * h];
    for (j, row) in wd.chunks_exact(gh).enumerate() {
        for (k, &v) in row.iter().enumerate() {
            wt[k * h + j] = v;
        }
    }
    let hs_d = &saved.hs[d * (t + 1) * nh..(d + 1) * (t + 1) * nh];
    for s in (0..t).rev() {
        let acts_s = &saved.acts[(d * t + s) * n * 4 * h..(d * t + s + 1) * n * 4 * h];
        let drec_s = &mut drec[s * n * gh..(s + 1) * n * gh];
        for i in 0..n {
            let tau = spec.time(d, i, s);
            let g_out = &dy[(i * t + tau) * dh_out + d * h..][..h];
            let dnext = &mut dh_next[i * h..(i + 1) * h];
            for ((dh, &g), &dn) in dh.iter_mut().zip(g_out).zip(dnext.iter()) {
                *dh = g + dn;
            }
            let a = &acts_s[i * 4 * h..(i + 1) * 4 * h];
            let dx = &mut dxp[(i * t + tau) * gh..][..gh];
            let dr = &mut drec_s[i * gh..(i + 1) * gh];
            let dh = &dh[..h];
            if lstm {
                let cs_d = &saved.cs[d * (t + 1) * nh..(d + 1) * (t + 1) * nh];
                let c_prev = &cs_d[s * nh + i * h..][..h];
                let c = &cs_d[(s + 1) * nh + i * h..][..h];
                let dcn = &mut dc_next[i * h..(i + 1) * h];
                let [gi, gf, gg, go] = split::<4>(a, h);
                let [xi, xf, xg, xo] = split_mut::<4>(dx, h);
                let [ri, rf, rg, ro] = split_mut::<4>(dr, h);
                for j in 0..h {
                    let tc = tanh(c[j]);
                    let d_o = dh[j] * tc;
                    let dc = dh[j] * go[j] * (1.0 - tc * tc) + dcn[j];
                    dcn[j] = dc * gf[j];
                    let pi = dc * gg[j] * gi[j] * (1.0 - gi[j]);
                    let pf = dc * c_prev[j] * gf[j] * (1.0 - gf[j]);
                    let pg = dc * gi[j] * (1.0 - gg[j] * gg[j]);
                    let po = d_o * go[j] * (1.0 - go[j]);
                    (xi[j], xf[j], xg[j], xo[j]) = (pi, pf, pg, po);
                    (ri[j], rf[j], rg[j], ro[j]) = (pi, pf, pg, po);
                }
            } else {
                let hp = &hs_d[s * nh + i * h..][..h];
                let [gr, gz, gn, hw] = split::<4>(a, h);
                let [xr, xz, xn] = split_mut::<3>(dx, h);
                let [rr, rz, rn] = split_mut::<3>(dr, h);
                let dnext = &mut dnext[..h];
                for j in 0..h {
                    let dn = dh[j] * (1.0 - gz[j]);
                    let dz = dh[j] * (hp[j] - gn[j]);
                    let pn = dn * (1.0 - gn[j] * gn[j]);
                    let pr = pn * hw[j] * gr[j] * (1.0 - gr[j]);
                    let pz = dz * gz[j] * (1.0 - gz[j]);
                    (xr[j], xz[j], xn[j]) = (pr, pz, pn);
                    (rr[j], rz[j], rn[j]) = (pr, pz, pn * gr[j]);
                    // The direct path h' = ... + z·h; the matmul below adds the rest.
                    dnext[j] = dh[j] * gz[j];
                }
            }
        }
        // dh_prev (+)= drec_s · W_dᵀ
        matmul(
            (n, h, gh),
            &mut dh_next,
            (h, 1),
            !lstm,
            drec_s,
            (gh, 1),
            &wt,
            (h, 1),
        );
    }
    // dW_d = H_prevᵀ · dRec over all steps and sequences: [H, T·N] × [T·N, G·H].
    matmul(
        (h, gh, t * n),
        &mut dw,
        (gh, 1),
        false,
        &hs_d[..t * nh],
        (1, h),
        &drec,
        (gh, 1),
    );
    for row in drec.chunks_exact(gh) {
        for (acc, v) in db.iter_mut().zip(row) {
            *acc += v;
        }
    }
    DirectionGrads {
        xp: dxp,
        w: dw,
        b: db,
    }
}

/// The values of an `f32` tensor, borrowed where it is contiguous.
fn flex_f32(t: &FlexTensor) -> Option<Cow<'_, [f32]>> {
    if t.dtype() != DType::F32 {
        return None;
    }
    match t.as_slice::<f32>() {
        Some(s) => Some(Cow::Borrowed(s)),
        None => t
            .to_contiguous()
            .as_slice::<f32>()
            .map(|s| Cow::Owned(s.to_vec())),
    }
}

/// The values of a gradient as `f32`, whatever its dtype.
fn flex_f32_grad(t: FlexTensor) -> Vec<f32> {
    match flex_f32(&t) {
        Some(s) => s.into_owned(),
        None => t.into_data().iter::<f32>().collect(),
    }
}

fn flex_from(data: Vec<f32>, shape: [usize; 3]) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(data, shape))
}

#[derive(Debug, Clone)]
struct State {
    spec: Arc<Spec>,
    saved: Arc<Saved>,
}

#[derive(Debug)]
struct FusedRecurrence;

impl Backward<Flex, 3> for FusedRecurrence {
    type State = State;

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let State { spec, saved } = ops.state;
        let grad = grads.consume::<Flex>(&ops.node);
        let dy = flex_f32_grad(grad);
        let g = backward(&spec, &saved, &dy);
        let (n, t, h, dirs, gh) = (spec.n, spec.t, spec.h, spec.dirs, spec.gh());
        let [px, pw, pb] = ops.parents;
        if let Some(p) = px {
            grads.register::<Flex>(p.id, flex_from(g.xp, [n, t, dirs * gh]));
        }
        if let Some(p) = pw {
            grads.register::<Flex>(p.id, flex_from(g.w, [dirs, h, gh]));
        }
        if let Some(p) = pb {
            grads.register::<Flex>(p.id, flex_from(g.b, [dirs, 1, gh]));
        }
    }
}

/// One layer's recurrence on `flex`: its spec and its three inputs.
struct FlexRecurrence {
    spec: Spec,
    xp: Tensor<3>,
    w: Tensor<3>,
    b: Tensor<3>,
}

impl FusedKernel for FlexRecurrence {
    type Inner = Flex;

    fn plain(self) -> Option<Tensor<3>> {
        let Self { spec, xp, w, b } = self;
        let xp = xp.try_into_primitive::<Flex>().ok()?;
        let w = w.try_into_primitive::<Flex>().ok()?;
        let b = b.try_into_primitive::<Flex>().ok()?;
        let (y, _) = forward(
            &spec,
            &flex_f32(&xp)?,
            &flex_f32(&w)?,
            &flex_f32(&b)?,
            false,
        );
        let shape = [spec.n, spec.t, spec.dirs * spec.h];
        Some(Tensor::from_primitive::<Flex>(flex_from(y, shape)))
    }

    fn tracked<C: CheckpointStrategy>(self) -> Option<Tensor<3>>
    where
        DispatchTensor: DispatchKindConversion<Autodiff<Flex, C>>,
    {
        let Self { spec, xp, w, b } = self;
        let xp = xp.try_into_primitive::<Autodiff<Flex, C>>().ok()?;
        let w = w.try_into_primitive::<Autodiff<Flex, C>>().ok()?;
        let b = b.try_into_primitive::<Autodiff<Flex, C>>().ok()?;
        let xs = flex_f32(xp.primitive())?;
        let ws = flex_f32(w.primitive())?;
        let bs = flex_f32(b.primitive())?;
        let shape = [spec.n, spec.t, spec.dirs * spec.h];
        let out = match FusedRecurrence
            .prepare::<C>([xp.node(), w.node(), b.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (y, saved) = forward(&spec, &xs, &ws, &bs, true);
                let state = State {
                    spec: Arc::new(spec),
                    saved: Arc::new(saved),
                };
                prep.finish(state, flex_from(y, shape))
            }
            OpsKind::UnTracked(prep) => {
                let (y, _) = forward(&spec, &xs, &ws, &bs, false);
                prep.finish(flex_from(y, shape))
            }
        };
        Some(Tensor::from_primitive::<Autodiff<Flex, C>>(out))
    }
}

/// The recurrence of one layer as a single operation, or `None` where the fused path doesn't
/// apply (then nothing has been recorded and the caller runs the per-step path).
///
/// # Shapes
/// - `xp`: `[N, T, D·G·H]`, `w`: `[D, H, G·H]`, `b`: `[D, 1, G·H]` → `[N, T, D·H]`
pub fn try_recurrence(
    spec: Spec,
    xp: &Tensor<3>,
    w: &Tensor<3>,
    b: &Tensor<3>,
) -> Option<Tensor<3>> {
    if spec.t == 0 || spec.n == 0 {
        return None;
    }
    let kernel = FlexRecurrence {
        spec,
        xp: xp.clone(),
        w: w.clone(),
        b: b.clone(),
    };
    run_fused(&xp.device(), kernel)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_tanh_is_close_to_libm() {
        let mut worst = 0.0f64;
        for k in -200_000..=200_000 {
            let x = k as f32 * 1e-4;
            let want = (x as f64).tanh();
            let got = tanh(x) as f64;
            worst = worst.max((got - want).abs() / want.abs().max(1e-30));
        }
        assert!(worst < 2e-6, "worst relative error {worst:e}");
        assert_eq!(tanh(0.0), 0.0);
        assert_eq!(tanh(1e4), 1.0);
        assert_eq!(tanh(-1e4), -1.0);
        assert!(tanh(f32::NAN).is_nan());
    }

    #[test]
    fn fast_exp_and_sigmoid_are_close_to_libm() {
        let mut worst = 0.0f64;
        for k in -80_000..=80_000 {
            let x = k as f32 * 1e-3;
            let want = (x as f64).exp();
            worst = worst.max((exp(x) as f64 - want).abs() / want);
            let want = 1.0 / (1.0 + (-(x as f64)).exp());
            assert!((sigmoid(x) as f64 - want).abs() < 1e-6, "sigmoid({x})");
        }
        assert!(worst < 1e-6, "worst relative error {worst:e}");
        assert!(exp(f32::NAN).is_nan());
        assert_eq!(sigmoid(-1e4), sigmoid(-200.0));
        assert_eq!(sigmoid(1e4), 1.0);
    }

    #[test]
    fn reversal_accepts_within_length_reversals_only() {
        // lengths [3, 1] in T = 4
        let index = [2, 1, 0, 3, 0, 1, 2, 3];
        assert_eq!(
            Spec::reversal(Some(&index), 2, 4),
            Some(vec![2, 1, 0, 3, 0, 1, 2, 3])
        );
        assert_eq!(Spec::reversal(None, 1, 3), Some(vec![2, 1, 0]));
        // not an involution, out of range, negative, wrong size
        assert_eq!(Spec::reversal(Some(&[1, 2, 0]), 1, 3), None);
        assert_eq!(Spec::reversal(Some(&[3, 1, 0]), 1, 3), None);
        assert_eq!(Spec::reversal(Some(&[-1, 1, 0]), 1, 3), None);
        assert_eq!(Spec::reversal(Some(&[0, 1]), 1, 3), None);
    }
}
