//! Scoring: Levenshtein alignment into substitutions, deletions and insertions; WER and CER;
//! the calibration of word confidences; and robustness reports over noise, SNR and attacks.

pub mod attack;
pub mod calibration;
pub mod compare;
pub mod report;
pub mod tune;

use serde::Serialize;

use crate::text::normalize;

/// Edit counts of a hypothesis against a reference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ErrorCounts {
    pub substitutions: usize,
    pub deletions: usize,
    pub insertions: usize,
    /// Reference length.
    pub reference: usize,
}

impl ErrorCounts {
    pub fn errors(&self) -> usize {
        self.substitutions + self.deletions + self.insertions
    }

    /// Error rate in percent (0 for an empty reference with no insertions).
    pub fn rate(&self) -> f64 {
        if self.reference == 0 {
            return if self.insertions == 0 { 0.0 } else { 100.0 };
        }
        100.0 * self.errors() as f64 / self.reference as f64
    }
}

impl std::ops::AddAssign for ErrorCounts {
    fn add_assign(&mut self, o: Self) {
        self.substitutions += o.substitutions;
        self.deletions += o.deletions;
        self.insertions += o.insertions;
        self.reference += o.reference;
    }
}

/// Align two sequences with unit costs and count the edits.
pub fn align<T: PartialEq>(reference: &[T], hypothesis: &[T]) -> ErrorCounts {
    let (n, m) = (reference.len(), hypothesis.len());
    // cost[j] and the (S, D, I) split of the best path, one row at a time.
    let mut prev: Vec<(usize, usize, usize, usize)> = (0..=m).map(|j| (j, 0, 0, j)).collect();
    let mut cur = prev.clone();
    for i in 1..=n {
        cur[0] = (i, 0, i, 0);
        for j in 1..=m {
            let sub = prev[j - 1];
            let same = reference[i - 1] == hypothesis[j - 1];
            let diag = (
                sub.0 + usize::from(!same),
                sub.1 + usize::from(!same),
                sub.2,
                sub.3,
            );
            let del = prev[j];
            let del = (del.0 + 1, del.1, del.2 + 1, del.3);
            let ins = cur[j - 1];
            let ins = (ins.0 + 1, ins.1, ins.2, ins.3 + 1);
            cur[j] = [diag, del, ins]
                .into_iter()
                .min_by_key(|c| c.0)
                .unwrap_or(diag);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    let best = prev[m];
    ErrorCounts {
        substitutions: best.1,
        deletions: best.2,
        insertions: best.3,
        reference: n,
    }
}

/// Word errors after normalising both texts the same way.
pub fn word_errors(reference: &str, hypothesis: &str) -> ErrorCounts {
    let r = normalize(reference);
    let h = normalize(hypothesis);
    let rw: Vec<&str> = r.split_whitespace().collect();
    let hw: Vec<&str> = h.split_whitespace().collect();
    align(&rw, &hw)
}

/// Character errors (spaces included between words) after normalisation.
pub fn char_errors(reference: &str, hypothesis: &str) -> ErrorCounts {
    let r: Vec<char> = normalize(reference).chars().collect();
    let h: Vec<char> = normalize(hypothesis).chars().collect();
    align(&r, &h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_each_edit_kind() {
        let e = word_errors("the cat sat on the mat", "the cat sat on mat");
        assert_eq!((e.substitutions, e.deletions, e.insertions), (0, 1, 0));
        let e = word_errors("the cat sat", "a cat sat down");
        assert_eq!((e.substitutions, e.deletions, e.insertions), (1, 0, 1));
        assert!((e.rate() - 200.0 / 3.0).abs() < 1e-9);
        let e = word_errors("", "");
        assert_eq!(e.rate(), 0.0);
        let e = word_errors("Hello, World!", "hello world");
        assert_eq!(e.errors(), 0);
    }

    #[test]
    fn alignment_table() {
        // (reference, hypothesis, substitutions, deletions, insertions)
        let cases: &[(&str, &str, usize, usize, usize)] = &[
            ("a b c", "a b c", 0, 0, 0),
            ("a b c", "", 0, 3, 0),
            ("", "a b", 0, 0, 2),
            ("a b c", "x y z", 3, 0, 0),
            ("a b c d", "a c d", 0, 1, 0),
            ("a c d", "a b c d", 0, 0, 1),
            ("a b c d e", "a x c e", 1, 1, 0),
            ("a b", "x a b y", 0, 0, 2),
            ("one two three", "three two one", 2, 0, 0),
            ("the the the", "the", 0, 2, 0),
            ("Don't STOP", "dont stop", 1, 0, 0),
            ("seven, eight; nine.", "seven eight nine", 0, 0, 0),
        ];
        for &(r, h, s, d, i) in cases {
            let e = word_errors(r, h);
            assert_eq!(
                (e.substitutions, e.deletions, e.insertions),
                (s, d, i),
                "{r:?} vs {h:?}"
            );
            assert_eq!(e.reference, r.split_whitespace().count(), "{r:?}");
            // Swapping the sides swaps deletions and insertions and keeps the edit count.
            let back = word_errors(h, r);
            assert_eq!(back.errors(), e.errors(), "{r:?} vs {h:?}");
        }
    }

    #[test]
    fn character_errors() {
        let e = char_errors("abc", "abd");
        assert_eq!((e.substitutions, e.reference), (1, 3));
    }
}
