//! `hark corpus`: importers on fixture trees with deliberately broken entries, compressed audio
//! decoding, noisy copies at a measured SNR, and synthesis with the real TTS engines.

use std::path::Path;
use std::process::Command;

use crate::common::root;
use hark::audio::{SAMPLE_RATE, Waveform, wav};
use hark::corpus::import::{Layout, ProblemKind, import};

fn speech() -> Waveform {
    wav::read(&root().join("audio/samples/clean_festival_ked_lights.wav")).unwrap()
}

fn write_speech(path: &Path, seconds: f64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let s = speech();
    let n = ((seconds * SAMPLE_RATE as f64) as usize).min(s.len());
    wav::write(
        path,
        &Waveform::new(s.samples()[..n].to_vec(), SAMPLE_RATE).unwrap(),
    )
    .unwrap();
}

fn kinds(report: &hark::corpus::import::ImportReport) -> Vec<(String, ProblemKind)> {
    let mut v: Vec<_> = report
        .problems
        .iter()
        .map(|p| (p.entry.clone(), p.kind))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn manifest(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn librispeech_tree_with_broken_entries() {
    let dir = tempfile::tempdir().unwrap();
    let ch = dir.path().join("19/198");
    std::fs::create_dir_all(&ch).unwrap();
    std::fs::copy(
        root().join("tests/fixtures/speech.flac"),
        ch.join("19-198-0001.flac"),
    )
    .unwrap();
    write_speech(&ch.join("19-198-0002.wav"), 2.0);
    write_speech(&ch.join("19-198-0004.wav"), 0.3);
    std::fs::write(ch.join("19-198-0005.flac"), b"fLaC but not really").unwrap();
    write_speech(&ch.join("19-198-0006.wav"), 1.0);
    std::fs::write(
        ch.join("19-198.trans.txt"),
        "19-198-0001 PLEASE TURN OFF THE LIGHTS\n\
         19-198-0002 IN THE KITCHEN\n\
         19-198-0003 THIS ONE HAS NO AUDIO\n\
         19-198-0004 A TRANSCRIPT FAR TOO LONG FOR A THIRD OF A SECOND OF AUDIO\n\
         19-198-0005 CORRUPT FILE\n\
         19-198-0006 ПРИВЕТ МИР\n\
         19-198-0007\n",
    )
    .unwrap();
    let out = dir.path().join("m.jsonl");
    let report = import(Layout::LibriSpeech, dir.path(), &out, 3).unwrap();
    assert_eq!(report.accepted, 2, "{:#?}", report.problems);
    let k = kinds(&report);
    let trans = ch.join("19-198.trans.txt").display().to_string();
    assert_eq!(
        k,
        vec![
            (format!("{trans}:7"), ProblemKind::BadLine),
            ("19-198-0003".into(), ProblemKind::MissingAudio),
            ("19-198-0004".into(), ProblemKind::TooShortForTranscript),
            ("19-198-0005".into(), ProblemKind::UnreadableAudio),
            ("19-198-0006".into(), ProblemKind::OutOfVocabulary),
        ]
    );
    let m = manifest(&out);
    assert_eq!(m[0]["text"], "please turn off the lights");
    assert_eq!(m[0]["speaker"], "19");
    assert!((m[0]["duration"].as_f64().unwrap() - 1.5).abs() < 0.05);
    assert_eq!(m[1]["text"], "in the kitchen");
}

#[test]
fn common_voice_tsv_with_broken_rows() {
    let dir = tempfile::tempdir().unwrap();
    let clips = dir.path().join("clips");
    std::fs::create_dir_all(&clips).unwrap();
    std::fs::copy(
        root().join("tests/fixtures/speech.mp3"),
        clips.join("a.mp3"),
    )
    .unwrap();
    std::fs::write(clips.join("c.mp3"), []).unwrap();
    std::fs::write(
        dir.path().join("validated.tsv"),
        "client_id\tpath\tsentence\tup_votes\n\
         spk1\ta.mp3\tPlease turn off the lights!\t2\n\
         spk2\tb.mp3\tMissing clip.\t2\n\
         spk3\tc.mp3\tEmpty file.\t1\n\
         spk4\n\
         spk5\ta.mp3\t...\t1\n",
    )
    .unwrap();
    let out = dir.path().join("cv.jsonl");
    let report = import(Layout::CommonVoice, dir.path(), &out, 3).unwrap();
    assert_eq!(report.accepted, 1, "{:#?}", report.problems);
    let tsv = dir.path().join("validated.tsv").display().to_string();
    assert_eq!(
        kinds(&report),
        vec![
            (format!("{tsv}:5"), ProblemKind::BadLine),
            ("a.mp3".into(), ProblemKind::EmptyTranscript),
            ("b.mp3".into(), ProblemKind::MissingAudio),
            ("c.mp3".into(), ProblemKind::UnreadableAudio),
        ]
    );
    let m = manifest(&out);
    assert_eq!(m[0]["text"], "please turn off the lights");
    assert_eq!(m[0]["speaker"], "spk1");
}

#[test]
fn kaldi_dir_rejects_commands_and_reports_missing_text() {
    let dir = tempfile::tempdir().unwrap();
    write_speech(&dir.path().join("audio/u1.wav"), 2.0);
    write_speech(&dir.path().join("audio/u3.wav"), 2.0);
    std::fs::write(
        dir.path().join("wav.scp"),
        "u1 audio/u1.wav\nu2 sox audio/u1.wav -t wav - |\nu3 audio/u3.wav\nbroken\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("text"), "u1 hello there\nu2 piped\n").unwrap();
    std::fs::write(dir.path().join("utt2spk"), "u1 alice\nu3 bob\n").unwrap();
    let out = dir.path().join("k.jsonl");
    let report = import(Layout::Kaldi, dir.path(), &out, 3).unwrap();
    assert_eq!(report.accepted, 1);
    let scp = dir.path().join("wav.scp").display().to_string();
    assert_eq!(
        kinds(&report),
        vec![
            (format!("{scp}:4"), ProblemKind::BadLine),
            ("u2".into(), ProblemKind::Command),
            ("u3".into(), ProblemKind::EmptyTranscript),
        ]
    );
    assert_eq!(manifest(&out)[0]["speaker"], "alice");
}

#[test]
fn folder_of_audio_and_text_via_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    write_speech(&src.join("a.wav"), 2.0);
    std::fs::write(src.join("a.txt"), "Turn off the lights\n").unwrap();
    write_speech(&src.join("sub/b.wav"), 2.0);
    std::fs::copy(
        root().join("tests/fixtures/speech_stereo_22k.ogg"),
        src.join("c.ogg"),
    )
    .unwrap();
    std::fs::write(src.join("c.txt"), "please turn").unwrap();
    let out = dir.path().join("f.jsonl");
    let report_path = dir.path().join("report.json");
    let o = Command::new(env!("CARGO_BIN_EXE_hark"))
        .args(["corpus", "import", "--format", "folder", "--out"])
        .arg(&out)
        .arg("--report")
        .arg(&report_path)
        .arg(&src)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "one entry is bad: {stderr}");
    assert!(
        stderr.contains("sub/b.wav") && stderr.contains("EmptyTranscript"),
        "{stderr}"
    );
    let m = manifest(&out);
    assert_eq!(m.len(), 2);
    assert_eq!(m[0]["text"], "turn off the lights");
    assert_eq!(m[1]["text"], "please turn");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).unwrap()).unwrap();
    assert_eq!(report["accepted"], 2);
    assert_eq!(report["problems"][0]["kind"], "empty_transcript");
}

#[test]
fn compressed_formats_decode_to_the_same_audio_as_the_wav() {
    let reference = speech();
    let n = (1.5 * SAMPLE_RATE as f64) as usize;
    let reference = &reference.samples()[..n];
    for (file, tolerance) in [
        ("speech.flac", 1e-4),
        ("speech.mp3", 0.35),
        ("speech_stereo_22k.ogg", 0.35),
    ] {
        let w = hark::audio::read_any(&root().join("tests/fixtures").join(file)).unwrap();
        assert_eq!(w.sample_rate(), SAMPLE_RATE);
        // Lossy codecs add delay and error: compare levels, and for FLAC the samples.
        let len_diff = (w.len() as i64 - n as i64).abs();
        assert!(len_diff < 2000, "{file}: {} vs {n} samples", w.len());
        let m = w.len().min(n);
        let err: Vec<f32> = w.samples()[..m]
            .iter()
            .zip(&reference[..m])
            .map(|(a, b)| a - b)
            .collect();
        let rel = hark::audio::rms(&err) / hark::audio::rms(reference);
        if file.ends_with("flac") {
            assert!(rel < tolerance, "{file}: relative error {rel}");
        }
        let level = hark::audio::rms(&w.samples()[..m]) / hark::audio::rms(&reference[..m]);
        assert!(
            (level - 1.0).abs() < tolerance,
            "{file}: level ratio {level}"
        );
    }
    let e = hark::audio::read_any(Path::new("/nonexistent/x.flac"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/nonexistent/x.flac"), "{e}");
}

#[test]
fn mixed_copies_hit_the_snr_on_active_speech() {
    let dir = tempfile::tempdir().unwrap();
    let s = speech();
    wav::write(&dir.path().join("a.wav"), &s).unwrap();
    std::fs::write(
        dir.path().join("m.jsonl"),
        "{\"audio\":\"a.wav\",\"text\":\"please turn off the lights\"}\n{\"audio\":\"gone.wav\",\"text\":\"x\"}\n",
    )
    .unwrap();
    let bank = hark::noise::NoiseBank::open(&hark::noise::default_bank_dir()).unwrap();
    let noises = vec![
        hark::noise::resolve("crowd", Some(&bank)).unwrap(),
        hark::noise::resolve("brown", None).unwrap(),
    ];
    let out = dir.path().join("out");
    let report =
        hark::corpus::mix::mix(&dir.path().join("m.jsonl"), &noises, &[10.0, 0.0], &out, 7)
            .unwrap();
    assert_eq!(report.manifests.len(), 4);
    assert_eq!(report.utterances, 4);
    assert_eq!(
        report.failed.len(),
        1,
        "the missing file is reported, the rest goes on"
    );
    for (name, path) in &report.manifests {
        let snr: f32 = if name.ends_with("_10db") { 10.0 } else { 0.0 };
        let entries = manifest(path);
        let noisy = wav::read(&out.join(entries[0]["audio"].as_str().unwrap())).unwrap();
        // 16-bit output quantisation is far below the tolerance.
        let added: Vec<f32> = noisy
            .samples()
            .iter()
            .zip(s.samples())
            .map(|(a, b)| a - b)
            .collect();
        let measured = 20.0
            * (hark::augment::active_speech_rms(s.samples()) / hark::audio::rms(&added)).log10();
        assert!((measured - snr).abs() < 0.2, "{name}: {measured} dB");
    }
}

fn engines_installed() -> bool {
    ["espeak-ng", "flite", "text2wave"]
        .iter()
        .all(|p| hark::corpus::voices::on_path(p))
}

#[test]
fn synth_builds_a_small_corpus_with_real_engines_and_resumes() {
    if std::env::var_os("HARK_SKIP_TTS").is_some() {
        eprintln!("skipped: HARK_SKIP_TTS is set");
        return;
    }
    assert!(
        engines_installed(),
        "espeak-ng, flite or festival missing: install them (README, quick start) or set HARK_SKIP_TTS=1"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c");
    let run_with = |train: &str| {
        Command::new(env!("CARGO_BIN_EXE_hark"))
            .args([
                "corpus", "synth", "--train", train, "--dev", "3", "--test", "3", "--digits", "10",
                "--out",
            ])
            .arg(&out)
            .current_dir(root())
            .output()
            .unwrap()
    };
    let run = || run_with("12");
    let o = run();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["sets"]["train"]["utterances"], 12);
    assert_eq!(summary["sets"]["digits_train"]["utterances"], 10);
    assert_eq!(summary["synthesised"], 12 + 3 + 3 + 10 + 1 + 1);
    let speakers = |split: &str| -> Vec<String> {
        manifest(&out.join(format!("{split}.jsonl")))
            .iter()
            .map(|e| {
                e["speaker"]
                    .as_str()
                    .unwrap()
                    .split(':')
                    .take(2)
                    .collect::<Vec<_>>()
                    .join(":")
            })
            .collect()
    };
    let train = speakers("train");
    for v in speakers("test").iter().chain(&speakers("dev")) {
        assert!(!train.contains(v), "voice {v} is in train and in dev/test");
    }
    for e in manifest(&out.join("train.jsonl")) {
        let w = wav::read(&out.join(e["audio"].as_str().unwrap())).unwrap();
        assert!(w.duration_s() > 0.4 && w.rms() > 0.01, "{e}");
    }
    // A second run reuses every file.
    let o = run();
    assert!(o.status.success());
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["synthesised"], 0);
    assert_eq!(summary["reused"], 12 + 3 + 3 + 10 + 1 + 1);
    // Different counts change the plan: no WAV may be reused for a different transcript.
    let o = run_with("20");
    assert!(o.status.success());
    for e in manifest(&out.join("train.jsonl")) {
        let wav_path = out.join(e["audio"].as_str().unwrap());
        let record = std::fs::read_to_string(wav_path.with_extension("txt")).unwrap();
        assert!(
            record
                .trim_end()
                .ends_with(&format!("\t{}", e["text"].as_str().unwrap())),
            "{record} vs {e}"
        );
    }
}

#[test]
fn synth_engines_keeps_only_the_named_engines_voices() {
    if std::env::var_os("HARK_SKIP_TTS").is_some() {
        eprintln!("skipped: HARK_SKIP_TTS is set");
        return;
    }
    assert!(
        engines_installed(),
        "espeak-ng, flite or festival missing: install them (README, quick start) or set HARK_SKIP_TTS=1"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("c");
    let o = Command::new(env!("CARGO_BIN_EXE_hark"))
        .args([
            "corpus",
            "synth",
            "--train",
            "4",
            "--dev",
            "1",
            "--test",
            "1",
            "--engines",
            "flite",
            "--jobs",
            "1",
            "--out",
        ])
        .arg(&out)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for split in ["train", "dev", "test"] {
        for e in manifest(&out.join(format!("{split}.jsonl"))) {
            let speaker = e["speaker"].as_str().unwrap();
            assert!(speaker.starts_with("flite:"), "{split}: {speaker}");
        }
    }
}

#[test]
fn synth_refuses_a_kokoro_directory_without_its_setup_and_an_unknown_engine() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hark"))
        .args(["corpus", "synth", "--train", "4", "--kokoro"])
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("c"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("venv/bin/python is missing") && err.contains("setup-kokoro.sh"),
        "{err}"
    );
    assert!(!dir.path().join("c").exists(), "nothing is written");
    let o = Command::new(env!("CARGO_BIN_EXE_hark"))
        .args(["corpus", "synth", "--engines", "mbrola", "--out"])
        .arg(dir.path().join("c"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no engine 'mbrola'"), "{err}");
}
