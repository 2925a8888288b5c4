//! `hark corpus`: build, mix and import speech corpora.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};
use hark::corpus::synth::{SynthConfig, run};
use hark::corpus::voices::PiperVoice;

#[derive(Args, Debug)]
pub struct CorpusArgs {
    #[command(subcommand)]
    command: CorpusCommand,
}

#[derive(Subcommand, Debug)]
enum CorpusCommand {
    /// Synthesise a multi-speaker corpus with espeak-ng, flite, festival (and piper).
    Synth(SynthArgs),
    /// Make a fixed noisy copy of a manifest: every utterance x noise x SNR (active speech).
    Mix(MixArgs),
    /// Make a babble-noise clip from several talkers of a corpus.
    Babble(BabbleArgs),
    /// Import LibriSpeech, Common Voice, a Kaldi data dir or a folder of x.wav + x.txt.
    Import(ImportArgs),
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LayoutArg {
    Librispeech,
    CommonVoice,
    Kaldi,
    Folder,
    /// The voice-acted games in Debian (beneath-a-steel-sky, flight-of-the-amazon-queen).
    Games,
}

#[derive(Args, Debug)]
struct ImportArgs {
    #[arg(long, value_enum)]
    format: LayoutArg,
    /// The corpus directory (Common Voice: the directory with validated.tsv, or a .tsv file).
    source: PathBuf,
    /// Manifest to write (JSONL).
    #[arg(long)]
    out: PathBuf,
    /// Also write the validation report as JSON.
    #[arg(long)]
    report: Option<PathBuf>,
    /// `--format games`: the clips' transcripts (data/games/labels.jsonl, made by
    /// scripts/label_games.py). Without it the clips are only extracted.
    #[arg(long)]
    labels: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct MixArgs {
    /// Manifest to corrupt.
    #[arg(long)]
    manifest: PathBuf,
    /// Comma-separated noises: white, pink, brown, noise-bank names, or WAV files.
    #[arg(long)]
    noise: String,
    /// Comma-separated SNRs in dB (signal power over active speech only).
    #[arg(long, default_value = "20,15,10,5,0,-5")]
    snr: String,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_os_t = hark::noise::default_bank_dir())]
    noise_bank: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args, Debug)]
struct BabbleArgs {
    /// Manifest of the talkers (use a training split only).
    #[arg(long)]
    manifest: PathBuf,
    #[arg(long, default_value_t = 6)]
    talkers: usize,
    #[arg(long, default_value_t = 12.0)]
    seconds: f64,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args, Debug)]
struct SynthArgs {
    /// Output directory (WAVs, {train,dev,test}.jsonl, digits_*.jsonl, summary.json).
    #[arg(long)]
    out: PathBuf,
    /// Comma-separated text files, one sentence per line (normalised on reading).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "data/sentences.txt,data/wordnet_examples.txt"
    )]
    sentences: Vec<PathBuf>,
    /// Hours of training audio to aim for (about 2.56 s per utterance); overrides --train.
    #[arg(long)]
    hours: Option<f64>,
    /// Training utterances.
    #[arg(long, default_value_t = 4000)]
    train: usize,
    #[arg(long, default_value_t = 400)]
    dev: usize,
    #[arg(long, default_value_t = 400)]
    test: usize,
    /// Connected-digit utterances for train (dev and test get a tenth each); 0 for none.
    #[arg(long, default_value_t = 1000)]
    digits: usize,
    /// Share of utterances that are generated numbers, dates, times and commands.
    #[arg(long, default_value_t = 0.15)]
    prompt_share: f64,
    #[arg(long, default_value_t = 3)]
    min_words: usize,
    #[arg(long, default_value_t = 14)]
    max_words: usize,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Parallel synthesis jobs (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// A piper voice (.onnx) to add to the training voices; needs --piper-python.
    #[arg(long, requires = "piper_python")]
    piper_model: Option<PathBuf>,
    /// Python with `piper-tts` installed.
    #[arg(long, requires = "piper_model")]
    piper_python: Option<PathBuf>,
}

/// Mean utterance length of the main sets, used to turn --hours into a count.
const MEAN_UTTERANCE_S: f64 = 2.56;

pub fn corpus(args: CorpusArgs) -> Result<ExitCode> {
    match args.command {
        CorpusCommand::Synth(a) => synth(a),
        CorpusCommand::Mix(a) => mix(a),
        CorpusCommand::Import(a) => import(a),
        CorpusCommand::Babble(a) => {
            let wave = hark::corpus::mix::babble(&a.manifest, a.talkers, a.seconds, a.seed)?;
            hark::audio::wav::write(&a.out, &wave)?;
            println!(
                "{}: {:.1} s of {}-talker babble",
                a.out.display(),
                wave.duration_s(),
                a.talkers
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn mix(a: MixArgs) -> Result<ExitCode> {
    let bank = hark::noise::NoiseBank::open(&a.noise_bank).ok();
    let noises = a
        .noise
        .split(',')
        .map(|n| hark::noise::resolve(n.trim(), bank.as_ref()))
        .collect::<hark::Result<Vec<_>>>()?;
    let snrs = a
        .snr
        .split(',')
        .map(|s| {
            s.trim()
                .parse::<f32>()
                .map_err(|_| anyhow::anyhow!("bad SNR '{s}'"))
        })
        .collect::<Result<Vec<_>>>()?;
    let report = hark::corpus::mix::mix(&a.manifest, &noises, &snrs, &a.out, a.seed)?;
    for f in &report.failed {
        eprintln!("error: {f}");
    }
    for (name, path) in &report.manifests {
        println!("{name:<24} {}", path.display());
    }
    println!("{} noisy utterances", report.utterances);
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn synth(a: SynthArgs) -> Result<ExitCode> {
    let train = a.hours.map_or(a.train, |h| {
        (h * 3600.0 / MEAN_UTTERANCE_S).round() as usize
    });
    let jobs = a
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    let cfg = SynthConfig {
        sentences: a.sentences,
        out: a.out,
        counts: [train, a.dev, a.test],
        digit_counts: [a.digits, a.digits / 10, a.digits / 10],
        prompt_share: a.prompt_share,
        min_words: a.min_words,
        max_words: a.max_words,
        seed: a.seed,
        jobs,
        piper: a
            .piper_model
            .zip(a.piper_python)
            .map(|(model, python)| PiperVoice { python, model }),
        progress: true,
    };
    let s = run(&cfg)?;
    println!(
        "{:<14} {:>6} {:>8} {:>9} {:>7}",
        "set", "hours", "utts", "speakers", "failed"
    );
    for (name, set) in &s.sets {
        println!(
            "{name:<14} {:>6.2} {:>8} {:>9} {:>7}",
            set.hours, set.utterances, set.speakers, set.failed
        );
    }
    println!(
        "texts: {} distinct sentences, {} generated prompts",
        s.sentences, s.prompts
    );
    println!(
        "synthesised {} (reused {}) in {:.0} s: {:.1} h of audio per hour with {} jobs",
        s.synthesised, s.reused, s.seconds, s.speed, jobs
    );
    Ok(if s.failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn import(a: ImportArgs) -> Result<ExitCode> {
    use hark::corpus::import::Layout;
    if let LayoutArg::Games = a.format {
        return import_games(a);
    }
    let layout = match a.format {
        LayoutArg::Games => unreachable!("handled above"),
        LayoutArg::Librispeech => Layout::LibriSpeech,
        LayoutArg::CommonVoice => Layout::CommonVoice,
        LayoutArg::Kaldi => Layout::Kaldi,
        LayoutArg::Folder => Layout::Folder,
    };
    let report = hark::corpus::import::import(layout, &a.source, &a.out)?;
    print_skips(&report.problems);
    print_summary(&a.out.display().to_string(), &report);
    finish(a.report.as_deref(), &report, report.problems.is_empty())
}

fn import_games(a: ImportArgs) -> Result<ExitCode> {
    let report = hark::corpus::games::import(&a.source, &a.out, a.labels.as_deref())?;
    print_skips(&report.extract_failures);
    for (game, (clips, hours)) in &report.extracted {
        println!("{game}: {clips} clips extracted, {hours:.2} h");
    }
    if report.unlabelled > 0 {
        println!("{} clips without a label", report.unlabelled);
    }
    for (split, r) in &report.splits {
        print_summary(split, r);
        if let Some(speakers) = report.speakers.get(split) {
            println!("  speakers: {}", speakers.join(", "));
        }
    }
    for (why, n) in &report.held_out {
        println!("held out: {n} ({why})");
    }
    finish(
        a.report.as_deref(),
        &report,
        report.extract_failures.is_empty(),
    )
}

/// One line of utterances, hours and skips, then the skips by kind.
fn print_summary(name: &str, report: &hark::corpus::import::ImportReport) {
    println!(
        "{name}: {} utterances, {:.2} h; {} skipped",
        report.accepted,
        report.hours,
        report.problems.len()
    );
    for (kind, n) in report.counts() {
        println!("  {kind:?}: {n}");
    }
}

fn print_skips(problems: &[hark::corpus::import::Problem]) {
    for p in problems {
        eprintln!("skipped {} ({:?}): {}", p.entry, p.kind, p.detail);
    }
}

/// Write the report as JSON when asked; exit 0 when nothing was skipped, else 1.
fn finish(
    path: Option<&std::path::Path>,
    report: &impl serde::Serialize,
    clean: bool,
) -> Result<ExitCode> {
    if let Some(path) = path {
        std::fs::write(path, serde_json::to_string_pretty(report)?)?;
    }
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
