//! What a run tells its caller: events while it trains, one [`EpochMetrics`] per epoch (also a
//! line of `metrics.jsonl`), and a [`TrainReport`] at the end. The library prints nothing; the
//! CLI turns events into progress bars and log lines.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Something that happened during [`super::run`], in order.
#[derive(Debug, Clone)]
pub enum TrainEvent {
    /// An input training skips past: a bad manifest line, an unreadable file, an utterance
    /// too short for its transcript, a plot that could not be drawn.
    Warning(String),
    /// A further training set was loaded (`TrainOptions::more_train`).
    ExtraTrainSet {
        path: PathBuf,
        utterances: usize,
        repeat: usize,
    },
    /// All sets are loaded.
    DataLoaded {
        train_utterances: usize,
        train_hours: f64,
        skipped: usize,
        dev_utterances: usize,
    },
    /// The weights start from another model (`TrainOptions::init_from`).
    StartedFrom(String),
    /// A checkpoint was found and training continues from it.
    Resumed {
        /// The epoch that continues (1-based).
        epoch: usize,
        /// Batches of that epoch already trained on.
        batch: usize,
        step: usize,
    },
    /// Steps are split over this many devices.
    DataParallel { devices: usize },
    /// An epoch starts (or continues after `done` of its `batches`).
    EpochStarted {
        epoch: usize,
        epochs: usize,
        batches: usize,
        done: usize,
    },
    /// One optimizer step is done.
    Step {
        /// Mean training loss of the epoch so far.
        loss: f64,
        utterances_per_s: f64,
    },
    /// A batch's loss was not finite; it was skipped without a step.
    NonFiniteLoss { step: usize },
    /// An epoch ended and was scored.
    EpochEnded {
        epochs: usize,
        metrics: EpochMetrics,
    },
}

/// What a training run achieved.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    pub epochs_run: usize,
    pub steps: usize,
    pub final_loss: f64,
    pub best_dev_wer: Option<f64>,
    pub skipped_utterances: usize,
    pub train_utterances: usize,
}

/// One line of `metrics.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochMetrics {
    pub epoch: usize,
    pub step: usize,
    pub train_loss: f64,
    pub dev_wer: Option<f64>,
    pub dev_cer: Option<f64>,
    /// The dev set with white noise at [`super::DEV_NOISY_SNR_DB`].
    #[serde(default)]
    pub dev_noisy_wer: Option<f64>,
    #[serde(default)]
    pub dev_noisy_cer: Option<f64>,
    /// The further dev sets (`TrainOptions::more_dev`), by file stem (with the folder where two share one).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub more_dev: BTreeMap<String, DevScore>,
    pub learning_rate: f64,
    pub seconds: f64,
    pub utterances_per_s: f64,
    pub audio_hours_per_hour: f64,
}

/// WER and CER (%) of one dev set.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DevScore {
    pub wer: f64,
    pub cer: f64,
}
