//! Helpers for the library's unit tests.

use std::path::{Path, PathBuf};

use crate::recognizer::{Recognizer, RecognizerConfig};

/// The built-in model with greedy decoding, when this build has one.
pub fn builtin_recognizer() -> Option<Recognizer> {
    if !crate::model_dir::BuiltIn::Default.is_embedded() {
        return None;
    }
    let device = crate::backend::DeviceSpec::Cpu.device().ok()?;
    let loaded = crate::model_dir::ModelSource::BUILT_IN.load(&device).ok()?;
    Recognizer::new(loaded, device, &RecognizerConfig::with_beam(1)).ok()
}

/// A mono float WAV of quiet noise at `rate`, `seconds` long, with `bad` written at sample
/// `at` when given.
pub fn noise_wav(
    dir: &Path,
    name: &str,
    rate: u32,
    seconds: f64,
    bad: Option<(usize, f32)>,
) -> PathBuf {
    let path = dir.join(name);
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut w = hound::WavWriter::create(&path, spec).expect("create a test WAV");
    let n = (seconds * rate as f64) as usize;
    for i in 0..n {
        let v = match bad {
            Some((at, v)) if at == i => v,
            _ => 0.001 * ((i * 7919 % 101) as f32 / 50.0 - 1.0),
        };
        w.write_sample(v).expect("write a test sample");
    }
    w.finalize().expect("finish a test WAV");
    path
}

/// A speech sample shipped with the repository.
pub fn speech_sample() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("audio/samples/clean_flite_rms_fox.wav")
}

/// The largest absolute difference between two equally long slices.
pub fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
