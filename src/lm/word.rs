//! Word n-gram language models with back-off, as KenLM's `lmplz` and SRILM write them.
//!
//! - **ARPA in and out**, plain or gzip-compressed, any order up to [`MAX_ORDER`]: `\data\`
//!   with the counts, then one `\N-grams:` section per order with `log10 p`, the words, and an
//!   optional `log10` back-off weight, then `\end\`.
//! - **A compact binary form** (`HARKWLM2`): the vocabulary, then per order the sorted packed
//!   keys (in as few bytes as `n` word ids of [`ID_BITS`] bits need: 3 for unigrams, 6 for
//!   bigrams, 8 for trigrams) with their probabilities and, below the highest order, back-offs.
//!   It loads with a few large reads, no parsing.
//! - **Queries** follow the back-off rule: `p(w | h) = p*(h w)` when `h w` is listed, else
//!   `bo(h) · p(w | h')`, with `h'` the history without its oldest word and `bo(h) = 1` when `h`
//!   is not listed.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Longest n-gram: six words of [`ID_BITS`] bits fit one `u128` key.
pub const MAX_ORDER: usize = 6;
/// Bits per word id in a packed key (up to two million words).
const ID_BITS: u32 = 21;
const MAX_WORDS: usize = 1 << ID_BITS;
const MAGIC: &[u8; 8] = b"HARKWLM2";
/// Sentence start and end, as ARPA files spell them.
pub const BOS: &str = "<s>";
pub const EOS: &str = "</s>";
pub const UNK: &str = "<unk>";
/// log10 probability given to a word the model has never seen when it has no `<unk>`.
const UNSEEN_LOG10: f32 = -7.0;

/// The n-grams of one order, sorted by key.
#[derive(Debug, Clone, Default, PartialEq)]
struct Table {
    keys: Vec<u128>,
    /// log10 probabilities.
    prob: Vec<f32>,
    /// log10 back-off weights (0 where none is given).
    backoff: Vec<f32>,
}

impl Table {
    fn find(&self, key: u128) -> Option<usize> {
        self.keys.binary_search(&key).ok()
    }
}

/// Bytes of a packed key of `n` word ids in the binary form.
fn key_bytes(n: usize) -> usize {
    (n * ID_BITS as usize).div_ceil(8)
}

fn pack(ids: &[u32]) -> u128 {
    ids.iter()
        .fold(0u128, |acc, &id| (acc << ID_BITS) | u128::from(id))
}

/// A word n-gram model with back-off weights.
#[derive(Debug, Clone, PartialEq)]
pub struct WordLm {
    order: usize,
    words: Vec<String>,
    ids: HashMap<String, u32>,
    /// The spellings, sorted, so that whether any word starts with a given string is a
    /// binary search.
    spellings: SortedSpellings,
    /// `tables[n - 1]` holds the n-grams.
    tables: Vec<Table>,
}

/// Every word's spelling, sorted, in one buffer: the beam search asks whether some word starts
/// with a string for nearly every letter it tries, and a binary search over one contiguous
/// buffer is cheaper than one that follows each word to its own allocation (its share of the
/// decoding time fell from 12 % to 7.5 %, session 17).
#[derive(Debug, Clone, PartialEq)]
struct SortedSpellings {
    text: String,
    /// `(start, end)` of each spelling in `text`, in sorted order.
    spans: Vec<(u32, u32)>,
}

impl SortedSpellings {
    fn new(words: &[String]) -> Self {
        let mut sorted: Vec<&str> = words.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        let mut text = String::with_capacity(sorted.iter().map(|w| w.len()).sum());
        let spans = sorted
            .iter()
            .map(|w| {
                let start = text.len() as u32;
                text.push_str(w);
                (start, text.len() as u32)
            })
            .collect();
        Self { text, spans }
    }

    fn spelling(&self, (start, end): (u32, u32)) -> &str {
        &self.text[start as usize..end as usize]
    }

    /// Whether some spelling starts with `start`.
    fn any_starts_with(&self, start: &str) -> bool {
        let first = self
            .spans
            .partition_point(|&span| self.spelling(span) < start);
        self.spans
            .get(first)
            .is_some_and(|&span| self.spelling(span).starts_with(start))
    }
}

/// One n-gram as read from or written to ARPA: words, log10 probability, log10 back-off.
#[derive(Debug, Clone, PartialEq)]
pub struct NGram {
    pub words: Vec<String>,
    pub log10_prob: f32,
    pub log10_backoff: Option<f32>,
}

impl WordLm {
    /// A model from its n-grams (every order from 1 to the longest present). Fails on an
    /// n-gram whose words are not all unigrams, on duplicates, and on non-finite numbers
    /// (except the customary −99 for `<s>`, which is finite).
    pub fn from_ngrams(ngrams: impl IntoIterator<Item = NGram>) -> Result<Self> {
        let bad = |m: String| Error::Data(format!("word language model: {m}"));
        let mut by_order: Vec<Vec<NGram>> = Vec::new();
        for g in ngrams {
            let n = g.words.len();
            if n == 0 || n > MAX_ORDER {
                return Err(bad(format!("{n}-gram: orders 1–{MAX_ORDER} are supported")));
            }
            if !g.log10_prob.is_finite() || g.log10_backoff.is_some_and(|b| !b.is_finite()) {
                return Err(bad(format!(
                    "{}: a number is not finite",
                    g.words.join(" ")
                )));
            }
            if by_order.len() < n {
                by_order.resize_with(n, Vec::new);
            }
            by_order[n - 1].push(g);
        }
        let Some(unigrams) = by_order.first().filter(|u| !u.is_empty()) else {
            return Err(bad("no unigrams".into()));
        };
        if unigrams.len() > MAX_WORDS {
            return Err(bad(format!("more than {MAX_WORDS} words")));
        }
        let mut words = Vec::with_capacity(unigrams.len());
        let mut ids = HashMap::with_capacity(unigrams.len());
        for g in unigrams {
            let word = g.words[0].clone();
            if ids.insert(word.clone(), words.len() as u32).is_some() {
                return Err(bad(format!("the word {word} is listed twice")));
            }
            words.push(word);
        }
        let mut tables = Vec::with_capacity(by_order.len());
        for (i, grams) in by_order.iter().enumerate() {
            if grams.is_empty() {
                return Err(bad(format!("no {}-grams, but longer ones", i + 1)));
            }
            let mut rows: Vec<(u128, f32, f32)> = Vec::with_capacity(grams.len());
            for g in grams {
                let mut key_ids = Vec::with_capacity(g.words.len());
                for w in &g.words {
                    let Some(&id) = ids.get(w) else {
                        return Err(bad(format!(
                            "{}: the word {w} has no unigram",
                            g.words.join(" ")
                        )));
                    };
                    key_ids.push(id);
                }
                rows.push((pack(&key_ids), g.log10_prob, g.log10_backoff.unwrap_or(0.0)));
            }
            rows.sort_unstable_by_key(|r| r.0);
            if rows.windows(2).any(|w| w[0].0 == w[1].0) {
                return Err(bad(format!("a {}-gram is listed twice", i + 1)));
            }
            tables.push(Table {
                keys: rows.iter().map(|r| r.0).collect(),
                prob: rows.iter().map(|r| r.1).collect(),
                backoff: rows.iter().map(|r| r.2).collect(),
            });
        }
        Ok(Self {
            order: tables.len(),
            spellings: SortedSpellings::new(&words),
            words,
            ids,
            tables,
        })
    }

    pub fn order(&self) -> usize {
        self.order
    }

    /// Number of n-grams of each order.
    pub fn counts(&self) -> Vec<usize> {
        self.tables.iter().map(|t| t.keys.len()).collect()
    }

    pub fn vocabulary_size(&self) -> usize {
        self.words.len()
    }

    /// The id of `word`, if the model knows it.
    pub fn id(&self, word: &str) -> Option<u32> {
        self.ids.get(word).copied()
    }

    /// Whether some word of the vocabulary starts with `start` (every word starts with "").
    pub fn is_word_start(&self, start: &str) -> bool {
        self.spellings.any_starts_with(start)
    }

    pub fn word(&self, id: u32) -> Option<&str> {
        self.words.get(id as usize).map(String::as_str)
    }

    /// log10 p(`word` | `history`), `history` oldest first (only the last `order - 1` ids
    /// are read). `None` for `word` means a word outside the vocabulary: it gets `<unk>`'s
    /// probability, or a fixed floor when the model has no `<unk>`.
    pub fn log10_prob(&self, history: &[u32], word: Option<u32>) -> f32 {
        let Some(word) = word.or_else(|| self.id(UNK)) else {
            return UNSEEN_LOG10;
        };
        let keep = history.len().min(self.order - 1);
        let mut ids = [0u32; MAX_ORDER];
        ids[..keep].copy_from_slice(&history[history.len() - keep..]);
        ids[keep] = word;
        let mut backoff = 0.0;
        // Longest match first: `ids[from..=keep]`.
        for from in 0..=keep {
            let n = keep - from + 1;
            if let Some(i) = self.tables[n - 1].find(pack(&ids[from..=keep])) {
                return backoff + self.tables[n - 1].prob[i];
            }
            // Not listed: back off through the history `ids[from..keep]`, if it is listed.
            if n > 1
                && let Some(j) = self.tables[n - 2].find(pack(&ids[from..keep]))
            {
                backoff += self.tables[n - 2].backoff[j];
            }
        }
        // Only reachable for a word without a unigram, which ids never are.
        backoff + UNSEEN_LOG10
    }

    /// The ids of the last `order - 1` of `words` (oldest first) as an n-gram history: `<s>`
    /// first when there are fewer, an unknown word as `<unk>` (or id 0 without one).
    pub fn history_ids<S: AsRef<str>>(&self, words: &[S]) -> Vec<u32> {
        let keep = self.order.saturating_sub(1);
        let mut ids = Vec::with_capacity(keep + 1);
        if words.len() < keep
            && let Some(bos) = self.id(BOS)
        {
            ids.push(bos);
        }
        for w in &words[words.len().saturating_sub(keep)..] {
            ids.push(self.id(w.as_ref()).or_else(|| self.id(UNK)).unwrap_or(0));
        }
        ids
    }

    /// Natural-log p(`</s>` | `words`): how likely the model finds a sentence to end after
    /// `words` (oldest first).
    pub fn end_ln_prob<S: AsRef<str>>(&self, words: &[S]) -> f32 {
        self.ln_prob(&self.history_ids(words), self.id(EOS))
    }

    /// Natural-log p(`word` | `history`): what the beam search adds.
    pub fn ln_prob(&self, history: &[u32], word: Option<u32>) -> f32 {
        self.log10_prob(history, word) * std::f32::consts::LN_10
    }

    /// Every n-gram, order by order, in key order.
    pub fn ngrams(&self) -> impl Iterator<Item = NGram> + '_ {
        self.tables.iter().enumerate().flat_map(move |(i, table)| {
            let n = i + 1;
            let last_order = n == self.order;
            (0..table.keys.len()).map(move |k| {
                let key = table.keys[k];
                let words = (0..n)
                    .rev()
                    .map(|p| {
                        let id = (key >> (p as u32 * ID_BITS)) as usize & (MAX_WORDS - 1);
                        self.words[id].clone()
                    })
                    .collect();
                NGram {
                    words,
                    log10_prob: table.prob[k],
                    log10_backoff: (!last_order).then_some(table.backoff[k]),
                }
            })
        })
    }

    /// The binary form: magic, order (u8), word count (u32), the words (u16 length + UTF-8),
    /// then per order the count (u64) and per n-gram the key (u128), log10 prob and back-off
    /// (f32), all little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.push(self.order as u8);
        out.extend_from_slice(&(self.words.len() as u32).to_le_bytes());
        for w in &self.words {
            let b = w.as_bytes();
            out.extend_from_slice(&(b.len().min(u16::MAX as usize) as u16).to_le_bytes());
            out.extend_from_slice(&b[..b.len().min(u16::MAX as usize)]);
        }
        for (i, t) in self.tables.iter().enumerate() {
            let n = i + 1;
            out.extend_from_slice(&(t.keys.len() as u64).to_le_bytes());
            for k in &t.keys {
                out.extend_from_slice(&k.to_le_bytes()[..key_bytes(n)]);
            }
            for p in &t.prob {
                out.extend_from_slice(&p.to_le_bytes());
            }
            // The highest order backs off nowhere: its back-offs are all zero and not stored.
            if n < self.order {
                for b in &t.backoff {
                    out.extend_from_slice(&b.to_le_bytes());
                }
            }
        }
        out
    }

    /// Whether `bytes` start like the binary form.
    pub fn is_binary(bytes: &[u8]) -> bool {
        bytes.starts_with(MAGIC)
    }

    /// Parse the binary form; anything malformed is an error, never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let bad = |m: &str| Error::Data(format!("word language model: {m}"));
        let mut r = Cursor { bytes, at: 0 };
        if r.take(8).ok_or_else(|| bad("too short"))? != MAGIC {
            return Err(bad("not a hark word language model (bad magic)"));
        }
        let order = r.u8().ok_or_else(|| bad("too short"))? as usize;
        if !(1..=MAX_ORDER).contains(&order) {
            return Err(bad("order out of range"));
        }
        let n_words = r.u32().ok_or_else(|| bad("too short"))? as usize;
        if n_words == 0 || n_words > MAX_WORDS {
            return Err(bad("word count out of range"));
        }
        let mut words = Vec::with_capacity(n_words.min(bytes.len()));
        let mut ids = HashMap::with_capacity(n_words.min(bytes.len()));
        for id in 0..n_words {
            let len = r.u16().ok_or_else(|| bad("truncated vocabulary"))? as usize;
            let text = r.take(len).ok_or_else(|| bad("truncated vocabulary"))?;
            let word = std::str::from_utf8(text)
                .map_err(|_| bad("a word is not UTF-8"))?
                .to_string();
            if ids.insert(word.clone(), id as u32).is_some() {
                return Err(bad("a word is listed twice"));
            }
            words.push(word);
        }
        let mut tables = Vec::with_capacity(order);
        for n in 1..=order {
            let count = r.u64().ok_or_else(|| bad("truncated table"))? as usize;
            if count > bytes.len() / (key_bytes(n) + 4) + 1 {
                return Err(bad("table larger than the file"));
            }
            let mut t = Table {
                keys: Vec::with_capacity(count),
                prob: Vec::with_capacity(count),
                backoff: Vec::with_capacity(count),
            };
            for _ in 0..count {
                let key = r.uint(key_bytes(n)).ok_or_else(|| bad("truncated table"))?;
                let in_range = (0..n)
                    .all(|p| (key >> (p as u32 * ID_BITS)) as usize & (MAX_WORDS - 1) < n_words)
                    && key >> (n as u32 * ID_BITS) == 0;
                if !in_range {
                    return Err(bad("n-gram key out of range"));
                }
                t.keys.push(key);
            }
            if t.keys.windows(2).any(|w| w[0] >= w[1]) {
                return Err(bad("n-gram keys not sorted"));
            }
            for _ in 0..count {
                t.prob.push(r.f32().ok_or_else(|| bad("truncated table"))?);
            }
            for _ in 0..count {
                t.backoff.push(if n < order {
                    r.f32().ok_or_else(|| bad("truncated table"))?
                } else {
                    0.0
                });
            }
            if t.prob.iter().chain(&t.backoff).any(|v| !v.is_finite()) {
                return Err(bad("a number is not finite"));
            }
            tables.push(t);
        }
        if r.at != bytes.len() {
            return Err(bad("trailing bytes"));
        }
        if tables[0].keys.len() != n_words {
            return Err(bad("every word needs a unigram"));
        }
        Ok(Self {
            order,
            spellings: SortedSpellings::new(&words),
            words,
            ids,
            tables,
        })
    }

    /// Read a word LM from `path`: hark's binary form or ARPA (plain or gzip), by content.
    pub fn open(path: &Path) -> Result<Self> {
        let mut head = [0u8; 8];
        let mut file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let n = file.read(&mut head).map_err(|e| Error::io(path, e))?;
        if Self::is_binary(&head[..n]) {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            return Self::from_bytes(&bytes).map_err(|e| match e {
                Error::Data(m) => Error::Data(format!("{}: {m}", path.display())),
                other => other,
            });
        }
        Self::read_arpa(path)
    }
}

/// Little-endian reads from a byte slice that stop at its end.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.array::<1>()?[0])
    }

    fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    /// An unsigned little-endian integer of `n` ≤ 16 bytes.
    fn uint(&mut self, n: usize) -> Option<u128> {
        let mut b = [0u8; 16];
        b.get_mut(..n)?.copy_from_slice(self.take(n)?);
        Some(u128::from_le_bytes(b))
    }

    fn f32(&mut self) -> Option<f32> {
        self.array().map(f32::from_le_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A hand-written bigram model over {<s>, </s>, a, b}.
    const TOY: &str = "
\\data\\
ngram 1=4
ngram 2=3

\\1-grams:
-1.0\t</s>
-99\t<s>\t-0.5
-0.5\ta\t-0.25
-0.8\tb

\\2-grams:
-0.2\t<s> a
-0.4\ta b
-0.3\ta </s>

\\end\\
";

    fn toy() -> WordLm {
        WordLm::parse_arpa(TOY.as_bytes()).unwrap()
    }

    #[test]
    fn word_starts_are_found_by_spelling() {
        let arpa = "\\data\\\nngram 1=4\n\\1-grams:\n-1 red\n-1 rebus\n-1 a\n-1 </s>\n\\end\\\n";
        let lm = WordLm::parse_arpa(arpa.as_bytes()).unwrap();
        for start in ["", "r", "re", "reb", "red", "a"] {
            assert!(lm.is_word_start(start), "{start}");
        }
        for start in ["ra", "redd", "b", "rec", "ab"] {
            assert!(!lm.is_word_start(start), "{start}");
        }
        let reread = WordLm::from_bytes(&lm.to_bytes()).unwrap();
        assert!(reread.is_word_start("reb") && !reread.is_word_start("rec"));
    }

    #[test]
    fn queries_follow_the_backoff_rule() {
        let lm = toy();
        let id = |w: &str| lm.id(w);
        let s = [id(BOS).unwrap()];
        let a = id("a").unwrap();
        let close = |x: f32, y: f32| (x - y).abs() < 1e-6;
        // Listed bigram: its own probability.
        assert!(close(lm.log10_prob(&s, Some(a)), -0.2));
        assert!(close(lm.log10_prob(&[a], id("b")), -0.4));
        // "<s> b" is not listed: bo(<s>) + p(b) = -0.5 + -0.8.
        assert!(close(lm.log10_prob(&s, id("b")), -1.3));
        // "b a": b has no back-off listed (0): p(a) = -0.5.
        assert!(close(lm.log10_prob(&[id("b").unwrap()], Some(a)), -0.5));
        // "a a": bo(a) + p(a) = -0.25 + -0.5.
        assert!(close(lm.log10_prob(&[a], Some(a)), -0.75));
        // A longer history than the order reads only its last word.
        assert!(close(lm.log10_prob(&[a, a, a], id("b")), -0.4));
        // An unknown word, no <unk>: the floor.
        assert!(close(lm.log10_prob(&[a], None), UNSEEN_LOG10));
        assert!(close(
            lm.ln_prob(&s, Some(a)),
            -0.2 * std::f32::consts::LN_10
        ));
    }

    #[test]
    fn sentence_end_reads_the_last_words_or_the_sentence_start() {
        let lm = toy();
        let close = |x: f32, log10: f32| (x - log10 * std::f32::consts::LN_10).abs() < 1e-5;
        // "a </s>" is listed: -0.3.
        assert!(close(lm.end_ln_prob(&["b", "a"]), -0.3));
        // "b </s>" is not, and b has no back-off: p(</s>) = -1.0.
        assert!(close(lm.end_ln_prob(&["a", "b"]), -1.0));
        // No words: the history is <s>, not listed with </s>: bo(<s>) + p(</s>) = -1.5.
        assert!(close(lm.end_ln_prob::<&str>(&[]), -1.5));
        assert_eq!(lm.history_ids(&["a", "b"]), vec![lm.id("b").unwrap()]);
    }

    #[test]
    fn arpa_and_binary_round_trip() {
        let lm = toy();
        assert_eq!(lm.counts(), vec![4, 3]);
        let mut text = Vec::new();
        lm.write_arpa(&mut text).unwrap();
        let again = WordLm::parse_arpa(text.as_slice()).unwrap();
        assert_eq!(again, lm);
        let bytes = lm.to_bytes();
        assert!(WordLm::is_binary(&bytes));
        assert_eq!(WordLm::from_bytes(&bytes).unwrap(), lm);
        // Every truncation and a flipped magic are refused, never a panic.
        for cut in 0..bytes.len() {
            assert!(WordLm::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut damaged = bytes.clone();
        damaged[0] ^= 1;
        assert!(WordLm::from_bytes(&damaged).is_err());
    }

    #[test]
    fn gzip_arpa_reads_like_plain() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("toy.arpa.gz");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(TOY.as_bytes()).unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        assert_eq!(WordLm::open(&path).unwrap(), toy());
        let plain = dir.path().join("toy.arpa");
        std::fs::write(&plain, TOY).unwrap();
        assert_eq!(WordLm::open(&plain).unwrap(), toy());
        let bin = dir.path().join("toy.bin");
        std::fs::write(&bin, toy().to_bytes()).unwrap();
        assert_eq!(WordLm::open(&bin).unwrap(), toy());
    }

    #[test]
    fn malformed_arpa_is_refused_with_the_line() {
        let cases = [
            ("", "no \\data\\"),
            ("\\data\\\nngram 1=1\n\\1-grams:\n-1 a\n", "no \\end\\"),
            (
                "\\data\\\nngram 1=2\n\\1-grams:\n-1 a\n\\end\\\n",
                "declares",
            ),
            ("\\data\\\nngram 1=1\n\\1-grams:\nx a\n\\end\\\n", "line 4"),
            (
                "\\data\\\nngram 1=1\n\\1-grams:\n-1 a b c d\n\\end\\\n",
                "fields",
            ),
            (
                "\\data\\\nngram 1=1\nngram 2=1\n\\1-grams:\n-1 a\n\\2-grams:\n-1 a z\n\\end\\\n",
                "no unigram",
            ),
            ("\\data\\\nngram 9=1\n", "orders"),
        ];
        for (text, why) in cases {
            let e = WordLm::parse_arpa(text.as_bytes()).unwrap_err().to_string();
            assert!(e.contains(why), "{text:?}: {e}");
        }
    }
}
