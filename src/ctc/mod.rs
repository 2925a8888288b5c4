//! CTC: alignment feasibility, and decoders turning per-frame log-probabilities into
//! [`Hypothesis`]es with a frame index and a probability per emitted token.

mod beam;
mod split;

pub use beam::PrefixBeam;
pub use split::decode_split_at_pauses;

use crate::text::BLANK;

/// A decoded token sequence with timing and confidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Hypothesis {
    pub tokens: Vec<u32>,
    /// Output frame at which each token was emitted.
    pub frames: Vec<usize>,
    /// Posterior probability of each token at its emission frame.
    pub probs: Vec<f32>,
    /// Total log score of the hypothesis.
    pub score: f32,
    /// Leading tokens that no later frame can change: the prefix every hypothesis still in the
    /// beam shares (all of them for greedy decoding). Every hypothesis a longer run of the same
    /// frames can end on extends one of those in the beam, so it starts with these tokens too.
    pub settled: usize,
}

/// Per-frame log-probabilities of one utterance, frame-major `[frames × vocab]`.
#[derive(Debug, Clone, Copy)]
pub struct LogProbs<'a> {
    pub data: &'a [f32],
    pub frames: usize,
    pub vocab: usize,
}

impl<'a> LogProbs<'a> {
    pub fn new(data: &'a [f32], frames: usize, vocab: usize) -> Self {
        assert_eq!(
            data.len(),
            frames * vocab,
            "log-prob matrix of {} values is not {frames} x {vocab}",
            data.len()
        );
        Self {
            data,
            frames,
            vocab,
        }
    }

    pub fn frame(&self, t: usize) -> &'a [f32] {
        &self.data[t * self.vocab..(t + 1) * self.vocab]
    }
}

/// Something that turns log-probabilities into a hypothesis.
pub trait Decoder: Send + Sync {
    fn decode(&self, log_probs: LogProbs<'_>) -> Hypothesis;
}

/// Best path: the most likely token per frame, repeats merged, blanks removed.
#[derive(Debug, Clone, Copy, Default)]
pub struct Greedy;

impl Decoder for Greedy {
    fn decode(&self, lp: LogProbs<'_>) -> Hypothesis {
        let mut hyp = Hypothesis {
            tokens: Vec::new(),
            frames: Vec::new(),
            probs: Vec::new(),
            score: 0.0,
            settled: 0,
        };
        let mut prev = BLANK;
        for t in 0..lp.frames {
            let (best, best_lp) = argmax(lp.frame(t));
            hyp.score += best_lp;
            if best != BLANK && best != prev {
                hyp.tokens.push(best);
                hyp.frames.push(t);
                hyp.probs.push(best_lp.exp());
            } else if best != BLANK && best == prev {
                // The same token continues: keep its highest posterior.
                if let Some(p) = hyp.probs.last_mut() {
                    *p = p.max(best_lp.exp());
                }
            }
            prev = best;
        }
        hyp.settled = hyp.tokens.len();
        hyp
    }
}

fn argmax(row: &[f32]) -> (u32, f32) {
    let mut best = 0usize;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    (best as u32, row[best])
}

/// Fewest frames a CTC alignment of `targets` needs: one per label plus a blank between
/// each pair of equal neighbours.
pub fn min_frames(targets: &[u32]) -> usize {
    targets.len() + targets.windows(2).filter(|w| w[0] == w[1]).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_matrix(rows: &[&[f32]]) -> Vec<f32> {
        rows.iter().flat_map(|r| r.iter().map(|p| p.ln())).collect()
    }

    #[test]
    fn greedy_merges_repeats_and_drops_blanks() {
        // vocab: 0 blank, 1 'a', 2 'b'
        let m = log_matrix(&[
            &[0.1, 0.8, 0.1],
            &[0.1, 0.7, 0.2],
            &[0.8, 0.1, 0.1],
            &[0.1, 0.6, 0.3],
            &[0.2, 0.1, 0.7],
        ]);
        let h = Greedy.decode(LogProbs::new(&m, 5, 3));
        assert_eq!(h.tokens, vec![1, 1, 2]);
        assert_eq!(h.frames, vec![0, 3, 4]);
        assert!((h.probs[0] - 0.8).abs() < 1e-6);
    }

    #[test]
    fn min_frames_counts_repeat_blanks() {
        assert_eq!(min_frames(&[1, 2, 3]), 3);
        assert_eq!(min_frames(&[1, 1, 2, 2]), 6);
        assert_eq!(min_frames(&[]), 0);
    }
}
