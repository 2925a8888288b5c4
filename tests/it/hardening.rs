//! Hostile and broken inputs through the `hark` binary: one clear line per bad file, the good
//! files in the same run untouched; broken model directories refused with a reason; a signal
//! in the middle of a run leaves whole, parseable results behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::{
    bad_inputs, default_model_copy, hark, json_lines, root, run_ok, spec, write_wav,
};

fn sample() -> PathBuf {
    root().join("audio/samples/clean_flite_rms_fox.wav")
}

#[test]
fn every_bad_input_gets_one_line_and_spoils_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let bad = bad_inputs(d);
    let a_dir = d.join("a_directory.wav");
    std::fs::create_dir(&a_dir).unwrap();
    let good = sample();
    let mut args: Vec<PathBuf> = vec![good.clone()];
    args.extend(bad.iter().map(|b| b.path.clone()));
    args.push(a_dir.clone());
    args.push(good.clone());
    let out = hark()
        .args(["transcribe", "--format", "json", "--beam", "1"])
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "some inputs failed: exit 1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines.len(),
        bad.len() + 1,
        "one line per bad input:\n{stderr}"
    );
    for b in &bad {
        let name = b.path.display().to_string();
        let line = lines
            .iter()
            .find(|l| l.contains(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no error line for {name}:\n{stderr}"));
        assert!(line.starts_with("error: "), "{line}");
        assert!(
            line.contains(b.cause),
            "{name}: expected '{}' in '{line}'",
            b.cause
        );
    }
    assert!(stderr.contains("is a directory"), "{stderr}");
    let results = json_lines(&out.stdout);
    assert_eq!(results.len(), 2, "both good files transcribed");
    assert_eq!(results[0]["text"], results[1]["text"]);
    assert!(!results[0]["text"].as_str().unwrap().is_empty());
}

#[test]
fn odd_but_valid_audio_is_transcribed_without_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let speech = hark::audio::wav::read(&sample()).unwrap().into_samples();
    let cases: Vec<(&str, Vec<f32>)> = vec![
        // A DC offset of a quarter of full scale under the speech.
        ("dc.wav", speech.iter().map(|s| s * 0.5 + 0.25).collect()),
        // Driven 20 dB into full-scale clipping.
        (
            "clipped.wav",
            speech.iter().map(|s| (s * 10.0).clamp(-1.0, 1.0)).collect(),
        ),
        // 50 ms: shorter than one model step of context.
        ("short.wav", speech[..800].to_vec()),
        // One sample.
        ("one_sample.wav", vec![0.1]),
        // Two seconds of digital silence.
        ("silence.wav", vec![0.0; 32_000]),
    ];
    let mut paths = Vec::new();
    for (name, samples) in &cases {
        let p = d.join(name);
        write_wav(&p, spec(1, 16_000, 16, false), samples);
        paths.push(p);
    }
    let out = run_ok(hark().args(["transcribe", "--format", "json"]).args(&paths));
    let results = json_lines(&out.stdout);
    assert_eq!(results.len(), cases.len());
    let text = |i: usize| results[i]["text"].as_str().unwrap().to_string();
    // Offset and clipping keep speech recognisable: words come out.
    assert!(!text(0).is_empty() && !text(1).is_empty());
    // Silence gives nothing rather than hallucinated words.
    assert_eq!(text(4), "", "silence");
    for r in &results {
        assert!(r["duration_s"].as_f64().unwrap() >= 0.0);
    }
}

fn edit_config(m: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let p = m.join("config.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&p, serde_json::to_string(&v).unwrap()).unwrap();
}

#[test]
fn broken_model_directories_are_refused_with_a_reason() {
    type Break = fn(&Path);
    let cases: [(&str, Break, &str); 8] = [
        (
            "truncated weights",
            |m| {
                let p = m.join("model.bpk");
                let b = std::fs::read(&p).unwrap();
                std::fs::write(&p, &b[..b.len() / 2]).unwrap();
            },
            "truncated or replaced",
        ),
        (
            "one flipped byte",
            |m| {
                let p = m.join("model.bpk");
                let mut b = std::fs::read(&p).unwrap();
                let i = b.len() / 2;
                b[i] ^= 0x40;
                std::fs::write(&p, &b).unwrap();
            },
            "checksum",
        ),
        (
            "config of another architecture",
            |m| edit_config(m, |v| v["model"]["hidden"] = 7.into()),
            "do not fit the architecture",
        ),
        (
            "vocabulary mismatch",
            |m| {
                edit_config(m, |v| {
                    let syms = v["vocab"]["symbols"].as_array_mut().unwrap();
                    syms.pop();
                })
            },
            "vocab has",
        ),
        (
            "future format",
            |m| edit_config(m, |v| v["format_version"] = 99.into()),
            "format version 99",
        ),
        (
            "config is not JSON",
            |m| std::fs::write(m.join("config.json"), "{ not json").unwrap(),
            "not a hark model config",
        ),
        (
            "weights missing",
            |m| std::fs::remove_file(m.join("model.bpk")).unwrap(),
            "model.bpk",
        ),
        (
            "config missing",
            |m| std::fs::remove_file(m.join("config.json")).unwrap(),
            "config.json",
        ),
    ];
    for (what, break_it, cause) in cases {
        let dir = tempfile::tempdir().unwrap();
        let m = default_model_copy(dir.path());
        break_it(&m);
        let out = hark()
            .args(["transcribe", "--model"])
            .arg(&m)
            .arg(sample())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{what}: one line:\n{stderr}");
        assert!(
            stderr.contains(cause),
            "{what}: expected '{cause}' in {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    }
}

#[test]
fn threads_flag_is_checked() {
    let out = hark()
        .args(["--threads", "0", "transcribe"])
        .arg(sample())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--threads"));
    run_ok(hark().args(["--threads", "1", "transcribe"]).arg(sample()));
}

#[cfg(unix)]
#[test]
fn sigterm_mid_run_flushes_finished_files_and_exits_130() {
    use std::io::{BufRead, BufReader};
    // Forty files of 30 s each: minutes of work, so the signal lands in the middle.
    let dir = tempfile::tempdir().unwrap();
    let speech = hark::audio::wav::read(&sample()).unwrap().into_samples();
    let long: Vec<f32> = speech.iter().cycle().take(30 * 16_000).copied().collect();
    let one = dir.path().join("long.wav");
    write_wav(&one, spec(1, 16_000, 16, false), &long);
    let files: Vec<PathBuf> = (0..40).map(|_| one.clone()).collect();
    let mut child = hark()
        .args(["--threads", "1", "transcribe", "--format", "json"])
        .args(&files)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("interrupted"), "{stderr}");
    let all = format!("{first}{rest}");
    let results = json_lines(all.as_bytes());
    assert!(
        !results.is_empty() && results.len() < files.len(),
        "{}",
        results.len()
    );
    assert_eq!(results[0]["complete"], true);
    // At most the file in progress is partial, and it says so.
    for r in &results[..results.len() - 1] {
        assert_eq!(r["complete"], true);
    }
}
