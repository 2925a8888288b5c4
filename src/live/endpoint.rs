//! When an utterance ends: the rules of [`EndpointConfig`] applied to what the energy detector,
//! the CTC posteriors and the speech head say at one decode step ([`EndSignals::rule`]).
//!
//! The speech head, where the model has one, has the last word on the other two detectors:
//! - an energy end needs the head to hear no speech too (in babble the energy detector can call
//!   a pause between words quiet);
//! - so does a model-silence end (no new word for `max_trailing_silence_s`, or few frames that
//!   are not blank-dominated), and for `model_end_head_s` (0.3 s): a deeper streaming model
//!   emits its letters in fewer, sharper frames and can go 0.8 s without finishing a word while
//!   a person is still talking, or at a brief pause in babble; measured on real-dev
//!   (docs/live.md, session 14), this rule alone had split 16 of 120 utterances in quiet.

use super::speech_head::SpeechHead;
use super::vad::VadConfig;

/// Endpointing rules. Defaults: partials every 0.25 s; an endpoint after 0.15 s of energy
/// silence with no new word, or after 0.8 s without a new word (or with at most 20 % of its
/// frames not blank-dominated) whatever the energy; with a speech head, those two only where
/// the head hears no speech, and after the head's own end time of non-speech whatever else;
/// utterances at most 15 s.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    pub partial_interval_s: f64,
    pub vad_silence_s: f64,
    pub max_trailing_silence_s: f64,
    /// A frame is blank-dominated when the model gives blank at least this probability.
    pub blank_threshold: f32,
    /// The largest share of frames in the trailing `max_trailing_silence_s` that may be not
    /// blank-dominated for it still to count as silence (0 turns the rule off).
    pub max_trailing_speech_fraction: f64,
    pub max_utterance_s: f64,
    /// With a model's speech head: an utterance ends once the head has heard no speech for
    /// this long (its moving average below its threshold); `None`: the time recorded with the
    /// head (`SpeechHead::end_s`), else 0.3 s.
    pub head_silence_s: Option<f64>,
    /// With a model's speech head: a model-silence end counts only once the head has heard no
    /// speech for this long (an energy end needs only its latest frame).
    pub model_end_head_s: f64,
    /// With a speech head and a word LM: an utterance whose words the LM expects a sentence
    /// to end after (p(`</s>`) at least `sentence_end_prob`) ends once the head has heard no
    /// speech for this long, sooner than the head's own end (`None`: off). How final the best
    /// path looks, as Kaldi's endpointer weighs it, from the LM rather than the lattice.
    pub sentence_end_s: Option<f64>,
    pub sentence_end_prob: f64,
    pub vad: VadConfig,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        Self {
            partial_interval_s: 0.25,
            vad_silence_s: 0.15,
            max_trailing_silence_s: 0.8,
            blank_threshold: 0.8,
            max_trailing_speech_fraction: 0.2,
            max_utterance_s: 15.0,
            head_silence_s: None,
            model_end_head_s: 0.3,
            sentence_end_s: None,
            sentence_end_prob: 0.1,
            vad: VadConfig::default(),
        }
    }
}

impl EndpointConfig {
    /// Seconds of non-speech after which `head` ends an utterance: `head_silence_s` when set,
    /// else the time recorded with the head.
    pub fn head_end_s(&self, head: &SpeechHead) -> f64 {
        self.head_silence_s.unwrap_or_else(|| head.end_seconds())
    }
}

/// Which rule ended an utterance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndRule {
    /// The speech head heard no speech for its end time.
    Head,
    /// The speech head heard no speech for `sentence_end_s` after words that the word LM
    /// expects a sentence to end with.
    Sentence,
    /// The energy detector heard silence (and the head, if any, no speech).
    Energy,
    /// The model emitted no new word, or almost only blanks, for `max_trailing_silence_s`
    /// (and the head, if any, hears no speech).
    ModelSilence,
    /// The utterance reached `max_utterance_s`.
    Length,
    /// The stream ended.
    Flush,
}

/// What the detectors say about the end of the current utterance at one decode step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EndSignals {
    /// The energy detector is trusted and has heard silence for `vad_silence_s`.
    pub quiet: bool,
    /// Seconds since the last word ended.
    pub trailing_s: f64,
    /// The share of the trailing `max_trailing_silence_s` whose frames are not
    /// blank-dominated (`None` while the utterance is shorter).
    pub trailing_speech: Option<f64>,
    /// With a speech head: seconds of trailing non-speech it hears, and the seconds that end
    /// an utterance.
    pub head: Option<(f64, f64)>,
    /// The word LM's p(`</s>`) after the words so far (`None` without a word LM, or when the
    /// sentence rule is off).
    pub sentence_end: Option<f64>,
}

/// Whether a speech head's (trailing non-speech, end time) ends the utterance by itself.
pub(super) fn head_ends(head: Option<(f64, f64)>) -> bool {
    head.is_some_and(|(silence, end)| silence >= end)
}

impl EndSignals {
    /// The rule that ends the utterance now, if any (the length limit and the end of the
    /// stream are the caller's).
    pub fn rule(&self, cfg: &EndpointConfig) -> Option<EndRule> {
        if head_ends(self.head) {
            return Some(EndRule::Head);
        }
        if let (Some(wait), Some((silence, _)), Some(p)) =
            (cfg.sentence_end_s, self.head, self.sentence_end)
            && silence >= wait
            && p >= cfg.sentence_end_prob
        {
            return Some(EndRule::Sentence);
        }
        let head_quiet = self.head.is_none_or(|(silence, _)| silence > 0.0);
        if !head_quiet {
            return None;
        }
        if self.quiet && self.trailing_s >= cfg.vad_silence_s {
            return Some(EndRule::Energy);
        }
        let model_silence = self.trailing_s >= cfg.max_trailing_silence_s
            || self
                .trailing_speech
                .is_some_and(|f| f <= cfg.max_trailing_speech_fraction);
        let head_long = self
            .head
            .is_none_or(|(silence, _)| silence >= cfg.model_end_head_s);
        (model_silence && head_long).then_some(EndRule::ModelSilence)
    }
}

/// The share of the last `window` frames of `log_probs` (`[frames × vocab]`) in which blank
/// has less than `blank_threshold` of the probability; `None` when there are fewer frames.
pub(super) fn speech_share(
    log_probs: &[f32],
    vocab: usize,
    window: usize,
    blank_threshold: f32,
) -> Option<f64> {
    let frames = log_probs.len() / vocab.max(1);
    if window == 0 || frames < window {
        return None;
    }
    let floor = blank_threshold.max(f32::MIN_POSITIVE).ln();
    let speech = log_probs[(frames - window) * vocab..frames * vocab]
        .chunks_exact(vocab)
        .filter(|frame| frame[crate::text::BLANK as usize] < floor)
        .count();
    Some(speech as f64 / window as f64)
}

#[cfg(test)]
mod tests {
    use super::{EndRule, EndSignals, EndpointConfig, speech_share};

    /// Frames over a 3-symbol vocabulary (blank, a, b) with P(blank) as given, the rest on a.
    fn frames(blank: &[f32]) -> Vec<f32> {
        blank
            .iter()
            .flat_map(|&p| [p.ln(), (1.0 - p).max(1e-9).ln(), 1e-9f32.ln()])
            .collect()
    }

    #[test]
    fn the_share_counts_frames_where_blank_is_below_the_threshold() {
        // Last 5 frames: 0.95, 0.3 (a stray letter), 0.9, 0.85, 0.79 (just below 0.8): 2 of 5.
        let lp = frames(&[0.1, 0.2, 0.95, 0.3, 0.9, 0.85, 0.79]);
        let share = speech_share(&lp, 3, 5, 0.8).expect("enough frames");
        assert!((share - 0.4).abs() < 1e-12, "{share}");
        // The whole of it: the first two frames are speech too, 4 of 7.
        let all = speech_share(&lp, 3, 7, 0.8).expect("enough frames");
        assert!((all - 4.0 / 7.0).abs() < 1e-12, "{all}");
        // Too short for the window, or no window: no verdict.
        assert_eq!(speech_share(&lp, 3, 8, 0.8), None);
        assert_eq!(speech_share(&lp, 3, 0, 0.8), None);
    }

    /// Signals with nothing pointing at an end: speech going on, no head.
    fn talking() -> EndSignals {
        EndSignals {
            quiet: false,
            trailing_s: 0.1,
            trailing_speech: Some(0.5),
            head: None,
            sentence_end: None,
        }
    }

    #[test]
    fn each_rule_ends_an_utterance_on_its_own_signal() {
        let cfg = EndpointConfig::default();
        assert_eq!(talking().rule(&cfg), None);
        // 0.15 s of energy silence, and the last word ended 0.15 s ago.
        let quiet = EndSignals {
            quiet: true,
            trailing_s: 0.15,
            ..talking()
        };
        assert_eq!(quiet.rule(&cfg), Some(EndRule::Energy));
        // Quiet, but a word ended only 0.1 s ago: not yet.
        let just_spoke = EndSignals {
            quiet: true,
            ..talking()
        };
        assert_eq!(just_spoke.rule(&cfg), None);
        // Loud, no new word for 0.8 s; or a word 0.3 s ago but only 20 % letter frames since.
        let no_word = EndSignals {
            trailing_s: 0.8,
            ..talking()
        };
        assert_eq!(no_word.rule(&cfg), Some(EndRule::ModelSilence));
        let stray_letters = EndSignals {
            trailing_s: 0.3,
            trailing_speech: Some(0.2),
            ..talking()
        };
        assert_eq!(stray_letters.rule(&cfg), Some(EndRule::ModelSilence));
        // The head: 0.5 s of non-speech with a 0.5 s end ends it, whatever else.
        let head_end = EndSignals {
            head: Some((0.5, 0.5)),
            ..talking()
        };
        assert_eq!(head_end.rule(&cfg), Some(EndRule::Head));
    }

    #[test]
    fn a_head_that_hears_speech_holds_the_energy_and_model_rules() {
        let cfg = EndpointConfig::default();
        // The head's latest frame is speech (0 s of trailing non-speech): quiet energy (a pause
        // in babble) and 0.9 s without a word (a slow word) both wait.
        for signals in [
            EndSignals {
                quiet: true,
                trailing_s: 0.3,
                ..talking()
            },
            EndSignals {
                trailing_s: 0.9,
                trailing_speech: Some(0.1),
                ..talking()
            },
        ] {
            let held = EndSignals {
                head: Some((0.0, 0.5)),
                ..signals
            };
            assert_eq!(held.rule(&cfg), None, "{held:?}");
            // Once the head hears no speech the rule applies again: the energy end after one
            // frame, the model-silence end after `model_end_head_s`.
            let released = EndSignals {
                head: Some((cfg.model_end_head_s, 0.5)),
                ..signals
            };
            assert!(released.rule(&cfg).is_some(), "{released:?}");
        }
        let one_frame = Some((0.03, 0.5));
        let energy = EndSignals {
            quiet: true,
            trailing_s: 0.3,
            head: one_frame,
            ..talking()
        };
        assert_eq!(energy.rule(&cfg), Some(EndRule::Energy));
        let model = EndSignals {
            trailing_s: 0.9,
            head: one_frame,
            ..talking()
        };
        assert_eq!(model.rule(&cfg), None, "a brief pause in babble");
    }

    #[test]
    fn words_that_end_a_sentence_end_the_utterance_sooner() {
        let cfg = EndpointConfig {
            sentence_end_s: Some(0.25),
            sentence_end_prob: 0.1,
            ..EndpointConfig::default()
        };
        // 0.25 s of head non-speech, its own end 0.5 s away; p(</s>) 0.2 after the words.
        let ending = EndSignals {
            head: Some((0.25, 0.5)),
            sentence_end: Some(0.2),
            ..talking()
        };
        assert_eq!(ending.rule(&cfg), Some(EndRule::Sentence));
        // Words that seldom end a sentence ("... of the") wait for the head's own end.
        let mid = EndSignals {
            sentence_end: Some(0.01),
            ..ending
        };
        assert_eq!(mid.rule(&cfg), None);
        assert_eq!(
            EndSignals {
                head: Some((0.5, 0.5)),
                ..mid
            }
            .rule(&cfg),
            Some(EndRule::Head)
        );
        // Too short a pause, no head, or the rule off: no sentence end.
        for (signals, cfg) in [
            (
                EndSignals {
                    head: Some((0.2, 0.5)),
                    ..ending
                },
                cfg.clone(),
            ),
            (
                EndSignals {
                    head: None,
                    ..ending
                },
                cfg.clone(),
            ),
            (ending, EndpointConfig::default()),
        ] {
            assert_ne!(signals.rule(&cfg), Some(EndRule::Sentence), "{signals:?}");
        }
    }
}
