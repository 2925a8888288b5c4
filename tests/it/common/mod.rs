//! Helpers shared by the test modules: paths, the binary under test, WAV builders (good tones
//! in any layout, and broken files), and a model's scores on a fixture.
#![allow(dead_code)]

pub mod recurrence;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/fixtures`.
pub fn fixtures() -> PathBuf {
    root().join("tests/fixtures")
}

/// A file in `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

/// The largest absolute difference between two equally long slices.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len(), "compared slices differ in length");
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max)
}

/// A clip in `audio/samples`.
pub fn sample(name: &str) -> PathBuf {
    root().join("audio/samples").join(name)
}

/// A copy of the built-in model's directory (weights, config and both LMs) as `dir/model`.
pub fn default_model_copy(dir: &Path) -> PathBuf {
    let model = dir.join("model");
    std::fs::create_dir(&model).unwrap();
    let default = root().join("models/default");
    for file in ["model.bpk", "config.json", "lm.bin", "words.bin"] {
        std::fs::copy(default.join(file), model.join(file)).unwrap();
    }
    model
}

/// The per-frame log-probabilities of the model in `dir` on the fixture `wav`.
pub fn log_probs(dir: &Path, wav: &str) -> Vec<f32> {
    let device = burn::prelude::Device::flex();
    let loaded = hark::model_dir::ModelSource::Dir(dir.to_path_buf())
        .load(&device)
        .unwrap();
    let rec = hark::recognizer::Recognizer::new(loaded, device, &Default::default()).unwrap();
    let wave = hark::audio::wav::read(&fixture(wav)).unwrap();
    let f = rec.mfcc().compute(&wave);
    rec.log_probs(&[&f]).remove(0).0
}

/// The `hark` binary under test.
pub fn hark() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hark"))
}

/// Run `cmd` and insist that it succeeds, showing its stderr if not.
pub fn run_ok(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Each line of `stdout` parsed as JSON.
pub fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect()
}

pub fn tone(rate: u32, seconds: f32) -> Vec<f32> {
    (0..(rate as f32 * seconds) as usize)
        .map(|i| 0.5 * (2.0 * std::f32::consts::PI * 440.0 * i as f32 / rate as f32).sin())
        .collect()
}

pub fn write_wav(path: &Path, spec: hound::WavSpec, mono: &[f32]) {
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    for &s in mono {
        for _ in 0..spec.channels {
            match (spec.sample_format, spec.bits_per_sample) {
                (hound::SampleFormat::Float, _) => w.write_sample(s).unwrap(),
                (_, 8) => w.write_sample((s * 127.0).round() as i8).unwrap(),
                (_, 16) => w.write_sample((s * 32767.0) as i16).unwrap(),
                (_, 24) => w.write_sample((s * 8_388_607.0) as i32).unwrap(),
                (_, 32) => w.write_sample((s * 2_147_483_647.0) as i32).unwrap(),
                other => panic!("unexpected format {other:?}"),
            }
        }
    }
    w.finalize().unwrap();
}

pub fn spec(channels: u16, rate: u32, bits: u16, float: bool) -> hound::WavSpec {
    hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float {
            hound::SampleFormat::Float
        } else {
            hound::SampleFormat::Int
        },
    }
}

pub fn minimal_header(
    format_tag: u16,
    channels: u16,
    rate: u32,
    bits: u16,
    data_len: u32,
) -> Vec<u8> {
    let block = channels * bits.div_ceil(8);
    let mut h = Vec::new();
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(36 + data_len).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&format_tag.to_le_bytes());
    h.extend_from_slice(&channels.to_le_bytes());
    h.extend_from_slice(&rate.to_le_bytes());
    h.extend_from_slice(&(rate * block as u32).to_le_bytes());
    h.extend_from_slice(&block.to_le_bytes());
    h.extend_from_slice(&bits.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    h
}

pub fn file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
    p
}

/// A broken or hostile input and the words its error line must contain.
pub struct BadInput {
    pub path: PathBuf,
    pub cause: &'static str,
}

/// One file (or path) for every kind of bad input `hark` must refuse with a reason.
pub fn bad_inputs(d: &Path) -> Vec<BadInput> {
    let mut v = Vec::new();
    let mut add = |name: &str, bytes: Option<Vec<u8>>, cause: &'static str| {
        let path = match bytes {
            Some(b) => file(d, name, &b),
            None => d.join(name),
        };
        v.push(BadInput { path, cause });
    };
    add("missing.wav", None, "file not found");
    add("empty.wav", Some(Vec::new()), "empty file");
    add(
        "header_only.wav",
        Some(minimal_header(1, 1, 16_000, 16, 3200)[..36].to_vec()),
        "invalid header",
    );
    add(
        "text.wav",
        Some(b"this is not a wav file at all".to_vec()),
        "not a WAV file",
    );
    let with_data = |mut h: Vec<u8>, n: usize| {
        h.extend(vec![0u8; n]);
        h
    };
    // GSM 6.10 (format tag 0x31): a WAV codec neither hound nor symphonia decodes. (A-law,
    // µ-law and ADPCM WAV are read, through symphonia.)
    add(
        "gsm.wav",
        Some(with_data(minimal_header(0x31, 1, 8000, 0, 65), 65)),
        "GSM 6.10",
    );
    add(
        "truncated.wav",
        Some(with_data(minimal_header(1, 1, 16_000, 16, 32_000), 1000)),
        "truncated",
    );
    let mut ffff = minimal_header(1, 1, 16_000, 16, 0);
    let n = ffff.len();
    ffff[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    add("ffffffff.wav", Some(with_data(ffff, 64)), "invalid header");
    // A `fmt ` chunk claiming to be 1 GB long inside a 60-byte file.
    let mut lying = minimal_header(1, 1, 16_000, 16, 16);
    lying[16..20].copy_from_slice(&0x4000_0000u32.to_le_bytes());
    add("lying_chunk.wav", Some(with_data(lying, 16)), "header");
    add(
        "zero_samples.wav",
        Some(minimal_header(1, 1, 16_000, 16, 0)),
        "no audio samples",
    );
    add(
        "zero_channels.wav",
        Some(with_data(minimal_header(1, 0, 16_000, 16, 4), 4)),
        "zero channels",
    );
    add(
        "zero_rate.wav",
        Some(with_data(minimal_header(1, 1, 0, 16, 4), 4)),
        "sample rate 0 Hz",
    );
    add(
        "absurd_rate.wav",
        Some(with_data(minimal_header(1, 1, 50_000_000, 16, 4), 4)),
        "sample rate 50000000 Hz",
    );
    for (name, bad) in [("nan.wav", f32::NAN), ("inf.wav", f32::INFINITY)] {
        let p = d.join(name);
        let mut samples = tone(16_000, 0.1);
        samples[17] = bad;
        write_wav(&p, spec(1, 16_000, 32, true), &samples);
        v.push(BadInput {
            path: p,
            cause: "not finite",
        });
    }
    let p = d.join("huge_float.wav");
    let mut samples = tone(16_000, 0.1);
    samples[5] = 1.5e36;
    write_wav(&p, spec(1, 16_000, 32, true), &samples);
    v.push(BadInput {
        path: p,
        cause: "far outside any audio range",
    });
    v
}
