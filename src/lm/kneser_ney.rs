//! Building word n-gram models: interpolated modified Kneser–Ney smoothing (Chen & Goodman,
//! 1998), the estimate KenLM's `lmplz` makes, with count pruning and back-off weights that keep
//! every distribution summing to one after pruning.
//!
//! - Counts: each sentence is `<s> w1 … wk </s>`; every n-gram ending at a predicted word is
//!   counted (`<s>` is context only).
//! - Adjusted counts: the highest order keeps raw counts; a lower-order n-gram counts the
//!   distinct words seen before it (its continuation count), except n-grams that start with
//!   `<s>`, which nothing can precede, and keep raw counts.
//! - Discounts per order from the counts of counts `t1…t4` of adjusted counts:
//!   `Y = t1 / (t1 + 2 t2)`, `D1 = 1 − 2Y t2/t1`, `D2 = 2 − 3Y t3/t2`, `D3+ = 3 − 4Y t4/t3`.
//! - `p(w | h) = (a(h w) − D(a(h w))) / a(h •) + γ(h) p(w | h')`, with
//!   `γ(h) = (D1 N1(h •) + D2 N2(h •) + D3+ N3+(h •)) / a(h •)`; unigrams interpolate with the
//!   uniform distribution over the vocabulary (`<unk>` included, `<s>` excluded).
//! - Pruning drops n-grams of order ≥ 2 seen fewer times than a threshold; the kept ones keep
//!   their probabilities, and each context's back-off weight is
//!   `bo(h) = (1 − Σ p(w | h)) / (1 − Σ p(w | h'))` over its kept words (without pruning this
//!   equals `γ(h)`).

use std::collections::HashMap;

use super::word::{BOS, EOS, MAX_ORDER, NGram, UNK, WordLm};
use crate::error::{Error, Result};

/// How to build a word model.
#[derive(Debug, Clone, PartialEq)]
pub struct KneserNeyConfig {
    pub order: usize,
    /// `prune[n - 1]`: n-grams of order n (≥ 2) seen fewer times are dropped. Must not
    /// decrease with the order; missing entries repeat the last one; 0 or 1 keeps everything.
    pub prune: Vec<u32>,
    /// Keep only this many most frequent words (the rest become `<unk>`); 0 keeps all.
    pub max_vocabulary: usize,
    /// Fixed discounts `[D1, D2, D3+]` for every order instead of the estimate (for tests and
    /// for corpora too small to estimate them).
    pub fixed_discounts: Option<[f64; 3]>,
}

impl KneserNeyConfig {
    pub fn new(order: usize) -> Self {
        Self {
            order,
            prune: Vec::new(),
            max_vocabulary: 0,
            fixed_discounts: None,
        }
    }

    fn threshold(&self, n: usize) -> u32 {
        if n < 2 {
            return 0;
        }
        self.prune
            .get(n - 1)
            .or(self.prune.last())
            .copied()
            .unwrap_or(0)
    }
}

/// Discounts `[D1, D2, D3+]` from the counts of counts `t[0..4]` (n-grams seen once, twice,
/// three and four times), or `None` when they do not define valid ones.
pub fn discounts(t: [u64; 4]) -> Option<[f64; 3]> {
    let [t1, t2, t3, t4] = t.map(|x| x as f64);
    if t1 == 0.0 || t2 == 0.0 || t3 == 0.0 {
        return None;
    }
    let y = t1 / (t1 + 2.0 * t2);
    let d = [
        1.0 - 2.0 * y * t2 / t1,
        2.0 - 3.0 * y * t3 / t2,
        3.0 - 4.0 * y * t4 / t3,
    ];
    let valid = d
        .iter()
        .enumerate()
        .all(|(j, &dj)| dj > 0.0 && dj < (j + 1) as f64);
    valid.then_some(d)
}

/// The discounts used where the counts cannot give valid ones (small corpora): the values a
/// medium-sized English corpus gives.
const FALLBACK_DISCOUNTS: [f64; 3] = [0.7, 1.0, 1.3];

type Key = Vec<u32>;

/// Build a model from sentences given as words (already normalised).
pub fn build<'a, S>(sentences: S, cfg: &KneserNeyConfig) -> Result<WordLm>
where
    S: IntoIterator<Item = Vec<&'a str>>,
{
    let n_max = cfg.order;
    if !(1..=MAX_ORDER).contains(&n_max) {
        return Err(Error::Config(format!(
            "word model order must be 1–{MAX_ORDER}, not {n_max}"
        )));
    }
    if (2..n_max).any(|n| cfg.threshold(n + 1) < cfg.threshold(n)) {
        return Err(Error::Config(
            "pruning thresholds must not decrease with the order".into(),
        ));
    }
    let sentences: Vec<Vec<&str>> = sentences.into_iter().filter(|s| !s.is_empty()).collect();
    if sentences.is_empty() {
        return Err(Error::Data("no text to build a word model from".into()));
    }
    // Vocabulary: <unk>, <s>, </s>, then words by frequency (ties by spelling).
    let mut freq: HashMap<&str, u64> = HashMap::new();
    for s in &sentences {
        for w in s {
            *freq.entry(w).or_insert(0) += 1;
        }
    }
    let mut by_freq: Vec<(&str, u64)> = freq
        .into_iter()
        .filter(|(w, _)| ![UNK, BOS, EOS].contains(w))
        .collect();
    by_freq.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if cfg.max_vocabulary > 0 {
        by_freq.truncate(cfg.max_vocabulary);
    }
    let mut words: Vec<String> = vec![UNK.into(), BOS.into(), EOS.into()];
    words.extend(by_freq.iter().map(|(w, _)| w.to_string()));
    let ids: HashMap<&str, u32> = words
        .iter()
        .enumerate()
        .map(|(i, w)| (w.as_str(), i as u32))
        .collect();
    let (unk, bos, eos) = (0u32, 1u32, 2u32);

    // Raw counts of every order.
    let mut raw: Vec<HashMap<Key, u64>> = vec![HashMap::new(); n_max];
    let mut tokens = Vec::new();
    for s in &sentences {
        tokens.clear();
        tokens.push(bos);
        tokens.extend(s.iter().map(|w| ids.get(w).copied().unwrap_or(unk)));
        tokens.push(eos);
        for i in 1..tokens.len() {
            for n in 1..=n_max.min(i + 1) {
                *raw[n - 1]
                    .entry(tokens[i + 1 - n..=i].to_vec())
                    .or_insert(0) += 1;
            }
        }
    }
    // Adjusted counts.
    let mut adjusted: Vec<HashMap<Key, u64>> = vec![HashMap::new(); n_max];
    adjusted[n_max - 1] = raw[n_max - 1].clone();
    for n in (1..n_max).rev() {
        let mut a: HashMap<Key, u64> = HashMap::new();
        for key in raw[n].keys() {
            let suffix = &key[1..];
            if suffix[0] != bos {
                *a.entry(suffix.to_vec()).or_insert(0) += 1;
            }
        }
        for (key, &c) in &raw[n - 1] {
            if key[0] == bos {
                a.insert(key.clone(), c);
            }
        }
        adjusted[n - 1] = a;
    }
    // Discounts per order.
    let d: Vec<[f64; 3]> = adjusted
        .iter()
        .map(|a| {
            cfg.fixed_discounts.unwrap_or_else(|| {
                let mut t = [0u64; 4];
                for &c in a.values() {
                    if (1..=4).contains(&c) {
                        t[c as usize - 1] += 1;
                    }
                }
                discounts(t).unwrap_or(FALLBACK_DISCOUNTS)
            })
        })
        .collect();
    let discount = |n: usize, c: u64| -> f64 { d[n - 1][(c.min(3) - 1) as usize] };
    // Per context: total adjusted count and the discounted mass γ·total.
    let mut context: Vec<HashMap<Key, (f64, f64)>> = vec![HashMap::new(); n_max];
    for n in 1..=n_max {
        for (key, &c) in &adjusted[n - 1] {
            let e = context[n - 1]
                .entry(key[..n - 1].to_vec())
                .or_insert((0.0, 0.0));
            e.0 += c as f64;
            e.1 += discount(n, c);
        }
    }
    let gamma = |n: usize, h: &[u32]| -> f64 {
        context[n - 1]
            .get(h)
            .map_or(1.0, |&(total, mass)| mass / total)
    };
    // Interpolated probabilities of every counted n-gram, lowest order first.
    let uniform = 1.0 / (words.len() - 1) as f64;
    let mut prob: Vec<HashMap<Key, f64>> = vec![HashMap::new(); n_max];
    for n in 1..=n_max {
        let mut p: HashMap<Key, f64> = HashMap::with_capacity(adjusted[n - 1].len());
        for (key, &c) in &adjusted[n - 1] {
            let h = &key[..n - 1];
            let total = context[n - 1].get(h).map_or(1.0, |e| e.0);
            let lower = if n == 1 {
                uniform
            } else {
                prob[n - 2].get(&key[1..]).copied().unwrap_or(0.0)
            };
            p.insert(
                key.clone(),
                (c as f64 - discount(n, c)) / total + gamma(n, h) * lower,
            );
        }
        prob[n - 1] = p;
    }
    // Every word gets a unigram: unseen ones (<unk>, words cut by the vocabulary) the
    // uniform share; <s> the customary -99.
    let gamma0 = gamma(1, &[]);
    for id in 0..words.len() as u32 {
        prob[0].entry(vec![id]).or_insert(gamma0 * uniform);
    }
    prob[0].remove(&vec![bos]);

    // Pruned n-grams, then back-off weights order by order.
    let kept: Vec<Vec<(Key, f64)>> = (1..=n_max)
        .map(|n| {
            let mut rows: Vec<(Key, f64)> = prob[n - 1]
                .iter()
                .filter(|(k, _)| {
                    n == 1
                        || raw[n - 1].get(*k).copied().unwrap_or(0) >= u64::from(cfg.threshold(n))
                })
                .map(|(k, &p)| (k.clone(), p))
                .collect();
            rows.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            rows
        })
        .collect();
    let mut ngrams: Vec<NGram> = Vec::new();
    let spell = |key: &[u32]| key.iter().map(|&i| words[i as usize].clone()).collect();
    // Unigrams first (with back-offs filled below), as a model the higher orders query.
    let mut model = WordLm::from_ngrams(
        kept[0]
            .iter()
            .map(|(k, p)| NGram {
                words: spell(k),
                log10_prob: p.log10() as f32,
                log10_backoff: None,
            })
            .chain(std::iter::once(NGram {
                words: vec![BOS.into()],
                log10_prob: -99.0,
                log10_backoff: None,
            })),
    )?;
    for n in 1..=n_max {
        // Back-off of each order-n context from its kept order-(n+1) continuations, whose
        // lower-order probabilities come from the orders so far (with their back-offs) and
        // this order's probabilities.
        let mut backoff: HashMap<&[u32], f64> = HashMap::new();
        if n > 1 && n < n_max {
            let this_order = kept[n - 1].iter().map(|(k, p)| NGram {
                words: spell(k),
                log10_prob: p.log10() as f32,
                log10_backoff: None,
            });
            model = WordLm::from_ngrams(ngrams.iter().cloned().chain(this_order))?;
        }
        if n < n_max {
            let mut sums: HashMap<&[u32], (f64, f64)> = HashMap::new();
            for (key, p) in &kept[n] {
                let h = &key[..n];
                // The model numbers words its own way: ask it by spelling.
                let history: Vec<u32> = key[1..n]
                    .iter()
                    .map(|&id| model.id(&words[id as usize]).unwrap_or(0))
                    .collect();
                let word = model.id(&words[key[n] as usize]);
                let lower = 10f64.powf(f64::from(model.log10_prob(&history, word)));
                let e = sums.entry(h).or_insert((0.0, 0.0));
                e.0 += p;
                e.1 += lower;
            }
            for (h, (seen, seen_lower)) in sums {
                let num = 1.0 - seen;
                let den = 1.0 - seen_lower;
                let bo = if den > 1e-12 && num > 0.0 {
                    num / den
                } else {
                    gamma(n + 1, h)
                };
                backoff.insert(h, bo);
            }
        }
        for (key, p) in &kept[n - 1] {
            ngrams.push(NGram {
                words: spell(key),
                log10_prob: p.log10() as f32,
                log10_backoff: (n < n_max)
                    .then(|| backoff.get(key.as_slice()).map_or(0.0, |b| b.log10()) as f32),
            });
        }
        if n == 1 {
            ngrams.push(NGram {
                words: vec![BOS.into()],
                log10_prob: -99.0,
                log10_backoff: (n < n_max)
                    .then(|| backoff.get([bos].as_slice()).map_or(0.0, |b| b.log10()) as f32),
            });
        }
    }
    WordLm::from_ngrams(ngrams)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f32, b: f64) -> bool {
        (f64::from(a) - b.log10()).abs() < 1e-5
    }

    /// Hand-worked: sentences "a b" and "a a", order 2, every discount 0.5.
    ///
    /// Bigram counts (highest order, raw): <s> a 2, a b 1, a a 1, a </s> 1, b </s> 1.
    /// Unigram continuation counts: a 2 (after <s>, a), b 1 (after a), </s> 2 (after a, b).
    /// Unigrams: total 5, three types, γ(∅) = 0.5·3/5 = 0.3; |V| = 4 (<unk> </s> a b), so
    ///   p(a) = 1.5/5 + 0.3/4 = 0.375, p(b) = 0.5/5 + 0.075 = 0.175, p(</s>) = 0.375,
    ///   p(<unk>) = 0.075 (sum 1).
    /// Bigrams: after <s>: total 2, one type, γ = 0.25: p(a|<s>) = 1.5/2 + 0.25·0.375 = 0.84375;
    ///   after a: total 3, three types, γ = 0.5: p(b|a) = 0.5/3 + 0.5·0.175 = 0.2541667,
    ///   p(a|a) = p(</s>|a) = 0.5/3 + 0.5·0.375 = 0.3541667;
    ///   after b: γ = 0.5: p(</s>|b) = 0.5 + 0.5·0.375 = 0.6875.
    /// Back-offs equal γ: bo(<s>) = (1 − 0.84375)/(1 − 0.375) = 0.25, bo(a) = bo(b) = 0.5, so
    ///   p(b|<s>) = 0.25·0.175 = 0.04375.
    #[test]
    fn probabilities_match_the_hand_computed_ones() {
        let mut cfg = KneserNeyConfig::new(2);
        cfg.fixed_discounts = Some([0.5; 3]);
        let lm = build([vec!["a", "b"], vec!["a", "a"]], &cfg).unwrap();
        let id = |w: &str| lm.id(w);
        let [s, a, b, e] = [BOS, "a", "b", EOS].map(|w| id(w).unwrap());
        assert!(close(lm.log10_prob(&[], Some(a)), 0.375));
        assert!(close(lm.log10_prob(&[], Some(b)), 0.175));
        assert!(close(lm.log10_prob(&[], Some(e)), 0.375));
        assert!(close(lm.log10_prob(&[], None), 0.075));
        assert!(close(lm.log10_prob(&[s], Some(a)), 0.84375));
        assert!(close(lm.log10_prob(&[a], Some(b)), 0.5 / 3.0 + 0.0875));
        assert!(close(lm.log10_prob(&[a], Some(a)), 0.5 / 3.0 + 0.1875));
        assert!(close(lm.log10_prob(&[b], Some(e)), 0.6875));
        assert!(close(lm.log10_prob(&[s], Some(b)), 0.04375));
        // Each distribution sums to one over the vocabulary (<s> is never predicted).
        for h in [s, a, b] {
            let total: f64 = [id(UNK), Some(a), Some(b), Some(e)]
                .iter()
                .map(|&w| 10f64.powf(f64::from(lm.log10_prob(&[h], w))))
                .sum();
            assert!((total - 1.0).abs() < 1e-5, "after {h}: {total}");
        }
    }

    /// Pruning bigrams seen fewer than twice keeps only "<s> a"; the back-off of "a" becomes 1,
    /// so p(b|a) is the unigram p(b) = 0.175, and distributions still sum to one.
    #[test]
    fn pruning_keeps_distributions_normalised() {
        let mut cfg = KneserNeyConfig::new(2);
        cfg.fixed_discounts = Some([0.5; 3]);
        cfg.prune = vec![0, 2];
        let lm = build([vec!["a", "b"], vec!["a", "a"]], &cfg).unwrap();
        assert_eq!(lm.counts(), vec![5, 1]);
        let [s, a, b] = [BOS, "a", "b"].map(|w| lm.id(w).unwrap());
        assert!(close(lm.log10_prob(&[a], Some(b)), 0.175));
        assert!(close(lm.log10_prob(&[s], Some(a)), 0.84375));
        for h in [s, a, b] {
            let total: f64 = [UNK, EOS, "a", "b"]
                .iter()
                .map(|w| 10f64.powf(f64::from(lm.log10_prob(&[h], lm.id(w)))))
                .sum();
            assert!((total - 1.0).abs() < 1e-5, "after {h}: {total}");
        }
    }

    #[test]
    fn discounts_follow_the_counts_of_counts() {
        // Y = 10/20 = 0.5; D1 = 1 − 2·0.5·5/10 = 0.5; D2 = 2 − 3·0.5·3/5 = 1.1;
        // D3+ = 3 − 4·0.5·2/3 = 1.6667.
        let d = discounts([10, 5, 3, 2]).unwrap();
        assert!((d[0] - 0.5).abs() < 1e-12 && (d[1] - 1.1).abs() < 1e-12);
        assert!((d[2] - 5.0 / 3.0).abs() < 1e-12);
        assert_eq!(discounts([0, 5, 3, 2]), None);
        // Y = 1/3, D2 = 2 − 3·(1/3)·10/1 = −8: not a valid discount.
        assert_eq!(discounts([1, 1, 10, 1]), None);
    }

    #[test]
    fn a_trigram_model_on_real_text_is_normalised_and_writes_arpa() {
        let text = "the cat sat on the mat\nthe dog sat on the log\na cat and a dog\n\
                    the cat saw the dog\nthe dog saw a cat on the mat";
        let sentences: Vec<Vec<&str>> = text.lines().map(|l| l.split(' ').collect()).collect();
        let lm = build(sentences, &KneserNeyConfig::new(3)).unwrap();
        assert_eq!(lm.order(), 3);
        let vocab: Vec<Option<u32>> = (0..lm.vocabulary_size() as u32)
            .filter(|&i| lm.word(i) != Some(BOS))
            .map(Some)
            .collect();
        let [the, cat, s] = ["the", "cat", BOS].map(|w| lm.id(w).unwrap());
        for h in [
            vec![],
            vec![s],
            vec![s, the],
            vec![the, cat],
            vec![cat, cat],
        ] {
            let total: f64 = vocab
                .iter()
                .map(|&w| 10f64.powf(f64::from(lm.log10_prob(&h, w))))
                .sum();
            assert!((total - 1.0).abs() < 1e-4, "after {h:?}: {total}");
        }
        let mut arpa = Vec::new();
        lm.write_arpa(&mut arpa).unwrap();
        assert_eq!(WordLm::parse_arpa(arpa.as_slice()).unwrap(), lm);
    }
}
