//! Data-parallel training through burn-train's multi-device step on two CPU devices: the same
//! steps as on one device (the shards' scaled gradients sum to the batch's), the robust
//! techniques run inside the workers (with clean and noisy dev scores each epoch), and group DRO, which needs the whole batch, is refused.

use std::path::Path;
use std::process::Command;

use crate::common::{hark, log_probs, root, run_ok};

fn train(out: &Path, extra: &[&str]) -> Command {
    let mut c = hark();
    c.args(["--threads", "1", "train", "--train"])
        .arg(root().join("tests/fixtures/overfit.jsonl"))
        .arg("--out")
        .arg(out)
        .args(["--hidden", "24", "--layers", "1", "--batch-size", "2"])
        .args(["--dropout", "0", "--speed-prob", "0", "--noise-prob", "0"])
        .args(["--epochs", "4", "--warmup-steps", "1", "--quiet"])
        .args(extra);
    c
}

#[test]
fn two_cpu_devices_take_the_same_steps_as_one() {
    let one = tempfile::tempdir().unwrap();
    run_ok(&mut train(one.path(), &[]));
    let two = tempfile::tempdir().unwrap();
    let out = run_ok(&mut train(two.path(), &["--devices", "cpu,cpu"]));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("data-parallel over 2 devices"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (a, b) = (
        log_probs(one.path(), "overfit-2.wav"),
        log_probs(two.path(), "overfit-2.wav"),
    );
    let short = tempfile::tempdir().unwrap();
    run_ok(&mut train(short.path(), &["--max-steps", "1"]));
    let c = log_probs(short.path(), "overfit-2.wav");
    let diff = crate::common::max_abs_diff;
    assert!(diff(&a, &c) > 1e-2, "the later steps moved the weights");
    assert!(diff(&a, &b) < 1e-4, "2 devices differ by {}", diff(&a, &b));
}

#[test]
fn attacks_and_weight_noise_run_in_the_workers() {
    let dir = tempfile::tempdir().unwrap();
    run_ok(&mut train(
        dir.path(),
        &[
            "--devices",
            "cpu,cpu",
            "--adversarial",
            "pgd",
            "--adv-steps",
            "2",
            "--adv-ratio",
            "1",
            "--weight-noise",
            "0.01",
            "--dev",
            root()
                .join("tests/fixtures/overfit.jsonl")
                .to_str()
                .unwrap(),
        ],
    ));
    let metrics = std::fs::read_to_string(dir.path().join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), 4);
    for line in metrics.lines() {
        let m: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(
            m["train_loss"].as_f64().is_some_and(f64::is_finite),
            "{line}"
        );
    }
}

#[test]
fn group_dro_is_refused_data_parallel() {
    let dir = tempfile::tempdir().unwrap();
    let out = train(dir.path(), &["--devices", "cpu,cpu", "--dro"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("DRO"));
    let out = train(dir.path(), &["--devices", "cpu"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "one device is not data-parallel"
    );
}
