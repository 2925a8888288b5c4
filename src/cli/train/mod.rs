//! `hark train`: a model from JSONL manifests. The flags become a training config and
//! options ([`options`]); this file holds the flags and reports the result.

mod options;

pub(crate) use options::parse_snr_range;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use hark::backend::DeviceSpec;

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// Training manifest (JSONL).
    #[arg(long)]
    train: PathBuf,
    /// Further training manifests as FILE or FILE:N (its utterances seen N times per epoch),
    /// e.g. real speech beside a synthetic --train. Repeatable.
    #[arg(long, value_name = "FILE[:N]")]
    also_train: Vec<String>,
    /// Validation manifest, decoded after every epoch; its CER picks the model kept.
    #[arg(long)]
    dev: Option<PathBuf>,
    /// Further dev sets, decoded and logged after every epoch. Repeatable.
    #[arg(long, value_name = "FILE")]
    also_dev: Vec<PathBuf>,
    /// Output model directory.
    #[arg(long)]
    out: PathBuf,
    /// A TrainingConfig JSON file; flags below override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Start from this model's weights (a model directory, or `builtin`) instead of random
    /// ones: fine-tuning. Its architecture and features replace the config's; --dropout and
    /// the training settings still apply. With --hidden above its width, or --unidirectional
    /// from a bidirectional model, the weights are transplanted: a widened model starts as
    /// exactly the trained one (new units' outgoing weights at zero), a streaming one with
    /// the forward direction's weights. Ignored when --resume finds a checkpoint.
    #[arg(long, value_name = "MODEL")]
    init_from: Option<String>,
    /// Train data-parallel on these devices (comma-separated, e.g. cpu,cpu or cuda:0,cuda:1)
    /// through burn-train's multi-device step: each batch is split between them and their
    /// gradients summed on the first, which replaces --device.
    #[arg(long)]
    devices: Option<String>,
    /// Threads preparing batches (reading, augmentation, MFCC) beside the training step.
    /// Default: 1 on the CPU; on cuda:N all cores but one, since one thread cannot keep a GPU
    /// busy. The batches, and so the model, are the same for any number.
    #[arg(long, value_name = "N")]
    data_workers: Option<usize>,
    #[arg(long)]
    epochs: Option<usize>,
    /// Also keep each epoch's weights as a model directory OUT/epoch-N, to average the last few
    /// with `hark average` (the model in OUT is the epoch with the best dev CER).
    #[arg(long)]
    keep_epochs: bool,
    #[arg(long)]
    batch_size: Option<usize>,
    #[arg(long)]
    lr: Option<f64>,
    /// Steps of linear learning-rate warm-up.
    #[arg(long)]
    warmup_steps: Option<usize>,
    #[arg(long)]
    hidden: Option<usize>,
    #[arg(long)]
    layers: Option<usize>,
    #[arg(long, value_enum)]
    cell: Option<CellArg>,
    /// Unidirectional recurrent layers with global feature normalisation: a streaming model,
    /// which `hark listen` runs chunk by chunk carrying its state.
    #[arg(long)]
    unidirectional: bool,
    #[arg(long)]
    stack: Option<usize>,
    #[arg(long)]
    dropout: Option<f64>,
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long)]
    max_steps: Option<usize>,
    /// Probability of additive noise per utterance and epoch.
    #[arg(long)]
    noise_prob: Option<f64>,
    /// Probability of speed perturbation (factor 0.9–1.1) per utterance and epoch.
    #[arg(long)]
    speed_prob: Option<f64>,
    /// Probability of a short non-speech burst (radio static, clicks, a cut of a noise clip)
    /// set before and/or after an utterance, its transcript unchanged, so that the model does
    /// not read such sounds as words (default 0).
    #[arg(long)]
    burst_prob: Option<f64>,
    /// Mix in the train clips of this noise bank besides generated noise (default: the bank
    /// shipped in audio/noise, when it is there).
    #[arg(long, conflicts_with = "no_noise_bank")]
    noise_bank: Option<PathBuf>,
    /// Generated noise only, no recorded clips.
    #[arg(long)]
    no_noise_bank: bool,
    /// Lowest and highest training SNR in dB, e.g. "-5,30".
    #[arg(long, allow_hyphen_values = true)]
    snr_range: Option<String>,
    /// Open the SNR range from easy to hard over the first half of training.
    #[arg(long)]
    snr_curriculum: bool,
    /// Probability of reverberation with a synthetic room impulse response (RT60 0.2–0.9 s).
    #[arg(long)]
    reverb_prob: Option<f64>,
    /// Probability of a random channel: equalisation, telephone band or a 3–8 kHz band limit,
    /// a low-bit-rate codec, µ-law/A-law or 8-bit PCM, clipping, gain.
    #[arg(long)]
    channel_prob: Option<f64>,
    /// Probability of SpecAugment time and frequency masks.
    #[arg(long)]
    spec_augment_prob: Option<f64>,
    /// Adversarial training with this attack: fgsm or pgd on the normalised features, or wave:
    /// PGD on the audio samples bounded in SNR (--adv-snr), through the differentiable front end.
    #[arg(long, value_enum)]
    adversarial: Option<AttackArg>,
    /// L∞ radius of a feature attack (feature standard deviations).
    #[arg(long, default_value_t = 0.1)]
    adv_epsilon: f32,
    /// With --adversarial wave: the bound, in dB of the utterance's energy above the
    /// perturbation's (higher is weaker; 30 dB is a faint hiss under the voice).
    #[arg(long, default_value_t = 30.0, allow_negative_numbers = true)]
    adv_snr: f32,
    /// PGD steps.
    #[arg(long, default_value_t = 3)]
    adv_steps: usize,
    /// Fraction of batches replaced by their adversarial version.
    #[arg(long)]
    adv_ratio: Option<f64>,
    /// Standard deviation of Gaussian weight noise, drawn anew per batch.
    #[arg(long)]
    weight_noise: Option<f32>,
    /// Group DRO over noise kind × SNR bucket (groups compared by their mean CTC loss per
    /// transcript character, so long utterances do not make a group look hard).
    #[arg(long)]
    dro: bool,
    /// With --dro: the exponentiated-gradient step η of the group weights (0.01): each batch
    /// multiplies a group's weight by exp(η × its loss per character).
    #[arg(long, requires = "dro")]
    dro_step: Option<f64>,
    /// With --dro: CTC-DRO's smoothing α, dividing each group's weight update by its weight
    /// plus α so no single group takes over (0: plain group DRO).
    #[arg(long, requires = "dro")]
    dro_smoothing: Option<f64>,
    /// Checkpoint every N steps as well as after each epoch.
    #[arg(long)]
    checkpoint_every: Option<usize>,
    /// Decoupled weight decay (AdamW).
    #[arg(long)]
    weight_decay: Option<f32>,
    /// Continue from OUT/checkpoint.
    #[arg(long)]
    resume: bool,
    /// No progress bar (and, when standard error is not a terminal, no progress line a minute).
    #[arg(long)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum CellArg {
    Lstm,
    Gru,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum AttackArg {
    Fgsm,
    Pgd,
    Wave,
}

pub fn train(args: TrainArgs, device: DeviceSpec) -> Result<ExitCode> {
    let out = args.out.clone();
    let mut printer = crate::cli::progress::TrainPrinter::new(!args.quiet);
    let (cfg, opts) = options::build(args, device)?;
    let report = hark::train::run(&cfg, &opts, |event| printer.event(event));
    printer.finish();
    let report = report?;
    if report.epochs_run == 0 && report.final_loss.is_nan() {
        eprintln!(
            "nothing to train: the checkpoint in {} has finished its {} epochs (raise --epochs to go on)",
            out.display(),
            cfg.epochs
        );
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "done: {} epochs, {} steps, final loss {:.4}, best dev WER {}; model in {}",
        report.epochs_run,
        report.steps,
        report.final_loss,
        report
            .best_dev_wer
            .map_or("-".to_string(), |w| format!("{w:.1}%")),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
