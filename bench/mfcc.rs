//! MFCC throughput, reported by criterion and as multiples of real time on one core.
//!
//! `cargo bench --bench mfcc`

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use hark::features::{Mfcc, MfccConfig};

fn speech_like(seconds: usize) -> Vec<f32> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/audio/samples/clean_flite_rms_fox.wav"
    );
    let clip = hark::audio::wav::read(std::path::Path::new(path))
        .expect("sample WAV")
        .into_samples();
    clip.iter()
        .copied()
        .cycle()
        .take(seconds * 16_000)
        .collect()
}

fn bench_mfcc(c: &mut Criterion) {
    let mfcc = Mfcc::new(MfccConfig::default()).expect("default config");
    let audio = speech_like(10);
    let mut group = c.benchmark_group("mfcc");
    group.throughput(Throughput::Elements(audio.len() as u64));
    group.bench_function("10s_39dim_cmvn", |b| {
        b.iter(|| mfcc.compute_samples(black_box(&audio)))
    });
    group.finish();

    // The same work timed directly, as a real-time multiple (single thread).
    let runs = 20;
    let started = Instant::now();
    for _ in 0..runs {
        black_box(mfcc.compute_samples(black_box(&audio)));
    }
    let per_run = started.elapsed().as_secs_f64() / runs as f64;
    println!(
        "mfcc: {:.0}x real time on one core ({:.2} ms per 10 s of audio)",
        10.0 / per_run,
        per_run * 1000.0
    );
}

criterion_group!(benches, bench_mfcc);
criterion_main!(benches);
