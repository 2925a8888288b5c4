//! `hark train`'s flags turned into a [`TrainingConfig`] and [`TrainOptions`].

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use hark::backend::DeviceSpec;
use hark::model::CellKind;
use hark::model_dir::ModelSource;
use hark::train::{TrainOptions, TrainingConfig};

use super::{AttackArg, CellArg, TrainArgs};

/// The training config (a file or the English defaults, overridden by the flags) and the
/// run's options. Errors come in the order the flags are checked: the config file, the SNR
/// range, the starting model, the devices, the extra manifests.
pub(super) fn build(args: TrainArgs, device: DeviceSpec) -> Result<(TrainingConfig, TrainOptions)> {
    let mut cfg = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| p.display().to_string())?;
            serde_json::from_str::<TrainingConfig>(&text)
                .with_context(|| format!("{}: not a training config", p.display()))?
        }
        None => TrainingConfig::english(),
    };
    macro_rules! set {
        ($field:expr, $value:expr) => {
            if let Some(v) = $value {
                $field = v;
            }
        };
    }
    set!(cfg.epochs, args.epochs);
    set!(cfg.batch_size, args.batch_size);
    set!(cfg.learning_rate, args.lr);
    set!(cfg.warmup_steps, args.warmup_steps);
    set!(cfg.model.hidden, args.hidden);
    set!(cfg.model.layers, args.layers);
    set!(cfg.model.stack, args.stack);
    set!(cfg.model.dropout, args.dropout);
    set!(cfg.seed, args.seed);
    set!(cfg.max_steps, args.max_steps);
    set!(cfg.noise_prob, args.noise_prob);
    set!(cfg.speed_prob, args.speed_prob);
    set!(cfg.burst_prob, args.burst_prob);
    let default_bank = hark::noise::default_bank_dir();
    let bank = match (&args.noise_bank, args.no_noise_bank) {
        (Some(b), _) => Some(b.clone()),
        (None, false) if args.config.is_none() && default_bank.join("bank.json").is_file() => {
            Some(default_bank)
        }
        _ => None,
    };
    if let Some(bank) = bank {
        cfg.noise_bank = Some(bank.display().to_string());
    } else if args.no_noise_bank {
        cfg.noise_bank = None;
    }
    if let Some(range) = &args.snr_range {
        (cfg.snr_min_db, cfg.snr_max_db) = parse_snr_range(range)?;
    }
    cfg.snr_curriculum |= args.snr_curriculum;
    set!(cfg.reverb_prob, args.reverb_prob);
    set!(cfg.channel_prob, args.channel_prob);
    set!(cfg.spec_augment_prob, args.spec_augment_prob);
    set!(cfg.adversarial_ratio, args.adv_ratio);
    set!(cfg.weight_noise, args.weight_noise);
    set!(cfg.dro_smoothing, args.dro_smoothing);
    set!(cfg.dro_step, args.dro_step);
    if !(cfg.dro_step.is_finite() && cfg.dro_step > 0.0) {
        bail!("--dro-step must be above 0, not {}", cfg.dro_step);
    }
    if cfg.dro_smoothing.is_nan() || cfg.dro_smoothing < 0.0 {
        bail!(
            "--dro-smoothing must be at least 0, not {}",
            cfg.dro_smoothing
        );
    }
    set!(cfg.checkpoint_every, args.checkpoint_every);
    set!(cfg.weight_decay, args.weight_decay);
    cfg.dro |= args.dro;
    match args.adversarial {
        Some(AttackArg::Fgsm) => {
            cfg.adversarial = Some(hark::model::attack::AttackConfig::fgsm(args.adv_epsilon));
        }
        Some(AttackArg::Pgd) => {
            cfg.adversarial = Some(hark::model::attack::AttackConfig::pgd(
                args.adv_epsilon,
                args.adv_steps,
            ));
        }
        Some(AttackArg::Wave) => {
            if !args.adv_snr.is_finite() {
                bail!("--adv-snr must be a number of dB, not {}", args.adv_snr);
            }
            cfg.wave_adversarial = Some(hark::model::wave_attack::WaveAttackConfig {
                snr_db: args.adv_snr,
                steps: args.adv_steps,
            });
        }
        None => {}
    }
    if let Some(cell) = args.cell {
        cfg.model.cell = match cell {
            CellArg::Lstm => CellKind::Lstm,
            CellArg::Gru => CellKind::Gru,
        };
    }
    let init_from = args
        .init_from
        .as_deref()
        .map(|arg| ModelSource::parse(Path::new(arg)));
    if let Some(source) = &init_from {
        // The starting model's architecture and features, except where a flag asks for a
        // change: a wider or unidirectional model gets the weights transplanted
        // (hark::model::transplant), and a change that cannot be transplanted is refused
        // when training starts.
        let (start, _) = source.read()?;
        let dropout = cfg.model.dropout;
        cfg.model = start.model;
        cfg.model.dropout = dropout;
        cfg.features = start.features;
        set!(cfg.model.hidden, args.hidden);
        set!(cfg.model.layers, args.layers);
        set!(cfg.model.stack, args.stack);
    }
    if args.unidirectional {
        // A streaming model cannot normalise over the whole utterance: global statistics
        // measured on the training data replace per-utterance CMVN.
        cfg.model.bidirectional = false;
        cfg.features.cmvn = false;
        cfg.features.global_cmvn = None;
    }
    if args.resume
        && let Some((model, features)) = hark::train::resumed_shape(&args.out)?
    {
        // The checkpoint's own architecture and features: resuming needs none of the flags
        // that shaped the run (a new --dropout still applies).
        cfg.model = model;
        set!(cfg.model.dropout, args.dropout);
        cfg.features = features;
    }
    let (device, parallel_devices) = match &args.devices {
        None => (device, Vec::new()),
        Some(list) => {
            let mut specs = list
                .split(',')
                .map(|d| d.trim().parse::<DeviceSpec>())
                .collect::<hark::Result<Vec<_>>>()?;
            if specs.len() < 2 {
                bail!("--devices needs at least two devices, not '{list}'");
            }
            let first = specs.remove(0);
            (first, specs)
        }
    };
    let opts = TrainOptions {
        train_manifest: args.train,
        more_train: args
            .also_train
            .iter()
            .map(|spec| parse_share(spec))
            .collect::<Result<_>>()?,
        dev_manifest: args.dev,
        more_dev: args.also_dev,
        out_dir: args.out.clone(),
        device,
        parallel_devices,
        resume: args.resume,
        init_from,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        data_workers: args.data_workers.unwrap_or(0),
        keep_epochs: args.keep_epochs,
    };
    Ok((cfg, opts))
}

/// `FILE` or `FILE:N` (N ≥ 1 repeats per epoch).
fn parse_share(spec: &str) -> Result<(PathBuf, usize)> {
    if let Some((path, n)) = spec.rsplit_once(':')
        && let Ok(n) = n.parse::<usize>()
    {
        if n == 0 {
            bail!("--also-train '{spec}': the repeat count must be at least 1");
        }
        return Ok((PathBuf::from(path), n));
    }
    Ok((PathBuf::from(spec), 1))
}

/// `--snr-range LOW,HIGH` in dB.
pub(crate) fn parse_snr_range(range: &str) -> Result<(f32, f32)> {
    range
        .split_once(',')
        .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
        .filter(|(lo, hi): &(f32, f32)| lo <= hi)
        .with_context(|| format!("--snr-range '{range}': expected LOW,HIGH in dB, LOW <= HIGH"))
}
