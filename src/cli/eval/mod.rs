//! `hark eval`: a robustness report of one model on one test manifest.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use hark::adversarial::AttackConfig;
use hark::audio::wav;
use hark::backend::DeviceSpec;
use hark::eval::report::{self, Condition, Report, TestUtterance};
use indicatif::{ProgressBar, ProgressStyle};

#[derive(Args, Debug)]
pub struct EvalArgs {
    /// Model directory (default: the built-in model).
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
    /// Steps of each attack: 0 for FGSM, K ≥ 1 for PGD with K steps of 2.5 ε / K.
    #[arg(long, default_value_t = 3)]
    attack_steps: usize,
    /// Beam width (1 = greedy).
    #[arg(long, default_value_t = 16)]
    beam: usize,
    #[command(flatten)]
    lm: super::lm::LmFlags,
    /// Monte Carlo dropout: decode the mean of N dropout samples and take word confidences
    /// from their agreement (0: off).
    #[arg(long, default_value_t = 0)]
    mc_samples: usize,
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

fn parse_list<T: std::str::FromStr>(list: &str, what: &str) -> Result<Vec<T>> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<T>()
                .ok()
                .with_context(|| format!("bad {what} '{s}'"))
        })
        .collect()
}

fn conditions(args: &EvalArgs, noises: usize) -> Result<Vec<Condition>> {
    let mut clean = false;
    let mut snrs = Vec::new();
    for s in args.snr.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match s {
            "clean" => clean = true,
            v => {
                let db: f32 = v.parse().ok().with_context(|| format!("bad SNR '{v}'"))?;
                if !db.is_finite() {
                    bail!("bad SNR '{v}'");
                }
                snrs.push(db);
            }
        }
    }
    let mut out = Vec::new();
    if clean {
        out.push(Condition::Clean);
    }
    for noise in 0..noises {
        out.extend(
            snrs.iter()
                .map(|&snr_db| Condition::Noisy { noise, snr_db }),
        );
    }
    for eps in parse_list::<f32>(&args.attack_eps, "attack epsilon")? {
        if !(eps.is_finite() && eps > 0.0) {
            bail!("attack epsilon must be positive, not {eps}");
        }
        out.push(Condition::Attack(if args.attack_steps == 0 {
            AttackConfig::fgsm(eps)
        } else {
            AttackConfig::pgd(eps, args.attack_steps)
        }));
    }
    if out.is_empty() {
        bail!("nothing to evaluate: give --snr and/or --attack-eps");
    }
    Ok(out)
}

pub fn eval(args: EvalArgs, device: DeviceSpec) -> Result<ExitCode> {
    let bank = hark::noise::NoiseBank::open(&args.noise_bank).ok();
    let noises: Vec<hark::noise::Noise> = args
        .noise
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| hark::noise::resolve(n, bank.as_ref()))
        .collect::<hark::Result<_>>()?;
    let conditions = conditions(&args, noises.len())?;
    let mut rec = super::load_recognizer(args.model.clone(), device, args.beam, &args.lm)?;
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
        match wav::read(&entry.audio) {
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
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new((utts.len() * conditions.len()) as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:>18} [{bar:30}] {pos}/{len} utterances, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
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

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Reports written by `hark eval --json` on the same test set; the first is the baseline
    /// of the relative change.
    #[arg(required = true)]
    reports: Vec<PathBuf>,
    /// Also draw WER against SNR (mean over the noises), one line per report, as a PNG here.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Plot CER instead of WER.
    #[arg(long, requires = "plot")]
    cer: bool,
}

/// `hark compare`: reports side by side as a Markdown table (named by file stem).
pub fn compare(args: CompareArgs) -> Result<ExitCode> {
    use hark::eval::compare;
    let reports = args
        .reports
        .iter()
        .map(|p| {
            let name = p
                .file_stem()
                .map_or("?".into(), |s| s.to_string_lossy().into_owned());
            let name = name.strip_suffix(".eval").unwrap_or(&name).to_string();
            Ok((name, compare::load(p)?))
        })
        .collect::<Result<Vec<_>>>()?;
    print!("{}", compare::markdown(&reports));
    if let Some(p) = &args.plot {
        let metric = if args.cer { "CER" } else { "WER" };
        hark::plot::line_chart(
            p,
            &format!("{metric} against SNR, mean over noises (clean drawn at 30 dB)"),
            "SNR (dB)",
            &format!("{metric} (%)"),
            &compare::mean_error_by_snr(&reports, 30.0, args.cer),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// Reference manifest (JSONL with "audio" and "text").
    #[arg(long)]
    reference: PathBuf,
    /// Hypotheses in the same format, from any recogniser; matched to the reference by audio
    /// path (relative paths resolve against each file's folder). A reference utterance with no
    /// hypothesis is scored as an empty one.
    #[arg(long)]
    hypotheses: PathBuf,
}

/// `hark score`: WER and CER of any recogniser's output with hark's text normalisation, as one
/// JSON line.
pub fn score(args: ScoreArgs) -> Result<ExitCode> {
    use hark::eval::{ErrorCounts, char_errors, word_errors};
    use std::collections::HashMap;
    let reference = hark::data::Manifest::load(&args.reference)?;
    let hyps = hark::data::Manifest::load(&args.hypotheses)?;
    for e in reference.errors.iter().chain(&hyps.errors) {
        eprintln!("error: {e}");
    }
    let key = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let by_audio: HashMap<PathBuf, &str> = hyps
        .entries
        .iter()
        .map(|e| (key(&e.audio), e.text.as_str()))
        .collect();
    let (mut words, mut chars, mut missing) = (ErrorCounts::default(), ErrorCounts::default(), 0);
    for e in &reference.entries {
        let hyp = by_audio.get(&key(&e.audio)).copied().unwrap_or_else(|| {
            missing += 1;
            ""
        });
        words += word_errors(&e.text, hyp);
        chars += char_errors(&e.text, hyp);
    }
    let line = serde_json::json!({
        "utterances": reference.entries.len(),
        "missing_hypotheses": missing,
        "wer": words.rate(),
        "cer": chars.rate(),
        "words": words,
        "chars": chars,
    });
    println!("{line}");
    let bad = reference.errors.len() + hyps.errors.len() + missing;
    Ok(if bad > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
