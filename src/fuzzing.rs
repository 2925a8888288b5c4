//! Entry points for the fuzz targets in `fuzz/` and for `tests/it/fuzz_regressions.rs`, which
//! replays their corpora and every crash they ever found. Each takes arbitrary bytes and must
//! return (an error is fine) without panicking, hanging or allocating without bound.

use std::path::Path;
use std::sync::OnceLock;

use crate::audio::wav;
use crate::features::{Mfcc, MfccConfig};
use crate::model_dir::{self, LoadedModel};
use crate::recognizer::{Recognizer, RecognizerConfig};
use crate::text::{Vocab, normalize};

/// Inputs longer than this are cut: the targets look for parser bugs, not for slow decoding.
pub const MAX_INPUT: usize = 1 << 16;

fn tiny_recognizer() -> &'static Recognizer {
    static REC: OnceLock<Recognizer> = OnceLock::new();
    REC.get_or_init(|| {
        let device = burn::prelude::Device::flex();
        let features = MfccConfig::default();
        let vocab = Vocab::english();
        let model = crate::model::AcousticModelConfig::new(features.dim(), vocab.size())
            .with_hidden(8)
            .with_layers(1)
            .init(&device);
        Recognizer::from_model(
            model,
            features,
            vocab,
            device,
            &RecognizerConfig::with_beam(4),
        )
        .expect("the default front end is valid")
    })
}

/// WAV bytes → waveform → MFCC → a small recogniser → words.
pub fn wav_pipeline(data: &[u8]) {
    let data = &data[..data.len().min(MAX_INPUT)];
    let Ok(wave) = wav::read_bytes(data, Path::new("fuzz.wav")) else {
        return;
    };
    let feats = Mfcc::new(MfccConfig::default())
        .expect("the default MFCC config is valid")
        .compute(&wave);
    assert!(
        feats.data.iter().all(|v| v.is_finite()),
        "non-finite features"
    );
    let t = tiny_recognizer().transcribe(&wave);
    assert!(
        t.words
            .iter()
            .all(|w| w.start <= w.end && w.end <= t.duration_s + 1e-6)
    );
}

/// One manifest line → entry → normalised text → token ids.
pub fn manifest_line(data: &[u8]) {
    let line = String::from_utf8_lossy(&data[..data.len().min(MAX_INPUT)]);
    if let Ok(Some(entry)) = crate::data::parse_line(&line, Path::new("/corpus")) {
        let vocab = Vocab::english();
        let ids = vocab.encode(&normalize(&entry.text));
        assert!(ids.iter().all(|&i| (i as usize) < vocab.size()));
    }
}

/// Model directory contents: `config.json` text, a zero byte, then the weights. When the first
/// byte is odd the config's size and checksum are set to match the weights, so the fuzzer gets
/// past the checksum into the weight parser.
pub fn model_files(data: &[u8]) -> Option<LoadedModel> {
    let (&mode, rest) = data.split_first()?;
    let split = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    let mut config = String::from_utf8_lossy(&rest[..split]).into_owned();
    let weights = rest.get(split + 1..).unwrap_or_default().to_vec();
    if mode & 1 == 1
        && let Ok(mut v) = serde_json::from_str::<serde_json::Value>(&config)
        && let Some(w) = v.get_mut("weights").and_then(|w| w.as_object_mut())
    {
        w.insert("bytes".into(), weights.len().into());
        w.insert("sha256".into(), model_dir::sha256_hex(&weights).into());
        config = v.to_string();
    }
    let device = burn::prelude::Device::flex();
    model_dir::load_parts("fuzz-model", &config, weights, &device).ok()
}
