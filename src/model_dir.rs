//! Model directories: `config.json` (architecture, features, vocab, recipe, weight checksum),
//! `model.bpk` (burnpack weights) and `README.md` (model card). The default model is embedded
//! in the binary when `models/default/` exists at build time, and the streaming model (for
//! `listen`) when `models/streaming/` does; the streaming model shares the default's LM files.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::prelude::Device;
use burn::store::ModuleRecord;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::features::MfccConfig;
use crate::model::{AcousticModel, AcousticModelConfig};
use crate::text::Vocab;

/// Version of the model directory layout this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
/// Weights file name inside a model directory.
pub const WEIGHTS_FILE: &str = "model.bpk";
/// Config file name inside a model directory.
pub const CONFIG_FILE: &str = "config.json";

/// Checksum and size of the weights file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WeightsInfo {
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
}

/// Everything needed to rebuild a model and feed it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelConfig {
    pub format_version: u32,
    pub model: AcousticModelConfig,
    pub features: MfccConfig,
    pub vocab: Vocab,
    pub weights: WeightsInfo,
    /// The training recipe that produced the weights (free-form, for the record).
    #[serde(default)]
    pub training: serde_json::Value,
    /// A character language model that ships with the model, used by the beam search.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lm: Option<LmInfo>,
    /// A word language model that ships with the model, scored on each completed word.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub word_lm: Option<WordLmInfo>,
    /// How word confidences are calibrated; raw (the mean posterior of a word's letters)
    /// when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<CalibrationInfo>,
    /// A speech-activity head over the top layer (streaming models), for live endpointing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speech_head: Option<crate::live::speech_head::SpeechHead>,
    /// The grammar the model is meant to be decoded with, if it ships one, and the phrase
    /// bonus chosen for it by `hark tune --grammar` (0 when absent). The CLI attaches it
    /// (`--grammar` replaces it, `--no-grammar` drops it); a library caller reads it with
    /// [`ModelSource::read_grammar`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grammar: Option<GrammarInfo>,
}

/// The beam search's weight for grammars, tuned on a dev set under one grammar, and that
/// grammar's phrase file when the model ships it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrammarInfo {
    /// Added for each listed phrase the output completes (`--grammar-bonus`).
    pub bonus: f32,
    /// The grammar file in the model directory (as `--grammar` takes it), with its size and
    /// checksum; absent: the model ships only the bonus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phrases: Option<WeightsInfo>,
    /// Where it was tuned (free-form).
    #[serde(default)]
    pub source: String,
}

/// Grammar file name inside a model directory.
pub const GRAMMAR_FILE: &str = "grammar.txt";

/// Platt scaling of word confidences, fitted by `hark tune` on a dev set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationInfo {
    #[serde(flatten)]
    pub platt: crate::confidence::Platt,
    /// Where it was fitted, with the dev set's ECE before and after (free-form).
    #[serde(default)]
    pub source: String,
    /// Offline transcripts leave out words whose calibrated confidence is below this (chosen
    /// by `hark tune` on the dev set; absent: every word is kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_confidence: Option<f32>,
}

/// The word language model file of a model directory and the beam search's weights for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WordLmInfo {
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    pub weight: f32,
    /// Added per completed word.
    pub bonus: f32,
    /// Added for a word outside the LM's vocabulary.
    pub oov_penalty: f32,
    /// Added for each letter of a word past the point where it left the vocabulary (0 in
    /// models from before session 31).
    #[serde(default)]
    pub oov_letter_penalty: f32,
    /// How the LM was built (free-form, for the record).
    #[serde(default)]
    pub source: String,
}

/// Word language model file name inside a model directory.
pub const WORD_LM_FILE: &str = "words.bin";

/// The language model file of a model directory and the weights the beam search gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LmInfo {
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
    pub weight: f32,
    pub bonus: f32,
    /// How the LM was built (free-form, for the record).
    #[serde(default)]
    pub source: String,
}

/// Language model file name inside a model directory.
pub const LM_FILE: &str = "lm.bin";

/// A model ready to run, with its config.
#[derive(Debug)]
pub struct LoadedModel {
    pub config: ModelConfig,
    pub model: AcousticModel,
    /// The model's language model with its weights, when it ships one.
    pub lm: Option<crate::lm::LmScorer>,
    /// Word LM, grammar and hotwords for the beam search (none unless the caller adds them).
    pub guides: crate::lm::guide::Guides,
}

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A model built into this binary.
    Embedded(BuiltIn),
    Dir(PathBuf),
}

/// The models a binary can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltIn {
    /// `models/default`: the bidirectional model, best for whole files.
    Default,
    /// `models/streaming`: the unidirectional model, whose partials never wait for the future.
    Streaming,
}

impl BuiltIn {
    /// The name `--model` takes for it.
    pub fn name(self) -> &'static str {
        match self {
            BuiltIn::Default => "builtin",
            BuiltIn::Streaming => "builtin:streaming",
        }
    }

    /// Whether this binary carries it.
    pub fn is_embedded(self) -> bool {
        match self {
            BuiltIn::Default => cfg!(hark_embedded_model),
            BuiltIn::Streaming => cfg!(hark_embedded_streaming),
        }
    }
}

impl ModelSource {
    /// The built-in default model.
    pub const BUILT_IN: ModelSource = ModelSource::Embedded(BuiltIn::Default);

    /// What live recognition uses unless told otherwise: the built-in streaming model when
    /// this binary carries one, else the built-in default.
    pub fn live_default() -> ModelSource {
        if BuiltIn::Streaming.is_embedded() {
            ModelSource::Embedded(BuiltIn::Streaming)
        } else {
            ModelSource::BUILT_IN
        }
    }

    /// `builtin` and `builtin:streaming` name the built-in models; anything else is a directory.
    pub fn parse(arg: &Path) -> ModelSource {
        match arg.to_str() {
            Some("builtin") => ModelSource::Embedded(BuiltIn::Default),
            Some("builtin:streaming") => ModelSource::Embedded(BuiltIn::Streaming),
            _ => ModelSource::Dir(arg.to_path_buf()),
        }
    }
}

impl std::fmt::Display for ModelSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelSource::Embedded(BuiltIn::Default) => write!(f, "<built-in model>"),
            ModelSource::Embedded(BuiltIn::Streaming) => write!(f, "<built-in streaming model>"),
            ModelSource::Dir(p) => write!(f, "{}", p.display()),
        }
    }
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl ModelSource {
    /// Read config and weight bytes.
    pub fn read(&self) -> Result<(ModelConfig, Vec<u8>)> {
        match self {
            ModelSource::Embedded(which) => embedded::read(*which),
            ModelSource::Dir(dir) => {
                let cfg_path = dir.join(CONFIG_FILE);
                let text =
                    std::fs::read_to_string(&cfg_path).map_err(|e| Error::io(&cfg_path, e))?;
                let config = parse_config(&text, dir)?;
                check_plain_file_name(dir, "weights", &config.weights.file)?;
                let weights_path = dir.join(&config.weights.file);
                let bytes =
                    std::fs::read(&weights_path).map_err(|e| Error::io(&weights_path, e))?;
                Ok((config, bytes))
            }
        }
    }

    /// Load and validate the acoustic model alone onto `device` (config and weights; its
    /// language models are neither read nor attached).
    pub fn load_acoustic(&self, device: &Device) -> Result<LoadedModel> {
        let (config, bytes) = self.read()?;
        build(self, config, bytes, device)
    }

    /// Load and validate a model onto `device`, with its language model if it has one.
    pub fn load(&self, device: &Device) -> Result<LoadedModel> {
        let mut loaded = self.load_acoustic(device)?;
        loaded.lm = self.read_lm(&loaded.config)?;
        loaded.guides.words = self.read_word_lm(&loaded.config)?;
        Ok(loaded)
    }

    /// The grammar `config` ships (checked against its size and checksum), with its phrase
    /// bonus; `None` when it ships none.
    pub fn read_grammar(&self, config: &ModelConfig) -> Result<Option<crate::lm::guide::Grammar>> {
        let Some(info) = &config.grammar else {
            return Ok(None);
        };
        let Some(phrases) = &info.phrases else {
            return Ok(None);
        };
        let file = (
            phrases.file.as_str(),
            phrases.bytes,
            phrases.sha256.as_str(),
        );
        let bytes = self.read_checked("grammar", file, || None)?;
        let err = |m: String| Error::model(self.to_string(), m);
        let text = String::from_utf8(bytes).map_err(|_| err("its grammar is not UTF-8".into()))?;
        let mut grammar = crate::lm::guide::Grammar::parse(&text)
            .map_err(|e| err(format!("its grammar: {e}")))?;
        grammar.phrase_bonus = info.bonus;
        Ok(Some(grammar))
    }

    /// The word language model named by `config`, checked against its size and checksum.
    fn read_word_lm(&self, config: &ModelConfig) -> Result<Option<crate::lm::guide::WordScorer>> {
        let Some(info) = &config.word_lm else {
            return Ok(None);
        };
        let file = (info.file.as_str(), info.bytes, info.sha256.as_str());
        let bytes = self.read_checked("word language model", file, embedded::words)?;
        let lm = crate::lm::WordLm::from_bytes(&bytes)
            .map_err(|e| Error::model(self.to_string(), e.to_string()))?;
        Ok(Some(
            crate::lm::guide::WordScorer::new(
                std::sync::Arc::new(lm),
                info.weight,
                info.bonus,
                info.oov_penalty,
            )
            .with_oov_letter_penalty(info.oov_letter_penalty),
        ))
    }

    /// The language model named by `config`, checked against its size and checksum.
    fn read_lm(&self, config: &ModelConfig) -> Result<Option<crate::lm::LmScorer>> {
        let Some(info) = &config.lm else {
            return Ok(None);
        };
        let file = (info.file.as_str(), info.bytes, info.sha256.as_str());
        let bytes = self.read_checked("language model", file, embedded::lm)?;
        let lm = crate::lm::CharLm::from_bytes(&bytes)
            .map_err(|e| Error::model(self.to_string(), e.to_string()))?;
        Ok(Some(crate::lm::LmScorer {
            lm: std::sync::Arc::new(lm),
            weight: info.weight,
            bonus: info.bonus,
        }))
    }

    /// The bytes of a `kind` file that `config.json` names with its size and checksum: from
    /// the directory, or for the built-in model from `embedded`; an error when it is missing
    /// or does not match.
    fn read_checked(
        &self,
        kind: &str,
        (file, size, sha256): (&str, u64, &str),
        embedded: impl FnOnce() -> Option<&'static [u8]>,
    ) -> Result<Vec<u8>> {
        let err = |m: String| Error::model(self.to_string(), m);
        let bytes = match self {
            ModelSource::Embedded(_) => embedded()
                .ok_or_else(|| err(format!("the built-in model names a {kind} it lacks")))?
                .to_vec(),
            ModelSource::Dir(dir) => {
                check_plain_file_name(dir, kind, file)?;
                let path = dir.join(file);
                std::fs::read(&path).map_err(|e| Error::io(&path, e))?
            }
        };
        if bytes.len() as u64 != size || sha256_hex(&bytes) != sha256 {
            return Err(err(format!(
                "{file} does not match the size and checksum in {CONFIG_FILE}: file is corrupt"
            )));
        }
        Ok(bytes)
    }
}

impl ModelSource {
    /// Copy the language-model files `config` names (character and word LM, and a grammar the
    /// model ships, each checked against its size and checksum) from this model into the
    /// directory `out`.
    pub fn copy_language_models(&self, config: &ModelConfig, out: &Path) -> Result<()> {
        std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
        if let Some(info) = &config.lm {
            let file = (info.file.as_str(), info.bytes, info.sha256.as_str());
            let bytes = self.read_checked("language model", file, embedded::lm)?;
            write_atomic(&out.join(&info.file), &bytes)?;
        }
        if let Some(info) = &config.word_lm {
            let file = (info.file.as_str(), info.bytes, info.sha256.as_str());
            let bytes = self.read_checked("word language model", file, embedded::words)?;
            write_atomic(&out.join(&info.file), &bytes)?;
        }
        if let Some(info) = config.grammar.as_ref().and_then(|g| g.phrases.as_ref()) {
            let file = (info.file.as_str(), info.bytes, info.sha256.as_str());
            let bytes = self.read_checked("grammar", file, || None)?;
            write_atomic(&out.join(&info.file), &bytes)?;
        }
        Ok(())
    }
}

/// Put `lm` into the model directory `dir` (as `lm.bin`) with its beam-search weights,
/// recording it in the directory's `config.json`. Both files are replaced atomically.
pub fn attach_lm(
    dir: &Path,
    lm: &crate::lm::CharLm,
    weight: f32,
    bonus: f32,
    source: String,
) -> Result<LmInfo> {
    attach(dir, LM_FILE, &lm.to_bytes(), |config, bytes, sha256| {
        let info = LmInfo {
            file: LM_FILE.into(),
            bytes,
            sha256,
            weight,
            bonus,
            source,
        };
        config.lm = Some(info.clone());
        info
    })
}

/// Put the word LM `lm` into the model directory `dir` (as `words.bin`) with its beam-search
/// weights, recording it in the directory's `config.json`. Both files are replaced atomically.
pub fn attach_word_lm(
    dir: &Path,
    lm: &crate::lm::WordLm,
    weights: (f32, f32, f32),
    source: String,
) -> Result<WordLmInfo> {
    let (weight, bonus, oov_penalty) = weights;
    attach(
        dir,
        WORD_LM_FILE,
        &lm.to_bytes(),
        |config, bytes, sha256| {
            let info = WordLmInfo {
                file: WORD_LM_FILE.into(),
                bytes,
                sha256,
                weight,
                bonus,
                oov_penalty,
                oov_letter_penalty: 0.0,
                source,
            };
            config.word_lm = Some(info.clone());
            info
        },
    )
}

/// Record tuned beam-search weights for the language models of the model directory `dir`:
/// `chars` (weight, bonus) for its character LM, `words` (weight, bonus, OOV penalty, OOV
/// letter penalty) for its word LM. A weight for an LM the directory lacks is an error.
pub fn record_lm_weights(
    dir: &Path,
    chars: Option<(f32, f32)>,
    words: Option<(f32, f32, f32, f32)>,
) -> Result<()> {
    edit_config(dir, |config| {
        if let Some((weight, bonus)) = chars {
            let lm = config.lm.as_mut().ok_or_else(|| {
                Error::model(dir, "has no character LM to record weights for".to_string())
            })?;
            (lm.weight, lm.bonus) = (weight, bonus);
        }
        if let Some((weight, bonus, oov_penalty, oov_letter_penalty)) = words {
            let lm = config.word_lm.as_mut().ok_or_else(|| {
                Error::model(dir, "has no word LM to record weights for".to_string())
            })?;
            (lm.weight, lm.bonus, lm.oov_penalty) = (weight, bonus, oov_penalty);
            lm.oov_letter_penalty = oov_letter_penalty;
        }
        Ok(())
    })
}

/// Record a confidence calibration in the model directory `dir`'s `config.json`.
pub fn record_calibration(dir: &Path, calibration: CalibrationInfo) -> Result<()> {
    edit_config(dir, |config| {
        config.calibration = Some(calibration);
        Ok(())
    })
}

/// Record the phrase bonus for grammars in the model directory `dir`'s `config.json`, and
/// with `phrases` (a grammar file's text, checked to parse) ship that grammar with the model as
/// `grammar.txt`; without it, a grammar file the model already ships is kept.
pub fn record_grammar(dir: &Path, bonus: f32, phrases: Option<&str>, source: String) -> Result<()> {
    if !bonus.is_finite() {
        return Err(Error::Config("a grammar bonus must be finite".into()));
    }
    let Some(text) = phrases else {
        return edit_config(dir, |config| {
            let phrases = config.grammar.take().and_then(|g| g.phrases);
            config.grammar = Some(GrammarInfo {
                bonus,
                phrases,
                source,
            });
            Ok(())
        });
    };
    crate::lm::guide::Grammar::parse(text)?;
    attach(
        dir,
        GRAMMAR_FILE,
        text.as_bytes(),
        |config, bytes, sha256| {
            config.grammar = Some(GrammarInfo {
                bonus,
                phrases: Some(WeightsInfo {
                    file: GRAMMAR_FILE.into(),
                    bytes,
                    sha256,
                }),
                source,
            });
        },
    )
}

/// Record a speech-activity head in the model directory `dir`'s `config.json`.
pub fn record_speech_head(dir: &Path, head: crate::live::speech_head::SpeechHead) -> Result<()> {
    edit_config(dir, |config| {
        if config.model.bidirectional {
            return Err(Error::model(
                dir,
                "is bidirectional; a speech head needs a streaming model".to_string(),
            ));
        }
        head.validate(config.model.hidden)?;
        config.speech_head = Some(head);
        Ok(())
    })
}

/// Write `bytes` as `file` in the model directory `dir` and let `record` enter it (with its
/// size and checksum) into the directory's `config.json`; both files are replaced atomically.
fn attach<T>(
    dir: &Path,
    file: &str,
    bytes: &[u8],
    record: impl FnOnce(&mut ModelConfig, u64, String) -> T,
) -> Result<T> {
    edit_config(dir, |config| {
        let info = record(config, bytes.len() as u64, sha256_hex(bytes));
        write_atomic(&dir.join(file), bytes)?;
        Ok(info)
    })
}

/// Read the `config.json` of the model directory `dir`, let `edit` change it (and write any
/// file it names), then replace `config.json` atomically; it is left alone when `edit` fails.
fn edit_config<T>(dir: &Path, edit: impl FnOnce(&mut ModelConfig) -> Result<T>) -> Result<T> {
    let cfg_path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&cfg_path).map_err(|e| Error::io(&cfg_path, e))?;
    let mut config = parse_config(&text, dir)?;
    let out = edit(&mut config)?;
    let json = serde_json::to_string_pretty(&config)
        .map_err(|e| Error::model(dir, format!("cannot serialise config: {e}")))?;
    write_atomic(&cfg_path, format!("{json}\n").as_bytes())?;
    Ok(out)
}

/// Check and load a model from its config text and weight bytes; `name` is used in errors.
/// Anything wrong — checksum, shapes, a burnpack burn cannot parse — is an [`Error::Model`].
pub fn load_parts(
    name: &str,
    config: &str,
    weights: Vec<u8>,
    device: &Device,
) -> Result<LoadedModel> {
    let source = ModelSource::Dir(PathBuf::from(name));
    let config = parse_config(config, Path::new(name))?;
    build(&source, config, weights, device)
}

/// A file named by `config.json` must sit inside the model directory.
fn check_plain_file_name(dir: &Path, what: &str, name: &str) -> Result<()> {
    if Path::new(name).components().count() != 1 {
        return Err(Error::model(
            dir,
            format!("{what} file '{name}' is not a plain file name"),
        ));
    }
    Ok(())
}

fn parse_config(text: &str, dir: &Path) -> Result<ModelConfig> {
    let config: ModelConfig = serde_json::from_str(text).map_err(|e| {
        Error::model(
            dir,
            format!("{CONFIG_FILE} is not a hark model config: {e}"),
        )
    })?;
    if config.format_version != FORMAT_VERSION {
        return Err(Error::model(
            dir,
            format!(
                "format version {} (this hark reads version {FORMAT_VERSION})",
                config.format_version
            ),
        ));
    }
    Ok(config)
}

fn build(
    source: &ModelSource,
    config: ModelConfig,
    bytes: Vec<u8>,
    device: &Device,
) -> Result<LoadedModel> {
    let err = |m: String| Error::model(source.to_string(), m);
    if bytes.len() as u64 != config.weights.bytes {
        return Err(err(format!(
            "{} has {} bytes, config says {} (truncated or replaced?)",
            config.weights.file,
            bytes.len(),
            config.weights.bytes
        )));
    }
    let digest = sha256_hex(&bytes);
    if digest != config.weights.sha256 {
        return Err(err(format!(
            "{} checksum {digest} does not match config ({}): file is corrupt",
            config.weights.file, config.weights.sha256
        )));
    }
    let invalid = |e: Error| match e {
        Error::Config(message) => err(message),
        other => other,
    };
    config.model.validate().map_err(invalid)?;
    config.features.validate().map_err(invalid)?;
    if config.model.input_dim != config.features.dim() {
        return Err(err(format!(
            "model expects {}-dim input, features give {}",
            config.model.input_dim,
            config.features.dim()
        )));
    }
    if config.model.vocab_size != config.vocab.size() {
        return Err(err(format!(
            "model has {} outputs, vocab has {} symbols",
            config.model.vocab_size,
            config.vocab.size()
        )));
    }
    // Weights are f32: a config whose shapes need more than the file holds is refused before
    // anything is allocated from it.
    let needed = config.model.num_params().saturating_mul(4);
    if needed as u64 > config.weights.bytes {
        return Err(err(format!(
            "the architecture needs {needed} bytes of weights, {} holds {}",
            config.weights.file, config.weights.bytes
        )));
    }
    // The checksum vouches for the bytes, not for burn's parser: keep a panic in there (a
    // hand-made file with a matching checksum) from taking the process down.
    let arch = config.model.clone();
    let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let record = ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(bytes))
            .map_err(|e| format!("cannot read weights: {e}"))?;
        arch.init(device)
            .try_load_record(record)
            .map_err(|e| format!("weights do not fit the architecture: {e}"))
    }));
    let model = match loaded {
        Ok(result) => result.map_err(&err)?,
        Err(_) => return Err(err("weights file is malformed (the decoder gave up)".into())),
    };
    Ok(LoadedModel {
        config,
        model,
        lm: None,
        guides: Default::default(),
    })
}

/// Save `model` with `config` into `dir` (created if needed). Files are written to temporary
/// names and renamed, so a crash never leaves a half-written model behind.
pub fn save(dir: &Path, config: ModelConfig, model: AcousticModel) -> Result<ModelConfig> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let (config, json, bytes) = to_parts(config, model)?;
    write_atomic(&dir.join(WEIGHTS_FILE), &bytes)?;
    write_atomic(&dir.join(CONFIG_FILE), json.as_bytes())?;
    Ok(config)
}

/// Serialise a model: the config (with format version, size and checksum filled in), its
/// JSON text, and the weight bytes.
pub fn to_parts(
    mut config: ModelConfig,
    model: AcousticModel,
) -> Result<(ModelConfig, String, Vec<u8>)> {
    let bytes: Vec<u8> = model
        .into_record()
        .into_bytes()
        .map_err(|e| Error::model(WEIGHTS_FILE, format!("cannot serialise weights: {e}")))?
        .to_vec();
    config.format_version = FORMAT_VERSION;
    config.weights = WeightsInfo {
        file: WEIGHTS_FILE.into(),
        bytes: bytes.len() as u64,
        sha256: sha256_hex(&bytes),
    };
    let json = serde_json::to_string_pretty(&config)
        .map_err(|e| Error::model(CONFIG_FILE, format!("cannot serialise config: {e}")))?;
    Ok((config, json, bytes))
}

/// Write `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// The files of the built-in models. The streaming model's config names the same `lm.bin` and
/// `words.bin` as the default's (build.rs checks they are identical), so they are carried once.
#[cfg(hark_embedded_model)]
mod embedded {
    use super::*;

    macro_rules! model_file {
        ($kind:literal, $file:literal) => {
            include_bytes!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/models/",
                $kind,
                "/",
                $file
            ))
        };
    }

    pub fn read(which: BuiltIn) -> Result<(ModelConfig, Vec<u8>)> {
        let (config, weights): (&[u8], &[u8]) = match which {
            BuiltIn::Default => (
                model_file!("default", "config.json"),
                model_file!("default", "model.bpk"),
            ),
            #[cfg(hark_embedded_streaming)]
            BuiltIn::Streaming => (
                model_file!("streaming", "config.json"),
                model_file!("streaming", "model.bpk"),
            ),
            #[cfg(not(hark_embedded_streaming))]
            BuiltIn::Streaming => {
                return Err(Error::model(
                    ModelSource::Embedded(which).to_string(),
                    "this binary was built without models/streaming; pass --model DIR",
                ));
            }
        };
        let source = ModelSource::Embedded(which).to_string();
        let text = std::str::from_utf8(config)
            .map_err(|e| Error::model(source.clone(), format!("config is not UTF-8: {e}")))?;
        Ok((parse_config(text, Path::new(&source))?, weights.to_vec()))
    }

    #[cfg(hark_embedded_lm)]
    pub fn lm() -> Option<&'static [u8]> {
        Some(model_file!("default", "lm.bin"))
    }

    #[cfg(not(hark_embedded_lm))]
    pub fn lm() -> Option<&'static [u8]> {
        None
    }

    #[cfg(hark_embedded_words)]
    pub fn words() -> Option<&'static [u8]> {
        Some(model_file!("default", "words.bin"))
    }

    #[cfg(not(hark_embedded_words))]
    pub fn words() -> Option<&'static [u8]> {
        None
    }
}

#[cfg(not(hark_embedded_model))]
mod embedded {
    use super::*;

    pub fn read(which: BuiltIn) -> Result<(ModelConfig, Vec<u8>)> {
        Err(Error::model(
            ModelSource::Embedded(which).to_string(),
            "this binary was built without models/default; pass --model DIR",
        ))
    }

    pub fn lm() -> Option<&'static [u8]> {
        None
    }

    pub fn words() -> Option<&'static [u8]> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_names_pick_built_in_models_and_anything_else_is_a_directory() {
        let parse = |s: &str| ModelSource::parse(Path::new(s));
        assert_eq!(parse("builtin"), ModelSource::BUILT_IN);
        assert_eq!(
            parse("builtin:streaming"),
            ModelSource::Embedded(BuiltIn::Streaming)
        );
        assert_eq!(
            parse("models/streaming"),
            ModelSource::Dir(PathBuf::from("models/streaming"))
        );
        for which in [BuiltIn::Default, BuiltIn::Streaming] {
            assert_eq!(parse(which.name()), ModelSource::Embedded(which));
            // A build without the model says so by name instead of failing later.
            if !which.is_embedded() {
                let err = ModelSource::Embedded(which).read().unwrap_err();
                assert!(err.to_string().contains("built without"), "{err}");
            }
        }
    }
}
