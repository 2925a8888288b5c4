//! `hark lm`: build a character or word n-gram language model from text, and the `--lm*`,
//! `--grammar` and `--hotwords` flags that the decoding commands share.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use hark::lm::guide::{Grammar, Hotwords, WordScorer};
use hark::lm::kneser_ney::{self, KneserNeyConfig};
use hark::lm::{CharLm, LmScorer, WordLm};
use hark::model_dir::LoadedModel;
use hark::text::Vocab;

/// Weight of the LM log-probability when a file is given with `--lm` and no `--lm-weight`.
const DEFAULT_WEIGHT: f32 = 0.5;
/// Per-character bonus when a file is given with `--lm` and no `--lm-bonus`.
const DEFAULT_BONUS: f32 = 1.0;
/// Word LM weight, per-word bonus and out-of-vocabulary penalty without their flags (not yet
/// tuned on a dev set).
const DEFAULT_WORD_WEIGHT: f32 = 0.5;
const DEFAULT_WORD_BONUS: f32 = 1.0;
const DEFAULT_OOV_PENALTY: f32 = -2.0;

#[derive(Args, Debug)]
pub struct LmArgs {
    /// Training text: JSONL manifests (their "text" fields) or plain text files (one sentence
    /// per line, by extension other than .jsonl); repeatable.
    #[arg(long = "text", required = true)]
    texts: Vec<PathBuf>,
    /// n-gram order, counting the symbol predicted (default: 6 characters, or 3 words).
    #[arg(long)]
    order: Option<usize>,
    /// Build a word model (interpolated modified Kneser-Ney) instead of a character model;
    /// write it with --out (hark's binary form) and/or --arpa.
    #[arg(long)]
    words: bool,
    /// Word model: drop n-grams seen fewer times than these counts, per order from
    /// unigrams up (e.g. 0,1,2: keep every bigram, trigrams seen twice or more).
    #[arg(long, value_delimiter = ',', requires = "words")]
    prune: Vec<u32>,
    /// Word model: keep only this many most frequent words (others become <unk>; 0: all).
    #[arg(long, default_value_t = 0, requires = "words")]
    max_vocabulary: usize,
    /// Word model: also write it as ARPA text here (gzip-compressed when the name ends .gz).
    #[arg(long, requires = "words")]
    arpa: Option<PathBuf>,
    /// Attach the LM to this model directory (written as lm.bin, recorded in config.json;
    /// character models only).
    #[arg(long, required_unless_present_any = ["out", "arpa"], conflicts_with = "words")]
    into: Option<PathBuf>,
    /// Write the LM file here instead (use it with `--lm FILE`).
    #[arg(long, conflicts_with = "into")]
    out: Option<PathBuf>,
    /// Beam-search weight recorded with --into.
    #[arg(long, default_value_t = DEFAULT_WEIGHT)]
    weight: f32,
    /// Per-character bonus recorded with --into.
    #[arg(long, default_value_t = DEFAULT_BONUS)]
    bonus: f32,
}

/// Language-model flags of `transcribe`, `eval` and `listen`.
#[derive(Args, Debug, Clone, Default)]
pub struct LmFlags {
    /// Decode with this language model; repeat for a character LM and a word LM together.
    /// The kind is told by content: hark's character LM (`hark lm --out`), hark's word LM
    /// (`hark lm --words --out`), or a word LM in ARPA text, plain or gzipped (KenLM, SRILM).
    /// A character LM replaces the model's own.
    #[arg(long = "lm", value_name = "FILE", conflicts_with = "no_lm")]
    pub lm_files: Vec<PathBuf>,
    /// Decode without a language model even if the model ships one.
    #[arg(long)]
    pub no_lm: bool,
    /// Weight of the LM log-probability in the beam search.
    #[arg(long)]
    pub lm_weight: Option<f32>,
    /// Score added per character in the beam search (balances the LM's taste for short output).
    #[arg(long)]
    pub lm_bonus: Option<f32>,
    /// Weight of the word LM's log-probability, scored on each completed word.
    #[arg(long, default_value_t = DEFAULT_WORD_WEIGHT)]
    pub word_weight: f32,
    /// Score added per completed word when a word LM is used.
    #[arg(long, default_value_t = DEFAULT_WORD_BONUS)]
    pub word_bonus: f32,
    /// Score added for a word the word LM does not know (besides its <unk> probability).
    #[arg(long, default_value_t = DEFAULT_OOV_PENALTY, allow_negative_numbers = true)]
    pub oov_penalty: f32,
    /// Restrict recognition to phrases: a file with one phrase per line, or a JSON array of
    /// strings (as Vosk takes them). The output is any sequence of the listed phrases, so the
    /// eleven digit words (zero, oh, one … nine), one per line, recognise digit strings of any
    /// length. A line (or element) `[unk]` lets any other word through at --unk-penalty.
    #[arg(long, value_name = "FILE")]
    pub grammar: Option<PathBuf>,
    /// Score added for each word outside the grammar when it has `[unk]`.
    #[arg(long, default_value_t = -5.0, allow_negative_numbers = true)]
    pub unk_penalty: f32,
    /// Favour words or phrases: "word:boost,phrase of words:boost" (natural-log units; a
    /// missing boost is 2), or a file with one "phrase:boost" per line.
    #[arg(long, value_name = "SPEC|FILE")]
    pub hotwords: Option<String>,
}

impl LmFlags {
    /// Apply the flags to `loaded`'s language model.
    pub fn apply(&self, loaded: &mut LoadedModel) -> Result<()> {
        if self.no_lm {
            loaded.lm = None;
            return Ok(());
        }
        let (mut chars, mut words) = (0, 0);
        for path in &self.lm_files {
            let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
            if CharLm::is_char_lm(&bytes) {
                let lm = CharLm::from_bytes(&bytes).with_context(|| path.display().to_string())?;
                loaded.lm = Some(LmScorer {
                    lm: Arc::new(lm),
                    weight: DEFAULT_WEIGHT,
                    bonus: DEFAULT_BONUS,
                });
                chars += 1;
            } else {
                let lm = if WordLm::is_binary(&bytes) {
                    WordLm::from_bytes(&bytes)
                } else {
                    WordLm::read_arpa(path)
                }
                .with_context(|| path.display().to_string())?;
                loaded.guides.words = Some(WordScorer::new(
                    Arc::new(lm),
                    self.word_weight,
                    self.word_bonus,
                    self.oov_penalty,
                ));
                words += 1;
            }
        }
        if chars > 1 || words > 1 {
            bail!("give at most one character LM and one word LM with --lm");
        }
        if let Some(path) = &self.grammar {
            let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
            let mut grammar = Grammar::parse(&text).with_context(|| path.display().to_string())?;
            grammar.unknown_penalty = self.unk_penalty;
            loaded.guides.grammar = Some(Arc::new(grammar));
        }
        if let Some(spec) = &self.hotwords {
            let text = if Path::new(spec).is_file() {
                std::fs::read_to_string(spec).with_context(|| spec.clone())?
            } else {
                spec.clone()
            };
            loaded.guides.hotwords = Some(Arc::new(Hotwords::parse(&text)?));
        }
        if let Some(lm) = &mut loaded.lm {
            lm.weight = self.lm_weight.unwrap_or(lm.weight);
            lm.bonus = self.lm_bonus.unwrap_or(lm.bonus);
            if !(lm.weight.is_finite() && lm.weight >= 0.0 && lm.bonus.is_finite()) {
                bail!("--lm-weight must be a finite number ≥ 0 and --lm-bonus finite");
            }
        }
        Ok(())
    }
}

/// Sentences of a manifest's "text" fields or of a plain text file.
fn sentences(path: &PathBuf) -> Result<Vec<String>> {
    if path.extension().is_some_and(|e| e == "jsonl") {
        let manifest = hark::data::Manifest::load(path)?;
        for e in &manifest.errors {
            eprintln!("warning: {e}");
        }
        Ok(manifest.entries.into_iter().map(|e| e.text).collect())
    } else {
        let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
        Ok(text.lines().map(str::to_string).collect())
    }
}

pub fn lm(args: LmArgs) -> Result<std::process::ExitCode> {
    let mut all = Vec::new();
    for path in &args.texts {
        all.extend(sentences(path)?);
    }
    if args.words {
        return word_lm(&args, &all);
    }
    let order = args.order.unwrap_or(6);
    let vocab = Vocab::english();
    let lm = CharLm::train(all.iter().map(String::as_str), &vocab, order)?;
    let source = format!(
        "hark lm --order {} --text {}",
        order,
        args.texts
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" --text ")
    );
    let (bytes, place) = if let Some(dir) = &args.into {
        let info = hark::model_dir::attach_lm(dir, &lm, args.weight, args.bonus, source)?;
        let place = format!(
            "attached to {} (weight {}, bonus {})",
            dir.display(),
            args.weight,
            args.bonus
        );
        (info.bytes as usize, place)
    } else if let Some(out) = &args.out {
        let bytes = lm.to_bytes();
        hark::model_dir::write_atomic(out, &bytes)?;
        (bytes.len(), format!("written to {}", out.display()))
    } else {
        bail!("give --into MODEL_DIR or --out FILE");
    };
    eprintln!(
        "{}-gram LM from {} sentences: {} n-grams, {:.1} MB, {place}",
        order,
        all.len(),
        lm.len(),
        bytes as f64 / 1e6
    );
    Ok(std::process::ExitCode::SUCCESS)
}

/// `hark lm --words`: a word model from `sentences`, written as asked.
fn word_lm(args: &LmArgs, sentences: &[String]) -> Result<std::process::ExitCode> {
    let normalised: Vec<String> = sentences.iter().map(|s| hark::text::normalize(s)).collect();
    let mut cfg = KneserNeyConfig::new(args.order.unwrap_or(3));
    cfg.prune = args.prune.clone();
    cfg.max_vocabulary = args.max_vocabulary;
    let lm = kneser_ney::build(
        normalised
            .iter()
            .map(|s| s.split(' ').filter(|w| !w.is_empty()).collect()),
        &cfg,
    )?;
    let mut written = Vec::new();
    if let Some(out) = &args.out {
        let bytes = lm.to_bytes();
        hark::model_dir::write_atomic(out, &bytes)?;
        written.push(format!(
            "{} ({:.1} MB)",
            out.display(),
            bytes.len() as f64 / 1e6
        ));
    }
    if let Some(path) = &args.arpa {
        let mut text = Vec::new();
        lm.write_arpa(&mut text)?;
        let bytes = if path.extension().is_some_and(|e| e == "gz") {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(&text)?;
            gz.finish()?
        } else {
            text
        };
        hark::model_dir::write_atomic(path, &bytes)?;
        written.push(format!(
            "{} ({:.1} MB)",
            path.display(),
            bytes.len() as f64 / 1e6
        ));
    }
    let counts: Vec<String> = lm.counts().iter().map(|c| c.to_string()).collect();
    eprintln!(
        "{}-gram word LM from {} sentences: {} words, n-grams per order {}; written to {}",
        lm.order(),
        sentences.len(),
        lm.vocabulary_size(),
        counts.join("/"),
        written.join(" and ")
    );
    Ok(std::process::ExitCode::SUCCESS)
}
