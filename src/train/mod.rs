//! Training: manifests in, model directory out. AdamW with warm-up and cosine decay, gradient
//! clipping, length-bucketed batches prepared on a separate thread (bounded queue) with online
//! augmentation ([`pipeline`]), FGSM/PGD adversarial batches on the features
//! ([`crate::model::attack`]) or on the audio ([`crate::model::wave_attack`]),
//! Gaussian weight noise and group DRO ([`objective`], [`dro`]), validation WER/CER each epoch,
//! best-checkpoint selection, atomic checkpoints every N steps and `--resume` from the exact
//! batch ([`checkpoint`]).
//!
//! The rooms: [`config`] (the recipe and the schedule), [`data`] (loading and batching),
//! [`objective`] (the loss a step descends), [`trainer`] (step, evaluate, end of epoch),
//! [`checkpoint`] (files), [`events`] (what a run reports). [`run`] ties them together.

mod checkpoint;
pub mod config;
mod data;
pub(crate) mod dro;
pub mod events;
mod objective;
pub(crate) mod parallel;
pub(crate) mod pipeline;
pub(crate) mod plot;
mod trainer;

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::mpsc::sync_channel;
use std::time::Instant;

pub use checkpoint::resumed_shape;
pub use config::{TrainOptions, TrainingConfig, learning_rate};
pub use events::{DevScore, EpochMetrics, TrainEvent, TrainReport};

use crate::augment;
use crate::error::{Error, Result};
use crate::features::Mfcc;
use crate::text::Vocab;
use data::{TrainData, make_batches, with_global_cmvn};
use trainer::{StepOutcome, Trainer};

/// SNR of the noisy copy of the dev set scored after every epoch (white noise, fixed seed).
pub const DEV_NOISY_SNR_DB: f32 = 10.0;

/// Train a model as described by `cfg`, writing to `opts.out_dir` and telling `on_event` what
/// happens.
pub fn run(
    cfg: &TrainingConfig,
    opts: &TrainOptions,
    mut on_event: impl FnMut(TrainEvent),
) -> Result<TrainReport> {
    check(cfg)?;
    let data = TrainData::load(cfg, opts, &mut on_event)?;
    let with_stats;
    let cfg = if !cfg.features.cmvn && cfg.features.global_cmvn.is_none() {
        with_stats = with_global_cmvn(cfg, &data.train)?;
        &with_stats
    } else {
        cfg
    };
    let mfcc = Mfcc::new(cfg.features.clone())?;
    on_event(TrainEvent::DataLoaded {
        train_utterances: data.train.len(),
        train_hours: data.train_hours(),
        skipped: data.skipped,
        dev_utterances: data.dev.len(),
    });
    let batches_per_epoch = data.train.len().div_ceil(cfg.batch_size);
    let mut trainer = Trainer::new(cfg, opts, batches_per_epoch, &mut on_event)?;
    let metrics_path = opts.out_dir.join("metrics.jsonl");
    let mut metrics = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&metrics_path)
        .map_err(|e| Error::io(&metrics_path, e))?;
    let mut last_loss = f64::NAN;
    let mut epochs_run = 0;

    for epoch in trainer.state.epoch + 1..=cfg.epochs {
        if trainer.out_of_steps() {
            break;
        }
        let started = Instant::now();
        let mut rng = augment::rng(cfg.seed.wrapping_add(epoch as u64 * 7919));
        let batches = make_batches(&data.train, cfg.batch_size, &mut rng);
        let skip = trainer.state.batch_in_epoch.min(batches.len());
        on_event(TrainEvent::EpochStarted {
            epoch,
            epochs: cfg.epochs,
            batches: batches.len(),
            done: skip,
        });
        let tally = train_epoch(
            &mut trainer,
            &data,
            &mfcc,
            epoch,
            &batches,
            skip,
            opts.data_workers(),
            &mut on_event,
        )?;
        last_loss = tally.mean_loss();
        if trainer.state.batch_in_epoch < batches.len() {
            // Stopped inside the epoch (--max-steps): keep the position for --resume.
            trainer.stop_in_epoch(epoch)?;
            break;
        }
        epochs_run += 1;
        let dev = trainer.evaluate(&data.dev)?;
        let dev_noisy = trainer.evaluate(&data.dev_noisy)?;
        let mut more_dev = BTreeMap::new();
        for (name, set) in &data.more_dev {
            if let Some((wer, cer)) = trainer.evaluate(set)? {
                more_dev.insert(name.clone(), DevScore { wer, cer });
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let m = EpochMetrics {
            epoch,
            step: trainer.state.step,
            train_loss: last_loss,
            dev_wer: dev.map(|d| d.0),
            dev_cer: dev.map(|d| d.1),
            dev_noisy_wer: dev_noisy.map(|d| d.0),
            dev_noisy_cer: dev_noisy.map(|d| d.1),
            more_dev,
            learning_rate: trainer.learning_rate,
            seconds,
            utterances_per_s: tally.utterances as f64 / seconds,
            audio_hours_per_hour: tally.audio_s / seconds,
        };
        if let Ok(line) = serde_json::to_string(&m) {
            let _ = writeln!(metrics, "{line}");
        }
        on_event(TrainEvent::EpochEnded {
            epochs: cfg.epochs,
            metrics: m,
        });
        trainer.end_epoch(epoch, dev)?;
        if let Err(e) = plot::training_curves(&metrics_path, &opts.out_dir.join("training.png")) {
            on_event(TrainEvent::Warning(format!("no training plot: {e}")));
        }
    }
    Ok(TrainReport {
        epochs_run,
        steps: trainer.state.step,
        final_loss: last_loss,
        best_dev_wer: trainer.state.best_dev_wer,
        skipped_utterances: data.skipped,
        train_utterances: data.train.len(),
    })
}

/// The model must fit the features and the English vocabulary, and batches and epochs exist.
fn check(cfg: &TrainingConfig) -> Result<()> {
    cfg.model.validate()?;
    let vocab = Vocab::english();
    if cfg.model.vocab_size != vocab.size() || cfg.model.input_dim != cfg.features.dim() {
        return Err(Error::Config(format!(
            "model input/output ({}, {}) do not match features ({}) and vocab ({})",
            cfg.model.input_dim,
            cfg.model.vocab_size,
            cfg.features.dim(),
            vocab.size()
        )));
    }
    if cfg.batch_size == 0 || cfg.epochs == 0 {
        return Err(Error::Config(
            "batch_size and epochs must be positive".into(),
        ));
    }
    if let Some(wave) = &cfg.wave_adversarial {
        if cfg.adversarial.is_some() {
            return Err(Error::Config(
                "choose one adversarial attack: on the features or on the audio".into(),
            ));
        }
        if !wave.snr_db.is_finite() {
            return Err(Error::Config(format!(
                "the waveform attack's SNR must be a number of dB, not {}",
                wave.snr_db
            )));
        }
    }
    Ok(())
}

/// What the steps of one epoch added up to.
#[derive(Debug, Default)]
struct EpochTally {
    loss_sum: f64,
    steps: usize,
    utterances: usize,
    audio_s: f64,
}

impl EpochTally {
    fn mean_loss(&self) -> f64 {
        self.loss_sum / self.steps.max(1) as f64
    }
}

/// Batches `skip..` of `batches`: prepared on `workers` producer threads (worker `w` prepares
/// every `workers`-th batch from `skip + w`, each into its own bounded queue), stepped on here
/// in order, until the epoch or `max_steps` ends. The batches are the same for any number of
/// workers.
#[allow(clippy::too_many_arguments)]
fn train_epoch(
    trainer: &mut Trainer<'_>,
    data: &TrainData,
    mfcc: &Mfcc,
    epoch: usize,
    batches: &[Vec<usize>],
    skip: usize,
    workers: usize,
    on_event: &mut dyn FnMut(TrainEvent),
) -> Result<EpochTally> {
    let started = Instant::now();
    let mut tally = EpochTally::default();
    let workers = workers.max(1);
    let depth = (4 / workers).max(2);
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..workers)
        .map(|_| sync_channel::<(usize, pipeline::Prepared)>(depth))
        .unzip();
    std::thread::scope(|scope| {
        // Owned here, so that leaving early (an error, max_steps) drops them before the scope
        // waits for the producers, which full queues would otherwise block forever.
        let receivers = receivers;
        let cfg = trainer.config();
        for (w, tx) in senders.into_iter().enumerate() {
            scope.spawn(move || data.produce(cfg, mfcc, epoch, batches, skip + w, workers, tx));
        }
        // Batch k comes from worker (k - skip) % workers; a closed queue ends the epoch.
        let in_order =
            (skip..batches.len()).map_while(|k| receivers[(k - skip) % workers].recv().ok());
        for (k, prepared) in in_order {
            if trainer.out_of_steps() {
                break;
            }
            match trainer.step(epoch, k, &prepared)? {
                StepOutcome::Skipped => {
                    on_event(TrainEvent::NonFiniteLoss {
                        step: trainer.state.step,
                    });
                    continue;
                }
                StepOutcome::Stepped(loss) => {
                    tally.loss_sum += loss;
                    tally.steps += 1;
                    tally.utterances += prepared.batch.len();
                    tally.audio_s += data.seconds(&batches[k]);
                    on_event(TrainEvent::Step {
                        loss: tally.mean_loss(),
                        utterances_per_s: tally.utterances as f64 / started.elapsed().as_secs_f64(),
                    });
                }
            }
        }
        Ok(tally)
    })
}
