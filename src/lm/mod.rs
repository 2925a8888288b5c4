//! Character n-gram language model for the CTC beam search.
//!
//! Interpolated Witten–Bell smoothing over the model's own token ids (space, apostrophe,
//! letters), with id 0 (the CTC blank, never a character) standing for the sentence boundary:
//! it opens every context and is the end-of-sentence symbol. Characters, not words, so words
//! never seen in the text still get a probability, and every CTC extension is one LM step.
//!
//! File format (`lm.bin`, little-endian): the magic `HARKLM01`, order (u8), vocabulary size
//! (u8), number of entries (u32), then per n-gram of every order 1..=N its packed key (u64:
//! length in bits 40–42, symbols 5 bits each, oldest first) and count (u32), sorted by key.

use rustc_hash::FxHashMap as HashMap;

mod arpa;
pub mod guide;
pub mod kneser_ney;
pub mod word;

pub use word::WordLm;

use crate::error::{Error, Result};
use crate::text::{BLANK, Vocab};

const MAGIC: &[u8; 8] = b"HARKLM01";
/// Longest n-gram the packed keys hold (the length field has 3 bits).
pub const MAX_ORDER: usize = 7;
const SYMBOL_BITS: u32 = 5;

/// Counts of every n-gram up to `order`, with the context totals that smoothing needs.
#[derive(Debug, Clone)]
pub struct CharLm {
    order: usize,
    vocab_size: usize,
    counts: HashMap<u64, u32>,
    /// Per context: (total count of its continuations, number of distinct continuations).
    contexts: HashMap<u64, (u32, u32)>,
}

fn key(symbols: &[u32]) -> u64 {
    let packed = symbols
        .iter()
        .fold(0u64, |acc, &s| (acc << SYMBOL_BITS) | u64::from(s));
    ((symbols.len() as u64) << 40) | packed
}

impl CharLm {
    /// Count the n-grams of `sentences` (normalised with the vocab's own normalisation).
    pub fn train<'a>(
        sentences: impl IntoIterator<Item = &'a str>,
        vocab: &Vocab,
        order: usize,
    ) -> Result<Self> {
        check_shape(order, vocab.size())?;
        let mut counts: HashMap<u64, u32> = HashMap::default();
        let mut seq = Vec::new();
        for sentence in sentences {
            let ids = vocab.encode(sentence);
            if ids.is_empty() {
                continue;
            }
            seq.clear();
            seq.push(BLANK);
            seq.extend(ids);
            seq.push(BLANK);
            // Every n-gram ending at position i (the opening boundary is context only).
            for i in 1..seq.len() {
                for n in 1..=order.min(i + 1) {
                    *counts.entry(key(&seq[i + 1 - n..=i])).or_insert(0) += 1;
                }
            }
        }
        if counts.is_empty() {
            return Err(Error::Data("no text to train a language model on".into()));
        }
        Ok(Self::from_counts(order, vocab.size(), counts))
    }

    fn from_counts(order: usize, vocab_size: usize, counts: HashMap<u64, u32>) -> Self {
        let mut contexts: HashMap<u64, (u32, u32)> = HashMap::default();
        for (&k, &c) in &counts {
            let len = (k >> 40) as u32;
            let packed = k & ((1u64 << 40) - 1);
            let ctx = (u64::from(len - 1) << 40) | (packed >> SYMBOL_BITS);
            let e = contexts.entry(ctx).or_insert((0, 0));
            e.0 = e.0.saturating_add(c);
            e.1 += 1;
        }
        Self {
            order,
            vocab_size,
            counts,
            contexts,
        }
    }

    pub fn order(&self) -> usize {
        self.order
    }

    /// Number of stored n-grams (all orders).
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Natural-log probability of `symbol` (a token id; 0 = end of sentence) after
    /// `history` (token ids, oldest first; only the last `order - 1` are read; a history
    /// shorter than that is taken to start at the sentence boundary).
    pub fn log_prob(&self, history: &[u32], symbol: u32) -> f32 {
        // `[boundary?] + last order-1 symbols + symbol`, on the stack: this runs for every
        // prefix extension of the beam search.
        let keep = self.order - 1;
        let mut buf = [BLANK; MAX_ORDER + 1];
        let tail = &history[history.len().saturating_sub(keep)..];
        let start = usize::from(history.len() < keep);
        buf[start..start + tail.len()].copy_from_slice(tail);
        let ctx_len = start + tail.len();
        buf[ctx_len] = symbol;
        // Interpolate from the empty context up to the longest one.
        let mut p = 1.0 / self.vocab_size as f64;
        for from in (0..=ctx_len).rev() {
            let Some(&(total, types)) = self.contexts.get(&key(&buf[from..ctx_len])) else {
                break;
            };
            let c = self
                .counts
                .get(&key(&buf[from..=ctx_len]))
                .copied()
                .unwrap_or(0);
            p = (f64::from(c) + f64::from(types) * p) / (f64::from(total) + f64::from(types));
        }
        p.ln() as f32
    }

    /// Serialise to the `lm.bin` format (deterministic: entries sorted by key).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut entries: Vec<(u64, u32)> = self.counts.iter().map(|(&k, &c)| (k, c)).collect();
        entries.sort_unstable();
        let mut out = Vec::with_capacity(14 + entries.len() * 12);
        out.extend_from_slice(MAGIC);
        out.push(self.order as u8);
        out.push(self.vocab_size as u8);
        out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        for (k, c) in entries {
            out.extend_from_slice(&k.to_le_bytes());
            out.extend_from_slice(&c.to_le_bytes());
        }
        out
    }

    /// Whether `bytes` start like the `lm.bin` format.
    pub fn is_char_lm(bytes: &[u8]) -> bool {
        bytes.starts_with(MAGIC)
    }

    /// Parse the `lm.bin` format; anything malformed is an error, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |m: &str| Error::Data(format!("language model: {m}"));
        if bytes.len() < 14 || &bytes[..8] != MAGIC {
            return Err(bad("not a hark language model (bad magic)"));
        }
        let order = bytes[8] as usize;
        let vocab_size = bytes[9] as usize;
        check_shape(order, vocab_size)?;
        let n = u32::from_le_bytes([bytes[10], bytes[11], bytes[12], bytes[13]]) as usize;
        let body = &bytes[14..];
        if body.len() != n.saturating_mul(12) {
            return Err(bad("truncated or padded entry table"));
        }
        let mut counts = HashMap::with_capacity_and_hasher(n, Default::default());
        for e in body.chunks_exact(12) {
            let mut k = [0u8; 8];
            k.copy_from_slice(&e[..8]);
            let k = u64::from_le_bytes(k);
            let c = u32::from_le_bytes([e[8], e[9], e[10], e[11]]);
            let len = (k >> 40) as usize;
            let symbols_ok =
                (0..len).all(|i| ((k >> (i as u32 * SYMBOL_BITS)) & 31) < vocab_size as u64);
            if len == 0 || len > order || k >> 43 != 0 || !symbols_ok || c == 0 {
                return Err(bad("entry out of range"));
            }
            counts.insert(k, c);
        }
        if counts.is_empty() {
            return Err(bad("no entries"));
        }
        Ok(Self::from_counts(order, vocab_size, counts))
    }
}

fn check_shape(order: usize, vocab_size: usize) -> Result<()> {
    if !(1..=MAX_ORDER).contains(&order) {
        return Err(Error::Config(format!(
            "language model order must be 1–{MAX_ORDER}, not {order}"
        )));
    }
    if !(2..=1 << SYMBOL_BITS).contains(&vocab_size) {
        return Err(Error::Config(format!(
            "a character language model holds 2–{} symbols, not {vocab_size}",
            1 << SYMBOL_BITS
        )));
    }
    Ok(())
}

/// A language model with the weights the beam search gives it.
#[derive(Debug, Clone)]
pub struct LmScorer {
    pub lm: std::sync::Arc<CharLm>,
    /// Multiplies the LM log-probability.
    pub weight: f32,
    /// Added per emitted character (counters the LM's bias towards short outputs).
    pub bonus: f32,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lm(order: usize) -> CharLm {
        let text = ["the cat sat", "the hat", "a cat ate the hat"];
        CharLm::train(text, &Vocab::english(), order).unwrap()
    }

    #[test]
    fn probabilities_over_the_vocabulary_sum_to_one() {
        let v = Vocab::english();
        let m = lm(4);
        for history in ["", "t", "th", "the c", "zzz", "a cat ate the hat"] {
            let h = v.encode(history);
            let sum: f64 = (0..v.size() as u32)
                .map(|s| f64::from(m.log_prob(&h, s)).exp())
                .sum();
            assert!((sum - 1.0).abs() < 1e-4, "history '{history}': sum {sum}");
        }
    }

    #[test]
    fn seen_continuations_beat_unseen_ones() {
        let v = Vocab::english();
        let m = lm(4);
        let h = v.encode("the ca");
        let t = v.id('t').unwrap();
        let q = v.id('q').unwrap();
        assert!(m.log_prob(&h, t) > m.log_prob(&h, q) + 2.0);
        // End of sentence is likely after "hat", unlikely after "th".
        assert!(m.log_prob(&v.encode("the hat"), BLANK) > m.log_prob(&v.encode("th"), BLANK));
    }

    #[test]
    fn bytes_round_trip_and_damage_is_refused() {
        let v = Vocab::english();
        let m = lm(5);
        let bytes = m.to_bytes();
        let back = CharLm::from_bytes(&bytes).unwrap();
        assert_eq!(back.len(), m.len());
        let h = v.encode("a ca");
        for s in 0..v.size() as u32 {
            assert_eq!(back.log_prob(&h, s), m.log_prob(&h, s));
        }
        assert!(CharLm::from_bytes(&bytes[..bytes.len() - 3]).is_err());
        assert!(CharLm::from_bytes(b"HARKLM00xxxxxxxxxx").is_err());
        let mut bad = bytes.clone();
        bad[14 + 5] = 0xff; // a key with a length beyond the order
        assert!(CharLm::from_bytes(&bad).is_err());
    }

    #[test]
    fn bad_shapes_are_refused() {
        let v = Vocab::english();
        assert!(CharLm::train(["x"], &v, 0).is_err());
        assert!(CharLm::train(["x"], &v, MAX_ORDER + 1).is_err());
        assert!(CharLm::train(["", "!!"], &v, 3).is_err());
    }
}
