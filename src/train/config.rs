//! What a training run is told: the recipe ([`TrainingConfig`], saved with the model), where it
//! reads and writes ([`TrainOptions`]), and the learning-rate schedule.

use std::path::PathBuf;

use burn::config::Config;

use crate::augment::{channel::ChannelConfig, reverb::RoomRanges, specaug::SpecAugmentConfig};
use crate::backend::DeviceSpec;
use crate::features::MfccConfig;
use crate::model::AcousticModelConfig;
use crate::model::attack::AttackConfig;
use crate::model::wave_attack::WaveAttackConfig;
use crate::model_dir::ModelSource;
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
    /// Probability of a short non-speech burst (static, clicks, a cut of a bank clip) set
    /// before and/or after an utterance ([`crate::augment::bursts`]). 0 by default, and then no
    /// random number is drawn for it, so older recipes see the batches they always saw.
    #[config(default = 0.0)]
    pub burst_prob: f64,
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
    /// Adversarial training on the audio: a PGD attack on each utterance's corrupted samples,
    /// bounded in SNR, through the differentiable front end (none when unset; not together
    /// with `adversarial`).
    #[config(default = "None")]
    pub wave_adversarial: Option<WaveAttackConfig>,
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
    /// CTC-DRO smoothing α of the group-weight update (0: plain group DRO).
    #[config(default = 0.0)]
    pub dro_smoothing: f64,
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
    pub init_from: Option<ModelSource>,
    /// The command line that started training, recorded in the model config.
    pub command: String,
    /// Threads that prepare batches (reading, augmenting, MFCC) beside the training step;
    /// 0 picks: one on the CPU, where the step needs the cores, and all cores but one on a GPU,
    /// which one thread cannot keep busy. The batches are the same for any number.
    pub data_workers: usize,
    /// Also keep each epoch's weights as a model directory `out_dir/epoch-N`, to average the
    /// last few (`hark average`) or go back to one.
    pub keep_epochs: bool,
}

impl TrainOptions {
    /// Train on `train_manifest` into `out_dir` on the CPU: no dev set, no extra sets, no
    /// resuming, no starting weights.
    pub fn new(train_manifest: impl Into<PathBuf>, out_dir: impl Into<PathBuf>) -> Self {
        Self {
            train_manifest: train_manifest.into(),
            more_train: Vec::new(),
            dev_manifest: None,
            more_dev: Vec::new(),
            out_dir: out_dir.into(),
            device: DeviceSpec::Cpu,
            parallel_devices: Vec::new(),
            resume: false,
            init_from: None,
            command: String::new(),
            data_workers: 0,
            keep_epochs: false,
        }
    }

    /// The number of batch-preparing threads: `data_workers`, or the automatic choice.
    pub fn data_workers(&self) -> usize {
        match (self.data_workers, self.device) {
            (0, DeviceSpec::Cuda(_)) => std::thread::available_parallelism()
                .map_or(1, |n| n.get().saturating_sub(1))
                .max(1),
            (0, _) => 1,
            (n, _) => n,
        }
    }
}

/// The learning rate at optimizer step `step` of `total_steps`: linear warm-up over
/// `cfg.warmup_steps`, then cosine decay to 5% of the peak.
pub fn learning_rate(cfg: &TrainingConfig, step: usize, total_steps: usize) -> f64 {
    let warm = ((step + 1) as f64 / cfg.warmup_steps.max(1) as f64).min(1.0);
    let progress = (step as f64 / total_steps.max(1) as f64).min(1.0);
    let cosine = 0.5 * (1.0 + (std::f64::consts::PI * progress).cos());
    cfg.learning_rate * warm * (0.05 + 0.95 * cosine)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learning_rate_warms_up_linearly_then_decays_to_five_percent() {
        let cfg = TrainingConfig::english()
            .with_learning_rate(1e-3)
            .with_warmup_steps(100);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(
            learning_rate(&cfg, 0, 1000),
            1e-5 * (0.05 + 0.95 * 1.0)
        ));
        assert!(learning_rate(&cfg, 49, 1000) < learning_rate(&cfg, 99, 1000));
        // At the end of warm-up the cosine has barely moved.
        let peak = learning_rate(&cfg, 99, 1000);
        assert!(peak > 0.97e-3 && peak <= 1e-3, "{peak}");
        // Half way: the cosine is at 0.5.
        assert!(close(
            learning_rate(&cfg, 500, 1000),
            1e-3 * (0.05 + 0.95 * 0.5)
        ));
        // At and past the end: 5% of the peak, never less.
        assert!(close(learning_rate(&cfg, 1000, 1000), 5e-5));
        assert!(close(learning_rate(&cfg, 5000, 1000), 5e-5));
        // Decay is monotone after warm-up.
        let rates: Vec<f64> = (100..1000).map(|s| learning_rate(&cfg, s, 1000)).collect();
        assert!(rates.windows(2).all(|w| w[1] <= w[0]));
    }
}
