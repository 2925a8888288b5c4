//! What steers the beam search beyond the character LM: a word n-gram model scored on each
//! completed word, a grammar that restricts the output to sequences of listed phrases, and
//! hotwords whose letters earn a bonus.
//!
//! Each works on the prefix's token ids (the vocabulary's characters, space between words) and
//! answers in natural-log score units, so the beam adds them to the acoustic log-probability.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::word::{EOS, WordLm};
use crate::error::{Error, Result};
use crate::text::{BLANK, Vocab};

/// The words of `prefix` (token ids) as strings, and whether it ends inside a word.
fn words_of(vocab: &Vocab, prefix: &[u32]) -> Vec<String> {
    vocab
        .decode(prefix)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

/// A word LM with the weights the beam search gives it.
#[derive(Debug, Clone)]
pub struct WordScorer {
    pub lm: Arc<WordLm>,
    /// Multiplies the word LM's natural-log probability.
    pub weight: f32,
    /// Added per completed word (counters the LM's taste for few words).
    pub bonus: f32,
    /// Added for a word the LM does not know, on top of its `<unk>` probability: at the
    /// letter where the word stops being the start of any known word (so the beam drops
    /// strings of fragments early), or when a word that is only a known word's start ends.
    pub oov_penalty: f32,
    /// Added for each letter of a word past the point where it left the vocabulary: without
    /// it, a word that has paid the OOV penalty grows for free, and the beam can prefer one
    /// long string of fragments to several known words that each pay their probability.
    pub oov_letter_penalty: f32,
    vocab: Vocab,
}

impl WordScorer {
    pub fn new(lm: Arc<WordLm>, weight: f32, bonus: f32, oov_penalty: f32) -> Self {
        Self {
            lm,
            weight,
            bonus,
            oov_penalty,
            oov_letter_penalty: 0.0,
            vocab: Vocab::english(),
        }
    }

    /// With `penalty` added for each letter of a word past the point where it left the
    /// vocabulary.
    pub fn with_oov_letter_penalty(mut self, penalty: f32) -> Self {
        self.oov_letter_penalty = penalty;
        self
    }

    /// The score of `word` after `history` (the words before it), weighted, with the bonus.
    fn score_word(&self, history: &[String], word: Option<&str>) -> f32 {
        let ids = self.lm.history_ids(history);
        let id = match word {
            Some(w) => self.lm.id(w),
            None => self.lm.id(EOS),
        };
        // A word that is no known word's start was charged at the letter where it left
        // the vocabulary (`step`).
        let oov = word.is_some_and(|w| id.is_none() && self.lm.is_word_start(w));
        let mut s = self.weight * self.lm.ln_prob(&ids, id);
        if word.is_some() {
            s += self.bonus;
        }
        if oov {
            s += self.oov_penalty;
        }
        s
    }

    /// The OOV penalty when letter `c` turns the word that `prefix` ends in from the start
    /// of a known word into the start of none, and the letter penalty for every letter of a
    /// word that is no known word's start; else 0.
    fn leaves_vocabulary(&self, prefix: &[u32], c: u32) -> f32 {
        let space = self.vocab.space();
        let start = prefix
            .iter()
            .rposition(|&t| t == space)
            .map_or(0, |i| i + 1);
        let mut word = self.vocab.decode(&prefix[start..]);
        let Some(letter) = self.vocab.symbol(c) else {
            return 0.0;
        };
        word.push(letter);
        // Any start of a known word's start is one too, so the usual case needs one search.
        if self.lm.is_word_start(&word) {
            return 0.0;
        }
        word.pop();
        if self.lm.is_word_start(&word) {
            self.oov_penalty + self.oov_letter_penalty
        } else {
            self.oov_letter_penalty
        }
    }

    /// The score of appending token `c` to `prefix` (`BLANK`: the utterance ends): the last
    /// word's score when `c` completes it, and at the end also the sentence end's.
    pub fn step(&self, prefix: &[u32], c: u32) -> f32 {
        let space = self.vocab.space();
        if c != space && c != BLANK {
            return self.leaves_vocabulary(prefix, c);
        }
        let ends_in_word = prefix.last().is_some_and(|&t| t != space);
        let words = words_of(&self.vocab, prefix);
        let mut s = 0.0;
        if ends_in_word && let Some((last, history)) = words.split_last() {
            s += self.score_word(history, Some(last));
        }
        if c == BLANK {
            s += self.score_word(&words, None);
        }
        s
    }
}

/// Where a grammar's matcher can be: a node of the phrase trie, or inside a word that no
/// phrase spells (`[unk]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum At {
    Node(usize),
    Unknown,
}

#[derive(Debug, Clone, Default)]
struct Node {
    children: Vec<(u32, usize)>,
    /// A phrase ends here.
    end: bool,
}

/// A Vosk-style grammar: the output is any sequence of the listed phrases, separated by
/// spaces; with `[unk]`, any other word may stand in for a phrase at a penalty.
#[derive(Debug, Clone)]
pub struct Grammar {
    nodes: Vec<Node>,
    unknown: bool,
    /// Added once for each word that no phrase spells.
    pub unknown_penalty: f32,
    /// Added for each listed phrase the output completes (counters CTC's deletions, as the
    /// word LM's bonus does).
    pub phrase_bonus: f32,
    space: u32,
}

/// The grammar's matcher states after a prefix (empty: the prefix is not allowed).
pub type GrammarState = BTreeSet<At>;

impl Grammar {
    /// A grammar from its text: one phrase per line, or a JSON array of strings. `[unk]`
    /// (a line, or an element) allows other words.
    pub fn parse(text: &str) -> Result<Self> {
        let trimmed = text.trim_start();
        let phrases: Vec<String> = if trimmed.starts_with('[') && !trimmed.starts_with("[unk]") {
            serde_json::from_str::<Vec<String>>(trimmed)
                .map_err(|e| Error::Config(format!("grammar: not a JSON array of strings: {e}")))?
        } else {
            text.lines().map(str::to_string).collect()
        };
        let vocab = Vocab::english();
        let mut g = Self {
            nodes: vec![Node::default()],
            unknown: false,
            unknown_penalty: -5.0,
            phrase_bonus: 0.0,
            space: vocab.space(),
        };
        let mut listed = 0;
        for phrase in &phrases {
            if phrase.trim() == "[unk]" {
                g.unknown = true;
                continue;
            }
            let ids = vocab.encode(phrase);
            if ids.is_empty() {
                continue;
            }
            let mut at = 0;
            for &c in &ids {
                at = match g.nodes[at].children.iter().find(|(t, _)| *t == c) {
                    Some(&(_, next)) => next,
                    None => {
                        g.nodes.push(Node::default());
                        let next = g.nodes.len() - 1;
                        g.nodes[at].children.push((c, next));
                        next
                    }
                };
            }
            g.nodes[at].end = true;
            listed += 1;
        }
        if listed == 0 {
            return Err(Error::Config("grammar: no phrases".into()));
        }
        Ok(g)
    }

    /// The states before any output.
    pub fn start(&self) -> GrammarState {
        BTreeSet::from([At::Node(0)])
    }

    /// The states after appending `c` to a prefix in `state`, and the penalty that costs.
    pub fn advance(&self, state: &GrammarState, c: u32) -> (GrammarState, f32) {
        let mut next = BTreeSet::new();
        for &at in state {
            match at {
                At::Unknown => {
                    next.insert(if c == self.space {
                        At::Node(0)
                    } else {
                        At::Unknown
                    });
                }
                At::Node(n) => {
                    let node = &self.nodes[n];
                    if c == self.space && node.end {
                        next.insert(At::Node(0));
                    }
                    if let Some(&(_, child)) = node.children.iter().find(|(t, _)| *t == c) {
                        next.insert(At::Node(child));
                    }
                    if n == 0 && self.unknown && c != self.space {
                        next.insert(At::Unknown);
                    }
                }
            }
        }
        // A word becomes unknown when no phrase can spell it any more.
        let only_unknown = next.len() == 1 && next.contains(&At::Unknown);
        let was_unknown = state.len() == 1 && state.contains(&At::Unknown);
        let cost = if only_unknown && !was_unknown {
            self.unknown_penalty
        } else {
            0.0
        };
        (next, cost)
    }

    /// The states after a whole prefix, and its total penalty.
    pub fn walk(&self, prefix: &[u32]) -> (GrammarState, f32) {
        let mut state = self.start();
        let mut cost = 0.0;
        for &c in prefix {
            let (next, step) = self.advance(&state, c);
            state = next;
            cost += step;
            if state.is_empty() {
                break;
            }
        }
        (state, cost)
    }

    /// Whether `state` is at the end of a listed phrase.
    fn at_phrase_end(&self, state: &GrammarState) -> bool {
        state
            .iter()
            .any(|&at| matches!(at, At::Node(n) if n != 0 && self.nodes[n].end))
    }

    /// Whether the output may end in `state`: after a whole phrase, an unknown word, or
    /// nothing.
    pub fn accepts(&self, state: &GrammarState) -> bool {
        state.iter().any(|&at| match at {
            At::Unknown => true,
            At::Node(n) => n == 0 || self.nodes[n].end,
        })
    }
}

/// Words or phrases to favour, each with a boost (natural-log units) earned letter by letter
/// while the output spells it, and kept when it is complete.
#[derive(Debug, Clone)]
pub struct Hotwords {
    phrases: Vec<(Vec<u32>, f32)>,
    space: u32,
}

impl Hotwords {
    /// `word:boost,phrase of words:boost,...` (a missing `:boost` means 2.0), or the same one
    /// per line.
    pub fn parse(spec: &str) -> Result<Self> {
        let vocab = Vocab::english();
        let mut phrases = Vec::new();
        for item in spec
            .split([',', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            let (text, boost) = match item.rsplit_once(':') {
                Some((t, b)) => (
                    t,
                    b.trim()
                        .parse::<f32>()
                        .ok()
                        .filter(|b| b.is_finite())
                        .ok_or_else(|| {
                            Error::Config(format!("hotword `{item}`: `{b}` is not a number"))
                        })?,
                ),
                None => (item, 2.0),
            };
            let ids = vocab.encode(text);
            if ids.is_empty() {
                return Err(Error::Config(format!("hotword `{item}` has no letters")));
            }
            phrases.push((ids, boost));
        }
        if phrases.is_empty() {
            return Err(Error::Config("no hotwords given".into()));
        }
        Ok(Self {
            phrases,
            space: vocab.space(),
        })
    }

    /// The boost a prefix has earned: every complete hotword followed by a space (or, when
    /// `ended`, by the end), plus the share of one being spelled at the end (not when ended).
    pub fn earned(&self, prefix: &[u32], ended: bool) -> f32 {
        let mut total = 0.0;
        let mut partial: f32 = 0.0;
        for start in 0..prefix.len() {
            if start > 0 && prefix[start - 1] != self.space {
                continue;
            }
            let rest = &prefix[start..];
            for (ids, boost) in &self.phrases {
                if rest.len() >= ids.len() && rest.starts_with(ids) {
                    let after = rest.get(ids.len());
                    if after == Some(&self.space) || (after.is_none() && ended) {
                        total += boost;
                    } else if after.is_none() {
                        partial = partial.max(*boost);
                    }
                } else if rest.len() < ids.len() && ids.starts_with(rest) && !ended {
                    partial = partial.max(boost * rest.len() as f32 / ids.len() as f32);
                }
            }
        }
        total + partial
    }
}

/// Everything the beam search consults besides the acoustic model and the character LM.
#[derive(Debug, Clone, Default)]
pub struct Guides {
    pub words: Option<WordScorer>,
    pub grammar: Option<Arc<Grammar>>,
    pub hotwords: Option<Arc<Hotwords>>,
}

impl Guides {
    pub fn is_empty(&self) -> bool {
        self.words.is_none() && self.grammar.is_none() && self.hotwords.is_none()
    }

    /// The score of appending `c` to `prefix` (`BLANK`: the utterance ends there), or `None`
    /// when the grammar forbids it.
    pub fn step(&self, prefix: &[u32], c: u32) -> Option<f32> {
        let mut s = 0.0;
        if let Some(g) = &self.grammar {
            let (state, _) = g.walk(prefix);
            // A space or the end completes the phrase the prefix is at the end of.
            if (c == BLANK || c == g.space) && g.at_phrase_end(&state) {
                s += g.phrase_bonus;
            }
            if c == BLANK {
                if !g.accepts(&state) {
                    return None;
                }
            } else {
                let (next, cost) = g.advance(&state, c);
                if next.is_empty() {
                    return None;
                }
                s += cost;
            }
        }
        if let Some(w) = &self.words {
            s += w.step(prefix, c);
        }
        if let Some(h) = &self.hotwords {
            if c == BLANK {
                s += h.earned(prefix, true) - h.earned(prefix, false);
            } else {
                let mut extended = prefix.to_vec();
                extended.push(c);
                s += h.earned(&extended, false) - h.earned(prefix, false);
            }
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(text: &str) -> Vec<u32> {
        Vocab::english().encode(text)
    }

    #[test]
    fn a_digits_grammar_allows_any_sequence_of_its_words_only() {
        let g = Grammar::parse("zero\noh\none\ntwo\nthree").unwrap();
        let ok = |t: &str| {
            let (s, _) = g.walk(&ids(t));
            !s.is_empty() && g.accepts(&s)
        };
        assert!(ok("one") && ok("one two three") && ok("oh oh") && ok(""));
        assert!(!ok("on"), "a proper prefix of a phrase is not complete");
        assert!(!ok("one four") && !ok("onetwo"));
        // "on" is still on the way to "one"; "x" is nowhere.
        assert!(!g.walk(&ids("on")).0.is_empty());
        assert!(g.walk(&ids("x")).0.is_empty());
    }

    #[test]
    fn unk_allows_other_words_at_a_penalty_and_json_lists_work() {
        let g = Grammar::parse(r#"["turn on the light", "[unk]"]"#).unwrap();
        let (s, cost) = g.walk(&ids("turn on the light"));
        assert!(g.accepts(&s) && cost == 0.0);
        // "turn" may still start the phrase; "off" (at "f"), "the" (at "h": only "turn on the
        // light" starts with "t") and "light" (at "l") become unknown words: three penalties.
        let (s, cost) = g.walk(&ids("turn off the light"));
        assert!(g.accepts(&s));
        assert_eq!(cost, 3.0 * g.unknown_penalty);
        assert!(Grammar::parse("").is_err());
        assert!(Grammar::parse("[1, 2]").is_err());
    }

    /// A word LM that knows one word, "red", scored with OOV penalty -2 and `letter_penalty`.
    fn red_only(letter_penalty: f32) -> WordScorer {
        let arpa = "\\data\\\nngram 1=3\n\\1-grams:\n-0.5 red\n-0.3 </s>\n-99 <s>\n\\end\\\n";
        let lm = WordLm::parse_arpa(arpa.as_bytes()).unwrap();
        WordScorer::new(Arc::new(lm), 0.0, 0.0, -2.0).with_oov_letter_penalty(letter_penalty)
    }

    /// The score of each letter of `text` and of the space after it.
    fn steps(scorer: &WordScorer, text: &str) -> Vec<f32> {
        let mut t = ids(text);
        t.push(Vocab::english().space());
        (0..t.len()).map(|i| scorer.step(&t[..i], t[i])).collect()
    }

    /// With weight and bonus 0 only the OOV penalty (-2) is left, so the step scores show
    /// where it is charged: "rad" at its "a" (no known word starts "ra"), "re" at its end (a
    /// known word's start, not a word), "red" never; each unknown word exactly once.
    #[test]
    fn an_unknown_word_is_charged_once_where_it_leaves_the_vocabulary() {
        let scorer = red_only(0.0);
        assert_eq!(steps(&scorer, "rad"), vec![0.0, -2.0, 0.0, 0.0]);
        assert_eq!(steps(&scorer, "re"), vec![0.0, 0.0, -2.0]);
        assert_eq!(steps(&scorer, "red"), vec![0.0, 0.0, 0.0, 0.0]);
        // The next word starts afresh: "red" after "rad" costs nothing more.
        assert_eq!(steps(&scorer, "rad red")[4..], [0.0, 0.0, 0.0, 0.0]);
    }

    /// With a letter penalty of -0.5, every letter past the point where a word left the
    /// vocabulary pays it too: "radish" leaves at "a" (-2 - 0.5) and pays for "d", "i", "s",
    /// "h" as well (-4.5 in all); "red" still pays nothing, and the next word starts afresh.
    #[test]
    fn each_letter_past_the_vocabulary_pays_the_letter_penalty() {
        let scorer = red_only(-0.5);
        assert_eq!(
            steps(&scorer, "radish"),
            vec![0.0, -2.5, -0.5, -0.5, -0.5, -0.5, 0.0]
        );
        assert_eq!(steps(&scorer, "red"), vec![0.0, 0.0, 0.0, 0.0]);
        assert_eq!(steps(&scorer, "rad red")[4..], [0.0, 0.0, 0.0, 0.0]);
    }

    /// The phrase bonus is paid once per completed phrase: at the space after it or at the
    /// end of the output, never for a partial phrase or an empty ending.
    #[test]
    fn a_grammar_pays_its_bonus_for_each_completed_phrase() {
        let mut g = Grammar::parse("one\ntwo").unwrap();
        g.phrase_bonus = 1.5;
        let guides = Guides {
            grammar: Some(Arc::new(g)),
            ..Guides::default()
        };
        let space = Vocab::english().space();
        let e = ids("e")[0];
        assert_eq!(guides.step(&ids("one"), space), Some(1.5));
        assert_eq!(guides.step(&ids("one two"), BLANK), Some(1.5));
        assert_eq!(guides.step(&ids("on"), e), Some(0.0));
        assert_eq!(guides.step(&ids("on"), BLANK), None, "not a phrase");
        assert_eq!(guides.step(&ids("on"), space), None);
        let mut after_space = ids("one");
        after_space.push(space);
        assert_eq!(guides.step(&after_space, BLANK), Some(0.0));
        assert_eq!(guides.step(&[], BLANK), Some(0.0));
    }

    #[test]
    fn hotwords_earn_by_the_letter_and_keep_only_whole_words() {
        let h = Hotwords::parse("hark:4,new york:2").unwrap();
        assert_eq!(h.earned(&ids("ha"), false), 2.0);
        assert_eq!(h.earned(&ids("hark"), false), 4.0);
        assert_eq!(h.earned(&ids("hark "), false), 4.0);
        assert_eq!(h.earned(&ids("harks "), false), 0.0);
        assert_eq!(h.earned(&ids("hark"), true), 4.0);
        assert_eq!(h.earned(&ids("ha"), true), 0.0);
        assert_eq!(h.earned(&ids("new york hark "), false), 6.0);
        assert_eq!(h.earned(&ids("shark "), false), 0.0);
        assert!(Hotwords::parse("x:y").is_err() && Hotwords::parse("").is_err());
    }
}
