//! `hark eval` as a user runs it: every condition in the report, attacks that hurt, averages
//! that are the mean of their rows, a plot, a bad manifest line that costs only itself; and
//! Monte Carlo dropout that is reproducible and gives sample shares as confidences.

use crate::common::{fixtures, hark, run_ok};
use burn::prelude::*;
use hark::features::MfccConfig;
use hark::model::AcousticModelConfig;
use hark::model_dir::ModelSource;
use hark::recognizer::{Recognizer, RecognizerConfig};
use hark::text::Vocab;

fn read_json(path: &std::path::Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

#[test]
fn report_covers_every_condition_and_an_attack_hurts() {
    let dir = tempfile::tempdir().unwrap();
    let (json, png) = (dir.path().join("r.json"), dir.path().join("r.png"));
    let out = run_ok(
        hark()
            .args(["eval", "--quiet", "--snr", "clean,20,10", "--noise"])
            .args([
                "white",
                "--attack-eps",
                "0.3",
                "--attack-snr",
                "20",
                "--manifest",
                fixtures().join("overfit.jsonl").to_str().unwrap(),
                "--json",
                json.to_str().unwrap(),
                "--plot",
                png.to_str().unwrap(),
            ]),
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("pgd3 eps 0.3"), "{table}");
    let r = read_json(&json);
    assert_eq!(r["format"], "hark-eval/1");
    assert_eq!(r["utterances"], 2);
    assert_eq!(r["failed"], 0);
    let rows = r["rows"].as_array().unwrap();
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["condition"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "clean",
            "white 20 dB",
            "white 10 dB",
            "pgd3 eps 0.3",
            "wave pgd3 snr 20 dB"
        ]
    );
    for row in rows {
        let ece = row["ece"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&ece), "{row}");
        assert_eq!(row["words"]["reference"], 6, "{row}");
    }
    let cer = |i: usize| rows[i]["cer"].as_f64().unwrap();
    assert!(
        cer(3) > cer(0) + 20.0,
        "PGD at ε 0.3 should hurt: {} vs {}",
        cer(3),
        cer(0)
    );
    assert!((rows[3]["attack_epsilon"].as_f64().unwrap() - 0.3).abs() < 1e-6);
    assert!((rows[4]["attack_snr_db"].as_f64().unwrap() - 20.0).abs() < 1e-6);
    assert!(rows[4]["snr_db"].is_null() && rows[4]["noise"].is_null());
    assert!(
        cer(4) > cer(0) + 20.0,
        "a waveform PGD attack at 20 dB should hurt: {} vs {}",
        cer(4),
        cer(0)
    );
    let avg = &r["averages_0_20db"][0];
    assert_eq!(avg["noise"], "white");
    let mean = (rows[1]["wer"].as_f64().unwrap() + rows[2]["wer"].as_f64().unwrap()) / 2.0;
    assert!((avg["wer"].as_f64().unwrap() - mean).abs() < 1e-9);
    let image = std::fs::read(&png).unwrap();
    assert!(image.starts_with(b"\x89PNG"), "plot is not a PNG");

    // Two reports side by side: the second against the first as baseline.
    let both = dir.path().join("both.png");
    let out = run_ok(
        hark()
            .arg("compare")
            .args([&json, &json])
            .arg("--plot")
            .arg(&both),
    );
    let table = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(
        lines[0].contains("white 0–20 dB")
            && lines[0].contains("PGD3 ε 0.3")
            && lines[0].contains("wave PGD3 20 dB"),
        "{table}"
    );
    assert!(
        lines[3].starts_with("| r | ") && lines[3].contains("+0.0% / +0.0%"),
        "{table}"
    );
    assert!(std::fs::read(&both).unwrap().starts_with(b"\x89PNG"));
}

#[test]
fn a_missing_file_costs_only_itself_and_compressed_audio_counts() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("m.jsonl");
    let good = std::fs::read_to_string(fixtures().join("overfit.jsonl")).unwrap();
    let good = good.replace(
        "\"overfit-",
        &format!("\"{}/overfit-", fixtures().display()),
    );
    std::fs::write(
        &manifest,
        format!(
            "{good}{{\"audio\": \"gone.wav\", \"text\": \"nothing\"}}\n\
             {{\"audio\": \"{f}/speech.flac\", \"text\": \"please turn\"}}\n\
             {{\"audio\": \"{f}/speech.mp3\", \"text\": \"please turn\"}}\n",
            f = fixtures().display()
        ),
    )
    .unwrap();
    let json = dir.path().join("r.json");
    let out = hark()
        .args(["eval", "--quiet", "--snr", "clean", "--manifest"])
        .arg(&manifest)
        .arg("--json")
        .arg(&json)
        .arg("--details")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("gone.wav"), "{stderr}");
    let r = read_json(&json);
    assert_eq!(
        (r["utterances"].as_u64(), r["failed"].as_u64()),
        (Some(4), Some(1)),
        "the two WAVs, the FLAC and the MP3 are scored; only the missing file fails"
    );
}

#[test]
fn bad_conditions_are_refused() {
    for args in [
        ["--snr", "loud"],
        ["--attack-eps", "-1"],
        ["--noise", "no-such-noise"],
    ] {
        let out = hark()
            .args(["eval", "--quiet", "--manifest"])
            .arg(fixtures().join("overfit.jsonl"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
}

/// The waveform attack keeps to its SNR bound, and at that level it hurts more than random
/// noise of ten times its energy: the gradient through the tensor front end points somewhere.
#[test]
fn a_waveform_attack_keeps_its_snr_and_beats_louder_noise() {
    use hark::augment::rng;
    use hark::eval::attack::{WaveAttackConfig, WaveAttacker};
    use rand::RngExt;
    let device = Device::flex();
    let loaded = ModelSource::BUILT_IN.load(&device).unwrap();
    let rec = Recognizer::new(loaded, device, &RecognizerConfig::with_beam(4)).unwrap();
    let wave = hark::audio::wav::read(&fixtures().join("overfit-2.wav")).unwrap();
    let clean = wave.samples();
    let target = rec.vocab().encode("seven green apples");
    let energy = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>();
    let snr = |moved: &[f32]| {
        let delta: Vec<f32> = moved.iter().zip(clean).map(|(m, c)| m - c).collect();
        10.0 * (energy(clean) / energy(&delta)).log10()
    };
    let cfg = WaveAttackConfig {
        snr_db: 30.0,
        steps: 3,
    };
    let attacker = WaveAttacker::new(&rec, cfg);
    let mut r = rng(5);
    let attacked = attacker.attack(clean, &target, &mut r);
    assert!(
        snr(&attacked) >= 30.0 - 1e-2,
        "perturbation at {} dB",
        snr(&attacked)
    );
    assert!(attacked.iter().all(|v| (-1.0..=1.0).contains(v)));
    // White noise at 30 dB (the attack's level) and at 20 dB (ten times its energy).
    let noise: Vec<f32> = (0..clean.len())
        .map(|_| r.random_range(-1.0f32..1.0))
        .collect();
    let noisy = |db: f32| -> Vec<f32> {
        let scale = (energy(clean) / energy(&noise) / 10f32.powf(db / 10.0)).sqrt();
        clean
            .iter()
            .zip(&noise)
            .map(|(c, n)| c + scale * n)
            .collect()
    };
    let (at_30, at_20) = (noisy(30.0), noisy(20.0));
    assert!((snr(&at_30) - 30.0).abs() < 0.1 && (snr(&at_20) - 20.0).abs() < 0.1);
    let loss = |v: &[f32]| attacker.loss_and_grad(v, &target).unwrap().0;
    let (l_clean, l_30, l_20, l_attack) =
        (loss(clean), loss(&at_30), loss(&at_20), loss(&attacked));
    assert!(
        l_attack > l_clean + 1.0 && l_attack > l_20,
        "loss clean {l_clean}, noise at 30 dB {l_30}, at 20 dB {l_20}, attack at 30 dB {l_attack}"
    );
}

/// One test, not two: burn's CPU random generator is global to the process, so a model built
/// on another test thread would draw from it between two MC runs.
#[test]
fn mc_dropout_is_reproducible_and_needs_samples_and_dropout() {
    let device = Device::flex();
    let loaded = ModelSource::BUILT_IN.load(&device).unwrap();
    let rec = Recognizer::new(loaded, device.clone(), &RecognizerConfig::with_beam(4))
        .unwrap()
        .with_mc_dropout(4, 7)
        .unwrap();
    let wave = hark::audio::wav::read(&fixtures().join("overfit-2.wav")).unwrap();
    let first = rec.transcribe(&wave);
    assert!(!first.words.is_empty());
    assert_eq!(
        first,
        rec.transcribe(&wave),
        "same seed, same input, same answer"
    );
    for w in &first.words {
        let share = w.confidence * 4.0;
        assert!((share - share.round()).abs() < 1e-6, "{w:?}");
    }

    let loaded = ModelSource::BUILT_IN.load(&device).unwrap();
    let rec = Recognizer::new(loaded, device.clone(), &RecognizerConfig::with_beam(1)).unwrap();
    assert!(rec.with_mc_dropout(1, 0).is_err());
    let vocab = Vocab::english();
    let plain = AcousticModelConfig::new(39, vocab.size())
        .with_hidden(8)
        .with_layers(1)
        .with_dropout(0.0)
        .init(&device);
    let rec = Recognizer::from_model(
        plain,
        MfccConfig::default(),
        vocab,
        device,
        &RecognizerConfig::with_beam(1),
    )
    .unwrap();
    let err = rec.with_mc_dropout(8, 0).err().unwrap().to_string();
    assert!(err.contains("dropout"), "{err}");
}

#[test]
fn score_uses_hark_normalisation_and_counts_missing_hypotheses() {
    let dir = tempfile::tempdir().unwrap();
    let hyps = dir.path().join("h.jsonl");
    let one = fixtures().join("overfit-1.wav");
    std::fs::write(
        &hyps,
        format!(
            "{{\"audio\": {:?}, \"text\": \"Open the DOOR!\"}}\n",
            one.display().to_string()
        ),
    )
    .unwrap();
    let out = hark()
        .args(["score", "--reference"])
        .arg(fixtures().join("overfit.jsonl"))
        .arg("--hypotheses")
        .arg(&hyps)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a missing hypothesis is reported"
    );
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["missing_hypotheses"], 1);
    assert_eq!(line["words"]["deletions"], 3);
    assert_eq!(line["wer"].as_f64(), Some(50.0));
}
