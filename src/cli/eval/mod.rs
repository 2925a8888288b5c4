//! `hark eval`: a robustness report of one model on one test manifest.

mod conditions;

pub(crate) use conditions::{noise_list, snr_list};

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use hark::audio::decode;
use hark::backend::DeviceSpec;
use hark::eval::report::{self, Report, TestUtterance};

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Model directory, or `builtin` / `builtin:streaming` (default: the built-in model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Test manifest (JSONL).
    #[arg(long)]
    manifest: PathBuf,
    /// Comma-separated SNRs in dB; "clean" for no noise.
    #[arg(long, default_value = "clean,20,15,10,5,0,-5")]
    snr: String,
    /// Comma-separated noises: white, pink, brown (generated), names from the noise bank
    /// (`audio/noise/bank.json`), or WAV files.
    #[arg(long, default_value = "white")]
    noise: String,
    /// Noise bank directory.
    #[arg(long, default_value_os_t = hark::noise::default_bank_dir())]
    noise_bank: PathBuf,
    /// Comma-separated L∞ radii (normalised feature units) of white-box attacks on the clean
    /// test set; empty for none.
    #[arg(long, default_value = "")]
    attack_eps: String,
    /// Comma-separated SNR bounds (dB) of white-box attacks on the clean waveforms: the
    /// perturbation's energy stays that far below the utterance's (an L2 ball), and the
    /// attacked audio is decoded through the ordinary front end; empty for none.
    #[arg(long, default_value = "")]
    attack_snr: String,
    /// Steps of each attack: 0 for FGSM, K ≥ 1 for PGD with K steps of 2.5 ε / K (2.5 r / K
    /// for waveform attacks).
    #[arg(long, default_value_t = 3)]
    attack_steps: usize,
    /// Beam width (1 = greedy).
    #[arg(long, default_value_t = hark::recognizer::DEFAULT_BEAM)]
    beam: usize,
    #[command(flatten)]
    split: crate::cli::SplitPauseFlag,
    #[command(flatten)]
    lm: super::lm::LmFlags,
    /// Leave out words whose (calibrated) confidence is below X, in place of the model's own
    /// threshold (`calibration.min_confidence` in its config.json, chosen by `hark tune`); 0
    /// keeps every word.
    #[arg(long, value_name = "X")]
    min_confidence: Option<f32>,
    /// Monte Carlo dropout: decode the mean of N dropout samples and take word confidences
    /// from their agreement (0: off).
    #[arg(long, default_value_t = 0)]
    mc_samples: usize,
    /// Report the raw word confidences (the mean posterior of each word's letters), not the
    /// model's calibrated ones (and keep every word, as the confidence threshold applies to
    /// calibrated ones).
    #[arg(long)]
    raw_confidence: bool,
    /// Evaluate only the first N utterances of the manifest.
    #[arg(long)]
    limit: Option<usize>,
    #[arg(long, default_value_t = 1234)]
    seed: u64,
    /// Also write the report as JSON here (format "hark-eval/1").
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also draw WER against SNR, one line per noise, as a PNG here.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Put every utterance's reference, hypothesis and error counts in the JSON report.
    #[arg(long, requires = "json")]
    details: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn eval(args: EvalArgs, device: DeviceSpec) -> Result<ExitCode> {
    let bank = hark::noise::NoiseBank::open(&args.noise_bank).ok();
    let noises = conditions::noise_list(&args.noise, bank.as_ref())?;
    let conditions = conditions::conditions(&args, noises.len())?;
    let mut rec = super::load_recognizer(
        super::model_source(args.model.clone()),
        device,
        args.split.config(args.beam),
        &args.lm,
    )?;
    if args.raw_confidence {
        rec = rec.without_calibration();
    }
    if let Some(min) = args.min_confidence {
        rec = rec.with_min_confidence(Some(min));
    }
    if args.mc_samples > 0 {
        rec = rec.with_mc_dropout(args.mc_samples, args.seed)?;
    }
    let manifest = hark::data::Manifest::load(&args.manifest)?;
    let mut failed = manifest.errors.len();
    for e in &manifest.errors {
        eprintln!("error: {e}");
    }
    let take = args.limit.unwrap_or(usize::MAX);
    let mut utts = Vec::new();
    for entry in manifest.entries.iter().take(take) {
        match decode::read_any(&entry.audio) {
            Ok(wave) => utts.push(TestUtterance {
                id: entry.audio.display().to_string(),
                wave,
                text: entry.text.clone(),
            }),
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
            }
        }
    }
    if utts.is_empty() {
        bail!("no usable utterances in {}", args.manifest.display());
    }
    let bar = super::progress::bar(
        !args.quiet,
        (utts.len() * conditions.len()) as u64,
        "{msg:>18} [{bar:30}] {pos}/{len} utterances, ETA {eta}",
    );
    let mut done_before = 0u64;
    let mut last_name = String::new();
    let mut last_done = 0usize;
    let rows = report::evaluate(
        &rec,
        &utts,
        &noises,
        &conditions,
        args.seed,
        args.details,
        |name: &str, done: usize| {
            if name != last_name {
                done_before += last_done as u64;
                last_name = name.to_string();
                bar.set_message(name.to_string());
            }
            last_done = done;
            bar.set_position(done_before + done as u64);
        },
    )?;
    bar.finish_and_clear();

    println!(
        "{:>18} {:>8} {:>8} {:>6} {:>8}",
        "condition", "WER%", "CER%", "ECE", "RTF"
    );
    for r in &rows {
        let ece = r.ece.map_or("-".to_string(), |e| format!("{e:.3}"));
        println!(
            "{:>18} {:>8.1} {:>8.1} {ece:>6} {:>8.3}",
            r.condition, r.wer, r.cer, r.rtf
        );
    }
    let averages = report::averages_0_20db(&rows);
    for a in &averages {
        println!(
            "{:>18} {:>8.1} {:>8.1}   (mean over {:?} dB)",
            format!("{} 0-20 dB", a.noise),
            a.wer,
            a.cer,
            a.snrs_db
        );
    }
    if let Some(p) = &args.plot {
        let series = report::wer_by_snr(&rows, 30.0);
        hark::plot::line_chart(
            p,
            "WER against SNR (clean drawn at 30 dB)",
            "SNR (dB)",
            "WER (%)",
            &series,
        )?;
    }
    if let Some(p) = &args.json {
        let report = Report {
            format: report::FORMAT.to_string(),
            model: args
                .model
                .as_ref()
                .map_or("built-in".to_string(), |m| m.display().to_string()),
            manifest: args.manifest.display().to_string(),
            utterances: utts.len(),
            failed,
            beam: args.beam,
            mc_samples: args.mc_samples,
            seed: args.seed,
            rows,
            averages_0_20db: averages,
        };
        std::fs::write(p, serde_json::to_string_pretty(&report)?)
            .with_context(|| p.display().to_string())?;
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
