//! Decoding the stretches between long pauses one at a time.
//!
//! The language models were built from sentences, and the beam search scores each utterance as
//! one: its first words after a sentence start, its last before a sentence end. A window of a
//! long recording holds several utterances with pauses between them; searched as one, the LMs
//! read them as one run-on sentence and the beam carries every hypothesis across each pause.
//! Cutting the log-probabilities in the middle of each long pause and searching the pieces
//! separately gives each utterance its own sentence start and end and a fresh beam, as a clip
//! of its own would have.

use super::{Decoder, Hypothesis, LogProbs};
use crate::text::BLANK;

/// A frame counts as a pause when the blank's posterior is at least this.
const PAUSE_BLANK_PROB: f32 = 0.9;

/// Where to cut `lp`: the middle frame of each run of at least `min_frames` pause frames
/// that has speech on both sides (runs at the start or the end cut nothing off).
fn pause_cuts(lp: LogProbs<'_>, min_frames: usize) -> Vec<usize> {
    let floor = PAUSE_BLANK_PROB.ln();
    let blank = BLANK as usize;
    let mut cuts = Vec::new();
    let mut run_start: Option<usize> = None;
    let mut seen_speech = false;
    for t in 0..lp.frames {
        if lp.frame(t)[blank] >= floor {
            run_start.get_or_insert(t);
            continue;
        }
        if let Some(s) = run_start.take()
            && seen_speech
            && t - s >= min_frames
        {
            cuts.push(s + (t - s) / 2);
        }
        seen_speech = true;
    }
    cuts
}

/// Decode `lp` with `decoder` piece by piece, cut at [`pause_cuts`], and join the pieces with
/// a `space` between them; frames are on `lp`'s clock. `min_frames` 0 decodes it whole.
pub fn decode_split_at_pauses(
    decoder: &dyn Decoder,
    lp: LogProbs<'_>,
    min_frames: usize,
    space: u32,
) -> Hypothesis {
    let cuts = if min_frames == 0 {
        Vec::new()
    } else {
        pause_cuts(lp, min_frames)
    };
    if cuts.is_empty() {
        return decoder.decode(lp);
    }
    let mut joined = Hypothesis {
        tokens: Vec::new(),
        frames: Vec::new(),
        probs: Vec::new(),
        score: 0.0,
        settled: 0,
    };
    let bounds = std::iter::once(0)
        .chain(cuts.iter().copied())
        .zip(cuts.iter().copied().chain(std::iter::once(lp.frames)));
    for (from, to) in bounds {
        let piece = LogProbs::new(
            &lp.data[from * lp.vocab..to * lp.vocab],
            to - from,
            lp.vocab,
        );
        let hyp = decoder.decode(piece);
        if hyp.tokens.is_empty() {
            joined.score += hyp.score;
            continue;
        }
        if joined.tokens.last().is_some_and(|&t| t != space) && hyp.tokens[0] != space {
            joined.tokens.push(space);
            joined.frames.push(from);
            joined.probs.push(1.0);
        }
        joined.tokens.extend_from_slice(&hyp.tokens);
        joined.frames.extend(hyp.frames.iter().map(|f| f + from));
        joined.probs.extend_from_slice(&hyp.probs);
        joined.score += hyp.score;
    }
    joined.settled = joined.tokens.len();
    joined
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctc::Greedy;

    // vocab: 0 blank, 1 'a', 2 'b', 3 space
    const SPACE: u32 = 3;

    fn frames(rows: &[[f32; 4]]) -> Vec<f32> {
        rows.iter().flat_map(|r| r.iter().map(|p| p.ln())).collect()
    }

    const A: [f32; 4] = [0.05, 0.9, 0.03, 0.02];
    const B: [f32; 4] = [0.05, 0.03, 0.9, 0.02];
    const QUIET: [f32; 4] = [0.97, 0.01, 0.01, 0.01];
    // Blank is the best token but below PAUSE_BLANK_PROB: not a pause.
    const UNSURE: [f32; 4] = [0.6, 0.2, 0.1, 0.1];

    #[test]
    fn only_long_pauses_between_speech_are_cut_in_their_middle() {
        // Frames: 0-1 quiet (leading, no cut), 2 a, 3-5 quiet (3 frames), 6 b,
        // 7-8 quiet (2 frames: too short at min 3), 9 a, 10 unsure, 11-12 quiet, 13 b,
        // 14-17 quiet (trailing, no cut).
        let m = frames(&[
            QUIET, QUIET, A, QUIET, QUIET, QUIET, B, QUIET, QUIET, A, UNSURE, QUIET, QUIET, B,
            QUIET, QUIET, QUIET, QUIET,
        ]);
        let lp = LogProbs::new(&m, 18, 4);
        // The run 3..6 has length 3, its middle is 3 + 3/2 = 4; the run 10..13 would be 3
        // long only if frame 10 counted, and it does not.
        assert_eq!(pause_cuts(lp, 3), vec![4]);
        // With min 2 the run 7..9 (middle 8) and 11..13 (middle 12) are cut too.
        assert_eq!(pause_cuts(lp, 2), vec![4, 8, 12]);
    }

    #[test]
    fn pieces_are_joined_with_a_space_on_the_whole_clock() {
        // "ab" with a long pause between the letters: greedy reads one word; split, two.
        let m = frames(&[A, QUIET, QUIET, QUIET, QUIET, B, QUIET]);
        let lp = LogProbs::new(&m, 7, 4);
        let whole = decode_split_at_pauses(&Greedy, lp, 0, SPACE);
        assert_eq!(whole.tokens, vec![1, 2]);
        let split = decode_split_at_pauses(&Greedy, lp, 4, SPACE);
        // Cut at 1 + 4/2 = 3: pieces [0, 3) and [3, 7); the space sits at the cut.
        assert_eq!(split.tokens, vec![1, SPACE, 2]);
        assert_eq!(split.frames, vec![0, 3, 5]);
        assert_eq!(split.settled, 3);
        // Every frame is still scored once.
        assert!((split.score - whole.score).abs() < 1e-5);
    }
}
