//! `hark corpus synth`: a multi-speaker corpus from several speech synthesisers.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use hark::corpus::kokoro::{Kokoro, max_blends};
use hark::corpus::synth::{SynthConfig, run};
use hark::corpus::voices::{Engine, ExtraEngines, PiperVoice};

#[derive(Args, Debug)]
pub struct SynthArgs {
    /// Output directory (WAVs, {train,dev,test}.jsonl, digits_*.jsonl, summary.json).
    #[arg(long)]
    out: PathBuf,
    /// Comma-separated text files, one sentence per line (normalised on reading). Default:
    /// the texts built into hark (data/sentences.txt and data/wordnet_examples.txt).
    #[arg(long, value_delimiter = ',')]
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
    /// Connected-digit utterances for train (dev and test get a tenth each); none unless asked.
    #[arg(long, default_value_t = 0)]
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
    /// Add Kokoro-82M's 28 English voices (22 train, 3 dev, 3 test; half of each split), from
    /// the directory `scripts/setup-kokoro.sh DIR` made.
    #[arg(long, value_name = "DIR")]
    kokoro: Option<PathBuf>,
    /// With --kokoro: replace its 22 training voices by this many new voices, each a mix of
    /// two of them of one sex (named FIRST+SECOND@W, W the first voice's share). The dev and
    /// test voices are never mixed in.
    #[arg(long, default_value_t = 0, requires = "kokoro")]
    kokoro_blends: usize,
    /// Only these engines' voices, comma-separated: espeak, flite, festival, piper, kokoro
    /// (default: every engine installed or given).
    #[arg(long, value_delimiter = ',', value_parser = parse_engine)]
    engines: Option<Vec<Engine>>,
}

fn parse_engine(name: &str) -> std::result::Result<Engine, String> {
    Engine::parse(name).ok_or_else(|| {
        let names: Vec<&str> = Engine::ALL.iter().map(|e| e.name()).collect();
        format!("no engine '{name}' (one of {})", names.join(", "))
    })
}

/// Mean utterance length of the main sets, used to turn --hours into a count.
const MEAN_UTTERANCE_S: f64 = 2.56;

pub fn synth(a: SynthArgs) -> Result<ExitCode> {
    if a.kokoro_blends > max_blends() {
        bail!(
            "--kokoro-blends: at most {} distinct blends exist",
            max_blends()
        );
    }
    let kokoro = a.kokoro.map(|dir| Kokoro {
        dir,
        blends: a.kokoro_blends,
    });
    if let Some(missing) = kokoro.as_ref().and_then(Kokoro::missing) {
        bail!(
            "--kokoro: {} is missing; run `sh scripts/setup-kokoro.sh DIR` first",
            missing.display()
        );
    }
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
        extra: ExtraEngines {
            piper: a
                .piper_model
                .zip(a.piper_python)
                .map(|(model, python)| PiperVoice { python, model }),
            kokoro,
        },
        engines: a.engines,
    };
    let printer = crate::cli::progress::SynthPrinter::default();
    let s = run(&cfg, &|event| printer.event(event));
    printer.finish();
    let s = s?;
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
