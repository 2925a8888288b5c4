//! `hark speech-head`: fit a streaming model's speech-activity head on utterances laid between
//! gaps, with training noise over the whole, and report how well it holds up on held-out ones.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use hark::augment::{self, NoiseColor};
use hark::backend::DeviceSpec;
use hark::data::Manifest;
use hark::live::speech_head::{self, FitConfig, SpeechHead, TrainingStream};
use hark::model_dir::ModelSource;
use hark::noise::{Noise, NoiseBank, NoiseSplit};
use hark::recognizer::{Recognizer, RecognizerConfig};
use rand::RngExt;
use rand::seq::SliceRandom;

#[derive(Args, Debug)]
pub struct SpeechHeadArgs {
    /// Streaming model directory, or `builtin:streaming`.
    #[arg(long, default_value = "builtin:streaming")]
    model: PathBuf,
    /// Training utterances (JSONL manifest); a random subset is used.
    #[arg(long)]
    train: PathBuf,
    /// Noise bank whose train clips are mixed over the streams, with white, pink and brown
    /// noise (test clips are never used).
    #[arg(long, default_value = "audio/noise")]
    noise_bank: PathBuf,
    /// The noises to draw from, comma-separated (white, pink, brown or the bank's train clips;
    /// a name given twice is drawn twice as often). Default: all of them, evenly.
    #[arg(long)]
    noises: Option<String>,
    /// Utterances to lay into streams; a fifth are held out to measure the head.
    #[arg(long, default_value_t = 1500)]
    utterances: usize,
    /// Lowest and highest SNR in dB of the noise over a stream (one in seven stays clean).
    #[arg(long, default_value = "-5,25", allow_hyphen_values = true)]
    snr_range: String,
    /// Frames (30 ms) of the causal moving average the endpointer thresholds.
    #[arg(long, default_value_t = 5)]
    window: usize,
    /// Moving average of P(speech) below which a frame is non-speech.
    #[arg(long, default_value_t = 0.5)]
    threshold: f32,
    /// Seconds of non-speech that end a live utterance, recorded with the head (`listen
    /// --speech-end` overrides it; default: listen's 0.3).
    #[arg(long, value_parser = end_seconds)]
    speech_end: Option<f64>,
    /// Units of a tanh layer before the logistic read-out (0: logistic regression on the
    /// inputs themselves).
    #[arg(long, default_value_t = 0)]
    hidden_units: usize,
    /// Adam steps of the fit (full-batch without a hidden layer, batches of 1,024 frames with).
    #[arg(long)]
    fit_steps: Option<usize>,
    /// Adam's learning rate for the fit.
    #[arg(long)]
    fit_lr: Option<f32>,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Record the head in the model directory's config.json.
    #[arg(long)]
    write: bool,
}

/// The noises a stream may carry: `names` (generated colours or the bank's train clips), or
/// else all of those. A test clip is refused.
fn training_noises(bank: &NoiseBank, names: Option<&str>) -> Result<Vec<Noise>> {
    let colours = [NoiseColor::White, NoiseColor::Pink, NoiseColor::Brown];
    let Some(names) = names else {
        let mut noises: Vec<Noise> = colours.into_iter().map(Noise::Generated).collect();
        for name in bank.names(NoiseSplit::Train) {
            noises.push(bank.load(name)?);
        }
        return Ok(noises);
    };
    let train = bank.names(NoiseSplit::Train);
    names
        .split(',')
        .map(str::trim)
        .map(|name| match NoiseColor::from_name(name) {
            Some(c) => Ok(Noise::Generated(c)),
            None if train.contains(&name) => Ok(bank.load(name)?),
            None => {
                bail!("--noises: '{name}' is not a generated noise or a train clip of the bank")
            }
        })
        .collect()
}

/// Held-out measures of a head on streams' frames.
#[derive(Default)]
struct Tally {
    speech: (usize, usize),
    non_speech: (usize, usize),
    /// Frames from the end of speech until the moving average first falls below threshold.
    end_delays: Vec<usize>,
}

impl Tally {
    fn add(&mut self, head: &SpeechHead, hidden: &[f32], labels: &[bool]) {
        let probs = head.probs(hidden);
        let smooth = head.smooth(&probs);
        for (&p, &l) in smooth.iter().zip(labels) {
            let slot = if l {
                &mut self.speech
            } else {
                &mut self.non_speech
            };
            slot.1 += 1;
            slot.0 += usize::from((p >= head.threshold) == l);
        }
        if let Some(end) = labels.iter().rposition(|&l| l) {
            let delay = smooth[end + 1..]
                .iter()
                .position(|&p| p < head.threshold)
                .unwrap_or(smooth.len() - end - 1);
            self.end_delays.push(delay);
        }
    }

    fn report(&mut self, frame_s: f64) -> String {
        let share = |(a, n): (usize, usize)| 100.0 * a as f64 / n.max(1) as f64;
        self.end_delays.sort_unstable();
        let at = |q: f64| {
            self.end_delays
                .get(((self.end_delays.len() as f64 - 1.0) * q).round() as usize)
                .map_or(f64::NAN, |&d| d as f64 * frame_s * 1000.0)
        };
        format!(
            "speech frames {:.1}% right, non-speech frames {:.1}% right; end of speech -> below threshold median {:.0} ms, p90 {:.0} ms",
            share(self.speech),
            share(self.non_speech),
            at(0.5),
            at(0.9)
        )
    }
}

pub fn speech_head(args: SpeechHeadArgs, device: DeviceSpec) -> Result<ExitCode> {
    let source = ModelSource::parse(&args.model);
    if args.write && !matches!(source, ModelSource::Dir(_)) {
        bail!("--write needs a model directory, not a built-in model");
    }
    let (lo, hi) = super::train::parse_snr_range(&args.snr_range)?;
    let device = device.device()?;
    let loaded = source.load(&device)?;
    let rec =
        Recognizer::new(loaded, device, &RecognizerConfig::with_beam(1))?.with_speech_head(None);
    if !rec.can_stream() {
        bail!(
            "{}: a speech head needs a streaming (unidirectional) model",
            args.model.display()
        );
    }
    let bank = NoiseBank::open(&args.noise_bank)?;
    let noises = training_noises(&bank, args.noises.as_deref())?;
    let manifest = Manifest::load(&args.train)?;
    for e in &manifest.errors {
        eprintln!("warning: {e}");
    }
    let mut rng = augment::rng(args.seed);
    let mut entries = manifest.entries;
    entries.shuffle(&mut rng);
    entries.truncate(args.utterances);
    let held_out = entries.len() / 5;
    if held_out == 0 {
        bail!(
            "{}: too few utterances ({})",
            args.train.display(),
            entries.len()
        );
    }
    let (mut x, mut labels) = (Vec::new(), Vec::new());
    let mut held = Vec::new();
    let mut skipped = 0;
    for (i, entry) in entries.iter().enumerate() {
        let clip = match hark::audio::decode::read_any(&entry.audio) {
            Ok(w) => w.into_samples(),
            Err(e) => {
                eprintln!("skipped: {e}");
                skipped += 1;
                continue;
            }
        };
        let second = hark::audio::SAMPLE_RATE as f64;
        let before = (rng.random_range(0.2..1.5) * second) as usize;
        let after = (rng.random_range(0.6..2.0) * second) as usize;
        let noise = (rng.random_range(0..7) != 0).then(|| {
            let n = &noises[rng.random_range(0..noises.len())];
            (n, rng.random_range(lo..=hi))
        });
        let Some(stream): Option<TrainingStream> =
            speech_head::training_stream(&clip, before, after, noise, &mut rng)
        else {
            skipped += 1;
            continue;
        };
        let (hidden, l) = speech_head::frames_of(&rec, &stream);
        if i < held_out {
            held.push((hidden, l));
        } else {
            x.extend(hidden);
            labels.extend(l);
        }
    }
    let dim = x.len() / labels.len().max(1);
    eprintln!(
        "{} training frames, {} held-out streams, {skipped} utterances skipped",
        labels.len(),
        held.len()
    );
    let mut fit = FitConfig::default();
    if args.hidden_units > 0 {
        fit.steps = 3000;
        fit.learning_rate = 3e-3;
    }
    fit.steps = args.fit_steps.unwrap_or(fit.steps);
    fit.learning_rate = args.fit_lr.unwrap_or(fit.learning_rate);
    let (hidden_layer, weights, bias) = if args.hidden_units > 0 {
        let (layer, w, b) =
            speech_head::fit_hidden(&x, dim, &labels, args.hidden_units, &fit, &mut rng)
                .context("fitting the speech head")?;
        (Some(layer), w, b)
    } else {
        let (w, b) = speech_head::fit(&x, dim, &labels, &fit).context("fitting the speech head")?;
        (None, w, b)
    };
    let mut head = SpeechHead {
        weights,
        bias,
        window: args.window,
        threshold: args.threshold,
        end_s: args.speech_end,
        source: String::new(),
        hidden_layer,
    };
    let mut tally = Tally::default();
    for (hidden, l) in &held {
        tally.add(&head, hidden, l);
    }
    let summary = tally.report(rec.frame_seconds());
    println!("held out ({} streams): {summary}", held.len());
    head.source = format!(
        "hark speech-head{} on {} utterances of {} with noise {} at {lo}..{hi} dB (seed {}); held out: {summary}",
        match args.hidden_units {
            0 => String::new(),
            u => format!(" (a {u}-unit tanh layer)"),
        },
        entries.len() - held_out,
        args.train.display(),
        args.noises.as_deref().unwrap_or("all train noises"),
        args.seed
    );
    if args.write {
        let dir = &args.model;
        hark::model_dir::record_speech_head(dir, head)?;
        println!("recorded in {}", dir.join("config.json").display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Parse `--speech-end`: a positive, finite number of seconds (zero or less would end every
/// utterance at once).
pub(crate) fn end_seconds(s: &str) -> std::result::Result<f64, String> {
    let end: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if speech_head::valid_end_s(Some(end)) {
        Ok(end)
    } else {
        Err(format!("must be a positive number of seconds, not {end}"))
    }
}
