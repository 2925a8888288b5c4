//! `x · W` for a single row `x`: the recurrent product of one sequence at one time step.
//!
//! gemm 0.19's general kernel, built for blocks of rows, is slow with one row, and one row is
//! what every step of decoding a single utterance multiplies. Here each pass over the output
//! adds eight rows of `W` at once, so the output is loaded and stored an eighth as often; the
//! loop is plain Rust, compiled three times (AVX-512, AVX2, baseline) and picked at run time.
//! Rust does not fuse the multiplies and adds, so every version gives the same bits. Measured
//! against gemm in `cargo bench --bench row_product` (docs/performance.md).

/// `out = x · w` with `x` `[k]`, `w` `[k, n]` row-major and `out` `[n]`.
///
/// # Panics
/// When `w` is not `x.len() × out.len()`.
pub fn row_times_matrix(x: &[f32], w: &[f32], out: &mut [f32]) {
    assert_eq!(w.len(), x.len() * out.len(), "row product: w must be k × n");
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has AVX-512F, checked just above.
            return unsafe { avx512(x, w, out) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2, checked just above.
            return unsafe { avx2(x, w, out) };
        }
    }
    portable(x, w, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn avx512(x: &[f32], w: &[f32], out: &mut [f32]) {
    portable(x, w, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn avx2(x: &[f32], w: &[f32], out: &mut [f32]) {
    portable(x, w, out)
}

/// Rows of `w` summed per pass over `out`.
const ROWS: usize = 8;

#[inline(always)]
fn portable(x: &[f32], w: &[f32], out: &mut [f32]) {
    let n = out.len();
    out.fill(0.0);
    let mut blocks = x.chunks_exact(ROWS);
    let rows = w.chunks_exact(ROWS * n);
    let rest = rows.remainder().chunks_exact(n);
    for (xs, block) in (&mut blocks).zip(rows) {
        let r: [&[f32]; ROWS] = std::array::from_fn(|i| &block[i * n..(i + 1) * n]);
        for (j, o) in out.iter_mut().enumerate() {
            *o += xs[0] * r[0][j]
                + xs[1] * r[1][j]
                + xs[2] * r[2][j]
                + xs[3] * r[3][j]
                + xs[4] * r[4][j]
                + xs[5] * r[5][j]
                + xs[6] * r[6][j]
                + xs[7] * r[7][j];
        }
    }
    for (&xk, row) in blocks.remainder().iter().zip(rest) {
        for (o, &v) in out.iter_mut().zip(row) {
            *o += xk * v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sizes with and without a remainder of rows, against the textbook sum in f64.
    #[test]
    fn matches_the_textbook_product() {
        for (k, n) in [(1, 1), (7, 3), (8, 5), (19, 12), (64, 96)] {
            let x: Vec<f32> = (0..k).map(|i| ((i * 37 % 11) as f32 - 5.0) / 4.0).collect();
            let w: Vec<f32> = (0..k * n)
                .map(|i| ((i * 53 % 17) as f32 - 8.0) / 8.0)
                .collect();
            let mut out = vec![f32::NAN; n];
            row_times_matrix(&x, &w, &mut out);
            for (j, &o) in out.iter().enumerate() {
                let want: f64 = (0..k).map(|i| x[i] as f64 * w[i * n + j] as f64).sum();
                assert!(
                    (o as f64 - want).abs() < 1e-4,
                    "k {k} n {n} j {j}: {o} vs {want}"
                );
            }
        }
    }

    #[test]
    fn every_instruction_set_gives_the_same_bits() {
        let (k, n) = (37, 45);
        let x: Vec<f32> = (0..k).map(|i| (i as f32 * 0.37).sin()).collect();
        let w: Vec<f32> = (0..k * n).map(|i| (i as f32 * 0.011).cos()).collect();
        let mut base = vec![0.0; n];
        portable(&x, &w, &mut base);
        let mut out = vec![0.0; n];
        row_times_matrix(&x, &w, &mut out);
        assert_eq!(base, out);
    }

    #[test]
    #[should_panic(expected = "k × n")]
    fn a_matrix_of_the_wrong_size_is_refused() {
        row_times_matrix(&[1.0, 2.0], &[1.0; 5], &mut [0.0; 3]);
    }
}
