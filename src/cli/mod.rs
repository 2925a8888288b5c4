//! clap-derive CLI. Each subcommand turns its arguments into library configs in one place and
//! makes one library call.

mod compare;
mod corpus;
mod eval;
mod interrupt;
mod lm;
mod score;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use hark::audio::SAMPLE_RATE;
use hark::audio::wav;
use hark::backend::DeviceSpec;
use hark::longform::{ChunkConfig, LongTranscriber};
use hark::model::CellKind;
use hark::model_dir::ModelSource;
use hark::recognizer::{Recognizer, RecognizerConfig, Transcript};
use serde::Serialize;

#[derive(Parser, Debug)]
#[command(name = "hark", version, about = "Speech recognition for noisy audio")]
struct Cli {
    /// Compute device: cpu (default, pure Rust), libtorch, cuda:N (the last two need --features tch).
    #[arg(long, global = true, default_value = "cpu")]
    device: String,
    /// Threads for tensor work (default: all cores). Feature extraction and decoding run on the
    /// calling thread.
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Transcribe WAV files.
    Transcribe(TranscribeArgs),
    /// Dump the MFCC features of a WAV file.
    Features(FeaturesArgs),
    /// Train a model from JSONL manifests.
    Train(Box<TrainArgs>),
    /// Measure WER/CER of a model on a manifest, clean and in noise.
    Eval(eval::EvalArgs),
    /// Robustness reports from `hark eval --json` side by side: a Markdown table and a plot.
    Compare(compare::CompareArgs),
    /// Score any recogniser's hypotheses (JSONL) against a manifest with hark's normalisation.
    Score(score::ScoreArgs),
    /// Live transcription from a microphone (or a WAV file fed like one).
    Listen(ListenArgs),
    /// List audio input devices.
    Devices(DevicesArgs),
    /// Build, mix and import speech corpora.
    Corpus(corpus::CorpusArgs),
    /// Build a character n-gram language model for the beam search.
    Lm(lm::LmArgs),
}

#[derive(Args, Debug)]
struct ListenArgs {
    /// Model directory (default: the built-in model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Input device id from `hark devices` (default: the system's default input).
    #[arg(long)]
    input_device: Option<String>,
    /// Read this WAV file instead of a device, through the same pipeline.
    #[arg(long, conflicts_with = "input_device")]
    input: Option<PathBuf>,
    /// With --input: deliver the file at real-time pace instead of as fast as possible.
    #[arg(long, requires = "input")]
    realtime: bool,
    /// Stop after this many seconds of audio.
    #[arg(long)]
    duration: Option<f64>,
    /// text: one line per finished utterance; json: partial and final events as JSON lines.
    #[arg(long, value_enum, default_value = "text")]
    format: ListenFormat,
    #[arg(long, default_value_t = 4)]
    beam: usize,
    #[command(flatten)]
    lm: lm::LmFlags,
    /// Seconds between partial hypotheses.
    #[arg(long, default_value_t = 0.25)]
    partial_interval: f64,
    /// Seconds of energy silence (with no new word) that end an utterance.
    #[arg(long, default_value_t = 0.2)]
    vad_silence: f64,
    /// dB above the adaptive noise floor at which a 10 ms frame counts as speech.
    #[arg(long, default_value_t = 12.0)]
    vad_threshold: f64,
    /// Seconds without a new word that end an utterance whatever the energy (loud noise).
    #[arg(long, default_value_t = 0.8)]
    max_trailing_silence: f64,
    /// Longest utterance in seconds; longer speech is cut at a word boundary.
    #[arg(long, default_value_t = 15.0)]
    max_utterance: f64,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ListenFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
struct DevicesArgs {
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum AttackArg {
    Fgsm,
    Pgd,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
    Srt,
    Vtt,
}

#[derive(Args, Debug)]
struct TranscribeArgs {
    /// Model directory (default: the built-in model).
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
    /// Beam width (1 = greedy).
    #[arg(long, default_value_t = 16)]
    beam: usize,
    #[command(flatten)]
    lm: lm::LmFlags,
    /// Monte Carlo dropout: decode the mean of N dropout samples; each word's confidence is
    /// the share of samples that agree on it (0: off; costs N forward passes).
    #[arg(long, default_value_t = 0)]
    mc_samples: usize,
    /// Audio files (WAV, FLAC, MP3, Ogg Vorbis). WAV is streamed: any length in bounded memory.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Long audio is recognised in windows of about this many seconds, cut at quiet points.
    #[arg(long, default_value_t = 20.0)]
    window: f64,
    /// Seconds of audio decoded on each side of a window, for the words at its edges.
    #[arg(long, default_value_t = 2.0)]
    window_context: f64,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FeatureFormat {
    Csv,
    Npy,
}

#[derive(Args, Debug)]
struct FeaturesArgs {
    file: PathBuf,
    #[arg(long, value_enum, default_value = "csv")]
    format: FeatureFormat,
    /// Output file (default: stdout for CSV; required for npy).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Take the feature settings of this model (default: the built-in model's, else defaults).
    #[arg(long)]
    model: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct TrainArgs {
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
    /// the training settings still apply. Ignored when --resume finds a checkpoint.
    #[arg(long, value_name = "MODEL")]
    init_from: Option<String>,
    /// Train data-parallel on these devices (comma-separated, e.g. cpu,cpu or cuda:0,cuda:1)
    /// through burn-train's multi-device step: each batch is split between them and their
    /// gradients summed on the first, which replaces --device.
    #[arg(long)]
    devices: Option<String>,
    #[arg(long)]
    epochs: Option<usize>,
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
    /// Adversarial training with this attack on the normalised features.
    #[arg(long, value_enum)]
    adversarial: Option<AttackArg>,
    /// L∞ radius of the attack (feature standard deviations).
    #[arg(long, default_value_t = 0.1)]
    adv_epsilon: f32,
    /// PGD steps.
    #[arg(long, default_value_t = 3)]
    adv_steps: usize,
    /// Fraction of batches replaced by their adversarial version.
    #[arg(long)]
    adv_ratio: Option<f64>,
    /// Standard deviation of Gaussian weight noise, drawn anew per batch.
    #[arg(long)]
    weight_noise: Option<f32>,
    /// Group DRO over noise kind × SNR bucket.
    #[arg(long)]
    dro: bool,
    /// Checkpoint every N steps as well as after each epoch.
    #[arg(long)]
    checkpoint_every: Option<usize>,
    /// Decoupled weight decay (AdamW).
    #[arg(long)]
    weight_decay: Option<f32>,
    /// Continue from OUT/checkpoint.
    #[arg(long)]
    resume: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum CellArg {
    Lstm,
    Gru,
}

/// Entry point: maps errors to exit code 2.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    let device: DeviceSpec = cli.device.parse()?;
    if let Some(n) = cli.threads {
        hark::backend::set_threads(n)?;
    }
    match cli.command {
        Command::Transcribe(args) => transcribe(args, device),
        Command::Features(args) => features(args),
        Command::Train(args) => train(*args, device),
        Command::Eval(args) => eval::eval(args, device),
        Command::Compare(args) => compare::compare(args),
        Command::Score(args) => score::score(args),
        Command::Listen(args) => listen(args, device),
        Command::Devices(args) => devices(args),
        Command::Corpus(args) => corpus::corpus(args),
        Command::Lm(args) => lm::lm(args),
    }
}

fn model_source(dir: Option<PathBuf>) -> ModelSource {
    dir.map_or(ModelSource::Embedded, ModelSource::Dir)
}

pub(crate) fn load_recognizer(
    model: Option<PathBuf>,
    device: DeviceSpec,
    beam: usize,
    lm: &lm::LmFlags,
) -> Result<Recognizer> {
    let device = device.device()?;
    let mut loaded = model_source(model).load(&device)?;
    lm.apply(&mut loaded)?;
    Ok(Recognizer::new(loaded, device, &RecognizerConfig { beam })?)
}

#[derive(Serialize)]
struct JsonLine<'a> {
    path: String,
    text: &'a str,
    #[serde(serialize_with = "hark::recognizer::millisecond")]
    duration_s: f64,
    #[serde(serialize_with = "hark::recognizer::millisecond")]
    processing_s: f64,
    /// False when the file ended in an error or a signal stopped it: the words are those
    /// before that point.
    complete: bool,
    words: &'a [hark::recognizer::Word],
}

fn transcribe(args: TranscribeArgs, device: DeviceSpec) -> Result<ExitCode> {
    let mut rec = load_recognizer(args.model, device, args.beam, &args.lm)?;
    if args.mc_samples > 0 {
        rec = rec.with_mc_dropout(args.mc_samples, 0)?;
    }
    let chunks = ChunkConfig {
        window_s: args.window,
        context_s: args.window_context,
        search_s: (args.window / 5.0).min(4.0),
    };
    chunks.validate()?;
    let stop = interrupt::flag()?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut failed = 0usize;
    let many = args.files.len() > 1;
    for (i, path) in args.files.iter().enumerate() {
        if interrupt::raised(&stop) {
            eprintln!(
                "interrupted: {} file(s) not transcribed, from {}",
                args.files.len() - i,
                path.display()
            );
            return Ok(ExitCode::from(interrupt::EXIT_CODE));
        }
        let started = Instant::now();
        let (t, error) = match transcribe_file(&rec, path, chunks, &stop) {
            Ok(done) => done,
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
                continue;
            }
        };
        let processing_s = started.elapsed().as_secs_f64();
        let complete = error.is_none() && !interrupt::raised(&stop);
        let outcome = Outcome {
            processing_s,
            complete,
        };
        write_transcript(&mut out, args.format, path, &t, outcome, many)?;
        out.flush()?;
        if let Some(e) = error {
            eprintln!(
                "error: {e} (kept the words before it, up to {:.2} s)",
                t.duration_s
            );
            failed += 1;
        }
    }
    if interrupt::raised(&stop) {
        eprintln!("interrupted: the last file's transcript stops where the signal came");
        return Ok(ExitCode::from(interrupt::EXIT_CODE));
    }
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Stream one file through the windowed recogniser. An error that comes after some audio
/// (a truncated or corrupt stretch) is returned beside the words recognised before it.
fn transcribe_file(
    rec: &Recognizer,
    path: &Path,
    chunks: ChunkConfig,
    stop: &interrupt::Flag,
) -> hark::Result<(Transcript, Option<hark::Error>)> {
    let mut blocks = hark::audio::AudioBlocks::open(path)?;
    let mut long = LongTranscriber::new(rec, chunks)?;
    let mut words = Vec::new();
    let mut error = None;
    while !interrupt::raised(stop) {
        match blocks.next_block(SAMPLE_RATE as usize) {
            Ok(Some(block)) => words.extend(long.push(&block)),
            Ok(None) => break,
            Err(e) if long.seconds() == 0.0 => return Err(e),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let seconds = long.seconds();
    words.extend(long.finish());
    Ok((hark::longform::transcript(words, seconds), error))
}

/// How a file's transcription went.
#[derive(Clone, Copy)]
struct Outcome {
    processing_s: f64,
    complete: bool,
}

fn write_transcript(
    out: &mut impl Write,
    format: OutputFormat,
    path: &Path,
    t: &Transcript,
    outcome: Outcome,
    many: bool,
) -> Result<()> {
    match format {
        OutputFormat::Text if many => writeln!(out, "{}: {}", path.display(), t.text)?,
        OutputFormat::Text => writeln!(out, "{}", t.text)?,
        OutputFormat::Json => {
            let line = JsonLine {
                path: path.display().to_string(),
                text: &t.text,
                duration_s: t.duration_s,
                processing_s: outcome.processing_s,
                complete: outcome.complete,
                words: &t.words,
            };
            writeln!(out, "{}", serde_json::to_string(&line)?)?;
        }
        OutputFormat::Srt | OutputFormat::Vtt => {
            let vtt = matches!(format, OutputFormat::Vtt);
            if vtt {
                writeln!(out, "WEBVTT\n")?;
            }
            for (i, cue) in t.words.chunks(7).enumerate() {
                let (Some(first), Some(last)) = (cue.first(), cue.last()) else {
                    continue;
                };
                let text: Vec<&str> = cue.iter().map(|w| w.word.as_str()).collect();
                if !vtt {
                    writeln!(out, "{}", i + 1)?;
                }
                writeln!(
                    out,
                    "{} --> {}\n{}\n",
                    timestamp(first.start, vtt),
                    timestamp(last.end, vtt),
                    text.join(" ")
                )?;
            }
        }
    }
    Ok(())
}

fn timestamp(seconds: f64, vtt: bool) -> String {
    let ms = (seconds * 1000.0).round() as u64;
    let sep = if vtt { '.' } else { ',' };
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn features(args: FeaturesArgs) -> Result<ExitCode> {
    let cfg = match args.model {
        Some(dir) => ModelSource::Dir(dir).read()?.0.features,
        None if hark::model_dir::has_embedded() => ModelSource::Embedded.read()?.0.features,
        None => hark::features::MfccConfig::default(),
    };
    let mfcc = hark::features::Mfcc::new(cfg).map_err(anyhow::Error::msg)?;
    let wave = wav::read(&args.file)?;
    let feats = mfcc.compute(&wave);
    match args.format {
        FeatureFormat::Csv => {
            let mut text = String::new();
            for t in 0..feats.num_frames {
                let row: Vec<String> = feats.frame(t).iter().map(|v| format!("{v}")).collect();
                text.push_str(&row.join(","));
                text.push('\n');
            }
            match args.output {
                Some(p) => std::fs::write(&p, text).with_context(|| p.display().to_string())?,
                None => std::io::stdout().write_all(text.as_bytes())?,
            }
        }
        FeatureFormat::Npy => {
            let Some(p) = args.output else {
                bail!("--format npy needs --output FILE");
            };
            std::fs::write(&p, npy_bytes(&feats.data, feats.num_frames, feats.dim))
                .with_context(|| p.display().to_string())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A little-endian f32 NumPy .npy (format 1.0) of shape `[rows, cols]`.
fn npy_bytes(data: &[f32], rows: usize, cols: usize) -> Vec<u8> {
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

fn train(args: TrainArgs, device: DeviceSpec) -> Result<ExitCode> {
    use hark::train::{TrainOptions, TrainingConfig};
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
        let (lo, hi) = range
            .split_once(',')
            .and_then(|(a, b)| Some((a.trim().parse().ok()?, b.trim().parse().ok()?)))
            .with_context(|| format!("--snr-range '{range}': expected LOW,HIGH in dB"))?;
        (cfg.snr_min_db, cfg.snr_max_db) = (lo, hi);
    }
    cfg.snr_curriculum |= args.snr_curriculum;
    set!(cfg.reverb_prob, args.reverb_prob);
    set!(cfg.channel_prob, args.channel_prob);
    set!(cfg.spec_augment_prob, args.spec_augment_prob);
    set!(cfg.adversarial_ratio, args.adv_ratio);
    set!(cfg.weight_noise, args.weight_noise);
    set!(cfg.checkpoint_every, args.checkpoint_every);
    set!(cfg.weight_decay, args.weight_decay);
    cfg.dro |= args.dro;
    if let Some(attack) = args.adversarial {
        cfg.adversarial = Some(match attack {
            AttackArg::Fgsm => hark::adversarial::AttackConfig::fgsm(args.adv_epsilon),
            AttackArg::Pgd => {
                hark::adversarial::AttackConfig::pgd(args.adv_epsilon, args.adv_steps)
            }
        });
    }
    if let Some(cell) = args.cell {
        cfg.model.cell = match cell {
            CellArg::Lstm => CellKind::Lstm,
            CellArg::Gru => CellKind::Gru,
        };
    }
    if args.unidirectional {
        // A streaming model cannot normalise over the whole utterance: global statistics
        // measured on the training data replace per-utterance CMVN.
        cfg.model.bidirectional = false;
        cfg.features.cmvn = false;
    }
    let init_from = match args.init_from.as_deref() {
        None => None,
        Some("builtin") => Some(ModelSource::Embedded),
        Some(dir) => Some(ModelSource::Dir(PathBuf::from(dir))),
    };
    if let Some(source) = &init_from {
        let (start, _) = source.read()?;
        let dropout = cfg.model.dropout;
        cfg.model = start.model;
        cfg.model.dropout = dropout;
        cfg.features = start.features;
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
        progress: !args.quiet,
        command: std::env::args().collect::<Vec<_>>().join(" "),
    };
    let report = hark::train::run(&cfg, &opts)?;
    if report.epochs_run == 0 && report.final_loss.is_nan() {
        eprintln!(
            "nothing to train: the checkpoint in {} has finished its {} epochs (raise --epochs to go on)",
            args.out.display(),
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
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
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

fn devices(args: DevicesArgs) -> Result<ExitCode> {
    let list = hark::audio::capture::list_input_devices()?;
    if list.is_empty() {
        eprintln!("no input devices found");
        return Ok(ExitCode::from(1));
    }
    for d in list {
        if args.json {
            println!("{}", serde_json::to_string(&d)?);
        } else {
            println!(
                "{} {}  ({}; default {} Hz, {} ch, {})",
                if d.is_default { "*" } else { " " },
                d.id,
                d.description,
                d.sample_rate,
                d.channels,
                d.sample_format
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_events(events: &[hark::live::Event], format: ListenFormat) -> Result<()> {
    use hark::live::Event;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for e in events {
        match (format, e) {
            (ListenFormat::Json, e) => writeln!(out, "{}", serde_json::to_string(e)?)?,
            (
                ListenFormat::Text,
                Event::Final {
                    text, start, end, ..
                },
            ) => writeln!(out, "[{start:7.2} - {end:7.2}] {text}")?,
            (ListenFormat::Text, Event::Partial { .. }) => {}
        }
    }
    out.flush()?;
    Ok(())
}

fn listen(args: ListenArgs, device: DeviceSpec) -> Result<ExitCode> {
    use hark::live::{EndpointConfig, LiveRecognizer};
    use std::time::Duration;

    let rec = load_recognizer(args.model, device, args.beam, &args.lm)?;
    let cfg = EndpointConfig {
        partial_interval_s: args.partial_interval,
        vad_silence_s: args.vad_silence,
        max_trailing_silence_s: args.max_trailing_silence,
        max_utterance_s: args.max_utterance,
        vad: hark::live::vad::VadConfig {
            threshold_db: args.vad_threshold,
            ..Default::default()
        },
    };
    let mut live = LiveRecognizer::new(&rec, cfg);
    let limit = args
        .duration
        .map(|d| (d.max(0.0) * SAMPLE_RATE as f64) as u64);
    let stop = interrupt::flag()?;
    let mut fed = 0u64;
    // Feed 16 kHz samples, respecting --duration; returns false once the limit is reached.
    let mut feed = |samples: &[f32], live: &mut LiveRecognizer| -> Result<bool> {
        let take = match limit {
            Some(l) => (l.saturating_sub(fed) as usize).min(samples.len()),
            None => samples.len(),
        };
        fed += take as u64;
        print_events(&live.push(&samples[..take]), args.format)?;
        Ok(limit.is_none_or(|l| fed < l))
    };

    if let Some(path) = &args.input {
        // Same path as a device: native rate, blocks of the capture size, streaming resampler.
        let wave = wav::read_native(path)?;
        let rate = wave.sample_rate();
        let mut resampler =
            hark::audio::stream::StreamResampler::new(rate).map_err(anyhow::Error::msg)?;
        let block = ((rate as f32 * hark::audio::capture::BLOCK_SECONDS) as usize).max(1);
        let started = Instant::now();
        for (i, c) in wave.samples().chunks(block).enumerate() {
            if interrupt::raised(&stop) || !feed(&resampler.push(c), &mut live)? {
                break;
            }
            if args.realtime {
                let due = Duration::from_secs_f64((i + 1) as f64 * block as f64 / rate as f64);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
        }
        print_events(&live.finish(), args.format)?;
        return Ok(ExitCode::SUCCESS);
    }

    let capture = hark::audio::capture::Capture::start(args.input_device.as_deref())?;
    eprintln!(
        "listening on {} ({} Hz); Ctrl-C to stop",
        capture.device, capture.sample_rate
    );
    let mut resampler = hark::audio::stream::StreamResampler::new(capture.sample_rate)
        .map_err(anyhow::Error::msg)?;
    let mut lost_device = false;
    loop {
        if interrupt::raised(&stop) {
            break;
        }
        if capture.failed() {
            lost_device = true;
            break;
        }
        match capture.chunks.recv_timeout(Duration::from_millis(100)) {
            Ok(chunk) => {
                let samples = resampler.push(&chunk);
                if !feed(&samples, &mut live)? {
                    break;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                lost_device = true;
                break;
            }
        }
    }
    print_events(&live.finish(), args.format)?;
    if capture.overflows() > 0 {
        eprintln!(
            "warning: {} audio chunks dropped because recognition fell behind",
            capture.overflows()
        );
    }
    if lost_device {
        eprintln!(
            "error: input device {} stopped delivering audio",
            capture.device
        );
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
