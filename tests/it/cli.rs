//! The `hark` binary with its built-in model, as a user runs it.

use std::path::{Path, PathBuf};

use crate::common::{default_model_copy, hark, json_lines, root, run_ok};

fn samples() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("audio/samples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    v.sort();
    assert!(v.len() >= 2, "need sample WAVs in audio/samples");
    v
}

#[test]
fn transcribes_samples_as_json_lines() {
    let files = samples();
    let out = run_ok(
        hark()
            .args(["transcribe", "--format", "json"])
            .args(&files)
            .current_dir(std::env::temp_dir()),
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), files.len());
    for (line, file) in lines.iter().zip(&files) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["path"].as_str().unwrap(), file.display().to_string());
        let text = v["text"].as_str().unwrap();
        assert!(!text.is_empty(), "{file:?}: empty transcript");
        let duration = v["duration_s"].as_f64().unwrap();
        assert!(duration > 0.5);
        assert!(v["processing_s"].as_f64().unwrap() >= 0.0);
        let words = v["words"].as_array().unwrap();
        assert_eq!(words.len(), text.split(' ').count());
        let mut last_end = 0.0;
        for w in words {
            let (start, end) = (w["start"].as_f64().unwrap(), w["end"].as_f64().unwrap());
            assert!(start >= 0.0 && start < end && end <= duration + 1e-9, "{w}");
            assert!(start + 1e-9 >= last_end - 0.1, "words overlap: {w}");
            last_end = end;
            let c = w["confidence"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&c));
            assert!(!w["word"].as_str().unwrap().is_empty());
        }
    }
}

#[test]
fn a_corrupt_file_among_good_ones_gives_exit_1_and_one_error_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("corrupt.wav");
    std::fs::write(&bad, b"RIFF\x10\x00\x00\x00WAVEjunkjunk").unwrap();
    let good = samples();
    let out = hark()
        .args(["transcribe", "--format", "json", "--beam", "1"])
        .arg(&good[0])
        .arg(&bad)
        .arg(&good[1])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let errors: Vec<&str> = stderr.lines().filter(|l| l.contains("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("corrupt.wav"), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 2, "both good files transcribed");
}

#[test]
fn usage_errors_exit_2() {
    let out = hark().args(["transcribe"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = hark()
        .args(["transcribe", "--model", "/nonexistent/model"])
        .arg(&samples()[0])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/model"));
    // A DRO step that cannot move the group weights is refused before any data is read.
    let out = hark()
        .args([
            "train",
            "--train",
            "/nonexistent.jsonl",
            "--out",
            "/nonexistent/out",
        ])
        .args(["--dro", "--dro-step", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--dro-step must be above 0"));
}

#[test]
fn subtitles_and_features() {
    let file = &samples()[0];
    let out = hark()
        .args(["transcribe", "--format", "srt"])
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let srt = String::from_utf8(out.stdout).unwrap();
    assert!(srt.starts_with("1\n00:00:0"), "{srt}");
    assert!(srt.contains(" --> "));

    let out = hark().args(["features"]).arg(file).output().unwrap();
    assert!(out.status.success());
    let csv = String::from_utf8(out.stdout).unwrap();
    let first = csv.lines().next().unwrap();
    assert_eq!(first.split(',').count(), 39);

    let dir = tempfile::tempdir().unwrap();
    let npy = dir.path().join("f.npy");
    let out = hark()
        .args(["features", "--format", "npy", "-o"])
        .arg(&npy)
        .arg(file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let bytes = std::fs::read(&npy).unwrap();
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    assert_eq!((10 + header_len) % 64, 0);
    assert_eq!((bytes.len() - 10 - header_len) % (4 * 39), 0);
}

#[test]
fn silence_and_near_silence_give_empty_transcripts() {
    let dir = tempfile::tempdir().unwrap();
    let silence = dir.path().join("silence.wav");
    let hiss = dir.path().join("hiss.wav");
    let rate = hark::audio::SAMPLE_RATE;
    let zeros = hark::audio::Waveform::new(vec![0.0; 3 * rate as usize], rate).unwrap();
    hark::audio::wav::write(&silence, &zeros).unwrap();
    // White noise at about -70 dBFS: the per-utterance normalisation would blow it up.
    let mut rng = hark::augment::rng(3);
    let quiet: Vec<f32> = (0..3 * rate as usize)
        .map(|_| 3e-4 * hark::augment::gaussian(&mut rng))
        .collect();
    hark::audio::wav::write(&hiss, &hark::audio::Waveform::new(quiet, rate).unwrap()).unwrap();
    let out = hark()
        .args(["transcribe", "--format", "json"])
        .arg(&silence)
        .arg(&hiss)
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    for l in lines {
        assert_eq!(l["text"], "", "{l}");
        assert_eq!(l["words"].as_array().unwrap().len(), 0);
    }
}

#[test]
fn a_language_model_attaches_to_a_model_dir_and_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("model");
    std::fs::create_dir(&model).unwrap();
    let default = root().join("models/default");
    std::fs::copy(default.join("model.bpk"), model.join("model.bpk")).unwrap();
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(default.join("config.json")).unwrap())
            .unwrap();
    config.as_object_mut().unwrap().remove("lm");
    config.as_object_mut().unwrap().remove("word_lm");
    std::fs::write(model.join("config.json"), config.to_string()).unwrap();

    let text = root().join("tests/fixtures/overfit.jsonl");
    run_ok(
        hark()
            .args(["lm", "--order", "4", "--weight", "0.7", "--bonus", "1.5"])
            .args([
                "--text".as_ref(),
                text.as_os_str(),
                "--into".as_ref(),
                model.as_os_str(),
            ]),
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["lm"]["file"], "lm.bin");
    assert_eq!(config["lm"]["weight"], 0.7);
    let lm_bytes = std::fs::read(model.join("lm.bin")).unwrap();
    assert_eq!(config["lm"]["bytes"], lm_bytes.len() as u64);

    let sample = &samples()[0];
    let out = run_ok(
        hark()
            .arg("transcribe")
            .arg("--model")
            .arg(&model)
            .arg(sample),
    );
    assert!(!String::from_utf8_lossy(&out.stdout).trim().is_empty());

    // A damaged LM is refused with its name, not silently dropped.
    std::fs::write(model.join("lm.bin"), &lm_bytes[..lm_bytes.len() / 2]).unwrap();
    let out = hark()
        .arg("transcribe")
        .arg("--model")
        .arg(&model)
        .arg(sample)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("lm.bin"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn word_lms_grammars_and_hotwords_steer_the_beam_search() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("text.txt");
    std::fs::write(
        &text,
        "please turn off the lights\nturn off the lights in the kitchen\n\
         please leave the kitchen before you go\n",
    )
    .unwrap();
    let arpa = dir.path().join("words.arpa.gz");
    let binary = dir.path().join("words.bin");
    run_ok(hark().args(["lm", "--words", "--order", "2"]).args([
        "--text".as_ref(),
        text.as_os_str(),
        "--arpa".as_ref(),
        arpa.as_os_str(),
        "--out".as_ref(),
        binary.as_os_str(),
    ]));
    let sample = &samples()[0];
    // Either form of the word LM decodes, and the JSON keeps its shape.
    for lm in [&arpa, &binary] {
        let out = run_ok(
            hark()
                .args(["transcribe", "--format", "json", "--lm"])
                .arg(lm)
                .arg(sample),
        );
        let lines = json_lines(&out.stdout);
        assert_eq!(lines.len(), 1);
        assert!(lines[0]["words"].is_array() && lines[0]["text"].is_string());
    }
    // A grammar of the sample's words: every word of the output is one of them.
    let allowed = ["please", "turn", "off", "the", "lights", "in", "kitchen"];
    let grammar = dir.path().join("grammar.txt");
    std::fs::write(&grammar, allowed.join("\n")).unwrap();
    let out = run_ok(
        hark()
            .args(["transcribe", "--grammar"])
            .arg(&grammar)
            .arg(sample),
    );
    let said = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(!said.is_empty());
    for word in said.split(' ') {
        assert!(allowed.contains(&word), "{word} in {said:?}");
    }
    // Hotwords parse from the flag; greedy decoding cannot take a grammar.
    run_ok(
        hark()
            .args(["transcribe", "--hotwords", "kitchen:3,lights:2"])
            .arg(sample),
    );
    let out = hark()
        .args(["transcribe", "--beam", "1", "--grammar"])
        .arg(&grammar)
        .arg(sample)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("beam"));
}

#[test]
fn a_word_lm_attaches_to_a_model_dir_and_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let model = default_model_copy(dir.path());
    let text = root().join("tests/fixtures/overfit.jsonl");
    run_ok(
        hark()
            .args(["lm", "--words", "--order", "2", "--weight", "0.3"])
            .args(["--text".as_ref(), text.as_os_str()])
            .args(["--into".as_ref(), model.as_os_str()]),
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["word_lm"]["file"], "words.bin");
    assert_eq!(config["word_lm"]["weight"], 0.3);
    assert_eq!(config["lm"]["file"], "lm.bin", "the character LM stays");
    let sample = &samples()[0];
    run_ok(
        hark()
            .arg("transcribe")
            .arg("--model")
            .arg(&model)
            .arg(sample),
    );
    // A damaged word LM is refused by name.
    let bytes = std::fs::read(model.join("words.bin")).unwrap();
    std::fs::write(model.join("words.bin"), &bytes[..bytes.len() - 1]).unwrap();
    let out = hark()
        .arg("transcribe")
        .arg("--model")
        .arg(&model)
        .arg(sample)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("words.bin"));
}

#[test]
fn tune_records_the_best_weights_it_measured() {
    let dir = tempfile::tempdir().unwrap();
    let model = default_model_copy(dir.path());
    let trials = dir.path().join("trials.json");
    let manifest = root().join("tests/fixtures/overfit.jsonl");
    let out = run_ok(
        hark()
            .args(["tune", "--quiet", "--write", "--rounds", "2", "--beam", "4"])
            .args(["--char-weights", "0,0.5,3", "--char-bonuses", "-2,1,4"])
            .args([
                "--manifest".as_ref(),
                manifest.as_os_str(),
                "--model".as_ref(),
                model.as_os_str(),
                "--json".as_ref(),
                trials.as_os_str(),
            ]),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("best: --lm-weight"), "{stdout}");
    let trials: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&trials).unwrap()).unwrap();
    let errors = |t: &serde_json::Value| {
        let w = &t["words"];
        ["substitutions", "deletions", "insertions"]
            .iter()
            .map(|k| w[*k].as_u64().unwrap())
            .sum::<u64>()
    };
    // The start (the model's 1.0/2.0) plus at least the other values of each weight once.
    assert!(trials.len() >= 5, "{} trials", trials.len());
    assert!(trials.iter().all(|t| errors(&trials[0]) <= errors(t)));
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["lm"]["weight"], trials[0]["weights"]["char_weight"]);
    assert_eq!(config["lm"]["bonus"], trials[0]["weights"]["char_bonus"]);
    // The confidence calibration was fitted on this manifest's words and recorded.
    assert!(stdout.contains("confidence calibration: Platt"), "{stdout}");
    let calibration = &config["calibration"];
    assert!(
        calibration["source"]
            .as_str()
            .is_some_and(|s| s.contains("overfit.jsonl")),
        "{calibration}"
    );
    assert!(calibration["a"].as_f64().is_some_and(f64::is_finite));
    assert!(calibration["b"].as_f64().is_some_and(f64::is_finite));
    // So was the confidence threshold with the fewest word errors, or none where keeping
    // every word was best.
    assert!(
        stdout.contains("words below confidence 0.1: left out: WER"),
        "{stdout}"
    );
    match calibration.get("min_confidence") {
        Some(t) => assert!(
            stdout.contains(&format!("leave out words below confidence {t}")),
            "{stdout}"
        ),
        None => assert!(stdout.contains("transcripts keep every word"), "{stdout}"),
    }
    // The tuned model still loads (its LM checksum was left alone).
    run_ok(
        hark()
            .arg("transcribe")
            .arg("--model")
            .arg(&model)
            .arg(&samples()[0]),
    );
}

#[test]
fn tune_fits_a_grammar_models_calibration_under_its_grammar() {
    let dir = tempfile::tempdir().unwrap();
    let with_lms = default_model_copy(dir.path());
    // A model without language models, as the digits model ships: the same weights, no LMs,
    // no calibration.
    let model = dir.path().join("bare");
    std::fs::create_dir(&model).unwrap();
    std::fs::copy(with_lms.join("model.bpk"), model.join("model.bpk")).unwrap();
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(with_lms.join("config.json")).unwrap())
            .unwrap();
    for key in ["lm", "word_lm", "calibration"] {
        config.as_object_mut().unwrap().remove(key);
    }
    std::fs::write(model.join("config.json"), config.to_string()).unwrap();
    let grammar = dir.path().join("phrases.txt");
    std::fs::write(&grammar, "open the door\nseven green apples\n").unwrap();
    let manifest = root().join("tests/fixtures/overfit.jsonl");
    let tune = |model: &Path, grammar: Option<&Path>| {
        let mut cmd = hark();
        cmd.args(["tune", "--quiet", "--write", "--beam", "4", "--manifest"])
            .arg(&manifest)
            .arg("--model")
            .arg(model);
        if let Some(g) = grammar {
            cmd.arg("--grammar").arg(g);
        }
        cmd
    };
    // Without the grammar there is nothing to decode it with: refused, naming --grammar.
    let out = tune(&model, None).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--grammar"));
    // Under the grammar, the calibration (and threshold) is fitted and recorded, and says so.
    let out = run_ok(&mut tune(&model, Some(&grammar)));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("confidence calibration: Platt"), "{stdout}");
    // The phrase bonus was searched: the best setting names it.
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("best:") && l.contains("--grammar-bonus")),
        "{stdout}"
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    let source = config["calibration"]["source"].as_str().unwrap_or_default();
    assert!(
        source.contains("grammar") && source.contains("phrases.txt"),
        "{source}"
    );
    assert!(config.get("lm").is_none() && config.get("word_lm").is_none());
    // The phrase bonus was chosen from tune's grid and recorded, with where it was tuned.
    let bonus = config["grammar"]["bonus"]
        .as_f64()
        .expect("a recorded grammar bonus");
    assert!([0.0, 1.0, 2.0, 3.0, 4.0, 6.0].contains(&bonus), "{bonus}");
    let source = config["grammar"]["source"].as_str().unwrap_or_default();
    assert!(source.contains("phrases.txt"), "{source}");
    // The grammar file now ships with the model, checked by size and checksum.
    assert_eq!(
        std::fs::read(model.join("grammar.txt")).unwrap(),
        std::fs::read(&grammar).unwrap()
    );
    assert_eq!(config["grammar"]["phrases"]["file"], "grammar.txt");
    // Decoding takes the model's grammar and bonus unless told otherwise: at -1000 per phrase,
    // saying nothing outscores the acoustics of any phrase.
    let mut config = config;
    config["grammar"]["bonus"] = serde_json::json!(-1000.0);
    std::fs::write(model.join("config.json"), config.to_string()).unwrap();
    let wav = root().join("tests/fixtures/overfit-1.wav");
    let transcribe = |extra: &[&str]| {
        let mut cmd = hark();
        cmd.args(["transcribe", "--min-confidence", "0", "--model"])
            .arg(&model)
            .args(extra)
            .arg(&wav);
        cmd
    };
    let said = |extra: &[&str]| {
        let out = run_ok(&mut transcribe(extra));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(said(&[]), "");
    let grammar_arg = grammar.to_str().unwrap();
    assert_eq!(said(&["--grammar", grammar_arg]), "");
    // --grammar-bonus overrides the bonus; under the grammar only its phrases come out.
    let phrase = said(&["--grammar-bonus", "0"]);
    assert!(
        ["open the door", "seven green apples"]
            .iter()
            .any(|p| phrase.contains(p)),
        "{phrase:?}"
    );
    // --no-grammar drops it, and so does greedy decoding (as it ignores the model's LMs).
    assert!(!said(&["--no-grammar"]).is_empty());
    assert!(!said(&["--beam", "1"]).is_empty());
    // --grammar replaces the shipped grammar: at bonus 0 the shipped one spells the clip's
    // phrase (above), a grammar of the other phrase alone cannot.
    let other = dir.path().join("other.txt");
    std::fs::write(&other, "seven green apples\n").unwrap();
    let other_arg = other.to_str().unwrap();
    let replaced = said(&["--grammar", other_arg, "--grammar-bonus", "0"]);
    assert!(
        !replaced.contains("open") && !replaced.contains("door"),
        "{replaced:?}"
    );
    for word in replaced.split_whitespace() {
        assert!(["seven", "green", "apples"].contains(&word), "{replaced:?}");
    }
    let out = transcribe(&["--grammar", other_arg, "--no-grammar"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    // tune decodes under the shipped grammar without being told (--write keeps the file), and
    // will not record weights for decoding without it.
    let out = run_ok(&mut tune(&model, None));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("--grammar-bonus"), "{stdout}");
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["grammar"]["phrases"]["file"], "grammar.txt");
    assert!(
        config["grammar"]["source"]
            .as_str()
            .unwrap_or_default()
            .contains("the model's")
    );
    let out = hark()
        .args(["tune", "--quiet", "--write", "--no-grammar", "--manifest"])
        .arg(&manifest)
        .arg("--model")
        .arg(&model)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--no-grammar"));
    // Averaging keeps the grammar the first model ships, file and all.
    let averaged = dir.path().join("averaged");
    run_ok(
        hark()
            .arg("average")
            .arg(&model)
            .arg(&model)
            .arg("--out")
            .arg(&averaged),
    );
    assert_eq!(
        std::fs::read(averaged.join("grammar.txt")).unwrap(),
        std::fs::read(&grammar).unwrap()
    );
    // A damaged grammar file is refused by name.
    std::fs::write(model.join("grammar.txt"), "open the door\n").unwrap();
    let out = transcribe(&[]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("grammar.txt"));
    // A model with LMs is not written from a decode under a grammar.
    let before = std::fs::read(with_lms.join("config.json")).unwrap();
    let out = tune(&with_lms, Some(&grammar)).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--grammar"));
    assert_eq!(std::fs::read(with_lms.join("config.json")).unwrap(), before);
}

#[test]
fn tune_decodes_clean_once_and_each_noise_at_each_snr() {
    let dir = tempfile::tempdir().unwrap();
    let model = default_model_copy(dir.path());
    let manifest = root().join("tests/fixtures/overfit.jsonl");
    let tune = |snr: &str, noise: &str| {
        let mut cmd = hark();
        cmd.args([
            "tune",
            "--quiet",
            "--beam",
            "4",
            "--rounds",
            "1",
            "--char-weights",
            "0.5",
        ])
        .args([
            "--char-bonuses",
            "1",
            "--word-weights",
            "0.5",
            "--word-bonuses",
            "1",
        ])
        .args([
            "--oov-penalties=-2",
            "--snr",
            snr,
            "--noise",
            noise,
            "--manifest",
        ])
        .arg(&manifest)
        .arg("--model")
        .arg(&model);
        cmd
    };
    // Two utterances: clean once, then white and pink at 10 dB: six decodes.
    let out = run_ok(&mut tune("clean,10", "white,pink"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("over 6 utterances"), "{stdout}");
    // Clean alone never looks the noise up; a noisy SNR with an unknown noise is refused.
    run_ok(&mut tune("clean", "no-such-noise"));
    let out = tune("clean,10", "no-such-noise").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-noise"));
}

#[test]
fn word_confidences_follow_the_models_calibration() {
    let dir = tempfile::tempdir().unwrap();
    let model = default_model_copy(dir.path());
    let config_path = model.join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&config_path).unwrap()).unwrap();
    let confidences = |config: &serde_json::Value| -> Vec<f64> {
        std::fs::write(&config_path, config.to_string()).unwrap();
        let out = run_ok(
            hark()
                .args(["transcribe", "--format", "json", "--model"])
                .arg(&model)
                .arg(&samples()[1]),
        );
        json_lines(&out.stdout)[0]["words"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["confidence"].as_f64().unwrap())
            .collect()
    };
    config.as_object_mut().unwrap().remove("calibration");
    let raw = confidences(&config);
    config["calibration"] = serde_json::json!({"a": 0.5, "b": -1.0, "source": "test"});
    let calibrated = confidences(&config);
    assert!(!raw.is_empty() && raw.len() == calibrated.len());
    // Each word's confidence is σ(0.5 · logit(raw) − 1) of its raw confidence (kept 1e-4
    // from 0 and 1, as the calibration does).
    for (r, c) in raw.iter().zip(&calibrated) {
        let r = &r.clamp(1e-4, 1.0 - 1e-4);
        let expected = 1.0 / (1.0 + (-(0.5 * (r / (1.0 - r)).ln() - 1.0)).exp());
        assert!(
            (c - expected).abs() < 1e-4,
            "raw {r} -> {c}, expected {expected}"
        );
    }
    // A threshold in the calibration leaves the words below it out, text and word list alike;
    // one between the least and the most sure word keeps some and drops some.
    let (lo, hi) = calibrated
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &c| (lo.min(c), hi.max(c)));
    assert!(lo < hi, "the sample's words all have confidence {lo}");
    let min = (lo + hi) / 2.0;
    config["calibration"]["min_confidence"] = serde_json::json!(min);
    let kept = confidences(&config);
    assert_eq!(
        kept,
        calibrated
            .iter()
            .copied()
            .filter(|&c| c >= min as f32 as f64)
            .collect::<Vec<_>>()
    );
    assert!(!kept.is_empty() && kept.len() < calibrated.len());
}

#[test]
fn averaging_a_model_with_itself_gives_the_same_transcripts() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("avg");
    run_ok(
        hark()
            .args(["average", "builtin", "builtin", "--weights", "1,2", "--out"])
            .arg(&out_dir),
    );
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("config.json")).unwrap())
            .unwrap();
    // The language models travel with it; the calibration, fitted to one model's weights, not.
    assert!(
        out_dir
            .join(config["lm"]["file"].as_str().unwrap())
            .is_file()
    );
    assert!(
        out_dir
            .join(config["word_lm"]["file"].as_str().unwrap())
            .is_file()
    );
    assert!(config.get("calibration").is_none(), "{config}");
    assert_eq!(config["training"]["averaged"].as_array().unwrap().len(), 2);

    let files = samples();
    // Without the calibration the average has no confidence threshold either, so it is
    // compared with the built-in model keeping every word.
    let text = |model: &std::path::Path, min_confidence: &str| {
        let out = run_ok(
            hark()
                .args(["transcribe", "--format", "json", "--min-confidence"])
                .arg(min_confidence)
                .arg("--model")
                .arg(model)
                .args(&files),
        );
        json_lines(&out.stdout)
            .iter()
            .map(|l| l["text"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(text(&out_dir, "0"), text("builtin".as_ref(), "0"));

    // Another architecture, or an output directory in use, is refused.
    let refused = |models: [&str; 2], out: &std::path::Path, why: &str| {
        let run = hark()
            .arg("average")
            .args(models)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        assert!(!run.status.success());
        assert!(String::from_utf8_lossy(&run.stderr).contains(why), "{why}");
    };
    refused(
        ["builtin", "builtin:streaming"],
        &dir.path().join("other"),
        "architecture",
    );
    refused(["builtin", "builtin"], &out_dir, "not empty");
}
