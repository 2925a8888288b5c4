//! The language-model flags of `transcribe`, `eval` and `listen`: which LMs, grammar and
//! hotwords steer the beam search, with their weights.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::Args;
use hark::lm::guide::{Grammar, Hotwords, WordScorer};
use hark::lm::{CharLm, LmScorer, WordLm};
use hark::model_dir::{LoadedModel, ModelSource};

/// Weight of the LM log-probability when a file is given with `--lm` and no `--lm-weight`.
pub(super) const DEFAULT_WEIGHT: f32 = 0.5;
/// Per-character bonus when a file is given with `--lm` and no `--lm-bonus`.
pub(super) const DEFAULT_BONUS: f32 = 1.0;
/// Word LM weight, per-word bonus and out-of-vocabulary penalty without their flags (not yet
/// tuned on a dev set).
const DEFAULT_WORD_WEIGHT: f32 = 0.5;
const DEFAULT_WORD_BONUS: f32 = 1.0;
const DEFAULT_OOV_PENALTY: f32 = -2.0;

/// Language-model flags of `transcribe`, `eval` and `listen`.
#[derive(Args, Debug, Clone, Default)]
pub struct LmFlags {
    /// Decode with this language model; repeat for a character LM and a word LM together.
    /// The kind is told by content: hark's character LM (`hark lm --out`), hark's word LM
    /// (`hark lm --words --out`), or a word LM in ARPA text, plain or gzipped (KenLM, SRILM).
    /// A character LM replaces the model's own.
    #[arg(long = "lm", value_name = "FILE")]
    pub lm_files: Vec<PathBuf>,
    /// Decode without the language models the model ships (those given with --lm still
    /// apply: `--no-lm --lm words.arpa` decodes with that word LM alone).
    #[arg(long)]
    pub no_lm: bool,
    /// Weight of the LM log-probability in the beam search.
    #[arg(long)]
    pub lm_weight: Option<f32>,
    /// Score added per character in the beam search (balances the LM's taste for short output).
    #[arg(long)]
    pub lm_bonus: Option<f32>,
    /// Weight of the word LM's log-probability, scored on each completed word (default: the
    /// model's, or 0.5 for a word LM given with --lm).
    #[arg(long)]
    pub word_weight: Option<f32>,
    /// Score added per completed word when a word LM is used (default: the model's, or 1).
    #[arg(long, allow_negative_numbers = true)]
    pub word_bonus: Option<f32>,
    /// Score added for a word the word LM does not know, besides its <unk> probability
    /// (default: the model's, or -2).
    #[arg(long, allow_negative_numbers = true)]
    pub oov_penalty: Option<f32>,
    /// Score added for each letter of a word past the point where it left the word LM's
    /// vocabulary, so that strings of fragments do not grow for free (default: the model's, or 0).
    #[arg(long, allow_negative_numbers = true)]
    pub oov_letter_penalty: Option<f32>,
    /// Restrict recognition to phrases: a file with one phrase per line, or a JSON array of
    /// strings (as Vosk takes them). The output is any sequence of the listed phrases, so the
    /// eleven digit words (zero, oh, one … nine), one per line, recognise digit strings of any
    /// length. A line (or element) `[unk]` lets any other word through at --unk-penalty. It
    /// replaces a grammar the model ships (the digits model ships the digits grammar).
    #[arg(long, value_name = "FILE", conflicts_with = "no_grammar")]
    pub grammar: Option<PathBuf>,
    /// Decode without the grammar the model ships.
    #[arg(long)]
    pub no_grammar: bool,
    /// Score added for each word outside the grammar when it has `[unk]`.
    #[arg(long, default_value_t = -5.0, allow_negative_numbers = true)]
    pub unk_penalty: f32,
    /// Score added for each listed phrase the output completes under a grammar (--grammar, or
    /// one the model ships; raise it when words go missing in noise; default: the model's,
    /// chosen by `hark tune --grammar`, or 0).
    #[arg(long, allow_negative_numbers = true)]
    pub grammar_bonus: Option<f32>,
    /// Favour words or phrases: "word:boost,phrase of words:boost" (natural-log units; a
    /// missing boost is 2), or a file with one "phrase:boost" per line.
    #[arg(long, value_name = "SPEC|FILE")]
    pub hotwords: Option<String>,
}

impl LmFlags {
    /// Apply the flags to `loaded`'s language models and grammar (`source`: where it was
    /// loaded from, which holds the grammar it ships). Returns the text of the --grammar file
    /// as it was read and parsed, for a caller that ships it (`hark tune --write`).
    pub fn apply(&self, source: &ModelSource, loaded: &mut LoadedModel) -> Result<Option<String>> {
        if self.no_lm {
            loaded.lm = None;
            loaded.guides.words = None;
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
                    DEFAULT_WORD_WEIGHT,
                    DEFAULT_WORD_BONUS,
                    DEFAULT_OOV_PENALTY,
                ));
                words += 1;
            }
        }
        if chars > 1 || words > 1 {
            bail!("give at most one character LM and one word LM with --lm");
        }
        if let Some(words) = &mut loaded.guides.words {
            words.weight = self.word_weight.unwrap_or(words.weight);
            words.bonus = self.word_bonus.unwrap_or(words.bonus);
            words.oov_penalty = self.oov_penalty.unwrap_or(words.oov_penalty);
            words.oov_letter_penalty = self.oov_letter_penalty.unwrap_or(words.oov_letter_penalty);
            let finite = [
                words.weight,
                words.bonus,
                words.oov_penalty,
                words.oov_letter_penalty,
            ]
            .iter()
            .all(|v| v.is_finite());
            if !finite || words.weight < 0.0 {
                bail!(
                    "--word-weight must be a finite number ≥ 0, --word-bonus, --oov-penalty and --oov-letter-penalty finite"
                );
            }
        }
        // A --grammar file, else the grammar the model ships (unless --no-grammar); either way
        // at --grammar-bonus, else the model's recorded bonus, else 0.
        let mut grammar_text = None;
        let grammar = match &self.grammar {
            Some(path) => {
                let text =
                    std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
                let grammar = Grammar::parse(&text).with_context(|| path.display().to_string())?;
                grammar_text = Some(text);
                Some(grammar)
            }
            None if self.no_grammar => None,
            None => source.read_grammar(&loaded.config)?,
        };
        if let Some(mut grammar) = grammar {
            grammar.unknown_penalty = self.unk_penalty;
            let recorded = loaded.config.grammar.as_ref().map(|g| g.bonus);
            let bonus = self.grammar_bonus.or(recorded).unwrap_or(0.0);
            if !(self.unk_penalty.is_finite() && bonus.is_finite()) {
                if self.grammar_bonus.is_none() && self.unk_penalty.is_finite() {
                    bail!("the model's config.json records a grammar bonus that is not finite");
                }
                bail!("--unk-penalty and --grammar-bonus must be finite");
            }
            grammar.phrase_bonus = bonus;
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
        Ok(grammar_text)
    }
}
