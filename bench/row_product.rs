//! The recurrent product of one sequence at one step, `h · W_hh` (`[1, H] · [H, 3H]`, a GRU
//! layer), by hark's row product against gemm 0.19's general kernel (what the fused recurrence
//! used before, and still uses for batches), in the same run, on one thread.
//!
//! `cargo bench --bench row_product`; `HARK_BENCH_REPS=N` repetitions per size (default 20000).

use std::hint::black_box;
use std::time::Instant;

use hark::model::recurrence::row_product::row_times_matrix;

fn gemm_row(x: &[f32], w: &[f32], out: &mut [f32]) {
    let (k, n) = (x.len(), out.len());
    // SAFETY: out is [1, n], x is [1, k] and w is [k, n], all row-major and in bounds.
    unsafe {
        gemm::gemm(
            1,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            x.as_ptr(),
            1,
            k as isize,
            w.as_ptr(),
            1,
            n as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Mean microseconds per call of `f` over `reps` calls.
fn time(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    for _ in 0..reps {
        f();
    }
    start.elapsed().as_secs_f64() / reps as f64 * 1e6
}

fn main() {
    let reps = std::env::var("HARK_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    println!("hidden   gemm µs   row product µs   speed-up");
    for hidden in [256usize, 288, 320, 352, 384] {
        let n = 3 * hidden;
        let w: Vec<f32> = (0..hidden * n).map(|i| (i as f32 * 0.013).sin()).collect();
        let x: Vec<f32> = (0..hidden).map(|i| (i as f32 * 0.07).cos()).collect();
        let (mut a, mut b) = (vec![0.0f32; n], vec![0.0f32; n]);
        let gemm_us = time(reps, || {
            gemm_row(black_box(&x), black_box(&w), black_box(&mut a))
        });
        let row_us = time(reps, || {
            row_times_matrix(black_box(&x), black_box(&w), black_box(&mut b))
        });
        let worst = a
            .iter()
            .zip(&b)
            .map(|(p, q)| (p - q).abs())
            .fold(0.0, f32::max);
        assert!(worst < 1e-3, "the two products differ by {worst}");
        println!(
            "{hidden:>6} {gemm_us:>9.1} {row_us:>17.1} {:>9.2}x",
            gemm_us / row_us
        );
    }
}
