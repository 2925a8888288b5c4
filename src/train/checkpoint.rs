//! What a run leaves on disk: the model directory (the best weights so far, with the recipe)
//! and the checkpoint it resumes from. Every file is written atomically, and `state.json`,
//! written last, names the weight files, so a kill at any moment leaves a consistent pair.

use std::path::Path;

use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use super::{TrainOptions, TrainingConfig, dro};
use crate::error::{Error, Result};
use crate::features::MfccConfig;
use crate::model::transplant::transplant;
use crate::model::{AcousticModel, AcousticModelConfig};
use crate::model_dir::{self, ModelConfig, ModelSource, WeightsInfo};
use crate::text::Vocab;

/// Weight files of a checkpoint. They are named by step, and `state.json`, written last, names
/// them, so a kill between two renames cannot leave weights and position that disagree.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CheckpointFiles {
    pub model: String,
    pub optimizer: String,
}

/// Resumable position, written with every checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CheckpointState {
    /// The weight files; absent in checkpoints from before they were named by step.
    #[serde(default)]
    pub files: Option<CheckpointFiles>,
    /// Epochs completed.
    pub epoch: usize,
    pub step: usize,
    /// Dev WER of the kept model.
    pub best_dev_wer: Option<f64>,
    /// Dev CER of the kept model: the selection criterion.
    #[serde(default)]
    pub best_dev_cer: Option<f64>,
    /// Batches of epoch `epoch + 1` already trained on.
    #[serde(default)]
    pub batch_in_epoch: usize,
    #[serde(default)]
    pub dro: Option<dro::GroupWeights>,
    /// The architecture and features the weights belong to, so that `--resume` needs no
    /// flags to rebuild them; absent in checkpoints from before they were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<AcousticModelConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub features: Option<MfccConfig>,
}

/// The architecture and features of the checkpoint in `out_dir`, when there is one that
/// records them: what `--resume` rebuilds, whatever the flags say.
pub fn resumed_shape(out_dir: &Path) -> Result<Option<(AcousticModelConfig, MfccConfig)>> {
    let path = out_dir.join("checkpoint").join("state.json");
    if !path.is_file() {
        return Ok(None);
    }
    let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
    let state: CheckpointState =
        serde_json::from_slice(&bytes).map_err(|e| Error::model(&path, e.to_string()))?;
    Ok(state.model.zip(state.features))
}

/// `model` with the weights of the model at `source`, and a note of how they were placed.
/// The same architecture (dropout aside) and features load as they are; a wider or
/// differently directed model of the same depth gets them through
/// [`transplant`](crate::model::transplant::transplant), where the features may differ only
/// in their normalisation (a streaming model's global CMVN).
pub(crate) fn initial_weights(
    source: &ModelSource,
    cfg: &TrainingConfig,
    model: AcousticModel,
    device: &Device,
) -> Result<(AcousticModel, Option<String>)> {
    let start = source.load(device)?;
    let mut arch = start.config.model.clone();
    arch.dropout = cfg.model.dropout;
    let same_features = start.config.features == cfg.features;
    if arch == cfg.model && same_features {
        return Ok((model.load_record(start.model.into_record()), None));
    }
    let mut normalised = start.config.features.clone();
    normalised.cmvn = cfg.features.cmvn;
    normalised.global_cmvn = cfg.features.global_cmvn.clone();
    if normalised != cfg.features {
        return Err(Error::Config(format!(
            "{source}: its features differ from the training config's, so its weights cannot \
             start this run"
        )));
    }
    let model =
        transplant(&start.model, model).map_err(|e| Error::Config(format!("{source}: {e}")))?;
    let direction = |bi: bool| {
        if bi {
            "bidirectional"
        } else {
            "unidirectional"
        }
    };
    let note = format!(
        "weights transplanted from {} {}x{} into {} {}x{}",
        direction(arch.bidirectional),
        arch.layers,
        arch.hidden,
        direction(cfg.model.bidirectional),
        cfg.model.layers,
        cfg.model.hidden
    );
    Ok((model, Some(note)))
}

pub(crate) fn save_model(
    out: &Path,
    cfg: &TrainingConfig,
    opts: &TrainOptions,
    model: &AcousticModel,
    vocab: &Vocab,
) -> Result<()> {
    let mut recipe = serde_json::to_value(cfg).map_err(|e| Error::Data(e.to_string()))?;
    if let Some(obj) = recipe.as_object_mut() {
        obj.insert("command".into(), opts.command.clone().into());
        obj.insert(
            "train_manifest".into(),
            opts.train_manifest.display().to_string().into(),
        );
    }
    let config = ModelConfig {
        format_version: model_dir::FORMAT_VERSION,
        model: cfg.model.clone(),
        features: cfg.features.clone(),
        vocab: vocab.clone(),
        weights: WeightsInfo {
            file: String::new(),
            bytes: 0,
            sha256: String::new(),
        },
        training: recipe,
        lm: None,
        word_lm: None,
        calibration: None,
        speech_head: None,
        grammar: None,
    };
    model_dir::save(out, config, model.valid())?;
    Ok(())
}

pub(crate) fn save_checkpoint(
    dir: &Path,
    model: &AcousticModel,
    optim: &ModuleOptimizer,
    state: &CheckpointState,
) -> Result<()> {
    let files = CheckpointFiles {
        model: format!("model-{}.bpk", state.step),
        optimizer: format!("optimizer-{}.bpk", state.step),
    };
    let bytes = model
        .valid()
        .into_record()
        .into_bytes()
        .map_err(|e| Error::model(dir, e.to_string()))?;
    model_dir::write_atomic(&dir.join(&files.model), &bytes)?;
    let obytes = optim
        .into_bytes()
        .map_err(|e| Error::model(dir, e.to_string()))?;
    model_dir::write_atomic(&dir.join(&files.optimizer), &obytes)?;
    let mut named = state.clone();
    named.files = Some(files.clone());
    let json = serde_json::to_vec_pretty(&named).map_err(|e| Error::Data(e.to_string()))?;
    model_dir::write_atomic(&dir.join("state.json"), &json)?;
    // Weights that state.json no longer names are stale; failing to remove one costs only disk.
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".bpk") && name != files.model && name != files.optimizer {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    Ok(())
}

pub(crate) fn load_checkpoint(
    dir: &Path,
    model: AcousticModel,
    optim: ModuleOptimizer,
    device: &Device,
) -> Result<(AcousticModel, ModuleOptimizer, CheckpointState)> {
    let read = |name: &str| {
        let p = dir.join(name);
        std::fs::read(&p).map_err(|e| Error::io(&p, e))
    };
    let state: CheckpointState = serde_json::from_slice(&read("state.json")?)
        .map_err(|e| Error::model(dir, e.to_string()))?;
    let files = state.files.clone().unwrap_or_else(|| CheckpointFiles {
        model: "model.bpk".into(),
        optimizer: "optimizer.bpk".into(),
    });
    let record = burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(read(
        &files.model,
    )?))
    .map_err(|e| Error::model(dir, e.to_string()))?;
    let model = model
        .try_load_record(record)
        .map_err(|e| Error::model(dir, e.to_string()))?
        .to_device(device)
        // Fresh leaves: a backward must not run into the device move.
        .valid()
        .train();
    let optim = optim
        .from_bytes(burn::tensor::Bytes::from_bytes_vec(read(&files.optimizer)?))
        .map_err(|e| Error::model(dir, e.to_string()))?;
    Ok((model, optim, state))
}

impl CheckpointState {
    /// The position of a run that has not started.
    pub fn start(cfg: &TrainingConfig) -> Self {
        Self {
            files: None,
            epoch: 0,
            step: 0,
            best_dev_wer: None,
            best_dev_cer: None,
            batch_in_epoch: 0,
            dro: cfg
                .dro
                .then(|| dro::GroupWeights::new(cfg.dro_step, cfg.dro_smoothing)),
            model: Some(cfg.model.clone()),
            features: Some(cfg.features.clone()),
        }
    }
}
