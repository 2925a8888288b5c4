//! `hark listen`: the live pipeline fed from a file, and cpal capturing from an ALSA virtual
//! capture device (the `file` plugin with a `null` slave reading a raw PCM file), so the real
//! microphone path runs without a sound card.

use std::path::{Path, PathBuf};

use crate::common::{hark, json_lines, root, run_ok};

fn sample() -> PathBuf {
    root().join("audio/samples/clean_festival_ked_lights.wav")
}

fn final_text(events: &[serde_json::Value]) -> String {
    events
        .iter()
        .filter(|e| e["type"] == "final")
        .map(|e| e["text"].as_str().unwrap().to_string())
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn transcribe_text(model: &str, path: &Path) -> String {
    let out = hark()
        .args(["transcribe", "--beam", "4", "--model", model])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn listen_from_file_gives_partials_then_finals() {
    let out = run_ok(
        hark()
            .args(["listen", "--format", "json", "--input"])
            .arg(sample()),
    );
    let ev = json_lines(&out.stdout);
    let first_final = ev
        .iter()
        .position(|e| e["type"] == "final")
        .expect("a final");
    assert!(
        ev[..first_final].iter().any(|e| e["type"] == "partial"),
        "partials come before the first final"
    );
    // The default is the built-in streaming model.
    let named = |model: &str| {
        let out = run_ok(
            hark()
                .args(["listen", "--format", "json", "--model", model, "--input"])
                .arg(sample()),
        );
        final_text(&json_lines(&out.stdout))
    };
    assert_eq!(final_text(&ev), named("builtin:streaming"));
    assert_ne!(
        final_text(&ev),
        named("builtin"),
        "the two built-in models differ"
    );
    let duration = hark::audio::wav::read(&sample()).unwrap().duration_s();
    let mut last = 0.0;
    for e in ev.iter().filter(|e| e["type"] == "final") {
        for w in e["words"].as_array().unwrap() {
            let (s, t) = (w["start"].as_f64().unwrap(), w["end"].as_f64().unwrap());
            assert!(s >= last - 1e-9 && s < t && t <= duration + 1e-9, "{w}");
            last = t;
        }
    }
    // With pause endpointing off (energy and speech head), the live path decodes the same audio as `transcribe` with
    // the same model (the utterance in one piece): the words must agree closely. `listen`'s
    // default is the streaming model, which it runs step by step; the bidirectional one it
    // re-decodes whole.
    for model in ["builtin:streaming", "builtin"] {
        let out = hark()
            .args([
                "listen",
                "--format",
                "json",
                "--vad-silence",
                "10",
                "--speech-end",
                "10",
            ])
            .args(["--model", model, "--input"])
            .arg(sample())
            .output()
            .unwrap();
        assert!(out.status.success());
        let live = final_text(&json_lines(&out.stdout));
        let whole = transcribe_text(model, &sample());
        let errors = hark::eval::word_errors(&whole, &live);
        assert!(
            errors.rate() <= 25.0,
            "{model}: live '{live}' vs transcribe '{whole}': {}%",
            errors.rate()
        );
    }
}

/// The default ALSA input device's config as cpal reports it, under `home`.
fn default_device(home: &Path) -> Option<serde_json::Value> {
    let out = hark()
        .args(["devices", "--json"])
        .env("HOME", home)
        .output()
        .ok()?;
    json_lines(&out.stdout)
        .into_iter()
        .find(|d| d["is_default"] == true)
}

#[test]
fn cpal_captures_from_an_alsa_file_device() {
    let home = tempfile::tempdir().unwrap();
    let raw = home.path().join("input.raw");
    // Placeholder so the plugin opens while we ask for the default config.
    std::fs::write(&raw, [0u8; 4]).unwrap();
    std::fs::write(
        home.path().join(".asoundrc"),
        format!(
            "pcm.!default {{\n  type file\n  slave.pcm \"null\"\n  file \"/dev/null\"\n  infile \"{}\"\n  format \"raw\"\n}}\n",
            raw.display()
        ),
    )
    .unwrap();
    let dev = default_device(home.path()).expect("cpal lists the ALSA file device as default");
    let rate = dev["sample_rate"].as_u64().unwrap() as u32;
    let channels = dev["channels"].as_u64().unwrap() as usize;
    let format = dev["sample_format"].as_str().unwrap().to_string();

    // Write the sample at the device's rate, channels and format as headerless PCM.
    let wave = hark::audio::wav::read(&sample()).unwrap();
    let samples = hark::audio::resample::resample(wave.samples(), 16_000, rate).unwrap();
    let mut bytes = Vec::new();
    for s in &samples {
        for _ in 0..channels {
            match format.as_str() {
                "i16" => bytes.extend(((s * 32767.0).round() as i16).to_le_bytes()),
                "f32" => bytes.extend(s.to_le_bytes()),
                "i32" => bytes.extend(((s * 2_147_483_647.0) as i32).to_le_bytes()),
                other => panic!("test does not write {other} yet"),
            }
        }
    }
    std::fs::write(&raw, &bytes).unwrap();

    // The null slave has no clock and repeats stale data after the end of the file, so stop
    // after exactly the file's duration.
    let out = hark()
        .args(["listen", "--format", "json", "--duration"])
        .arg(format!("{}", wave.duration_s()))
        .env("HOME", home.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("listening on"), "{stderr}");
    let captured = json_lines(&out.stdout);
    assert!(
        !final_text(&captured).is_empty(),
        "nothing recognised from the capture device; {stderr}"
    );
    // Reference: the same device-rate samples as a float WAV through `listen --input`, which
    // runs the same block/resample/endpoint path. If cpal delivered the file's samples, the
    // finals agree. Not bit for bit: the capture path's stereo downmix and its block boundaries
    // (which decide when decodes happen, and so how much trailing audio each utterance's
    // normalisation sees) differ in the last float bits, which can flip a letter.
    let same_audio = home.path().join("device_rate.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&same_audio, spec).unwrap();
    for s in &samples {
        w.write_sample(*s).unwrap();
    }
    w.finalize().unwrap();
    let out = hark()
        .args(["listen", "--format", "json", "--input"])
        .arg(&same_audio)
        .output()
        .unwrap();
    assert!(out.status.success());
    let from_file = json_lines(&out.stdout);
    let finals = |ev: &[serde_json::Value]| -> Vec<serde_json::Value> {
        ev.iter()
            .filter(|e| e["type"] == "final")
            .cloned()
            .collect()
    };
    let (fa, fb) = (finals(&captured), finals(&from_file));
    assert_eq!(fa.len(), fb.len(), "{fa:?}\nvs\n{fb:?}");
    for (a, b) in fa.iter().zip(&fb) {
        for key in ["start", "end"] {
            let d = a[key].as_f64().unwrap() - b[key].as_f64().unwrap();
            assert!(d.abs() <= 0.1, "{key}: {a} vs {b}");
        }
    }
    let cer = hark::eval::char_errors(&final_text(&from_file), &final_text(&captured)).rate();
    assert!(
        cer <= 10.0,
        "captured '{}' vs file '{}': CER {cer}%",
        final_text(&captured),
        final_text(&from_file)
    );
}

#[test]
fn a_missing_input_device_exits_2_with_one_line() {
    let home = tempfile::tempdir().unwrap();
    // The default device points at a sound card that does not exist.
    std::fs::write(
        home.path().join(".asoundrc"),
        "pcm.!default {\n  type hw\n  card 57\n}\n",
    )
    .unwrap();
    let out = hark()
        .args(["listen", "--duration", "1"])
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("error: device:"), "{stderr}");
}

#[test]
fn a_speech_end_of_zero_or_less_is_refused_before_listening() {
    // Zero or negative seconds would end every utterance on its first frame.
    let input = sample();
    let input = input.to_str().unwrap();
    for args in [
        ["listen", "--speech-end=0", "--input", input],
        ["listen", "--speech-end=-1", "--input", input],
        ["speech-head", "--speech-end=nan", "--train", input],
    ] {
        let out = hark().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("--speech-end") && stderr.contains("positive number of seconds"),
            "{args:?}: {stderr}"
        );
    }
}
