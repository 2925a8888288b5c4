//! Time of one training step (forward, CTC loss, backward, AdamW) of the default model
//! architecture on each available device. Batch 16 × 300 frames × 39 features, 60-symbol
//! targets. Compare with `bench/pytorch_train_step.py`, which builds the same model in PyTorch.
//!
//! `cargo bench --bench train_step` (add `--features tch` for LibTorch); `HARK_BENCH_THREADS=N`
//! limits tensor work to N threads (default: all cores). `HARK_BENCH_DEVICES=cuda:0,libtorch`
//! picks the devices (default: cpu, and libtorch when built with it); `HARK_BENCH_BATCH`,
//! `HARK_BENCH_LAYERS` and `HARK_BENCH_HIDDEN` change the batch and the model (the built-in
//! model is 4 layers × 256), matching the PyTorch script's `--batch`, `--layers`, `--hidden`.

use std::hint::black_box;
use std::time::Instant;

use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamWConfig, GradientsParams};
use hark::backend::DeviceSpec;
use hark::data::Batch;
use hark::features::Features;
use hark::model::loss::batch_loss;
use hark::train::TrainingConfig;

fn env_number(name: &str) -> Option<usize> {
    std::env::var(name)
        .ok()
        .map(|v| v.parse().unwrap_or_else(|_| panic!("{name}: a number")))
}

fn batch(size: usize) -> Batch {
    let mut rng = hark::augment::rng(1);
    let feats: Vec<Features> = (0..size)
        .map(|_| Features {
            data: (0..300 * 39)
                .map(|_| hark::augment::gaussian(&mut rng))
                .collect(),
            num_frames: 300,
            dim: 39,
        })
        .collect();
    let targets: Vec<Vec<u32>> = (0..size)
        .map(|i| (0..60).map(|j| 1 + ((i * 7 + j * 3) % 28) as u32).collect())
        .collect();
    let items: Vec<(&Features, &[u32])> = feats
        .iter()
        .zip(&targets)
        .map(|(f, t)| (f, t.as_slice()))
        .collect();
    Batch::collate(&items)
}

fn time_steps(spec: DeviceSpec, cfg: &TrainingConfig, batch: &Batch) -> f64 {
    let device = spec.device().expect("device").autodiff();
    let mut model = cfg.model.init(&device);
    // Clipped at norm 5 like the PyTorch script (and like `hark train`).
    let mut optim = AdamWConfig::new()
        .with_grad_clipping(Some(GradientClippingConfig::Norm(5.0)))
        .init();
    let mut step = |model: AcousticModelHolder| -> AcousticModelHolder {
        let loss = batch_loss(&model, batch, &device);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let model = optim.step(1e-3, model, grads);
        black_box(loss.into_scalar::<f32>());
        model
    };
    model = step(model); // warm-up
    let runs = 5;
    let started = Instant::now();
    for _ in 0..runs {
        model = step(model);
    }
    started.elapsed().as_secs_f64() / runs as f64
}

type AcousticModelHolder = hark::model::AcousticModel;

fn main() {
    if let Some(n) = env_number("HARK_BENCH_THREADS") {
        hark::backend::set_threads(n).expect("thread count");
        println!("threads: {n}");
    }
    let size = env_number("HARK_BENCH_BATCH").unwrap_or(16);
    let batch = batch(size);
    let specs: Vec<DeviceSpec> = match std::env::var("HARK_BENCH_DEVICES") {
        Ok(list) => list
            .split(',')
            .map(|s| {
                s.parse()
                    .expect("HARK_BENCH_DEVICES: cpu, libtorch or cuda:N")
            })
            .collect(),
        Err(_) if cfg!(feature = "tch") => vec![DeviceSpec::Cpu, DeviceSpec::Libtorch],
        Err(_) => vec![DeviceSpec::Cpu],
    };
    let mut cfg = TrainingConfig::english();
    if let Some(layers) = env_number("HARK_BENCH_LAYERS") {
        cfg.model.layers = layers;
    }
    if let Some(hidden) = env_number("HARK_BENCH_HIDDEN") {
        cfg.model.hidden = hidden;
    }
    println!(
        "train step: {:?} {} layers x {} hidden, bidirectional={}, stack {}, batch {size} x 300 frames",
        cfg.model.cell,
        cfg.model.layers,
        cfg.model.hidden,
        cfg.model.bidirectional,
        cfg.model.stack
    );
    for spec in specs {
        let s = time_steps(spec, &cfg, &batch);
        println!("train step on {spec}: {:.1} ms", s * 1000.0);
    }
}
