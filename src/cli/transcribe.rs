//! `hark transcribe`: audio files to text, JSON lines or subtitles, long ones in windows.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use super::output::{Outcome, TranscriptFormat, write_transcript};
use anyhow::Result;
use clap::{Args, ValueEnum};
use hark::backend::DeviceSpec;
use hark::longform::{ChunkConfig, transcribe_file};

use super::{interrupt, lm};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
    Srt,
    Vtt,
}

impl From<OutputFormat> for TranscriptFormat {
    fn from(f: OutputFormat) -> Self {
        match f {
            OutputFormat::Text => Self::Text,
            OutputFormat::Json => Self::Json,
            OutputFormat::Srt => Self::Srt,
            OutputFormat::Vtt => Self::Vtt,
        }
    }
}

#[derive(Args, Debug)]
pub struct TranscribeArgs {
    /// Model directory, or `builtin` / `builtin:streaming` (default: the built-in model).
    #[arg(long)]
    model: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "text")]
    format: OutputFormat,
    /// Beam width (1 = greedy).
    #[arg(long, default_value_t = hark::recognizer::DEFAULT_BEAM)]
    beam: usize,
    #[command(flatten)]
    split: super::SplitPauseFlag,
    #[command(flatten)]
    lm: lm::LmFlags,
    /// Leave out words whose (calibrated) confidence is below X, in place of the model's own
    /// threshold (`calibration.min_confidence` in its config.json, chosen by `hark tune`); 0
    /// keeps every word.
    #[arg(long, value_name = "X")]
    min_confidence: Option<f32>,
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

pub fn transcribe(args: TranscribeArgs, device: DeviceSpec) -> Result<ExitCode> {
    let mut rec = super::load_recognizer(
        super::model_source(args.model),
        device,
        args.split.config(args.beam),
        &args.lm,
    )?;
    if args.mc_samples > 0 {
        rec = rec.with_mc_dropout(args.mc_samples, 0)?;
    }
    if let Some(min) = args.min_confidence {
        rec = rec.with_min_confidence(Some(min));
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
        let outcome = Outcome {
            processing_s: started.elapsed().as_secs_f64(),
            complete: error.is_none() && !interrupt::raised(&stop),
        };
        write_transcript(&mut out, args.format.into(), path, &t, outcome, many)?;
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
