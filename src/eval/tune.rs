//! Tuning the beam search's language-model weights on a dev set. The acoustic model runs once
//! per utterance; each candidate setting only re-runs the beam search over the stored
//! log-probabilities, so a search over dozens of settings costs little more than one eval.
//!
//! The search is coordinate descent: starting from the current weights, each weight in turn
//! takes the value from its grid that gives the fewest word errors (ties: fewest character
//! errors), the others held; a few rounds of that settle it. It is the usual practice for
//! CTC decoders with an external LM (DeepSpeech's `lm_optimizer`, Kaldi's LM-weight sweep).
//! The errors are counted with every word kept ([`score`]) or, since a model that records a
//! confidence threshold leaves its unsure words out, as the thresholded transcripts have them
//! ([`score_confident`]).

use std::collections::HashMap;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use super::calibration::word_hits;
use super::{ErrorCounts, char_errors, word_errors};
use crate::confidence::Platt;
use crate::ctc::{Hypothesis, LogProbs, PrefixBeam, decode_split_at_pauses};
use crate::recognizer::Word;
use crate::text::Vocab;

/// One dev utterance, already through the acoustic model.
struct DevItem {
    log_probs: Vec<f32>,
    frames: usize,
    reference: String,
}

/// Dev utterances as log-probability matrices with their reference transcripts.
pub struct DevSet {
    vocab: Vocab,
    items: Vec<DevItem>,
    /// Stretches between pauses of at least this many frames are searched one at a time, as
    /// the recogniser does (`RecognizerConfig::split_pause_s`); 0: whole.
    split_pause_frames: usize,
}

impl DevSet {
    pub fn new(vocab: Vocab) -> Self {
        Self {
            vocab,
            items: Vec::new(),
            split_pause_frames: 0,
        }
    }

    /// Search the stretches between pauses of at least `frames` output frames one at a time.
    pub fn with_split_pause(mut self, frames: usize) -> Self {
        self.split_pause_frames = frames;
        self
    }

    /// Add one utterance: `log_probs` is `[frames × vocab]`, frame-major.
    pub fn push(&mut self, log_probs: Vec<f32>, frames: usize, reference: String) {
        self.items.push(DevItem {
            log_probs,
            frames,
            reference,
        });
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// `item`'s hypothesis under `beam`.
    fn decode(&self, item: &DevItem, beam: &PrefixBeam) -> Hypothesis {
        decode_split_at_pauses(
            beam,
            LogProbs::new(&item.log_probs, item.frames, self.vocab.size()),
            self.split_pause_frames,
            self.vocab.space(),
        )
    }
}

/// The weights the search tunes; a language model the beam does not have keeps its zeros.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LmWeights {
    pub char_weight: f32,
    pub char_bonus: f32,
    pub word_weight: f32,
    pub word_bonus: f32,
    /// Added for each word the word LM does not know.
    pub word_oov: f32,
    /// Added for each letter of a word past where it left the word LM's vocabulary.
    pub word_oov_letter: f32,
    /// Added for each phrase of the grammar the output completes.
    pub grammar_bonus: f32,
}

impl LmWeights {
    /// The weights `beam` decodes with.
    pub fn of(beam: &PrefixBeam) -> Self {
        let (char_weight, char_bonus) =
            beam.lm.as_ref().map_or((0.0, 0.0), |s| (s.weight, s.bonus));
        let (word_weight, word_bonus, word_oov, word_oov_letter) = beam
            .guides
            .words
            .as_ref()
            .map_or((0.0, 0.0, 0.0, 0.0), |w| {
                (w.weight, w.bonus, w.oov_penalty, w.oov_letter_penalty)
            });
        let grammar_bonus = beam.guides.grammar.as_ref().map_or(0.0, |g| g.phrase_bonus);
        Self {
            char_weight,
            char_bonus,
            word_weight,
            word_bonus,
            word_oov,
            word_oov_letter,
            grammar_bonus,
        }
    }

    /// `beam` with these weights.
    pub fn apply(&self, beam: &PrefixBeam) -> PrefixBeam {
        let mut beam = beam.clone();
        if let Some(lm) = &mut beam.lm {
            lm.weight = self.char_weight;
            lm.bonus = self.char_bonus;
        }
        if let Some(words) = &mut beam.guides.words {
            words.weight = self.word_weight;
            words.bonus = self.word_bonus;
            words.oov_penalty = self.word_oov;
            words.oov_letter_penalty = self.word_oov_letter;
        }
        if let Some(grammar) = &mut beam.guides.grammar {
            Arc::make_mut(grammar).phrase_bonus = self.grammar_bonus;
        }
        beam
    }

    fn get(&self, knob: Knob) -> f32 {
        match knob {
            Knob::CharWeight => self.char_weight,
            Knob::CharBonus => self.char_bonus,
            Knob::WordWeight => self.word_weight,
            Knob::WordBonus => self.word_bonus,
            Knob::WordOov => self.word_oov,
            Knob::WordOovLetter => self.word_oov_letter,
            Knob::GrammarBonus => self.grammar_bonus,
        }
    }

    fn with(mut self, knob: Knob, value: f32) -> Self {
        match knob {
            Knob::CharWeight => self.char_weight = value,
            Knob::CharBonus => self.char_bonus = value,
            Knob::WordWeight => self.word_weight = value,
            Knob::WordBonus => self.word_bonus = value,
            Knob::WordOov => self.word_oov = value,
            Knob::WordOovLetter => self.word_oov_letter = value,
            Knob::GrammarBonus => self.grammar_bonus = value,
        }
        self
    }

    /// A hashable key (the bit patterns of the weights).
    fn key(&self) -> [u32; 7] {
        [
            self.char_weight.to_bits(),
            self.char_bonus.to_bits(),
            self.word_weight.to_bits(),
            self.word_bonus.to_bits(),
            self.word_oov.to_bits(),
            self.word_oov_letter.to_bits(),
            self.grammar_bonus.to_bits(),
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Knob {
    CharWeight,
    CharBonus,
    WordWeight,
    WordBonus,
    WordOov,
    WordOovLetter,
    GrammarBonus,
}

impl Knob {
    const ALL: [Knob; 7] = [
        Knob::CharWeight,
        Knob::CharBonus,
        Knob::WordWeight,
        Knob::WordBonus,
        Knob::WordOov,
        Knob::WordOovLetter,
        Knob::GrammarBonus,
    ];
}

/// The values each weight may take.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub char_weight: Vec<f32>,
    pub char_bonus: Vec<f32>,
    pub word_weight: Vec<f32>,
    pub word_bonus: Vec<f32>,
    pub word_oov: Vec<f32>,
    pub word_oov_letter: Vec<f32>,
    pub grammar_bonus: Vec<f32>,
}

impl Default for Grid {
    fn default() -> Self {
        Self {
            char_weight: vec![0.2, 0.35, 0.5, 0.7, 1.0],
            char_bonus: vec![0.0, 0.5, 1.0, 1.5, 2.0, 3.0],
            word_weight: vec![0.0, 0.2, 0.35, 0.5, 0.7, 1.0],
            word_bonus: vec![-1.0, 0.0, 1.0, 2.0, 3.0, 4.0],
            word_oov: vec![0.0, -1.0, -2.0, -3.0, -5.0, -8.0],
            word_oov_letter: vec![0.0, -0.5, -1.0, -2.0],
            grammar_bonus: vec![0.0, 1.0, 2.0, 3.0, 4.0, 6.0],
        }
    }
}

impl Grid {
    /// Whether every value of every grid is a finite number.
    pub fn is_finite(&self) -> bool {
        Knob::ALL
            .iter()
            .all(|&k| self.values(k).iter().all(|v| v.is_finite()))
    }

    fn values(&self, knob: Knob) -> &[f32] {
        match knob {
            Knob::CharWeight => &self.char_weight,
            Knob::CharBonus => &self.char_bonus,
            Knob::WordWeight => &self.word_weight,
            Knob::WordBonus => &self.word_bonus,
            Knob::WordOov => &self.word_oov,
            Knob::WordOovLetter => &self.word_oov_letter,
            Knob::GrammarBonus => &self.grammar_bonus,
        }
    }
}

/// One setting and how it scored.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trial {
    pub weights: LmWeights,
    pub words: ErrorCounts,
    pub chars: ErrorCounts,
    /// Scored with the words below this calibrated confidence left out ([`score_confident`]);
    /// `None`: every word kept ([`score`]).
    pub min_confidence: Option<f32>,
}

impl Trial {
    pub fn wer(&self) -> f64 {
        self.words.rate()
    }

    pub fn cer(&self) -> f64 {
        self.chars.rate()
    }

    fn better_than(&self, other: &Trial) -> bool {
        (self.words.errors(), self.chars.errors()) < (other.words.errors(), other.chars.errors())
    }
}

/// Decode `set` with `beam` at `weights` and count the errors.
pub fn score(set: &DevSet, beam: &PrefixBeam, weights: LmWeights) -> Trial {
    let beam = weights.apply(beam);
    let (words, chars) = set
        .items
        .par_iter()
        .map(|item| {
            let hyp = set.decode(item, &beam);
            let text = set.vocab.decode(&hyp.tokens);
            (
                word_errors(&item.reference, &text),
                char_errors(&item.reference, &text),
            )
        })
        .reduce(
            || (ErrorCounts::default(), ErrorCounts::default()),
            |(mut w1, mut c1), (w2, c2)| {
                w1 += w2;
                c1 += c2;
                (w1, c1)
            },
        );
    Trial {
        weights,
        words,
        chars,
        min_confidence: None,
    }
}

/// Decode `set` with `beam` at `weights` and count the errors of the transcripts as
/// `transcribe` writes them after `hark tune --write`: the word confidences (`words` turns a
/// hypothesis into its words) calibrated by a Platt fit on this setting's own dev words, and
/// the words below the threshold of `thresholds` that leaves the fewest word errors left out.
/// A setting that inserts many unsure words can lose on every word kept and win here, where
/// the threshold takes them out again; this scores what the user gets.
pub fn score_confident(
    set: &DevSet,
    beam: &PrefixBeam,
    weights: LmWeights,
    words: impl Fn(&Hypothesis) -> Vec<Word> + Sync,
    thresholds: &[f32],
) -> Trial {
    let words = hypothesis_words(set, &weights.apply(beam), words);
    let platt = Platt::fit(&word_confidences(set, &words));
    let calibrated = |c: f32| platt.as_ref().map_or(c, |p| p.apply(c));
    let thresholds = if thresholds.is_empty() {
        &[0.0][..]
    } else {
        thresholds
    };
    let counts = unsure_word_errors(set, &words, calibrated, thresholds);
    let min = best_threshold(thresholds, &counts).unwrap_or(0.0);
    let at = thresholds.iter().position(|&t| t == min).unwrap_or(0);
    let chars = set
        .items
        .par_iter()
        .zip(&words)
        .map(|(item, words)| char_errors(&item.reference, &kept_text(words, calibrated, min)))
        .reduce(ErrorCounts::default, |mut a, b| {
            a += b;
            a
        });
    Trial {
        weights,
        words: counts[at],
        chars,
        min_confidence: Some(min),
    }
}

/// The words of `words` whose confidence, mapped by `confidence`, is at least `min`, joined.
fn kept_text(words: &[Word], confidence: impl Fn(f32) -> f32, min: f32) -> String {
    let kept: Vec<&str> = words
        .iter()
        .filter(|w| confidence(w.confidence) >= min)
        .map(|w| w.word.as_str())
        .collect();
    kept.join(" ")
}

/// Coordinate descent over `grid` from `beam`'s own weights, `rounds` times over the weights
/// the beam has language models for, each setting scored by [`score`] (every word kept).
/// `on_trial` sees every new setting as it is scored. Returns every trial, the best first (on a
/// tie, the earliest scored: the search's choice).
pub fn search(
    set: &DevSet,
    beam: &PrefixBeam,
    grid: &Grid,
    rounds: usize,
    on_trial: impl FnMut(&Trial),
) -> Vec<Trial> {
    search_by(beam, grid, rounds, |w| score(set, beam, w), on_trial)
}

/// [`search`] with each setting scored by `score` (e.g. [`score_confident`]).
pub fn search_by(
    beam: &PrefixBeam,
    grid: &Grid,
    rounds: usize,
    score: impl Fn(LmWeights) -> Trial,
    mut on_trial: impl FnMut(&Trial),
) -> Vec<Trial> {
    let mut knobs = Vec::new();
    if beam.lm.is_some() {
        knobs.extend([Knob::CharWeight, Knob::CharBonus]);
    }
    if beam.guides.words.is_some() {
        knobs.extend([
            Knob::WordWeight,
            Knob::WordBonus,
            Knob::WordOov,
            Knob::WordOovLetter,
        ]);
    }
    if beam.guides.grammar.is_some() {
        knobs.push(Knob::GrammarBonus);
    }
    // Every setting is decoded once; `trials` keeps them in the order they were scored.
    let mut seen: HashMap<[u32; 7], usize> = HashMap::new();
    let mut trials: Vec<Trial> = Vec::new();
    let mut run = |weights: LmWeights, trials: &mut Vec<Trial>| -> Trial {
        let i = *seen.entry(weights.key()).or_insert_with(|| {
            let trial = score(weights);
            on_trial(&trial);
            trials.push(trial);
            trials.len() - 1
        });
        trials[i]
    };
    let mut best = run(LmWeights::of(beam), &mut trials);
    for _ in 0..rounds {
        let before = best.weights;
        for &knob in &knobs {
            for &value in grid.values(knob) {
                if value == best.weights.get(knob) {
                    continue;
                }
                let trial = run(best.weights.with(knob, value), &mut trials);
                if trial.better_than(&best) {
                    best = trial;
                }
            }
        }
        if best.weights == before {
            break;
        }
    }
    // A stable sort: among equal scores the one scored first (the search's choice) leads.
    trials.sort_by_key(|t| (t.words.errors(), t.chars.errors()));
    trials
}

/// Each dev utterance's words under `beam`, in the set's order: `words` turns a hypothesis into
/// its words (the recogniser's own word splitting and confidences). The calibration fit and the
/// threshold search both read these, so the set is decoded once for the two.
pub fn hypothesis_words(
    set: &DevSet,
    beam: &PrefixBeam,
    words: impl Fn(&Hypothesis) -> Vec<Word> + Sync,
) -> Vec<Vec<Word>> {
    set.items
        .par_iter()
        .map(|item| words(&set.decode(item, beam)))
        .collect()
}

/// Every word of `words` (one list per dev utterance, as [`hypothesis_words`] gives them) as
/// (confidence, whether an alignment with the reference matches it): what a confidence
/// calibration is fitted on.
pub fn word_confidences(set: &DevSet, words: &[Vec<Word>]) -> Vec<(f32, bool)> {
    set.items
        .iter()
        .zip(words)
        .flat_map(|(item, words)| {
            let spelled: Vec<&str> = words.iter().map(|w| w.word.as_str()).collect();
            let hits = word_hits(&item.reference, &spelled);
            words.iter().zip(hits).map(|(w, hit)| (w.confidence, hit))
        })
        .collect()
}

/// The word errors of `words` (one list per dev utterance, as [`hypothesis_words`] gives them)
/// when the words whose confidence, mapped by `confidence` (the calibration transcripts show),
/// is below each of `thresholds` are left out: one count per threshold, in order.
pub fn unsure_word_errors(
    set: &DevSet,
    words: &[Vec<Word>],
    confidence: impl Fn(f32) -> f32 + Sync,
    thresholds: &[f32],
) -> Vec<ErrorCounts> {
    set.items
        .par_iter()
        .zip(words)
        .map(|(item, words)| {
            thresholds
                .iter()
                .map(|&min| word_errors(&item.reference, &kept_text(words, &confidence, min)))
                .collect::<Vec<_>>()
        })
        .reduce(
            || vec![ErrorCounts::default(); thresholds.len()],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        )
}

/// The threshold of `thresholds` with the fewest errors in `counts` (as
/// [`unsure_word_errors`] gives them); on a tie the lowest, which keeps the most words.
pub fn best_threshold(thresholds: &[f32], counts: &[ErrorCounts]) -> Option<f32> {
    thresholds
        .iter()
        .zip(counts)
        .min_by(|(ta, ca), (tb, cb)| ca.errors().cmp(&cb.errors()).then(ta.total_cmp(tb)))
        .map(|(&t, _)| t)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::lm::{CharLm, LmScorer};

    /// A matrix where each frame puts `p` on one token and the rest spread over the others.
    fn frames_for(vocab: &Vocab, text: &str) -> (Vec<f32>, usize) {
        let v = vocab.size();
        let mut out = Vec::new();
        let mut prev: Option<u32> = None;
        for id in vocab.encode(text) {
            if prev == Some(id) {
                out.extend(row(v, crate::text::BLANK, 0.9));
            }
            out.extend(row(v, id, 0.9));
            prev = Some(id);
        }
        let frames = out.len() / v;
        (out, frames)
    }

    fn row(v: usize, id: u32, p: f32) -> Vec<f32> {
        let rest = (1.0 - p) / (v - 1) as f32;
        (0..v as u32)
            .map(|k| if k == id { p.ln() } else { rest.ln() })
            .collect()
    }

    /// Two items: "a cat dog" heard for "a cat", "the hat" heard right.
    fn unsure_set() -> (Vocab, DevSet) {
        let vocab = Vocab::english();
        let mut set = DevSet::new(vocab.clone());
        for (heard, reference) in [("a cat dog", "a cat"), ("the hat", "the hat")] {
            let (lp, frames) = frames_for(&vocab, heard);
            set.push(lp, frames, reference.into());
        }
        (vocab, set)
    }

    /// `hyp`'s words, "dog" at confidence 0.3, "hat" at 0.4 and the others at 0.9.
    fn unsure_words(vocab: &Vocab, hyp: &Hypothesis) -> Vec<Word> {
        vocab
            .decode(&hyp.tokens)
            .split_whitespace()
            .map(|w| Word {
                word: w.to_string(),
                start: 0.0,
                end: 0.0,
                confidence: match w {
                    "dog" => 0.3,
                    "hat" => 0.4,
                    _ => 0.9,
                },
            })
            .collect()
    }

    /// Item 1 hears "a cat dog" for "a cat": "dog" (confidence 0.3) is an insertion. Item 2
    /// hears "the hat" right, "hat" at 0.4. Keeping all: 1 error; leaving out words below 0.35
    /// drops only "dog": 0 errors; below 0.5 drops "hat" too: 1 error (a deletion).
    #[test]
    fn unsure_words_are_left_out_only_where_that_lowers_errors() {
        let (vocab, set) = unsure_set();
        let words = |hyp: &Hypothesis| unsure_words(&vocab, hyp);
        let thresholds = [0.0, 0.35, 0.5];
        let words = hypothesis_words(&set, &PrefixBeam::new(4), words);
        let counts = unsure_word_errors(&set, &words, |c| c, &thresholds);
        let errors: Vec<usize> = counts.iter().map(ErrorCounts::errors).collect();
        assert_eq!(errors, vec![1, 0, 1]);
        assert_eq!(counts[0].insertions, 1);
        assert_eq!(counts[2].deletions, 1);
        assert_eq!(best_threshold(&thresholds, &counts), Some(0.35));
        // A tie goes to the lower threshold.
        assert_eq!(
            best_threshold(&[0.5, 0.0], &[counts[2], counts[0]]),
            Some(0.0)
        );
    }

    /// The sets of the test above, scored as transcripts are written: the calibration is fitted
    /// on the five words (four right ones at 0.4 or 0.9, the wrong "dog" at 0.3, so it keeps
    /// their order), and a threshold between calibrated "dog" and calibrated "hat" leaves out
    /// only "dog": no errors, where every word kept gives one insertion.
    #[test]
    fn confident_scores_count_the_thresholded_transcripts() {
        let (vocab, set) = unsure_set();
        let words = |hyp: &Hypothesis| unsure_words(&vocab, hyp);
        let beam = PrefixBeam::new(4);
        let weights = LmWeights::of(&beam);
        let raw = hypothesis_words(&set, &beam, words);
        let platt = Platt::fit(&word_confidences(&set, &raw)).expect("a fit on five words");
        let (dog, hat) = (platt.apply(0.3), platt.apply(0.4));
        assert!(dog < hat, "the fit keeps the order: {dog} {hat}");
        let between = (dog + hat) / 2.0;
        let trial = score_confident(&set, &beam, weights, words, &[0.0, between]);
        assert_eq!(trial.min_confidence, Some(between));
        assert_eq!(trial.words.errors(), 0);
        assert_eq!(trial.chars.errors(), 0);
        assert_eq!(trial.words.reference, 4);
        let kept = score(&set, &beam, weights);
        assert_eq!((kept.words.errors(), kept.words.insertions), (1, 1));
        assert_eq!(kept.min_confidence, None);
        // Thresholds that only keep every word score as `score` does.
        let all = score_confident(&set, &beam, weights, words, &[0.0]);
        assert_eq!(all.words, kept.words);
        assert_eq!(all.chars, kept.chars);
    }

    #[test]
    fn scores_count_errors_against_references() {
        let vocab = Vocab::english();
        let mut set = DevSet::new(vocab.clone());
        let (lp, frames) = frames_for(&vocab, "a cat sat");
        set.push(lp.clone(), frames, "a cat sat".into());
        // The acoustics say "a cat sat" but the reference differs in one word of three.
        set.push(lp, frames, "a bat sat".into());
        let beam = PrefixBeam::new(4);
        let trial = score(&set, &beam, LmWeights::of(&beam));
        assert_eq!(trial.words.errors(), 1);
        assert_eq!(trial.words.reference, 6);
        assert!((trial.wer() - 100.0 / 6.0).abs() < 1e-9);
    }

    /// "one two" where "two" is faint: its four frames (space, t, w, o) give the letter 0.3
    /// and blank 0.6. Dropping it scores about 4·ln 0.6 against 4·ln 0.3 for keeping it, a
    /// gap of 4·ln 2 ≈ 2.8, so without a phrase bonus the beam deletes "two" (1 error of 2);
    /// a bonus of 4 for the extra phrase outweighs the gap and the search must take it.
    #[test]
    fn search_tunes_the_grammar_bonus_when_a_grammar_steers_the_beam() {
        let vocab = Vocab::english();
        let v = vocab.size();
        let mut lp = Vec::new();
        for id in vocab.encode("one") {
            lp.extend(row(v, id, 0.9));
        }
        let faint = std::iter::once(vocab.space()).chain(vocab.encode("two"));
        for id in faint {
            let rest = (0.1 / (v - 2) as f32).ln();
            lp.extend((0..v as u32).map(|k| match k {
                k if k == id => 0.3f32.ln(),
                k if k == crate::text::BLANK => 0.6f32.ln(),
                _ => rest,
            }));
        }
        let frames = lp.len() / v;
        let mut set = DevSet::new(vocab.clone());
        set.push(lp, frames, "one two".into());
        let grammar = crate::lm::guide::Grammar::parse("one\ntwo").expect("grammar parses");
        let beam = PrefixBeam::new(8).with_guides(crate::lm::guide::Guides {
            grammar: Some(Arc::new(grammar)),
            ..Default::default()
        });
        let grid = Grid {
            char_weight: vec![0.5],
            char_bonus: vec![1.0],
            word_weight: vec![0.5],
            word_bonus: vec![1.0],
            word_oov: vec![-2.0],
            word_oov_letter: vec![0.0],
            grammar_bonus: vec![0.0, 4.0],
        };
        let trials = search(&set, &beam, &grid, 2, |_| {});
        let start = trials
            .iter()
            .find(|t| t.weights.grammar_bonus == 0.0)
            .expect("the start is scored");
        assert_eq!(start.words.deletions, 1);
        assert_eq!(trials[0].weights.grammar_bonus, 4.0);
        assert_eq!(trials[0].words.errors(), 0);
        // Only the grammar's knob moved: the beam has no LM for the others.
        assert_eq!(trials.len(), 2);
        let tuned = trials[0].weights.apply(&beam);
        let g = tuned.guides.grammar.as_ref().expect("the grammar stays");
        assert_eq!(g.phrase_bonus, 4.0);
        // The beam it was applied to keeps its own grammar untouched.
        let own = beam.guides.grammar.as_ref().expect("the grammar is there");
        assert_eq!(own.phrase_bonus, 0.0);
    }

    #[test]
    fn search_moves_a_weight_only_when_it_lowers_errors() {
        let vocab = Vocab::english();
        let lm =
            CharLm::train(["a cat sat", "a cat sat on a mat"], &vocab, 3).expect("toy LM trains");
        let beam = PrefixBeam::new(4).with_lm(LmScorer {
            lm: Arc::new(lm),
            weight: 0.5,
            bonus: 1.0,
        });
        let mut set = DevSet::new(vocab.clone());
        let (lp, frames) = frames_for(&vocab, "a cat sat");
        set.push(lp, frames, "a cat sat".into());
        let grid = Grid {
            char_weight: vec![0.1, 0.5],
            char_bonus: vec![0.0, 1.0],
            word_weight: vec![],
            word_bonus: vec![],
            word_oov: vec![],
            word_oov_letter: vec![],
            grammar_bonus: vec![],
        };
        let mut calls = 0;
        let trials = search(&set, &beam, &grid, 3, |_| calls += 1);
        // The acoustics are unambiguous: the start is already perfect, so the best trial
        // keeps the starting weights (ties never move), and each distinct setting is decoded
        // once: start, weight 0.1, bonus 0.0.
        assert_eq!(trials[0].words.errors(), 0);
        assert_eq!(trials[0].weights, LmWeights::of(&beam));
        assert_eq!(calls, 3);
        assert_eq!(trials.len(), 3);
    }
}
