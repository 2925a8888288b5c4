//! Training: manifests in, model directory out. AdamW with warm-up and cosine decay, gradient
//! clipping, length-bucketed batches prepared on a separate thread (bounded queue) with online
//! augmentation ([`pipeline`]), FGSM/PGD adversarial batches ([`crate::adversarial`]), Gaussian
//! weight noise, group DRO ([`dro`]), validation WER/CER each epoch, best-checkpoint selection,
//! atomic checkpoints every N steps and `--resume` from the exact batch.

pub mod dro;
pub mod parallel;
pub mod pipeline;
pub mod plot;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use burn::config::Config;
use burn::module::Module;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};
use rand::RngExt;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::audio::{Waveform, wav};
use crate::augment::{
    self, channel::ChannelConfig, reverb::RoomRanges, specaug::SpecAugmentConfig,
};
use crate::backend::DeviceSpec;
use crate::ctc::min_frames;
use crate::data::{Batch, Manifest};
use crate::error::{Error, Result};
use crate::eval::{ErrorCounts, char_errors, word_errors};
use crate::features::{Mfcc, MfccConfig};
use crate::model::attack::{self as adversarial, AttackConfig};
use crate::model::loss::{features_tensor, utterance_losses};
use crate::model::{AcousticModel, AcousticModelConfig};
use crate::model_dir::{self, ModelConfig, WeightsInfo};
use crate::recognizer::{Recognizer, RecognizerConfig};
use crate::text::Vocab;

/// The training recipe. Saved into the model's `config.json` under `training`.
#[derive(Config, Debug)]
pub struct TrainingConfig {
    pub model: AcousticModelConfig,
    #[config(default = "MfccConfig::default()")]
    pub features: MfccConfig,
    #[config(default = 20)]
    pub epochs: usize,
    #[config(default = 16)]
    pub batch_size: usize,
    #[config(default = 2e-3)]
    pub learning_rate: f64,
    #[config(default = 300)]
    pub warmup_steps: usize,
    /// Gradient L2-norm clipping threshold.
    #[config(default = 5.0)]
    pub grad_clip: f32,
    /// Decoupled (AdamW) weight decay.
    #[config(default = 1e-4)]
    pub weight_decay: f32,
    #[config(default = 42)]
    pub seed: u64,
    /// Probability that an utterance gets additive noise in an epoch. The defaults of the
    /// augmentations are recipe (b) of the ablation (docs/robustness.md).
    #[config(default = 0.7)]
    pub noise_prob: f64,
    #[config(default = -5.0)]
    pub snr_min_db: f32,
    #[config(default = 30.0)]
    pub snr_max_db: f32,
    /// A noise bank directory (see `audio/noise/bank.json`): when set, 70% of the noisy
    /// utterances get one of its *train* clips, the rest white, pink or brown noise. When
    /// unset, white or pink noise only.
    #[config(default = "None")]
    pub noise_bank: Option<String>,
    /// Probability that an utterance is speed-perturbed in an epoch.
    #[config(default = 0.5)]
    pub speed_prob: f64,
    /// Speed factors are drawn uniformly from `1 ± speed_range`.
    #[config(default = 0.1)]
    pub speed_range: f32,
    /// Utterances longer than this are skipped.
    #[config(default = 20.0)]
    pub max_duration_s: f64,
    /// Stop after this many optimizer steps in total (0 = no limit).
    #[config(default = 0)]
    pub max_steps: usize,
    /// SNR curriculum: the SNR range opens from `snr_max_db` down to `snr_min_db` over the
    /// first half of training.
    #[config(default = false)]
    pub snr_curriculum: bool,
    /// Probability of reverberation with a synthetic room impulse response.
    #[config(default = 0.3)]
    pub reverb_prob: f64,
    #[config(default = "RoomRanges::default()")]
    pub room: RoomRanges,
    /// Probability of a random channel (telephone band, companding, clipping, gain).
    #[config(default = 0.3)]
    pub channel_prob: f64,
    #[config(default = "ChannelConfig::default()")]
    pub channel: ChannelConfig,
    /// Probability of SpecAugment masks on an utterance's features.
    #[config(default = 0.5)]
    pub spec_augment_prob: f64,
    #[config(default = "SpecAugmentConfig::default()")]
    pub spec_augment: SpecAugmentConfig,
    /// Adversarial training: the attack used on training batches (none when unset).
    #[config(default = "None")]
    pub adversarial: Option<AttackConfig>,
    /// Fraction of batches trained on their adversarial version instead of the clean one.
    #[config(default = 0.5)]
    pub adversarial_ratio: f64,
    /// Standard deviation of Gaussian noise added to every weight, drawn anew for each batch
    /// (Graves, 2011); 0 turns it off.
    #[config(default = 0.0)]
    pub weight_noise: f32,
    /// Group DRO over noise kind × SNR bucket instead of a plain mean over utterances.
    #[config(default = false)]
    pub dro: bool,
    /// Exponentiated-gradient step of the DRO group weights.
    #[config(default = 0.01)]
    pub dro_step: f64,
    /// Also write a checkpoint every this many steps (0: only at the end of each epoch).
    #[config(default = 500)]
    pub checkpoint_every: usize,
}

impl TrainingConfig {
    /// A config whose model fits the default features and English vocabulary.
    pub fn english() -> Self {
        let features = MfccConfig::default();
        let model =
            AcousticModelConfig::new(features.dim(), Vocab::english().size()).with_dropout(0.2);
        TrainingConfig::new(model).with_features(features)
    }

    /// No augmentation at all: clean features, as for overfitting tests.
    pub fn without_augmentation(self) -> Self {
        self.with_noise_prob(0.0)
            .with_speed_prob(0.0)
            .with_reverb_prob(0.0)
            .with_channel_prob(0.0)
            .with_spec_augment_prob(0.0)
    }
}

/// Where training reads and writes, and how it reports.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub train_manifest: PathBuf,
    /// Further training manifests, each with how many times its utterances are seen per epoch
    /// (the mix of real and synthetic speech, say).
    pub more_train: Vec<(PathBuf, usize)>,
    /// The dev set that picks the model kept (by CER), also scored with white noise.
    pub dev_manifest: Option<PathBuf>,
    /// Further dev sets, scored clean after every epoch and logged beside it.
    pub more_dev: Vec<PathBuf>,
    pub out_dir: PathBuf,
    pub device: DeviceSpec,
    /// Further devices for data-parallel training through burn-train's multi-device step
    /// (`device` is the first and holds the optimizer); empty for one device.
    pub parallel_devices: Vec<DeviceSpec>,
    pub resume: bool,
    /// Start from this model's weights (fine-tuning); its architecture and features must be
    /// the config's, dropout aside. A checkpoint found by `resume` takes precedence.
    pub init_from: Option<crate::model_dir::ModelSource>,
    pub progress: bool,
    /// The command line that started training, recorded in the model config.
    pub command: String,
}

/// `cfg` with global normalisation statistics measured on (up to 2,000 of) the clean training
/// utterances: what streaming models use instead of per-utterance CMVN.
fn with_global_cmvn(cfg: &TrainingConfig, train: &[Utterance]) -> Result<TrainingConfig> {
    let raw = Mfcc::new(cfg.features.clone()).map_err(Error::Config)?;
    let step = train.len().div_ceil(2000).max(1);
    let feats: Vec<_> = train
        .iter()
        .step_by(step)
        .map(|u| raw.compute(&u.wave))
        .collect();
    let stats = crate::features::GlobalCmvn::measure(&feats)
        .ok_or_else(|| Error::Data("no frames to measure feature statistics on".into()))?;
    let mut out = cfg.clone();
    out.features.global_cmvn = Some(stats);
    Ok(out)
}

/// The *train* clips of the noise bank at `dir` (none without a bank).
fn training_noises(dir: Option<&str>) -> Result<Vec<crate::noise::Noise>> {
    let Some(dir) = dir else {
        return Ok(Vec::new());
    };
    let bank = crate::noise::NoiseBank::open(Path::new(dir))?;
    bank.names(crate::noise::NoiseSplit::Train)
        .into_iter()
        .map(|name| bank.load(name))
        .collect()
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
struct EpochMetrics {
    epoch: usize,
    step: usize,
    train_loss: f64,
    dev_wer: Option<f64>,
    dev_cer: Option<f64>,
    /// The dev set with white noise at [`DEV_NOISY_SNR_DB`].
    #[serde(default)]
    dev_noisy_wer: Option<f64>,
    #[serde(default)]
    dev_noisy_cer: Option<f64>,
    /// The further dev sets (`TrainOptions::more_dev`), by file stem.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    more_dev: BTreeMap<String, DevScore>,
    learning_rate: f64,
    seconds: f64,
    utterances_per_s: f64,
    audio_hours_per_hour: f64,
}

/// WER and CER (%) of one dev set.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DevScore {
    wer: f64,
    cer: f64,
}

/// Weight files of a checkpoint. They are named by step, and `state.json`, written last, names
/// them, so a kill between two renames cannot leave weights and position that disagree.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CheckpointFiles {
    model: String,
    optimizer: String,
}

/// Resumable position, written with every checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CheckpointState {
    /// The weight files; absent in checkpoints from before they were named by step.
    #[serde(default)]
    files: Option<CheckpointFiles>,
    /// Epochs completed.
    epoch: usize,
    step: usize,
    /// Dev WER of the kept model.
    best_dev_wer: Option<f64>,
    /// Dev CER of the kept model: the selection criterion.
    #[serde(default)]
    best_dev_cer: Option<f64>,
    /// Batches of epoch `epoch + 1` already trained on.
    #[serde(default)]
    batch_in_epoch: usize,
    #[serde(default)]
    dro: Option<dro::GroupWeights>,
}

/// A loaded training utterance.
#[derive(Clone)]
struct Utterance {
    wave: Waveform,
    targets: Vec<u32>,
    text: String,
}

/// Read the audio of a manifest; bad files are reported and skipped.
fn load_utterances(
    path: &Path,
    vocab: &Vocab,
    cfg: &TrainingConfig,
    mfcc_cfg: &MfccConfig,
) -> Result<(Vec<Utterance>, usize)> {
    let manifest = Manifest::load(path)?;
    let mut skipped = manifest.errors.len();
    for e in &manifest.errors {
        eprintln!("warning: {e}");
    }
    let mut out = Vec::with_capacity(manifest.entries.len());
    let mut too_short = 0usize;
    for entry in manifest.entries {
        let wave = match wav::read(&entry.audio) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("warning: skipping {e}");
                skipped += 1;
                continue;
            }
        };
        if wave.duration_s() > cfg.max_duration_s {
            skipped += 1;
            continue;
        }
        let targets = vocab.encode(&entry.text);
        let frames = cfg.model.output_length(mfcc_cfg.num_frames(wave.len()));
        if targets.is_empty() || frames < min_frames(&targets) {
            if too_short < 5 {
                eprintln!(
                    "warning: skipping {}: {} output frames cannot align {} target symbols",
                    entry.audio.display(),
                    frames,
                    targets.len()
                );
            }
            too_short += 1;
            skipped += 1;
            continue;
        }
        out.push(Utterance {
            wave,
            targets,
            text: entry.text,
        });
    }
    if too_short >= 5 {
        eprintln!("warning: {too_short} utterances too short for their transcripts in total");
    }
    Ok((out, skipped))
}

/// Batches of utterance indices, similar lengths together, in a seeded random order.
fn make_batches(utts: &[Utterance], batch_size: usize, rng: &mut augment::Rng) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..utts.len()).collect();
    // Sort by length with a random tie-break so buckets differ between epochs.
    let keys: Vec<(usize, u32)> = utts
        .iter()
        .map(|u| (u.wave.len() / 1600, rng.random::<u32>()))
        .collect();
    order.sort_by_key(|&i| keys[i]);
    let mut batches: Vec<Vec<usize>> = order
        .chunks(batch_size.max(1))
        .map(|c| c.to_vec())
        .collect();
    batches.shuffle(rng);
    batches
}

fn learning_rate(cfg: &TrainingConfig, step: usize, total_steps: usize) -> f64 {
    let warm = ((step + 1) as f64 / cfg.warmup_steps.max(1) as f64).min(1.0);
    let progress = (step as f64 / total_steps.max(1) as f64).min(1.0);
    let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
    cfg.learning_rate * warm * (0.05 + 0.95 * cosine)
}

/// Decode a dev set with the current weights and score it.
fn evaluate(
    model: &AcousticModel,
    features: &MfccConfig,
    vocab: &Vocab,
    dev: &[Utterance],
    device: &Device,
) -> Result<(ErrorCounts, ErrorCounts)> {
    let rec = Recognizer::from_model(
        model.valid(),
        features.clone(),
        vocab.clone(),
        device.clone().inner(),
        &RecognizerConfig { beam: 1 },
    )?;
    let mut words = ErrorCounts::default();
    let mut chars = ErrorCounts::default();
    for chunk in dev.chunks(16) {
        let waves: Vec<Waveform> = chunk.iter().map(|u| u.wave.clone()).collect();
        for (t, u) in rec.transcribe_batch(&waves).iter().zip(chunk) {
            words += word_errors(&u.text, &t.text);
            chars += char_errors(&u.text, &t.text);
        }
    }
    Ok((words, chars))
}

/// SNR of the noisy copy of the dev set scored after every epoch (white noise, fixed seed).
pub const DEV_NOISY_SNR_DB: f32 = 10.0;

/// The dev utterances with white noise at [`DEV_NOISY_SNR_DB`], drawn from a fixed seed.
fn noisy_copy(dev: &[Utterance]) -> Vec<Utterance> {
    let mut rng = augment::rng(0x0DE7);
    dev.iter()
        .filter_map(|u| {
            let mixed = augment::add_noise(
                u.wave.samples(),
                augment::NoiseColor::White,
                DEV_NOISY_SNR_DB,
                &mut rng,
            );
            Some(Utterance {
                wave: Waveform::new(mixed, u.wave.sample_rate())?,
                targets: u.targets.clone(),
                text: u.text.clone(),
            })
        })
        .collect()
}

/// Train a model as described by `cfg`, writing to `opts.out_dir`.
pub fn run(cfg: &TrainingConfig, opts: &TrainOptions) -> Result<TrainReport> {
    cfg.model.validate().map_err(Error::Config)?;
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
    let bank = training_noises(cfg.noise_bank.as_deref())?;
    let (mut train, mut skipped) =
        load_utterances(&opts.train_manifest, &vocab, cfg, &cfg.features)?;
    for (path, repeat) in &opts.more_train {
        let (more, more_skipped) = load_utterances(path, &vocab, cfg, &cfg.features)?;
        eprintln!(
            "{}: {} utterances, seen {repeat}x per epoch",
            path.display(),
            more.len()
        );
        skipped += more_skipped;
        for _ in 0..*repeat {
            train.extend(more.iter().cloned());
        }
    }
    if train.is_empty() {
        return Err(Error::Data(format!(
            "{}: no usable training utterances",
            opts.train_manifest.display()
        )));
    }
    let with_stats;
    let cfg = if !cfg.features.cmvn && cfg.features.global_cmvn.is_none() {
        with_stats = with_global_cmvn(cfg, &train)?;
        &with_stats
    } else {
        cfg
    };
    let mfcc = Mfcc::new(cfg.features.clone()).map_err(Error::Config)?;
    let dev = match &opts.dev_manifest {
        Some(p) => load_utterances(p, &vocab, cfg, &cfg.features)?.0,
        None => Vec::new(),
    };
    let dev_noisy = noisy_copy(&dev);
    let more_dev = opts
        .more_dev
        .iter()
        .map(|p| {
            let name = p.file_stem().map_or_else(
                || p.display().to_string(),
                |s| s.to_string_lossy().into_owned(),
            );
            Ok((name, load_utterances(p, &vocab, cfg, &cfg.features)?.0))
        })
        .collect::<Result<Vec<_>>>()?;
    let train_hours: f64 = train.iter().map(|u| u.wave.duration_s()).sum::<f64>() / 3600.0;
    eprintln!(
        "training on {} utterances ({train_hours:.2} h), {} skipped; dev {} utterances",
        train.len(),
        skipped,
        dev.len()
    );

    let base = opts.device.device()?;
    base.seed(cfg.seed);
    let device = base.clone().autodiff();
    let out = &opts.out_dir;
    let ckpt_dir = out.join("checkpoint");
    std::fs::create_dir_all(&ckpt_dir).map_err(|e| Error::io(&ckpt_dir, e))?;

    let mut model = cfg.model.init(&device);
    let mut optim: ModuleOptimizer = AdamWConfig::new()
        .with_weight_decay(cfg.weight_decay)
        .with_grad_clipping(Some(GradientClippingConfig::Norm(cfg.grad_clip)))
        .init();
    let mut state = CheckpointState {
        files: None,
        epoch: 0,
        step: 0,
        best_dev_wer: None,
        best_dev_cer: None,
        batch_in_epoch: 0,
        dro: cfg.dro.then(|| dro::GroupWeights::new(cfg.dro_step)),
    };
    let resuming = opts.resume && ckpt_dir.join("state.json").is_file();
    if let (Some(source), false) = (&opts.init_from, resuming) {
        model = initial_weights(source, cfg, model, &device)?;
        eprintln!("starting from the weights of {source}");
    }
    if resuming {
        let (m, o, s) = load_checkpoint(&ckpt_dir, model, optim, &device)?;
        model = m;
        optim = o;
        state = s;
        eprintln!(
            "resuming in epoch {} after batch {} (step {})",
            state.epoch + 1,
            state.batch_in_epoch,
            state.step
        );
        if cfg.dro && state.dro.is_none() {
            state.dro = Some(dro::GroupWeights::new(cfg.dro_step));
        }
    }

    let parallel = if opts.parallel_devices.is_empty() {
        None
    } else {
        if cfg.dro {
            return Err(Error::Config(
                "group DRO weighs the whole batch's group losses and does not run data-parallel"
                    .into(),
            ));
        }
        let mut devices = vec![device.clone()];
        for spec in &opts.parallel_devices {
            devices.push(spec.device()?.autodiff());
        }
        eprintln!("data-parallel over {} devices", devices.len());
        Some((
            parallel::DataParallel::new(&devices)?,
            std::sync::Arc::new(cfg.clone()),
        ))
    };

    let batches_per_epoch = train.len().div_ceil(cfg.batch_size);
    let total_steps = if cfg.max_steps > 0 {
        cfg.max_steps
    } else {
        batches_per_epoch * cfg.epochs
    };
    let mut metrics = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(out.join("metrics.jsonl"))
        .map_err(|e| Error::io(out.join("metrics.jsonl"), e))?;
    let mut last_loss = f64::NAN;
    let mut epochs_run = 0;

    for epoch in state.epoch + 1..=cfg.epochs {
        if cfg.max_steps > 0 && state.step >= cfg.max_steps {
            break;
        }
        let started = Instant::now();
        let mut rng = augment::rng(cfg.seed.wrapping_add(epoch as u64 * 7919));
        let batches = make_batches(&train, cfg.batch_size, &mut rng);
        let skip = state.batch_in_epoch.min(batches.len());
        let bar = progress_bar(opts.progress, batches.len() as u64, epoch, cfg.epochs);
        bar.set_position(skip as u64);
        let (tx, rx) = sync_channel::<(usize, Batch, Vec<usize>)>(4);
        let mut loss_sum = 0.0;
        let mut loss_count = 0usize;
        let mut utts_done = 0usize;
        let mut audio_s = 0.0;
        let mut lr = 0.0;
        let mut step_error = None;
        model = std::thread::scope(|scope| {
            let mut model = model;
            let train = &train;
            let mfcc = &mfcc;
            let bank = &bank;
            let batches = &batches;
            scope.spawn(move || {
                for (k, batch) in batches.iter().enumerate().skip(skip) {
                    let mut rng = pipeline::batch_rng(cfg.seed, epoch, k);
                    let clock = (epoch - 1) as f64 / cfg.epochs as f64
                        + k as f64 / (batches.len() * cfg.epochs) as f64;
                    let items: Vec<(&[f32], &[u32])> = batch
                        .iter()
                        .map(|&i| (train[i].wave.samples(), train[i].targets.as_slice()))
                        .collect();
                    let (b, groups) = pipeline::prepare(&items, cfg, mfcc, bank, clock, &mut rng);
                    if tx.send((k, b, groups)).is_err() {
                        return;
                    }
                }
            });
            for (k, batch, groups) in rx.iter() {
                if cfg.max_steps > 0 && state.step >= cfg.max_steps {
                    break;
                }
                lr = learning_rate(cfg, state.step, total_steps);
                // Dropout masks, weight noise and attack starts depend on the step alone.
                base.seed(cfg.seed.wrapping_add(state.step as u64));
                let mut rng = pipeline::batch_rng(cfg.seed ^ 0xADE5, epoch, k);
                let computed = match &parallel {
                    Some((workers, shared)) => {
                        match workers.step(&model, shared, &batch, rng.random()) {
                            Ok(out) => out,
                            Err(e) => {
                                step_error = Some(e);
                                break;
                            }
                        }
                    }
                    None => training_loss(
                        cfg,
                        &model,
                        &batch,
                        &groups,
                        &device,
                        state.dro.as_mut(),
                        &mut rng,
                    )
                    .map(|loss| {
                        let value = loss.clone().into_scalar::<f32>() as f64;
                        (value, GradientsParams::from_grads(loss.backward(), &model))
                    }),
                };
                let Some((value, grads)) = computed else {
                    eprintln!(
                        "warning: non-finite loss at step {}, batch skipped",
                        state.step
                    );
                    state.batch_in_epoch = k + 1;
                    continue;
                };
                model = optim.step(lr, model, grads);
                state.step += 1;
                state.batch_in_epoch = k + 1;
                loss_sum += value;
                loss_count += 1;
                utts_done += batch.len();
                audio_s += batches[k]
                    .iter()
                    .map(|&i| train[i].wave.duration_s())
                    .sum::<f64>();
                bar.set_message(format!(
                    "loss {:.3} | {:.1} utt/s",
                    loss_sum / loss_count as f64,
                    utts_done as f64 / started.elapsed().as_secs_f64()
                ));
                bar.inc(1);
                if cfg.checkpoint_every > 0 && state.step.is_multiple_of(cfg.checkpoint_every) {
                    state.epoch = epoch - 1;
                    if let Err(e) = save_checkpoint(&ckpt_dir, &model, &optim, &state) {
                        step_error = Some(e);
                        break;
                    }
                }
            }
            // Dropping the receiver ends a producer blocked on a full queue (early stop).
            drop(rx);
            model
        });
        if let Some(e) = step_error {
            return Err(e);
        }
        if state.batch_in_epoch < batches.len() {
            // Stopped inside the epoch (--max-steps): keep the position for --resume.
            bar.finish_and_clear();
            state.epoch = epoch - 1;
            last_loss = loss_sum / loss_count.max(1) as f64;
            save_model(out, cfg, opts, &model, &vocab)?;
            save_checkpoint(&ckpt_dir, &model, &optim, &state)?;
            break;
        }
        bar.finish_and_clear();
        epochs_run += 1;
        last_loss = loss_sum / loss_count.max(1) as f64;
        let score = |set: &[Utterance]| -> Result<(Option<f64>, Option<f64>)> {
            if set.is_empty() {
                return Ok((None, None));
            }
            let (w, c) = evaluate(&model, &cfg.features, &vocab, set, &device)?;
            Ok((Some(w.rate()), Some(c.rate())))
        };
        let (dev_wer, dev_cer) = score(&dev)?;
        let (dev_noisy_wer, dev_noisy_cer) = score(&dev_noisy)?;
        let mut more_dev_scores = BTreeMap::new();
        for (name, set) in &more_dev {
            if let (Some(w), Some(c)) = score(set)? {
                eprintln!("epoch {epoch}: {name}: WER {w:.1}%, CER {c:.1}%");
                more_dev_scores.insert(name.clone(), DevScore { wer: w, cer: c });
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        let m = EpochMetrics {
            epoch,
            step: state.step,
            train_loss: last_loss,
            dev_wer,
            dev_cer,
            dev_noisy_wer,
            dev_noisy_cer,
            more_dev: more_dev_scores,
            learning_rate: lr,
            seconds,
            utterances_per_s: utts_done as f64 / seconds,
            audio_hours_per_hour: audio_s / seconds,
        };
        eprintln!(
            "epoch {epoch}/{}: loss {last_loss:.4}, dev WER {}, CER {}; white {DEV_NOISY_SNR_DB} dB: \
             WER {}, CER {}; {:.0} s ({:.1} utt/s)",
            cfg.epochs,
            percent(dev_wer),
            percent(dev_cer),
            percent(dev_noisy_wer),
            percent(dev_noisy_cer),
            seconds,
            m.utterances_per_s
        );
        if let Ok(line) = serde_json::to_string(&m) {
            let _ = writeln!(metrics, "{line}");
        }
        state.epoch = epoch;
        state.batch_in_epoch = 0;
        // Kept by dev CER, not WER: while a character model is weak its WER sits at or above
        // 100%, where an empty output (all deletions, exactly 100%) beats a half-right one.
        let improved = match (dev_cer, state.best_dev_cer) {
            (Some(c), Some(best)) => c < best,
            (Some(_), None) => true,
            (None, _) => true,
        };
        if improved {
            state.best_dev_cer = dev_cer.or(state.best_dev_cer);
            state.best_dev_wer = dev_wer.or(state.best_dev_wer);
            save_model(out, cfg, opts, &model, &vocab)?;
        }
        save_checkpoint(&ckpt_dir, &model, &optim, &state)?;
        if let Err(e) = plot::training_curves(&out.join("metrics.jsonl"), &out.join("training.png"))
        {
            eprintln!("warning: no training plot: {e}");
        }
    }
    Ok(TrainReport {
        epochs_run,
        steps: state.step,
        final_loss: last_loss,
        best_dev_wer: state.best_dev_wer,
        skipped_utterances: skipped,
        train_utterances: train.len(),
    })
}

/// `model` with the weights of the model at `source`, which must have `cfg`'s architecture
/// (dropout aside) and features.
fn initial_weights(
    source: &crate::model_dir::ModelSource,
    cfg: &TrainingConfig,
    model: AcousticModel,
    device: &Device,
) -> Result<AcousticModel> {
    let start = source.load(device)?;
    let mut arch = start.config.model.clone();
    arch.dropout = cfg.model.dropout;
    if arch != cfg.model || start.config.features != cfg.features {
        return Err(Error::Config(format!(
            "{source}: its architecture or features differ from the training config's, so \
             its weights cannot start this run"
        )));
    }
    Ok(model.load_record(start.model.into_record()))
}

/// The loss to descend for one batch: clean or adversarial features (by
/// `cfg.adversarial_ratio`), through weights with Gaussian noise when `cfg.weight_noise > 0`,
/// averaged over utterances or weighted by DRO group. `None` when the loss is not finite.
fn training_loss(
    cfg: &TrainingConfig,
    model: &AcousticModel,
    batch: &Batch,
    groups: &[usize],
    device: &Device,
    dro: Option<&mut dro::GroupWeights>,
    rng: &mut augment::Rng,
) -> Option<Tensor<1>> {
    let noisy;
    let forward_model = if cfg.weight_noise > 0.0 {
        noisy = model.clone().map(&mut WeightNoise(cfg.weight_noise));
        &noisy
    } else {
        model
    };
    // The attack is crafted against the noise-free weights: a backward through the noisy
    // copy would consume the graph the training loss still needs.
    let features = match &cfg.adversarial {
        Some(attack) if rng.random::<f64>() < cfg.adversarial_ratio => {
            adversarial::perturb(model, batch, device, attack, rng).0
        }
        _ => batch.features.clone(),
    };
    let x = features_tensor(batch, features, device);
    let losses = utterance_losses(forward_model, x, batch, device); // [N]
    let loss = match dro {
        None => losses.mean(),
        Some(weights) => {
            let values = losses.clone().into_data().try_to_vec::<f32>().ok()?;
            let mut sums = [(0.0f64, 0usize); dro::GROUPS];
            for (&g, &v) in groups.iter().zip(&values) {
                sums[g].0 += v as f64;
                sums[g].1 += 1;
            }
            let means: Vec<Option<f64>> = sums
                .iter()
                .map(|&(s, n)| (n > 0).then(|| s / n as f64))
                .collect();
            let coef = weights.update(&means);
            // Each utterance carries its group's weight shared among the group's utterances.
            let per_utt: Vec<f32> = groups
                .iter()
                .map(|&g| (coef[g] / sums[g].1.max(1) as f64) as f32)
                .collect();
            let w = Tensor::<1>::from_data(TensorData::new(per_utt, [groups.len()]), device);
            (losses * w).sum()
        }
    };
    let value = loss.clone().into_scalar::<f32>();
    value.is_finite().then_some(loss)
}

/// Adds Gaussian noise of the given standard deviation to every float parameter. The noisy
/// tensors are built from the original parameters, so gradients flow back to them.
struct WeightNoise(f32);

impl burn::module::ModuleMapper for WeightNoise {
    fn map_float<const D: usize>(
        &mut self,
        param: burn::module::Param<Tensor<D>>,
    ) -> burn::module::Param<Tensor<D>> {
        let std = self.0 as f64;
        param.map(|t| {
            let noise = t.random_like(burn::tensor::Distribution::Normal(0.0, std));
            t + noise
        })
    }
}

fn percent(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.1}%"))
}

fn progress_bar(enabled: bool, len: u64, epoch: usize, epochs: usize) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "epoch {prefix} [{bar:30}] {pos}/{len} batches, {msg}, ETA {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar.set_prefix(format!("{epoch}/{epochs}"));
    bar
}

fn save_model(
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
    };
    model_dir::save(out, config, model.valid())?;
    Ok(())
}

fn save_checkpoint(
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

fn load_checkpoint(
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
