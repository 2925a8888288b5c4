//! The robust trainer's parts: attacks have the stated radius and raise the loss, every
//! augmentation runs inside a real training step, and a run killed with SIGKILL and resumed
//! ends with the same weights as one that was never interrupted.

use std::path::Path;
use std::process::Command;

use crate::common::{fixtures, hark, log_probs, run_ok};

use burn::prelude::*;
use hark::data::Batch;
use hark::features::{Mfcc, MfccConfig};
use hark::model::AcousticModelConfig;
use hark::model::attack::{AttackConfig, loss_with, perturb};
use hark::text::Vocab;

/// The two fixture utterances as one batch, and an untrained model on an autodiff device.
fn batch_and_model() -> (Batch, hark::model::AcousticModel, Device) {
    let mfcc = Mfcc::new(MfccConfig::default()).unwrap();
    let vocab = Vocab::english();
    let feats: Vec<_> = ["overfit-1.wav", "overfit-2.wav"]
        .iter()
        .map(|f| mfcc.compute(&hark::audio::wav::read(&fixtures().join(f)).unwrap()))
        .collect();
    let targets = [
        vocab.encode("open the door"),
        vocab.encode("seven green apples"),
    ];
    let items: Vec<_> = feats
        .iter()
        .zip(&targets)
        .map(|(f, t)| (f, t.as_slice()))
        .collect();
    let batch = Batch::collate(&items);
    let device = Device::flex().autodiff();
    let model = AcousticModelConfig::new(39, vocab.size())
        .with_hidden(32)
        .with_layers(1)
        .with_dropout(0.0)
        .init(&device);
    (batch, model, device)
}

fn linf(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// The waveform attack on a batch (features padded to one tensor) gives each utterance what
/// attacking it alone gives, keeps to its SNR bound and raises every utterance's loss.
#[test]
fn a_batched_waveform_attack_equals_one_at_a_time_and_raises_each_loss() {
    use hark::features::differentiable::TensorMfcc;
    use hark::model::wave_attack::{WaveAttackConfig, losses_and_grads, perturb as wave_perturb};
    let (_, model, device) = batch_and_model();
    let front_end = TensorMfcc::new(&Mfcc::new(MfccConfig::default()).unwrap(), &device);
    let vocab = Vocab::english();
    let waves: Vec<Vec<f32>> = ["overfit-1.wav", "overfit-2.wav"]
        .iter()
        .map(|f| {
            hark::audio::wav::read(&fixtures().join(f))
                .unwrap()
                .into_samples()
        })
        .collect();
    assert_ne!(waves[0].len(), waves[1].len(), "the batch needs padding");
    let targets = [
        vocab.encode("open the door"),
        vocab.encode("seven green apples"),
    ];
    let wave_refs: Vec<&[f32]> = waves.iter().map(Vec::as_slice).collect();
    let target_refs: Vec<&[u32]> = targets.iter().map(Vec::as_slice).collect();
    let cfg = WaveAttackConfig {
        snr_db: 30.0,
        steps: 2,
    };
    let together = wave_perturb(
        &model,
        &front_end,
        &wave_refs,
        &target_refs,
        &device,
        &cfg,
        &mut hark::augment::rng(3),
    );
    // Alone, one after the other from the same generator: the random starts come in the same
    // order, and the steps draw nothing.
    let mut rng = hark::augment::rng(3);
    let alone: Vec<Vec<f32>> = (0..2)
        .map(|i| {
            wave_perturb(
                &model,
                &front_end,
                &wave_refs[i..=i],
                &target_refs[i..=i],
                &device,
                &cfg,
                &mut rng,
            )
            .remove(0)
        })
        .collect();
    let energy = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>();
    let (clean, _) =
        losses_and_grads(&model, &front_end, &wave_refs, &target_refs, &device).expect("losses");
    let moved: Vec<&[f32]> = together.iter().map(Vec::as_slice).collect();
    let (attacked, _) =
        losses_and_grads(&model, &front_end, &moved, &target_refs, &device).expect("losses");
    for i in 0..2 {
        let diff = linf(&together[i], &alone[i]);
        assert!(
            diff < 1e-4,
            "utterance {i}: batched and alone differ by {diff}"
        );
        let delta: Vec<f32> = together[i]
            .iter()
            .zip(&waves[i])
            .map(|(a, c)| a - c)
            .collect();
        let snr = 10.0 * (energy(&waves[i]) / energy(&delta)).log10();
        assert!(snr >= 30.0 - 1e-2, "utterance {i} perturbed at {snr} dB");
        assert!(
            attacked[i] > clean[i],
            "utterance {i}: loss {} clean, {} attacked",
            clean[i],
            attacked[i]
        );
    }
}

/// The first epoch's loss of a one-batch run: with every batch attacked on the audio it is
/// higher than the clean run's from the same weights; the recipe records the attack.
#[test]
fn waveform_adversarial_training_descends_the_attacked_loss() {
    let run = |extra: &[&str]| {
        let out = tempfile::tempdir().unwrap();
        let mut c = hark();
        c.args(["--threads", "1", "train", "--train"])
            .arg(fixtures().join("overfit.jsonl"))
            .arg("--out")
            .arg(out.path())
            .args(["--hidden", "24", "--layers", "1", "--dropout", "0"])
            .args(["--batch-size", "2", "--epochs", "1", "--quiet"])
            .args([
                "--noise-prob",
                "0",
                "--speed-prob",
                "0",
                "--reverb-prob",
                "0",
            ])
            .args([
                "--channel-prob",
                "0",
                "--spec-augment-prob",
                "0",
                "--no-noise-bank",
            ])
            .args(extra);
        run_ok(&mut c);
        let metrics = std::fs::read_to_string(out.path().join("metrics.jsonl")).unwrap();
        let first: serde_json::Value =
            serde_json::from_str(metrics.lines().next().unwrap()).unwrap();
        let config = std::fs::read_to_string(out.path().join("config.json")).unwrap();
        (first["train_loss"].as_f64().unwrap(), config)
    };
    let (clean, _) = run(&[]);
    let (attacked, config) = run(&[
        "--adversarial",
        "wave",
        "--adv-snr",
        "20",
        "--adv-steps",
        "2",
        "--adv-ratio",
        "1",
    ]);
    assert!(attacked > clean, "clean {clean}, attacked {attacked}");
    assert!(config.contains("\"wave_adversarial\""), "{config}");
    assert!(config.contains("\"snr_db\": 20"), "{config}");
}

#[test]
fn fgsm_moves_every_real_frame_by_epsilon_and_raises_the_loss() {
    let (batch, model, device) = batch_and_model();
    let mut rng = hark::augment::rng(1);
    let eps = 0.25;
    let (adv, _) = perturb(&model, &batch, &device, &AttackConfig::fgsm(eps), &mut rng);
    assert!((linf(&adv, &batch.features) - eps).abs() < 1e-5);
    // Padding (the shorter utterance's tail) is never touched.
    let (t, d) = (batch.max_frames, batch.dim);
    let short = (0..2).min_by_key(|&b| batch.lengths[b]).unwrap();
    let pad = short * t * d + batch.lengths[short] * d..(short + 1) * t * d;
    assert!(!pad.is_empty());
    assert!(adv[pad.clone()] == batch.features[pad]);
    let clean = loss_with(&model, &batch, batch.features.clone(), &device);
    let attacked = loss_with(&model, &batch, adv, &device);
    assert!(attacked > clean * 1.05, "clean {clean}, FGSM {attacked}");
}

#[test]
fn pgd_stays_in_the_ball_and_beats_fgsm() {
    let (batch, model, device) = batch_and_model();
    let mut rng = hark::augment::rng(2);
    let eps = 0.1;
    let (fgsm, _) = perturb(&model, &batch, &device, &AttackConfig::fgsm(eps), &mut rng);
    let (pgd, _) = perturb(
        &model,
        &batch,
        &device,
        &AttackConfig::pgd(eps, 5),
        &mut rng,
    );
    assert!(linf(&pgd, &batch.features) <= eps + 1e-6);
    let clean = loss_with(&model, &batch, batch.features.clone(), &device);
    let l_fgsm = loss_with(&model, &batch, fgsm, &device);
    let l_pgd = loss_with(&model, &batch, pgd, &device);
    assert!(
        l_pgd > clean && l_pgd >= l_fgsm * 0.98,
        "clean {clean} FGSM {l_fgsm} PGD {l_pgd}"
    );
}

/// `hark train` on the fixtures with every robustness option on.
fn train_command(out: &Path, extra: &[&str]) -> Command {
    let mut c = hark();
    c.args(["--threads", "1", "train", "--train"])
        .arg(fixtures().join("overfit.jsonl"))
        .arg("--out")
        .arg(out)
        .args([
            "--hidden",
            "24",
            "--layers",
            "1",
            "--batch-size",
            "1",
            "--quiet",
        ])
        .args([
            "--noise-bank",
            concat!(env!("CARGO_MANIFEST_DIR"), "/audio/noise"),
        ])
        .args([
            "--noise-prob",
            "0.8",
            "--snr-range",
            "-5,20",
            "--snr-curriculum",
        ])
        .args([
            "--reverb-prob",
            "0.5",
            "--channel-prob",
            "0.5",
            "--spec-augment-prob",
            "0.5",
        ])
        .args([
            "--adversarial",
            "pgd",
            "--adv-epsilon",
            "0.1",
            "--adv-steps",
            "2",
        ])
        .args(["--weight-noise", "0.01", "--dro", "--checkpoint-every", "1"])
        .args(extra);
    c
}

fn checkpoint_step(out: &Path) -> usize {
    std::fs::read_to_string(out.join("checkpoint/state.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["step"].as_u64())
        .unwrap_or(0) as usize
}

#[cfg(unix)]
#[test]
fn killed_and_resumed_run_ends_where_an_uninterrupted_one_does() {
    let epochs = ["--epochs", "12"];
    let whole = tempfile::tempdir().unwrap();
    run_ok(&mut train_command(whole.path(), &epochs));
    assert_eq!(checkpoint_step(whole.path()), 24);
    assert!(whole.path().join("training.png").is_file(), "training plot");

    let broken = tempfile::tempdir().unwrap();
    let mut child = train_command(broken.path(), &epochs).spawn().unwrap();
    // Kill it mid-run, in the middle of an epoch if the timing allows.
    let started = std::time::Instant::now();
    while checkpoint_step(broken.path()) < 7 && started.elapsed().as_secs() < 120 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let killed_at = checkpoint_step(broken.path());
    assert!((7..24).contains(&killed_at), "killed at step {killed_at}");
    let out = run_ok(train_command(broken.path(), &epochs).arg("--resume"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("resuming"));
    assert_eq!(checkpoint_step(broken.path()), 24);
    let (a, b) = (
        log_probs(whole.path(), "overfit-1.wav"),
        log_probs(broken.path(), "overfit-1.wav"),
    );
    let diff = linf(&a, &b);
    assert!(diff < 1e-4, "resumed run differs by {diff}");
}

#[test]
fn resume_rebuilds_the_checkpoints_architecture_without_its_flags() {
    let out = tempfile::tempdir().unwrap();
    let train = |extra: &[&str]| {
        let mut c = hark();
        c.args(["--threads", "1", "train", "--train"])
            .arg(fixtures().join("overfit.jsonl"))
            .arg("--out")
            .arg(out.path())
            .args(["--batch-size", "1", "--checkpoint-every", "1", "--quiet"])
            .args(extra);
        c
    };
    let shaping = ["--hidden", "24", "--layers", "1", "--unidirectional"];
    run_ok(train(&shaping).args(["--max-steps", "2"]));
    assert_eq!(checkpoint_step(out.path()), 2);
    // None of the flags that shaped the run: the checkpoint says what it holds.
    let resumed = run_ok(&mut train(&["--resume", "--max-steps", "3"]));
    assert!(String::from_utf8_lossy(&resumed.stderr).contains("resuming"));
    assert_eq!(checkpoint_step(out.path()), 3);
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("config.json")).unwrap())
            .unwrap();
    assert_eq!(config["model"]["hidden"], 24);
    assert_eq!(config["model"]["layers"], 1);
    assert_eq!(config["model"]["bidirectional"], false);
    assert!(config["features"]["global_cmvn"].is_object(), "{config}");
}
