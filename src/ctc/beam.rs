//! CTC prefix beam search.

use std::rc::Rc;

use rustc_hash::FxHashMap;

use super::{Decoder, Hypothesis, LogProbs};
use crate::lm::LmScorer;
use crate::lm::guide::{GrammarState, Guides};
use crate::text::BLANK;

/// The default [`PrefixBeam::settle_margin`] (natural log: hypotheses e^10 times less likely
/// than the best are ignored).
pub const SETTLE_MARGIN: f32 = 10.0;

/// Prefix beam search over CTC outputs.
///
/// Keeps `beam` prefixes, each with the log-probability of ending in blank and in non-blank.
/// At each frame only the tokens that make up `prune_mass` of the probability (at most
/// `beam` of them, always including blank) are expanded. With a language model, prefixes are
/// ranked by their CTC log-probability plus `weight` × the LM log-probability of their
/// characters (and of the sentence end, at the last frame) plus `bonus` per character. The
/// [`Guides`] add a word LM's score for each completed word, restrict the output to a grammar,
/// and favour hotwords.
#[derive(Debug, Clone)]
pub struct PrefixBeam {
    pub beam: usize,
    pub prune_mass: f32,
    /// Hypotheses more than this far (log score) below the best do not count against
    /// [`Hypothesis::settled`]: such stragglers almost never win, and one of them would keep
    /// every word of a live partial unsettled. `f32::INFINITY` counts the whole beam, which
    /// makes the settled prefix certain rather than almost certain.
    pub settle_margin: f32,
    pub lm: Option<LmScorer>,
    pub guides: Guides,
}

impl PrefixBeam {
    pub fn new(beam: usize) -> Self {
        Self {
            beam: beam.max(1),
            prune_mass: 0.999,
            settle_margin: SETTLE_MARGIN,
            lm: None,
            guides: Guides::default(),
        }
    }

    pub fn with_guides(mut self, guides: Guides) -> Self {
        self.guides = guides;
        self
    }

    pub fn with_lm(mut self, lm: LmScorer) -> Self {
        self.lm = Some(lm);
        self
    }

    /// The language models' share of the score for appending `c` to `prefix` (`BLANK`: the
    /// end); minus infinity where the grammar forbids it.
    fn lm_step(&self, prefix: &[u32], c: u32) -> f32 {
        let chars = self.lm.as_ref().map_or(0.0, |s| {
            s.weight * s.lm.log_prob(prefix, c) + if c == BLANK { 0.0 } else { s.bonus }
        });
        match self.guides.step(prefix, c) {
            Some(guided) => chars + guided,
            None => f32::NEG_INFINITY,
        }
    }

    /// The grammar's state after `prefix` (`None` without a grammar), walked once per prefix
    /// and frame so that each candidate only takes one step from it.
    fn grammar_state(&self, prefix: &[u32]) -> Option<GrammarState> {
        self.guides.grammar.as_ref().map(|g| g.walk(prefix).0)
    }

    /// Whether the grammar (if any) lets `c` follow a prefix in `state`.
    fn allowed(&self, state: Option<&GrammarState>, c: u32) -> bool {
        match (&self.guides.grammar, state) {
            (Some(g), Some(state)) => !g.advance(state, c).0.is_empty(),
            _ => true,
        }
    }
}

/// The path that gave an entry its strongest contribution, one emitted token per link, newest
/// first: shared between entries, so that following a path costs one allocation per token
/// rather than a copy of the whole history.
struct Emission {
    frame: usize,
    prob: f32,
    earlier: Option<Rc<Emission>>,
}

impl Drop for Emission {
    /// Unlinks the chain one link at a time: the default recursive drop of a long utterance's
    /// chain could overflow the stack.
    fn drop(&mut self) {
        let mut next = self.earlier.take();
        while let Some(link) = next {
            next = match Rc::try_unwrap(link) {
                Ok(mut e) => e.earlier.take(),
                Err(_) => None,
            };
        }
    }
}

/// The frames and probabilities of a path's tokens, oldest first.
fn unroll(timing: &Option<Rc<Emission>>) -> (Vec<usize>, Vec<f32>) {
    let mut frames = Vec::new();
    let mut probs = Vec::new();
    let mut link = timing.as_deref();
    while let Some(e) = link {
        frames.push(e.frame);
        probs.push(e.prob);
        link = e.earlier.as_deref();
    }
    frames.reverse();
    probs.reverse();
    (frames, probs)
}

#[derive(Clone)]
struct Entry {
    blank: f32,
    non_blank: f32,
    /// Timing and probability of the tokens along the strongest single contribution.
    timing: Option<Rc<Emission>>,
    /// Log-probability of the strongest single contribution, whose path `timing` holds.
    best: f32,
    /// Weighted LM score of the prefix (0 without a language model).
    lm: f32,
}

impl Entry {
    fn new(lm: f32) -> Self {
        Self {
            blank: f32::NEG_INFINITY,
            non_blank: f32::NEG_INFINITY,
            timing: None,
            best: f32::NEG_INFINITY,
            lm,
        }
    }

    /// The empty prefix before the first frame: certain, with no tokens and no LM score.
    fn start() -> Self {
        Self {
            blank: 0.0,
            best: 0.0,
            ..Self::new(0.0)
        }
    }

    fn total(&self) -> f32 {
        log_add(self.blank, self.non_blank)
    }

    /// What the beam ranks by: acoustic plus language model.
    fn ranked(&self) -> f32 {
        self.total() + self.lm
    }

    /// Add `logp` to the blank or non-blank part; the timing follows the strongest
    /// contribution.
    fn add(&mut self, logp: f32, blank: bool, timing: impl FnOnce() -> Option<Rc<Emission>>) {
        if blank {
            self.blank = log_add(self.blank, logp);
        } else {
            self.non_blank = log_add(self.non_blank, logp);
        }
        if logp > self.best {
            self.best = logp;
            self.timing = timing();
        }
    }
}

/// A hypothesis kept from one frame to the next.
struct Kept {
    prefix: Vec<u32>,
    entry: Entry,
    /// The language models' score for each token following `prefix` (NaN: not yet asked):
    /// a prefix stays in the beam for many frames, and the same extensions are scored at each.
    next_lm: Vec<f32>,
}

/// Where a frame's contribution lands: on a prefix already kept, or on a kept prefix plus one
/// token that is not itself kept. Prefixes are told apart without hashing them: two kept
/// prefixes differ, so two (kept, token) pairs name different prefixes.
#[derive(Clone, Copy)]
enum Slot {
    Kept(usize),
    Extended(usize, u32),
}

/// The candidates of one frame, before ranking.
struct Frame {
    kept: Vec<Option<Entry>>,
    extended: Vec<(usize, u32, Entry)>,
    /// (kept prefix, token) → the kept prefix that is their concatenation.
    joins: FxHashMap<(usize, u32), usize>,
}

impl Frame {
    fn new(beams: &[Kept], any_token: bool) -> Self {
        let mut joins = FxHashMap::default();
        if any_token && beams.len() > 1 {
            let index: FxHashMap<&[u32], usize> = beams
                .iter()
                .enumerate()
                .map(|(i, b)| (b.prefix.as_slice(), i))
                .collect();
            for (j, b) in beams.iter().enumerate() {
                if let Some((&last, head)) = b.prefix.split_last()
                    && let Some(&i) = index.get(head)
                {
                    joins.insert((i, last), j);
                }
            }
        }
        Self {
            kept: vec![None; beams.len()],
            extended: Vec::new(),
            joins,
        }
    }

    fn slot(&self, from: usize, c: u32) -> Slot {
        match self.joins.get(&(from, c)) {
            Some(&j) => Slot::Kept(j),
            None => Slot::Extended(from, c),
        }
    }

    /// The entry for `slot`, created with LM score `lm()` on its first contribution.
    fn entry(&mut self, slot: Slot, lm: impl FnOnce() -> f32) -> &mut Entry {
        match slot {
            Slot::Kept(j) => self.kept[j].get_or_insert_with(|| Entry::new(lm())),
            Slot::Extended(i, c) => {
                // Each (prefix, token) pair is extended once per frame.
                self.extended.push((i, c, Entry::new(lm())));
                &mut self.extended.last_mut().expect("just pushed").2
            }
        }
    }

    /// The best `beam` candidates as the next frame's kept hypotheses.
    fn keep_best(self, mut beams: Vec<Kept>, beam: usize, vocab: usize) -> Vec<Kept> {
        let mut ranked: Vec<(Slot, Entry)> = self
            .kept
            .into_iter()
            .enumerate()
            .filter_map(|(j, e)| e.map(|e| (Slot::Kept(j), e)))
            .chain(
                self.extended
                    .into_iter()
                    .map(|(i, c, e)| (Slot::Extended(i, c), e)),
            )
            .collect();
        let prefix = |slot: Slot| match slot {
            Slot::Kept(j) => (beams[j].prefix.as_slice(), None),
            Slot::Extended(i, c) => (beams[i].prefix.as_slice(), Some(c)),
        };
        // Best first; ties broken by the prefix so the order never depends on the slots.
        ranked.sort_unstable_by(|a, b| {
            b.1.ranked().total_cmp(&a.1.ranked()).then_with(|| {
                let (pa, ca) = prefix(a.0);
                let (pb, cb) = prefix(b.0);
                pa.iter().chain(&ca).cmp(pb.iter().chain(&cb))
            })
        });
        ranked.truncate(beam);
        // New prefixes copy their parents before the kept ones move on.
        let mut next: Vec<Option<Kept>> = ranked
            .iter()
            .map(|(slot, entry)| match *slot {
                Slot::Extended(i, c) => {
                    let mut p = Vec::with_capacity(beams[i].prefix.len() + 1);
                    p.extend_from_slice(&beams[i].prefix);
                    p.push(c);
                    Some(Kept {
                        prefix: p,
                        entry: entry.clone(),
                        next_lm: vec![f32::NAN; vocab],
                    })
                }
                Slot::Kept(_) => None,
            })
            .collect();
        for ((slot, entry), out) in ranked.into_iter().zip(next.iter_mut()) {
            if let Slot::Kept(j) = slot {
                *out = Some(Kept {
                    prefix: std::mem::take(&mut beams[j].prefix),
                    entry,
                    next_lm: std::mem::take(&mut beams[j].next_lm),
                });
            }
        }
        next.into_iter().flatten().collect()
    }
}

fn log_add(a: f32, b: f32) -> f32 {
    if a == f32::NEG_INFINITY {
        return b;
    }
    if b == f32::NEG_INFINITY {
        return a;
    }
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    hi + (lo - hi).exp().ln_1p()
}

impl PrefixBeam {
    /// The tokens worth expanding at a frame: the most likely ones up to `prune_mass` of the
    /// probability or `beam` of them, and always blank.
    fn candidates(&self, row: &[f32], out: &mut Vec<usize>) {
        out.clear();
        out.extend(0..row.len());
        out.sort_unstable_by(|&a, &b| row[b].total_cmp(&row[a]));
        let mut mass = 0.0;
        let mut keep = 0;
        for &c in out.iter() {
            mass += row[c].exp();
            keep += 1;
            if mass >= self.prune_mass || keep >= self.beam {
                break;
            }
        }
        out.truncate(keep);
        if !out.contains(&(BLANK as usize)) {
            out.push(BLANK as usize);
        }
    }

    /// The language models' step for `c` after kept hypothesis `b`, asked once per prefix.
    fn cached_lm_step(&self, b: &mut Kept, c: u32) -> f32 {
        let slot = &mut b.next_lm[c as usize];
        if slot.is_nan() {
            *slot = self.lm_step(&b.prefix, c);
        }
        *slot
    }
}

impl Decoder for PrefixBeam {
    fn decode(&self, lp: LogProbs<'_>) -> Hypothesis {
        let mut beams = vec![Kept {
            prefix: Vec::new(),
            entry: Entry::start(),
            next_lm: vec![f32::NAN; lp.vocab],
        }];
        let mut candidates: Vec<usize> = Vec::with_capacity(lp.vocab);
        for t in 0..lp.frames {
            let row = lp.frame(t);
            self.candidates(row, &mut candidates);
            let mut frame = Frame::new(&beams, candidates.len() > 1);
            for (i, kept) in beams.iter_mut().enumerate() {
                let entry = kept.entry.clone();
                let total = entry.total();
                let grammar = self.grammar_state(&kept.prefix);
                let last = kept.prefix.last().copied();
                for &c in &candidates {
                    let p = row[c];
                    let c = c as u32;
                    if c == BLANK {
                        frame
                            .entry(Slot::Kept(i), || entry.lm)
                            .add(total + p, true, || entry.timing.clone());
                        continue;
                    }
                    if !self.allowed(grammar.as_ref(), c) {
                        continue;
                    }
                    // A repeat needs a blank in between to be a new token.
                    let from = if last == Some(c) {
                        entry.blank + p
                    } else {
                        total + p
                    };
                    let slot = frame.slot(i, c);
                    frame
                        .entry(slot, || entry.lm + self.cached_lm_step(kept, c))
                        .add(from, false, || {
                            Some(Rc::new(Emission {
                                frame: t,
                                prob: p.exp(),
                                earlier: entry.timing.clone(),
                            }))
                        });
                    if last == Some(c) {
                        // Staying on the same token without a blank keeps the prefix.
                        frame.entry(Slot::Kept(i), || entry.lm).add(
                            entry.non_blank + p,
                            false,
                            || {
                                entry.timing.as_ref().map(|e| {
                                    Rc::new(Emission {
                                        frame: e.frame,
                                        prob: e.prob.max(p.exp()),
                                        earlier: e.earlier.clone(),
                                    })
                                })
                            },
                        );
                    }
                }
            }
            beams = frame.keep_best(beams, self.beam, lp.vocab);
        }
        let floor = beams
            .first()
            .map_or(f32::NEG_INFINITY, |b| b.entry.ranked())
            - self.settle_margin;
        let settled = shared_prefix(
            beams
                .iter()
                .filter(|b| b.entry.ranked() >= floor)
                .map(|b| b.prefix.as_slice()),
        );
        let mut finals: Vec<(Vec<u32>, Entry)> =
            beams.into_iter().map(|b| (b.prefix, b.entry)).collect();
        if self.lm.is_some() || !self.guides.is_empty() {
            // The sentence has to end here: add the LM's end-of-sentence score and re-rank;
            // prefixes the grammar cannot end with drop out.
            for (prefix, entry) in finals.iter_mut() {
                entry.lm += self.lm_step(prefix, BLANK);
            }
            finals.retain(|(_, e)| e.lm > f32::NEG_INFINITY);
            finals.sort_unstable_by(|a, b| {
                b.1.ranked()
                    .total_cmp(&a.1.ranked())
                    .then_with(|| a.0.cmp(&b.0))
            });
        }
        let (tokens, entry) = finals
            .into_iter()
            .next()
            .unwrap_or_else(|| (Vec::new(), Entry::start()));
        let (frames, probs) = unroll(&entry.timing);
        Hypothesis {
            score: entry.total(),
            settled: settled.min(tokens.len()),
            tokens,
            frames,
            probs,
        }
    }
}

/// The length of the token prefix all of `prefixes` share (0 for none).
fn shared_prefix<'a>(mut prefixes: impl Iterator<Item = &'a [u32]>) -> usize {
    let Some(first) = prefixes.next() else {
        return 0;
    };
    prefixes.fold(first.len(), |n, p| {
        first
            .iter()
            .zip(p)
            .take(n)
            .take_while(|(a, b)| a == b)
            .count()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ctc::Greedy;

    fn lp(rows: &[&[f32]]) -> Vec<f32> {
        rows.iter().flat_map(|r| r.iter().map(|p| p.ln())).collect()
    }

    /// Hand-worked: 2 frames, vocab {blank, a}.
    /// P(blank,blank)=0.36; P("a") = P(a,a)+P(a,-)+P(-,a) = 0.16+0.24+0.24 = 0.64.
    /// Greedy picks blank at both frames (0.6 > 0.4) and outputs "", beam finds "a".
    #[test]
    fn beam_beats_greedy_on_hand_worked_matrix() {
        let m = lp(&[&[0.6, 0.4], &[0.6, 0.4]]);
        let g = Greedy.decode(LogProbs::new(&m, 2, 2));
        assert!(g.tokens.is_empty());
        let b = PrefixBeam::new(4).decode(LogProbs::new(&m, 2, 2));
        assert_eq!(b.tokens, vec![1]);
        assert!(
            (b.score.exp() - 0.64).abs() < 1e-5,
            "score {}",
            b.score.exp()
        );
    }

    /// Hand-worked: 3 frames, vocab {blank, a, b}.
    /// Paths for "ab": (a,b,-) (a,a,b) (a,-,b) (-,a,b) (a,b,b)
    ///   0.5*0.4*0.2 + 0.5*0.3*0.7 + 0.5*0.3*0.7 + 0.3*0.3*0.7 + 0.5*0.4*0.7 = 0.04+0.105+0.105+0.063+0.14 = 0.453
    #[test]
    fn beam_score_matches_hand_computed_prefix_probability() {
        let m = lp(&[&[0.3, 0.5, 0.2], &[0.3, 0.3, 0.4], &[0.2, 0.1, 0.7]]);
        let b = PrefixBeam::new(16).decode(LogProbs::new(&m, 3, 3));
        assert_eq!(b.tokens, vec![1, 2]);
        assert!(
            (b.score.exp() - 0.453).abs() < 1e-5,
            "score {}",
            b.score.exp()
        );
        // Timing follows the strongest merged contribution at the last frame:
        // P("a" after 2 frames) = 0.39, times b (0.7) = 0.273 (b at frame 2), beats
        // P("ab" after 2 frames) = 0.2, times b (0.7) = 0.14 (b at frame 1).
        assert_eq!(b.frames, vec![0, 2]);
    }

    #[test]
    fn repeated_label_needs_a_blank() {
        // "aa" requires a-blank-a; the matrix makes that path dominant.
        let m = lp(&[&[0.05, 0.9, 0.05], &[0.9, 0.05, 0.05], &[0.05, 0.9, 0.05]]);
        let b = PrefixBeam::new(8).decode(LogProbs::new(&m, 3, 3));
        assert_eq!(b.tokens, vec![1, 1]);
        assert_eq!(b.frames, vec![0, 2]);
    }

    /// Hand-worked: 3 frames, vocab {blank, a, b}. Frame 0 is almost surely "a", frame 1
    /// blank, frame 2 "a" or "b" at even odds: the likely hypotheses are "a" (0.098 + …), "aa"
    /// and "ab" (0.43 each), which share "a"; the whole beam also holds "" (0.001). One beam
    /// entry shares everything with itself.
    #[test]
    fn settled_tokens_are_those_the_whole_beam_shares() {
        let m = lp(&[&[0.01, 0.98, 0.01], &[0.98, 0.01, 0.01], &[0.1, 0.45, 0.45]]);
        let mut whole = PrefixBeam::new(4);
        whole.settle_margin = f32::INFINITY;
        let b = whole.decode(LogProbs::new(&m, 3, 3));
        assert_eq!(b.tokens.len(), 2);
        // The empty prefix (P = 0.01 × 0.98 × 0.1) is still in the beam, so nothing is certain.
        assert_eq!(b.settled, 0);
        // Ignoring hypotheses e^4 below the best leaves "a", "aa" and "ab".
        let mut near = PrefixBeam::new(4);
        near.settle_margin = 4.0;
        assert_eq!(near.decode(LogProbs::new(&m, 3, 3)).settled, 1);
        let one = PrefixBeam::new(1).decode(LogProbs::new(&m, 3, 3));
        assert_eq!(one.settled, one.tokens.len());
        let g = Greedy.decode(LogProbs::new(&m, 3, 3));
        assert_eq!(g.settled, g.tokens.len());
    }

    /// What a live partial relies on: the settled tokens after any number of frames start
    /// every later decode of the same frames, whatever follows.
    #[test]
    fn settled_tokens_never_change_as_frames_arrive() {
        let (frames, vocab) = (40, 5);
        let mut state = 12_345_u64;
        let mut next = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            ((state >> 33) as f32 / (1u64 << 31) as f32).max(1e-3)
        };
        for trial in 0..20 {
            let mut m = Vec::with_capacity(frames * vocab);
            for _ in 0..frames {
                let row: Vec<f32> = (0..vocab).map(|_| next().powi(3)).collect();
                let sum: f32 = row.iter().sum();
                m.extend(row.iter().map(|p| (p / sum).ln()));
            }
            let mut beam = PrefixBeam::new(4);
            beam.settle_margin = f32::INFINITY;
            let decodes: Vec<Hypothesis> = (1..=frames)
                .map(|t| beam.decode(LogProbs::new(&m[..t * vocab], t, vocab)))
                .collect();
            for (t, early) in decodes.iter().enumerate() {
                let settled = &early.tokens[..early.settled];
                for later in &decodes[t + 1..] {
                    assert!(
                        later.tokens.starts_with(settled),
                        "trial {trial}, frame {}: {settled:?} settled, later {:?}",
                        t + 1,
                        later.tokens
                    );
                }
            }
            assert!(decodes.iter().any(|h| h.settled < h.tokens.len()));
        }
    }

    /// A path of a million tokens (an hour of speech is about 60,000) is dropped link by link;
    /// the default recursive drop would overflow the stack.
    #[test]
    fn a_long_path_drops_without_recursion() {
        let mut path = None;
        for frame in 0..1_000_000 {
            path = Some(Rc::new(Emission {
                frame,
                prob: 0.5,
                earlier: path,
            }));
        }
        let shared = path.clone();
        drop(path);
        let (frames, _) = unroll(&shared);
        assert_eq!(frames.len(), 1_000_000);
        assert_eq!(frames[999_999], 999_999);
        drop(shared);
    }

    #[test]
    fn empty_input_gives_empty_hypothesis() {
        let b = PrefixBeam::new(8).decode(LogProbs::new(&[], 0, 3));
        assert!(b.tokens.is_empty());
    }

    #[test]
    fn language_model_settles_an_acoustic_tie() {
        // Frames: c|k (tied, k slightly ahead), a, t. Acoustically "kat" wins; an LM that
        // has read "cat" many times turns it into "cat".
        let v = crate::text::Vocab::english();
        let [c, k, a, t] = ['c', 'k', 'a', 't'].map(|ch| v.id(ch).unwrap() as usize);
        let frame = |pairs: &[(usize, f32)]| {
            let mut row = vec![0.001f32; v.size()];
            for &(i, p) in pairs {
                row[i] = p;
            }
            let sum: f32 = row.iter().sum();
            row.iter().map(|p| (p / sum).ln()).collect::<Vec<f32>>()
        };
        let m: Vec<f32> = [
            frame(&[(k, 0.46), (c, 0.44)]),
            frame(&[(a, 0.9)]),
            frame(&[(t, 0.9)]),
        ]
        .concat();
        let lp = || LogProbs::new(&m, 3, v.size());
        let plain = PrefixBeam::new(8).decode(lp());
        assert_eq!(v.decode(&plain.tokens), "kat");
        let lm = crate::lm::CharLm::train(["the cat", "a cat", "cat"], &v, 3).unwrap();
        let scorer = LmScorer {
            lm: std::sync::Arc::new(lm),
            weight: 0.5,
            bonus: 0.0,
        };
        let with_lm = PrefixBeam::new(8).with_lm(scorer).decode(lp());
        assert_eq!(v.decode(&with_lm.tokens), "cat");
        // The reported score stays the acoustic one.
        assert!(with_lm.score < plain.score);
    }

    /// One frame per letter of the English vocabulary: `pairs` get their probabilities, every
    /// other token 0.001, then normalised and logged.
    fn frames(spec: &[&[(char, f32)]]) -> Vec<f32> {
        let v = crate::text::Vocab::english();
        spec.iter()
            .flat_map(|pairs| {
                let mut row = vec![0.001f32; v.size()];
                for &(ch, p) in *pairs {
                    let i = if ch == '_' {
                        0
                    } else {
                        v.id(ch).unwrap() as usize
                    };
                    row[i] = p;
                }
                let sum: f32 = row.iter().sum();
                row.into_iter()
                    .map(move |p| (p / sum).ln())
                    .collect::<Vec<f32>>()
            })
            .collect()
    }

    fn decode_with(m: &[f32], guides: Guides) -> String {
        let v = crate::text::Vocab::english();
        let frames = m.len() / v.size();
        let h = PrefixBeam::new(8)
            .with_guides(guides)
            .decode(LogProbs::new(m, frames, v.size()));
        v.decode(&h.tokens)
    }

    /// "rad" leads "red" acoustically by ln(0.46/0.44) = 0.044. The word LM knows "red"
    /// (log10 p = -0.5, ln = -1.15) and not "rad" (no `<unk>`: log10 p = -7, ln = -16.1, plus the
    /// OOV penalty -2); at weight 0.5 "red" ends 0.5·(16.1 - 1.15) + 2 ≈ 9.5 ahead, so it wins.
    #[test]
    fn a_word_lm_scores_completed_words() {
        let m = frames(&[&[('r', 0.9)], &[('a', 0.46), ('e', 0.44)], &[('d', 0.9)]]);
        assert_eq!(decode_with(&m, Guides::default()), "rad");
        let arpa = "\\data\\\nngram 1=3\n\\1-grams:\n-0.5 red\n-0.3 </s>\n-99 <s>\n\\end\\\n";
        let lm = crate::lm::WordLm::parse_arpa(arpa.as_bytes()).unwrap();
        let words = crate::lm::guide::WordScorer::new(std::sync::Arc::new(lm), 0.5, 0.0, -2.0);
        let guided = Guides {
            words: Some(words),
            ..Guides::default()
        };
        assert_eq!(decode_with(&m, guided), "red");
    }

    /// Acoustically the last letter is "u" (0.5 against "e" 0.4), giving "onu"; the grammar of
    /// "one" and "two" has no word starting "onu", so the best allowed path ends "one".
    #[test]
    fn a_grammar_keeps_the_output_inside_its_phrases() {
        let m = frames(&[&[('o', 0.9)], &[('n', 0.9)], &[('u', 0.5), ('e', 0.4)]]);
        assert_eq!(decode_with(&m, Guides::default()), "onu");
        let grammar = crate::lm::guide::Grammar::parse("one\ntwo").unwrap();
        let guided = Guides {
            grammar: Some(std::sync::Arc::new(grammar)),
            ..Guides::default()
        };
        assert_eq!(decode_with(&m, guided.clone()), "one");
        // Only blanks: the empty output is allowed.
        let silence = frames(&[&[('_', 0.9)], &[('_', 0.9)]]);
        assert_eq!(decode_with(&silence, guided), "");
    }

    /// "hank" leads "hark" by ln(0.5/0.45) = 0.105 at the third letter; the hotword "hark"
    /// (boost 3) pays 3·3/4 = 2.25 for "har" and 3 for the whole word, so "hark" wins.
    #[test]
    fn hotwords_pull_the_output_towards_them() {
        let m = frames(&[
            &[('h', 0.9)],
            &[('a', 0.9)],
            &[('n', 0.5), ('r', 0.45)],
            &[('k', 0.9)],
        ]);
        assert_eq!(decode_with(&m, Guides::default()), "hank");
        let hot = crate::lm::guide::Hotwords::parse("hark:3").unwrap();
        let guided = Guides {
            hotwords: Some(std::sync::Arc::new(hot)),
            ..Guides::default()
        };
        assert_eq!(decode_with(&m, guided), "hark");
    }
}
