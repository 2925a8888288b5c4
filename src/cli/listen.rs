//! `hark listen`: live transcription from a microphone, or a WAV file fed like one.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use hark::backend::DeviceSpec;
use hark::live::{EndpointConfig, Event, SessionConfig, Source, Update};
use hark::model_dir::ModelSource;
use hark::recognizer::RecognizerConfig;

use super::{interrupt, lm};

#[derive(Args, Debug)]
pub struct ListenArgs {
    /// Model directory, or `builtin` / `builtin:streaming` (default: the built-in streaming
    /// model when this binary carries one, else the built-in model).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Input device id from `hark devices` (default: the system's default input).
    #[arg(long)]
    input_device: Option<String>,
    /// Read this audio file (any format `transcribe` reads) instead of a device, through the
    /// same pipeline.
    #[arg(long, conflicts_with = "input_device")]
    input: Option<PathBuf>,
    /// With --input: deliver the file at real-time pace, as a microphone would (each block once
    /// its last sample would have been captured), instead of as fast as possible; "listening
    /// on" is printed when it starts playing.
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
    #[arg(long, default_value_t = EndpointConfig::default().vad_silence_s)]
    vad_silence: f64,
    /// dB above the adaptive noise floor at which a 10 ms frame counts as speech.
    #[arg(long, default_value_t = 12.0)]
    vad_threshold: f64,
    /// Seconds without a new word that end an utterance whatever the energy (loud noise).
    #[arg(long, default_value_t = 0.8)]
    max_trailing_silence: f64,
    /// ... or in which at most this share of the model's frames are not blank-dominated
    /// (stray letters read into noise do not hold an utterance open; 0: off).
    #[arg(long, default_value_t = 0.2)]
    max_trailing_speech: f64,
    /// P(blank) at or above which a model frame counts as blank-dominated.
    #[arg(long, default_value_t = 0.8)]
    blank_threshold: f32,
    /// Longest utterance in seconds; longer speech is cut at a word boundary.
    #[arg(long, default_value_t = 15.0)]
    max_utterance: f64,
    /// With a model that has a speech head (the built-in streaming model): seconds in which
    /// the head hears no speech that end an utterance, whatever the noise (default: the time
    /// recorded with the head in the model's config.json, else 0.3).
    #[arg(long, value_parser = super::speech_head::end_seconds)]
    speech_end: Option<f64>,
    /// With a speech head: seconds of non-speech it must hear before the model-silence end
    /// (`--max-trailing-silence`, `--max-trailing-speech`) counts.
    #[arg(long, default_value_t = EndpointConfig::default().model_end_head_s)]
    model_end_head: f64,
    /// With a speech head and a word LM: seconds of non-speech that end an utterance whose
    /// words the LM expects a sentence to end with (`--sentence-end-prob`), sooner than
    /// `--speech-end` (default: off).
    #[arg(long, value_parser = super::speech_head::end_seconds)]
    sentence_end: Option<f64>,
    /// The word LM's p(</s>) after the words so far at or above which `--sentence-end` applies.
    #[arg(long, default_value_t = EndpointConfig::default().sentence_end_prob,
          value_parser = probability)]
    sentence_end_prob: f64,
}

/// A probability from 0 to 1.
fn probability(s: &str) -> std::result::Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("must be a probability from 0 to 1, not {s:?}")),
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ListenFormat {
    Text,
    Json,
}

pub fn listen(args: ListenArgs, device: DeviceSpec) -> Result<ExitCode> {
    let source = args
        .model
        .map_or_else(ModelSource::live_default, |m| ModelSource::parse(&m));
    let rec = super::load_recognizer(
        source,
        device,
        RecognizerConfig::with_beam(args.beam),
        &args.lm,
    )?;
    let cfg = SessionConfig {
        endpoint: EndpointConfig {
            partial_interval_s: args.partial_interval,
            vad_silence_s: args.vad_silence,
            max_trailing_silence_s: args.max_trailing_silence,
            blank_threshold: args.blank_threshold,
            max_trailing_speech_fraction: args.max_trailing_speech,
            max_utterance_s: args.max_utterance,
            head_silence_s: args.speech_end,
            model_end_head_s: args.model_end_head,
            sentence_end_s: args.sentence_end,
            sentence_end_prob: args.sentence_end_prob,
            vad: hark::live::vad::VadConfig {
                threshold_db: args.vad_threshold,
                ..Default::default()
            },
        },
        max_seconds: args.duration,
    };
    let source = match args.input {
        Some(path) => Source::File {
            path,
            realtime: args.realtime,
        },
        None => Source::Device(args.input_device),
    };
    let stop = interrupt::flag()?;
    let summary = hark::live::run(&rec, &source, &cfg, &stop, |update| match update {
        Update::Listening {
            device,
            sample_rate,
        } => {
            eprintln!("listening on {device} ({sample_rate} Hz); Ctrl-C to stop");
            Ok(())
        }
        Update::Event(e) => print_event(&e, args.format),
    })?;
    if summary.dropped_blocks > 0 {
        eprintln!(
            "warning: {} audio chunks dropped because recognition fell behind",
            summary.dropped_blocks
        );
    }
    if let Some(device) = summary.lost_device {
        eprintln!("error: input device {device} stopped delivering audio");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn print_event(e: &Event, format: ListenFormat) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
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
    out.flush()?;
    Ok(())
}
