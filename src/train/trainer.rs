//! The [`Trainer`]: the model, its optimizer and its position, with the three things a run does
//! to them: a [`step`](Trainer::step) on a batch, [`evaluate`](Trainer::evaluate) on a dev set,
//! and [`end_epoch`](Trainer::end_epoch), which keeps the best model and checkpoints.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::module::Module;
use burn::optim::grad_clipping::GradientClippingConfig;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use rand::RngExt;

use super::checkpoint::{self, CheckpointState};
use super::data::Utterance;
use super::events::TrainEvent;
use super::objective::{WaveAdversary, training_loss};
use super::parallel::DataParallel;
use super::pipeline::{self, Prepared};
use super::{TrainOptions, TrainingConfig, dro, learning_rate};
use crate::audio::Waveform;
use crate::error::{Error, Result};
use crate::eval::{ErrorCounts, char_errors, word_errors};
use crate::model::AcousticModel;
use crate::recognizer::{Recognizer, RecognizerConfig};
use crate::text::Vocab;

/// What a [`Trainer::step`] did with a batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum StepOutcome {
    /// The weights moved; the batch's loss.
    Stepped(f64),
    /// The loss was not finite; the batch was skipped without a step.
    Skipped,
}

pub(crate) struct Trainer<'a> {
    cfg: &'a TrainingConfig,
    opts: &'a TrainOptions,
    vocab: Vocab,
    /// The device without autodiff: seeded before each step.
    base: Device,
    /// The autodiff device the model trains on.
    device: Device,
    /// Always `Some` between calls; taken only while the optimizer updates it.
    model: Option<AcousticModel>,
    optim: ModuleOptimizer,
    /// The data-parallel workers, when there are further devices.
    parallel: Option<(DataParallel, Arc<TrainingConfig>)>,
    /// The waveform adversary, for `cfg.wave_adversarial`.
    wave: Option<WaveAdversary>,
    /// The position: epochs and steps done, the best dev score, the DRO weights.
    pub state: CheckpointState,
    ckpt_dir: PathBuf,
    total_steps: usize,
    /// The learning rate of the last step.
    pub learning_rate: f64,
}

impl<'a> Trainer<'a> {
    /// A fresh model (or `opts.init_from`'s weights), or the checkpoint in `opts.out_dir` when
    /// `opts.resume` finds one; `batches_per_epoch` sets the length of the schedule.
    pub fn new(
        cfg: &'a TrainingConfig,
        opts: &'a TrainOptions,
        batches_per_epoch: usize,
        on_event: &mut dyn FnMut(TrainEvent),
    ) -> Result<Self> {
        let base = opts.device.device()?;
        base.seed(cfg.seed);
        let device = base.clone().autodiff();
        let ckpt_dir = opts.out_dir.join("checkpoint");
        std::fs::create_dir_all(&ckpt_dir).map_err(|e| Error::io(&ckpt_dir, e))?;

        let mut model = cfg.model.init(&device);
        let mut optim: ModuleOptimizer = AdamWConfig::new()
            .with_weight_decay(cfg.weight_decay)
            .with_grad_clipping(Some(GradientClippingConfig::Norm(cfg.grad_clip)))
            .init();
        let mut state = CheckpointState::start(cfg);
        let resuming = opts.resume && ckpt_dir.join("state.json").is_file();
        if let (Some(source), false) = (&opts.init_from, resuming) {
            let (start, note) = checkpoint::initial_weights(source, cfg, model, &device)?;
            model = start;
            on_event(TrainEvent::StartedFrom(match note {
                None => source.to_string(),
                Some(note) => format!("{source} ({note})"),
            }));
        }
        if resuming {
            let (m, o, s) = checkpoint::load_checkpoint(&ckpt_dir, model, optim, &device)?;
            model = m;
            optim = o;
            state = s;
            on_event(TrainEvent::Resumed {
                epoch: state.epoch + 1,
                batch: state.batch_in_epoch,
                step: state.step,
            });
            state.model.get_or_insert_with(|| cfg.model.clone());
            state.features.get_or_insert_with(|| cfg.features.clone());
            if cfg.dro && state.dro.is_none() {
                state.dro = Some(dro::GroupWeights::new(cfg.dro_step, cfg.dro_smoothing));
            }
        }
        let parallel = Self::parallel_workers(cfg, opts, &device, on_event)?;
        let wave = match cfg.wave_adversarial {
            Some(attack) => Some(WaveAdversary::new(&cfg.features, attack, &device)?),
            None => None,
        };
        let total_steps = if cfg.max_steps > 0 {
            cfg.max_steps
        } else {
            batches_per_epoch * cfg.epochs
        };
        Ok(Self {
            cfg,
            opts,
            vocab: Vocab::english(),
            base,
            device,
            model: Some(model),
            optim,
            parallel,
            wave,
            state,
            ckpt_dir,
            total_steps,
            learning_rate: 0.0,
        })
    }

    fn parallel_workers(
        cfg: &TrainingConfig,
        opts: &TrainOptions,
        device: &Device,
        on_event: &mut dyn FnMut(TrainEvent),
    ) -> Result<Option<(DataParallel, Arc<TrainingConfig>)>> {
        if opts.parallel_devices.is_empty() {
            return Ok(None);
        }
        if cfg.dro {
            return Err(Error::Config(
                "group DRO weighs the whole batch's group losses and does not run data-parallel"
                    .into(),
            ));
        }
        if cfg.wave_adversarial.is_some() {
            return Err(Error::Config(
                "adversarial training on the audio does not run data-parallel (the shards carry features, not samples)"
                    .into(),
            ));
        }
        let mut devices = vec![device.clone()];
        for spec in &opts.parallel_devices {
            devices.push(spec.device()?.autodiff());
        }
        on_event(TrainEvent::DataParallel {
            devices: devices.len(),
        });
        Ok(Some((DataParallel::new(&devices)?, Arc::new(cfg.clone()))))
    }

    /// The recipe, for as long as the trainer's borrow of it.
    pub fn config(&self) -> &'a TrainingConfig {
        self.cfg
    }

    pub fn model(&self) -> &AcousticModel {
        self.model
            .as_ref()
            .expect("the model is back in place after every update")
    }

    /// Whether `cfg.max_steps` is reached.
    pub fn out_of_steps(&self) -> bool {
        self.cfg.max_steps > 0 && self.state.step >= self.cfg.max_steps
    }

    /// One optimizer step on batch `k` of `epoch`, and a checkpoint when
    /// `cfg.checkpoint_every` says so.
    pub fn step(&mut self, epoch: usize, k: usize, prepared: &Prepared) -> Result<StepOutcome> {
        let batch = &prepared.batch;
        let cfg = self.cfg;
        self.learning_rate = learning_rate(cfg, self.state.step, self.total_steps);
        // Dropout masks, weight noise and attack starts depend on the step alone.
        self.base
            .seed(cfg.seed.wrapping_add(self.state.step as u64));
        let mut rng = pipeline::batch_rng(cfg.seed ^ 0xADE5, epoch, k);
        let model = self
            .model
            .as_ref()
            .expect("the model is back in place after every update");
        let computed = match &self.parallel {
            Some((workers, shared)) => workers.step(model, shared, batch, rng.random())?,
            None => training_loss(
                cfg,
                model,
                batch,
                &prepared.groups,
                self.wave.as_ref().map(|w| (w, prepared.waves.as_slice())),
                &self.device,
                self.state.dro.as_mut(),
                &mut rng,
            )
            .map(|loss| {
                let value = loss.clone().into_scalar::<f32>() as f64;
                (value, GradientsParams::from_grads(loss.backward(), model))
            }),
        };
        self.state.batch_in_epoch = k + 1;
        let Some((value, grads)) = computed else {
            return Ok(StepOutcome::Skipped);
        };
        let model = self
            .model
            .take()
            .expect("the model is back in place after every update");
        self.model = Some(self.optim.step(self.learning_rate, model, grads));
        self.state.step += 1;
        if cfg.checkpoint_every > 0 && self.state.step.is_multiple_of(cfg.checkpoint_every) {
            self.state.epoch = epoch - 1;
            self.checkpoint()?;
        }
        Ok(StepOutcome::Stepped(value))
    }

    /// WER and CER (%) of a dev set decoded greedily with the current weights (`None` for an
    /// empty set).
    pub fn evaluate(&self, set: &[Utterance]) -> Result<Option<(f64, f64)>> {
        if set.is_empty() {
            return Ok(None);
        }
        let rec = Recognizer::from_model(
            self.model().valid(),
            self.cfg.features.clone(),
            self.vocab.clone(),
            self.device.clone().inner(),
            &RecognizerConfig::with_beam(1),
        )?;
        let mut words = ErrorCounts::default();
        let mut chars = ErrorCounts::default();
        for chunk in set.chunks(16) {
            let waves: Vec<Waveform> = chunk.iter().map(|u| u.wave.clone()).collect();
            for (t, u) in rec.transcribe_batch(&waves).iter().zip(chunk) {
                words += word_errors(&u.text, &t.text);
                chars += char_errors(&u.text, &t.text);
            }
        }
        Ok(Some((words.rate(), chars.rate())))
    }

    /// Close epoch `epoch` with its dev scores: keep the model if it is the best so far (by dev
    /// CER), the epoch's own weights when asked to, and checkpoint.
    pub fn end_epoch(&mut self, epoch: usize, dev: Option<(f64, f64)>) -> Result<()> {
        self.state.epoch = epoch;
        self.state.batch_in_epoch = 0;
        // Kept by dev CER, not WER: while a character model is weak its WER sits at or above
        // 100%, where an empty output (all deletions, exactly 100%) beats a half-right one.
        let improved = match (dev, self.state.best_dev_cer) {
            (Some((_, c)), Some(best)) => c < best,
            _ => true,
        };
        if improved {
            if let Some((w, c)) = dev {
                self.state.best_dev_cer = Some(c);
                self.state.best_dev_wer = Some(w);
            }
            self.save_model(&self.opts.out_dir)?;
        }
        if self.opts.keep_epochs {
            self.save_model(&self.opts.out_dir.join(format!("epoch-{epoch}")))?;
        }
        self.checkpoint()
    }

    /// Stop inside epoch `epoch` (`--max-steps`): keep the model and the position for
    /// `--resume`.
    pub fn stop_in_epoch(&mut self, epoch: usize) -> Result<()> {
        self.state.epoch = epoch - 1;
        self.save_model(&self.opts.out_dir)?;
        self.checkpoint()
    }

    /// Save the current weights as a model directory `dir`.
    fn save_model(&self, dir: &Path) -> Result<()> {
        checkpoint::save_model(dir, self.cfg, self.opts, self.model(), &self.vocab)
    }

    fn checkpoint(&self) -> Result<()> {
        checkpoint::save_checkpoint(&self.ckpt_dir, self.model(), &self.optim, &self.state)
    }
}
