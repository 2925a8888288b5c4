//! `hark tune`: choose the beam search's language-model weights on a dev manifest, fit the
//! calibration of word confidences at the chosen weights, and record both in the model
//! directory. A model without language models (the digits model) can be tuned under
//! `--grammar`: then the grammar's phrase bonus, the calibration and the confidence threshold
//! are chosen, for the grammar it will be used with.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use hark::audio::{Waveform, decode};
use hark::backend::DeviceSpec;
use hark::confidence::Platt;
use hark::ctc::PrefixBeam;
use hark::eval::calibration::expected_error;
use hark::eval::tune::{self, DevSet, Grid, LmWeights, Trial};
use hark::model_dir::CalibrationInfo;
use hark::recognizer::{Recognizer, RecognizerConfig, Word};

/// What `hark tune` counts the errors of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Objective {
    AllWords,
    ConfidentWords,
}

#[derive(Args, Debug)]
pub struct TuneArgs {
    /// Model directory, or `builtin` / `builtin:streaming` (default: the built-in model, which
    /// can be tuned but not written).
    #[arg(long)]
    model: Option<PathBuf>,
    /// Dev manifest (JSONL); never the test set.
    #[arg(long)]
    manifest: PathBuf,
    /// Comma-separated SNRs in dB to tune on, "clean" for no noise; the errors of all of them
    /// are added up.
    #[arg(long, default_value = "clean")]
    snr: String,
    /// Comma-separated noises mixed in at each SNR (clean is decoded once): names from the
    /// noise bank, white/pink/brown, or WAV files. The default is a training noise type: tuning
    /// on a test type (babble, music, wind) would flatter the test scores.
    #[arg(long, default_value = "crowd")]
    noise: String,
    /// Noise bank directory.
    #[arg(long, default_value_os_t = hark::noise::default_bank_dir())]
    noise_bank: PathBuf,
    /// Beam width.
    #[arg(long, default_value_t = hark::recognizer::DEFAULT_BEAM)]
    beam: usize,
    #[command(flatten)]
    split: super::SplitPauseFlag,
    #[command(flatten)]
    lm: super::lm::LmFlags,
    /// Character-LM weights to try.
    #[arg(long, value_delimiter = ',', default_values_t = Grid::default().char_weight)]
    char_weights: Vec<f32>,
    /// Per-character bonuses to try.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true,
          default_values_t = Grid::default().char_bonus)]
    char_bonuses: Vec<f32>,
    /// Word-LM weights to try.
    #[arg(long, value_delimiter = ',', default_values_t = Grid::default().word_weight)]
    word_weights: Vec<f32>,
    /// Per-word bonuses to try.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true,
          default_values_t = Grid::default().word_bonus)]
    word_bonuses: Vec<f32>,
    /// Penalties for a word the word LM does not know to try.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true,
          default_values_t = Grid::default().word_oov)]
    oov_penalties: Vec<f32>,
    /// Penalties for each letter of a word past where it left the word LM's vocabulary to try.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true,
          default_values_t = Grid::default().word_oov_letter)]
    oov_letter_penalties: Vec<f32>,
    /// Phrase bonuses to try under a grammar (--grammar, or one the model ships; the starting
    /// one, the model's or --grammar-bonus, is always scored too).
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true,
          default_values_t = Grid::default().grammar_bonus)]
    grammar_bonuses: Vec<f32>,
    /// Confidence thresholds to try, after the weights and the calibration: transcripts leave
    /// out words whose calibrated confidence is below the one with the fewest word errors
    /// (recorded with the calibration); 0 keeps every word.
    #[arg(long, value_delimiter = ',', default_values_t = [0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3])]
    min_confidences: Vec<f32>,
    /// What each setting of the weights is scored by: the word errors with every word kept
    /// (`all-words`), or with the words below the best of --min-confidences left out, after a
    /// calibration fitted at that setting (`confident-words`: the transcripts `transcribe`
    /// writes once a threshold is recorded; each setting costs a little more).
    #[arg(long, value_enum, default_value_t = Objective::AllWords)]
    objective: Objective,
    /// Rounds of coordinate descent (each tries every grid value of every weight).
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Tune on the first N utterances only.
    #[arg(long)]
    limit: Option<usize>,
    #[arg(long, default_value_t = 1234)]
    seed: u64,
    /// Record the best weights (under a grammar: the phrase bonus, and a --grammar file, which
    /// the model then ships) and the confidence calibration in the model directory's
    /// config.json.
    #[arg(long, requires = "model")]
    write: bool,
    /// Also write every trial as JSON here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn tune(args: TuneArgs, device: DeviceSpec) -> Result<ExitCode> {
    if args.beam <= 1 {
        bail!("tuning needs the beam search: --beam must be above 1");
    }
    if args.write && (!args.lm.lm_files.is_empty() || args.lm.no_lm || args.lm.no_grammar) {
        bail!(
            "--write records weights for the model's own LMs and grammar; attach a new one \
             first (`hark lm --into DIR`, `hark lm --words --into DIR`, `hark tune --grammar \
             FILE --write`) instead of --lm/--no-lm/--no-grammar"
        );
    }
    let device = device.device()?;
    let source = super::model_source(args.model.clone());
    let mut loaded = source.load(&device)?;
    let grammar_text = args.lm.apply(&source, &mut loaded)?;
    let has_lm = loaded.lm.is_some() || loaded.guides.words.is_some();
    if !has_lm && loaded.guides.grammar.is_none() {
        bail!(
            "the model has no language model to tune; add one with --lm FILE, or give the \
             --grammar it is used with to tune its phrase bonus and fit its confidence calibration \
             and threshold"
        );
    }
    if args.write && has_lm && loaded.guides.grammar.is_some() {
        bail!(
            "--write under a grammar (--grammar, or one the model ships) is for a model without \
             language models (a digits model): LM weights tuned under a grammar would be \
             recorded for decoding without one"
        );
    }
    // The grammar decoded with: a --grammar file, or the one the model ships.
    let grammar_label = match (&args.lm.grammar, &loaded.guides.grammar) {
        (Some(path), _) => Some(path.display().to_string()),
        (None, Some(_)) => Some(format!("{} (the model's)", hark::model_dir::GRAMMAR_FILE)),
        (None, None) => None,
    };
    let mut beam = PrefixBeam::new(args.beam).with_guides(std::mem::take(&mut loaded.guides));
    beam.lm = loaded.lm.take();
    // Raw confidences: the calibration is fitted on them.
    let rec =
        Recognizer::new(loaded, device, &RecognizerConfig::with_beam(1))?.without_calibration();

    let grid = Grid {
        char_weight: args.char_weights.clone(),
        char_bonus: args.char_bonuses.clone(),
        word_weight: args.word_weights.clone(),
        word_bonus: args.word_bonuses.clone(),
        word_oov: args.oov_penalties.clone(),
        word_oov_letter: args.oov_letter_penalties.clone(),
        grammar_bonus: args.grammar_bonuses.clone(),
    };
    if !grid.is_finite() {
        bail!("every value of the weight grids must be a finite number");
    }
    let mut set = dev_set(&args, &rec)?;
    if grammar_label.is_none() {
        // As the recogniser decodes (not under a grammar).
        set = set.with_split_pause(rec.frames_in(args.split.seconds())?);
    }
    println!(
        "{:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}{}",
        "c.wt",
        "c.bonus",
        "w.wt",
        "w.bonus",
        "w.oov",
        "w.oov/l",
        "g.bonus",
        "WER%",
        "CER%",
        if args.objective == Objective::ConfidentWords {
            "  min.conf"
        } else {
            ""
        }
    );
    let trials = match args.objective {
        Objective::AllWords => tune::search(&set, &beam, &grid, args.rounds, print_trial),
        Objective::ConfidentWords => {
            let words = |hyp: &hark::ctc::Hypothesis| rec.to_transcript(hyp, f64::INFINITY).words;
            let score = |w| tune::score_confident(&set, &beam, w, words, &args.min_confidences);
            tune::search_by(&beam, &grid, args.rounds, score, print_trial)
        }
    };
    let best = trials.first().context("no trials were run")?;
    let start = LmWeights::of(&beam);
    let start_trial = trials
        .iter()
        .find(|t| t.weights == start)
        .context("the starting weights were not scored")?;
    println!(
        "best: {} (WER {:.2}%, CER {:.2}%; the starting weights gave {:.2}% / {:.2}%{}) over {} utterances",
        describe(&best.weights, &beam),
        best.wer(),
        best.cer(),
        start_trial.wer(),
        start_trial.cer(),
        if args.objective == Objective::ConfidentWords {
            "; words below each setting's best confidence threshold left out"
        } else {
            ""
        },
        set.len()
    );
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&trials)?;
        std::fs::write(path, text).with_context(|| path.display().to_string())?;
    }
    let words = tune::hypothesis_words(&set, &best.weights.apply(&beam), |hyp| {
        rec.to_transcript(hyp, f64::INFINITY).words
    });
    let calibration = fit_calibration(&set, &words, &args, grammar_label.as_deref())?
        .map(|c| choose_min_confidence(&set, &words, c, &args.min_confidences));
    if args.write {
        let dir = args.model.as_ref().context("--write needs --model")?;
        let w = best.weights;
        hark::model_dir::record_lm_weights(
            dir,
            beam.lm.as_ref().map(|_| (w.char_weight, w.char_bonus)),
            beam.guides
                .words
                .as_ref()
                .map(|_| (w.word_weight, w.word_bonus, w.word_oov, w.word_oov_letter)),
        )?;
        if let Some(grammar) = &grammar_label {
            // A --grammar file ships with the model, as it was read for decoding; the model's
            // own grammar stays as it is.
            let noisy = super::eval::snr_list(&args.snr)?
                .iter()
                .any(Option::is_some);
            let source = format!(
                "hark tune on {} (snr {}{}, grammar {grammar})",
                args.manifest.display(),
                args.snr,
                if noisy {
                    format!(", noise {}", args.noise)
                } else {
                    String::new()
                },
            );
            hark::model_dir::record_grammar(dir, w.grammar_bonus, grammar_text.as_deref(), source)?;
        }
        // Last, so a calibration is never recorded for a grammar that failed to be.
        if let Some(c) = calibration {
            hark::model_dir::record_calibration(dir, c)?;
        }
        println!("recorded in {}", dir.join("config.json").display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Platt scaling of the raw word confidences of the best setting (`words`, per dev utterance),
/// with the dev set's ECE before and after (in-sample: `hark eval` on a test set gives the
/// honest number).
fn fit_calibration(
    set: &DevSet,
    words: &[Vec<Word>],
    args: &TuneArgs,
    grammar: Option<&str>,
) -> Result<Option<CalibrationInfo>> {
    let pairs = tune::word_confidences(set, words);
    let Some(platt) = Platt::fit(&pairs) else {
        println!("confidence calibration: no hypothesis words to fit it on");
        return Ok(None);
    };
    let ece = |map: &dyn Fn(f32) -> f32| expected_error(&pairs, 10, map).unwrap_or(f64::NAN);
    let (before, after) = (ece(&|c| c), ece(&|c| platt.apply(c)));
    println!(
        "confidence calibration: Platt a {:.3} b {:.3}; ECE over {} dev words {before:.3} -> {after:.3}",
        platt.a,
        platt.b,
        pairs.len()
    );
    Ok(Some(CalibrationInfo {
        min_confidence: None,
        platt,
        source: format!(
            "hark tune on {} ({} words, snr {}{}; ECE {before:.3} -> {after:.3} in-sample)",
            args.manifest.display(),
            pairs.len(),
            args.snr,
            grammar
                .map(|g| format!(", grammar {g}"))
                .unwrap_or_default()
        ),
    }))
}

/// The confidence threshold (of `thresholds`) below which leaving words out of the transcripts
/// gives the fewest word errors on the dev set, at the chosen weights and calibration.
fn choose_min_confidence(
    set: &DevSet,
    words: &[Vec<Word>],
    mut calibration: CalibrationInfo,
    thresholds: &[f32],
) -> CalibrationInfo {
    let platt = calibration.platt;
    let counts = tune::unsure_word_errors(set, words, |c| platt.apply(c), thresholds);
    for (t, c) in thresholds.iter().zip(&counts) {
        println!(
            "words below confidence {t}: left out: WER {:.2}% ({} substitutions, {} deletions, {} insertions)",
            c.rate(),
            c.substitutions,
            c.deletions,
            c.insertions
        );
    }
    calibration.min_confidence = tune::best_threshold(thresholds, &counts).filter(|&t| t > 0.0);
    match calibration.min_confidence {
        Some(t) => println!("transcripts leave out words below confidence {t}"),
        None => println!("transcripts keep every word"),
    }
    calibration
}

fn describe(w: &LmWeights, beam: &PrefixBeam) -> String {
    let mut parts = Vec::new();
    if beam.lm.is_some() {
        parts.push(format!(
            "--lm-weight {} --lm-bonus {}",
            w.char_weight, w.char_bonus
        ));
    }
    if beam.guides.words.is_some() {
        parts.push(format!(
            "--word-weight {} --word-bonus {} --oov-penalty {} --oov-letter-penalty {}",
            w.word_weight, w.word_bonus, w.word_oov, w.word_oov_letter
        ));
    }
    if beam.guides.grammar.is_some() {
        parts.push(format!("--grammar-bonus {}", w.grammar_bonus));
    }
    parts.join(" ")
}

fn print_trial(t: &Trial) {
    let w = t.weights;
    print!(
        "{:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7.2} {:>7.2}",
        w.char_weight,
        w.char_bonus,
        w.word_weight,
        w.word_bonus,
        w.word_oov,
        w.word_oov_letter,
        w.grammar_bonus,
        t.wer(),
        t.cer()
    );
    if let Some(min) = t.min_confidence {
        println!("{:>10}", min);
    } else {
        println!();
    }
}

/// The dev utterances (each at each SNR asked for) through the acoustic model.
fn dev_set(args: &TuneArgs, rec: &Recognizer) -> Result<DevSet> {
    let snrs = super::eval::snr_list(&args.snr)?;
    if snrs.is_empty() {
        bail!("--snr names no condition");
    }
    let noisy = snrs.iter().any(Option::is_some);
    // The noises are looked up only when something is mixed in.
    let noises = if noisy {
        let bank = hark::noise::NoiseBank::open(&args.noise_bank).ok();
        super::eval::noise_list(&args.noise, bank.as_ref())?
    } else {
        Vec::new()
    };
    if noisy && noises.is_empty() {
        bail!("--noise names no noise to mix in at the SNRs");
    }
    // Each condition: clean once, every noise at every SNR.
    let conditions: Vec<_> = snrs
        .iter()
        .flat_map(|snr| match snr {
            None => vec![None],
            Some(db) => noises.iter().map(|n| Some((n, *db))).collect(),
        })
        .collect();
    let manifest = hark::data::Manifest::load(&args.manifest)?;
    for e in &manifest.errors {
        eprintln!("error: {e}");
    }
    let entries: Vec<_> = manifest
        .entries
        .iter()
        .take(args.limit.unwrap_or(usize::MAX))
        .collect();
    let bar = super::progress::bar(
        !args.quiet,
        (entries.len() * conditions.len()) as u64,
        "acoustic model [{bar:30}] {pos}/{len} utterances, ETA {eta}",
    );
    let mut set = DevSet::new(rec.vocab().clone());
    let mut rng = hark::augment::rng(args.seed);
    for entry in entries {
        let wave = match decode::read_any(&entry.audio) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("error: {e}");
                continue;
            }
        };
        for condition in &conditions {
            let wave = match condition {
                None => wave.clone(),
                Some((noise, db)) => {
                    let mixed = noise.mix(wave.samples(), *db, &mut rng);
                    Waveform::new(mixed, wave.sample_rate())
                        .context("mixing gave non-finite samples")?
                }
            };
            let feats = rec.mfcc().compute(&wave);
            for (lp, frames) in rec.log_probs(&[&feats]) {
                set.push(lp, frames, entry.text.clone());
            }
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    if set.is_empty() {
        bail!("no usable utterances in {}", args.manifest.display());
    }
    Ok(set)
}
