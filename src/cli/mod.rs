//! clap-derive CLI, one file per subcommand. Each turns its arguments into library configs in
//! one place, makes the library calls and prints what they return.

mod average;
mod compare;
mod corpus;
mod devices;
mod eval;
mod features;
mod interrupt;
mod listen;
mod lm;
mod output;
mod progress;
mod score;
mod speech_head;
mod train;
mod transcribe;
mod tune;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use hark::backend::DeviceSpec;
use hark::model_dir::ModelSource;
use hark::recognizer::{Recognizer, RecognizerConfig};

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
    Transcribe(transcribe::TranscribeArgs),
    /// Dump the MFCC features of a WAV file.
    Features(features::FeaturesArgs),
    /// Train a model from JSONL manifests.
    Train(Box<train::TrainArgs>),
    /// Measure WER/CER of a model on a manifest, clean and in noise.
    Eval(eval::EvalArgs),
    /// Robustness reports from `hark eval --json` side by side: a Markdown table and a plot.
    Compare(compare::CompareArgs),
    /// Score any recogniser's hypotheses (JSONL) against a manifest with hark's normalisation.
    Score(score::ScoreArgs),
    /// Live transcription from a microphone (or a WAV file fed like one).
    Listen(listen::ListenArgs),
    /// List audio input devices.
    Devices(devices::DevicesArgs),
    /// Build, mix and import speech corpora.
    Corpus(corpus::CorpusArgs),
    /// Build a character or word (--words, Kneser-Ney, ARPA out) n-gram LM for the beam search.
    Lm(lm::LmArgs),
    /// Tune the language-model weights of the beam search on a dev manifest.
    Tune(tune::TuneArgs),
    /// Fit a streaming model's speech-activity head, which ends live utterances in noise.
    SpeechHead(speech_head::SpeechHeadArgs),
    /// Average the weights of models of one architecture (checkpoint averaging).
    Average(average::AverageArgs),
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
        Command::Transcribe(args) => transcribe::transcribe(args, device),
        Command::Features(args) => features::features(args),
        Command::Train(args) => train::train(*args, device),
        Command::Eval(args) => eval::eval(args, device),
        Command::Compare(args) => compare::compare(args),
        Command::Score(args) => score::score(args),
        Command::Listen(args) => listen::listen(args, device),
        Command::Devices(args) => devices::devices(args),
        Command::Corpus(args) => corpus::corpus(args),
        Command::Lm(args) => lm::lm(args),
        Command::Tune(args) => tune::tune(args, device),
        Command::SpeechHead(args) => speech_head::speech_head(args, device),
        Command::Average(args) => average::average(args, device),
    }
}

/// `--model`'s value: a directory or a built-in model's name; the built-in default when absent.
fn model_source(dir: Option<PathBuf>) -> ModelSource {
    dir.map_or(ModelSource::BUILT_IN, |d| ModelSource::parse(&d))
}

/// `--split-pause` of `transcribe` and `eval`.
#[derive(Args, Debug, Clone)]
pub(crate) struct SplitPauseFlag {
    /// With language models, search the stretches between pauses of at least S seconds one at
    /// a time, each its own sentence for the LMs, as separate clips would be; 0 searches each
    /// file (or window of a long one) whole. Not under a grammar.
    #[arg(long = "split-pause", value_name = "S", default_value_t = hark::recognizer::DEFAULT_SPLIT_PAUSE_S)]
    split_pause_s: f64,
}

impl SplitPauseFlag {
    pub(crate) fn seconds(&self) -> f64 {
        self.split_pause_s
    }

    /// The recogniser's settings at beam `beam`.
    pub(crate) fn config(&self, beam: usize) -> RecognizerConfig {
        RecognizerConfig {
            beam,
            split_pause_s: self.split_pause_s,
        }
    }
}

pub(crate) fn load_recognizer(
    source: ModelSource,
    device: DeviceSpec,
    config: RecognizerConfig,
    lm: &lm::LmFlags,
) -> Result<Recognizer> {
    let device = device.device()?;
    let mut loaded = source.load(&device)?;
    lm.apply(&source, &mut loaded)?;
    if config.beam <= 1 && lm.grammar.is_none() {
        // Greedy decoding ignores what the model ships for the beam search, its grammar as
        // its LMs; a --grammar given with it is an error (Recognizer::new).
        loaded.guides.grammar = None;
    }
    Ok(Recognizer::new(loaded, device, &config)?)
}
