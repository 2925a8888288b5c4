//! LibTorch (`--features tch`) checks: a training run and a transcription on the LibTorch CPU
//! device, compared with the default flex backend on the same weights.

use crate::common::root;
use hark::backend::DeviceSpec;
use hark::model_dir::ModelSource;
use hark::recognizer::{Recognizer, RecognizerConfig};
use hark::train::{TrainOptions, TrainingConfig, run};

#[test]
fn training_steps_run_on_libtorch() {
    let out = tempfile::tempdir().unwrap();
    let mut cfg = TrainingConfig::english()
        .with_batch_size(2)
        .with_max_steps(5)
        .with_epochs(5)
        .without_augmentation();
    cfg.model.hidden = 32;
    cfg.model.layers = 1;
    let opts = TrainOptions {
        device: DeviceSpec::Libtorch,
        ..TrainOptions::new(root().join("tests/fixtures/overfit.jsonl"), out.path())
    };
    let report = run(&cfg, &opts, |_| {}).unwrap();
    assert_eq!(report.steps, 5);
    assert!(report.final_loss.is_finite());
    assert!(out.path().join("model.bpk").is_file());
}

#[test]
fn libtorch_transcribes_like_flex() {
    let wave =
        hark::audio::wav::read(&root().join("audio/samples/clean_flite_rms_fox.wav")).unwrap();
    let mut outputs = Vec::new();
    for spec in [DeviceSpec::Cpu, DeviceSpec::Libtorch] {
        let device = spec.device().unwrap();
        let loaded = ModelSource::BUILT_IN.load(&device).unwrap();
        let rec = Recognizer::new(loaded, device, &RecognizerConfig { beam: 1 }).unwrap();
        let feats = rec.mfcc().compute(&wave);
        let (lp, frames) = rec.log_probs(&[&feats]).remove(0);
        let text = rec.transcribe(&wave).text;
        outputs.push((lp, frames, text));
    }
    let (flex, tch) = (&outputs[0], &outputs[1]);
    assert!(!tch.2.is_empty(), "LibTorch produced no words");
    assert_eq!(flex.1, tch.1);
    // Same weights, same features: the per-frame log-probabilities agree to float tolerance.
    let max_diff = flex
        .0
        .iter()
        .zip(&tch.0)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        max_diff < 1e-3,
        "flex and LibTorch log-probs differ by {max_diff}"
    );
}

/// On LibTorch the recurrence runs through LibTorch's own RNN kernels as one operation
/// (`backend::tch::recurrence`); its outputs and gradients match the per-step path on the same
/// device, with and without gradient checkpointing, and untracked.
#[test]
fn libtorch_fused_recurrence_matches_the_per_step_path() {
    let device = DeviceSpec::Libtorch.device().unwrap();
    crate::common::recurrence::fused_matches_stepwise_on(&device.clone().autodiff());
    crate::common::recurrence::fused_matches_stepwise_on(
        &device.autodiff().gradient_checkpointing(),
    );
}
