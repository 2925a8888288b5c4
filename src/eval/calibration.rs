//! How far word confidences can be trusted: which hypothesis words are right, and the expected
//! calibration error (ECE; Guo et al., 2017) of their confidences.

use crate::text::normalize;

/// For each hypothesis word, whether a minimum-edit alignment with the reference matches it to
/// the same word. Both sides are normalised as for WER; a hypothesis word that normalises to
/// nothing counts as wrong.
pub fn word_hits(reference: &str, hypothesis: &[&str]) -> Vec<bool> {
    let r = normalize(reference);
    let rw: Vec<&str> = r.split_whitespace().collect();
    let hw: Vec<String> = hypothesis.iter().map(|w| normalize(w)).collect();
    let (n, m) = (rw.len(), hw.len());
    // cost[i][j]: edits to turn rw[..i] into hw[..j].
    let mut cost = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in cost.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, c) in cost[0].iter_mut().enumerate() {
        *c = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let sub = cost[i - 1][j - 1] + usize::from(rw[i - 1] != hw[j - 1]);
            cost[i][j] = sub.min(cost[i - 1][j] + 1).min(cost[i][j - 1] + 1);
        }
    }
    let mut hits = vec![false; m];
    let (mut i, mut j) = (n, m);
    while i > 0 && j > 0 {
        let same = rw[i - 1] == hw[j - 1];
        if cost[i][j] == cost[i - 1][j - 1] + usize::from(!same) {
            hits[j - 1] = same;
            i -= 1;
            j -= 1;
        } else if cost[i][j] == cost[i][j - 1] + 1 {
            j -= 1;
        } else {
            i -= 1;
        }
    }
    hits
}

/// Confidence/correctness pairs gathered into equal-width bins.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// Per bin: (count, sum of confidences, number correct).
    bins: Vec<(usize, f64, usize)>,
}

impl Calibration {
    pub fn new(bins: usize) -> Self {
        Self {
            bins: vec![(0, 0.0, 0); bins.max(1)],
        }
    }

    /// Add one word; a non-finite confidence is ignored.
    pub fn add(&mut self, confidence: f32, correct: bool) {
        if !confidence.is_finite() {
            return;
        }
        let c = f64::from(confidence.clamp(0.0, 1.0));
        let k = ((c * self.bins.len() as f64) as usize).min(self.bins.len() - 1);
        let bin = &mut self.bins[k];
        bin.0 += 1;
        bin.1 += c;
        bin.2 += usize::from(correct);
    }

    pub fn count(&self) -> usize {
        self.bins.iter().map(|b| b.0).sum()
    }

    /// Σ over bins of (bin share) × |accuracy − mean confidence|, in [0, 1]; `None` when
    /// empty.
    pub fn expected_error(&self) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        Some(
            self.bins
                .iter()
                .filter(|b| b.0 > 0)
                .map(|&(n, conf, right)| {
                    let n_f = n as f64;
                    (n_f / total as f64) * (right as f64 / n_f - conf / n_f).abs()
                })
                .sum(),
        )
    }
}

/// The calibration error of `pairs` in `bins` equal-width bins, after `map`.
pub fn expected_error(pairs: &[(f32, bool)], bins: usize, map: impl Fn(f32) -> f32) -> Option<f64> {
    let mut c = Calibration::new(bins);
    for &(conf, right) in pairs {
        c.add(map(conf), right);
    }
    c.expected_error()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_follow_the_alignment() {
        assert_eq!(
            word_hits(
                "the cat sat on the mat",
                &["the", "bat", "sat", "the", "mat"]
            ),
            vec![true, false, true, true, true]
        );
        assert_eq!(
            word_hits("a b", &["x", "a", "b", "y"]),
            vec![false, true, true, false]
        );
        assert_eq!(word_hits("", &["a"]), vec![false]);
        assert!(word_hits("a b", &[]).is_empty());
        assert_eq!(
            word_hits("Hello, World", &["hello", "world!"]),
            vec![true, true]
        );
    }

    #[test]
    fn calibration_error_of_known_sets() {
        // 85% sure, 8 of 10 right: off by 0.05.
        let mut c = Calibration::new(10);
        for k in 0..10 {
            c.add(0.85, k < 8);
        }
        assert!(c.expected_error().is_some_and(|e| (e - 0.05).abs() < 1e-6));
        // Always sure, always wrong.
        let mut c = Calibration::new(10);
        for _ in 0..5 {
            c.add(1.0, false);
        }
        assert_eq!(c.expected_error(), Some(1.0));
        // Two bins weighted by their share: |1 − 0.95|·½ + |0 − 0.15|·½.
        let mut c = Calibration::new(10);
        c.add(0.95, true);
        c.add(0.15, false);
        assert!(c.expected_error().is_some_and(|e| (e - 0.1).abs() < 1e-6));
        assert_eq!(Calibration::new(10).expected_error(), None);
    }
}
