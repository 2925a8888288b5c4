//! Live recognition: 16 kHz audio arrives in chunks; partial hypotheses are produced at a
//! fixed interval while speech goes on, and a final hypothesis at each endpoint.
//!
//! Endpointing combines two detectors:
//! - an energy detector ([`vad`]): once the signal has stayed near the noise floor for
//!   `vad_silence_s` *and* the model has emitted no new word for as long, the utterance ends
//!   (quick finals where speech stands well above the background — the detector is not
//!   trusted in loud noise, where its "silence" also covers quiet speech);
//! - the model itself: a stretch at the end of the buffer where the decoder emits nothing (CTC
//!   blank) for `max_trailing_silence_s` ends the utterance even when loud, unsteady noise keeps
//!   the energy detector open. Noise makes the model emit a stray letter now and then, and each
//!   stray word would restart that count; so the same stretch also counts as silence when at
//!   most `max_trailing_speech_fraction` of its frames are *not* blank-dominated (P(blank)
//!   below `blank_threshold`, 0.8 as in WeNet): a few stray frames do not hold the utterance
//!   open, where speech (a letter every two or three 30 ms frames) does.
//!
//! An utterance also ends at a maximum length, at the last word boundary.
//!
//! A bidirectional model re-decodes the current utterance's audio buffer at each partial
//! (bounded by the maximum utterance length). A unidirectional (streaming) model runs on each
//! new block of audio once, carrying its recurrent state ([`stream`]); its utterances end
//! where the endpoint is detected.

pub mod endpoint;
pub mod session;
pub mod speech_head;
pub mod stream;
pub mod vad;

pub use endpoint::{EndRule, EndSignals, EndpointConfig};
pub use session::{SessionConfig, Source, Summary, Update, run};

use serde::{Deserialize, Serialize};

use crate::audio::{SAMPLE_RATE, Waveform};
use crate::recognizer::{Recognizer, Transcript, Word, text_of};
use endpoint::speech_share;
use stream::ModelStream;
use vad::EnergyVad;

/// What the live recogniser reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Event {
    /// The current guess for the utterance in progress.
    Partial { text: String, start: f64 },
    /// A finished utterance; times in seconds from the start of the stream.
    Final {
        text: String,
        start: f64,
        end: f64,
        words: Vec<Word>,
    },
}

/// Streaming front of a [`Recognizer`].
pub struct LiveRecognizer<'a> {
    rec: &'a Recognizer,
    cfg: EndpointConfig,
    /// Audio of the current utterance (16 kHz).
    buffer: Vec<f32>,
    /// Stream position of `buffer[0]`, in samples.
    buffer_start: u64,
    since_decode: usize,
    last_partial: String,
    vad: EnergyVad,
    /// Set for streaming models: then `buffer` stays empty.
    stream: Option<ModelStream<'a>>,
    /// The rule that ended the last utterance.
    last_end: Option<EndRule>,
}

/// Keep only the words of `t` that begin before `seconds` (from the utterance's start).
fn keep_words_before(t: &mut Transcript, seconds: f64) {
    t.words.retain(|w| w.start < seconds);
    t.text = text_of(&t.words);
}

/// Samples between decodes while an utterance may be ending (50 ms).
const CLOSING_STEP: usize = SAMPLE_RATE as usize / 20;

fn seconds(samples: u64) -> f64 {
    samples as f64 / SAMPLE_RATE as f64
}

impl<'a> LiveRecognizer<'a> {
    pub fn new(rec: &'a Recognizer, cfg: EndpointConfig) -> Self {
        Self {
            rec,
            buffer: Vec::new(),
            buffer_start: 0,
            since_decode: 0,
            last_partial: String::new(),
            vad: EnergyVad::new(cfg.vad.clone()),
            stream: ModelStream::new(rec),
            last_end: None,
            cfg,
        }
    }

    /// Whether the model runs as a stream carrying its state (a unidirectional model).
    pub fn is_streaming(&self) -> bool {
        self.stream.is_some()
    }

    /// The rule that ended the last utterance (`None` before the first final).
    pub fn last_end_rule(&self) -> Option<EndRule> {
        self.last_end
    }

    /// Add 16 kHz samples; returns any partial or final events.
    pub fn push(&mut self, samples: &[f32]) -> Vec<Event> {
        match &mut self.stream {
            Some(stream) => stream.push(samples),
            None => self.buffer.extend_from_slice(samples),
        }
        self.since_decode += samples.len();
        self.vad.push(samples);
        // Decode at the partial interval; while the energy detector hears silence and an
        // utterance is open, decode every 50 ms so the final is not held back by the timer.
        let silent = (self.vad.reliable() && self.vad.silence_s() >= self.cfg.vad_silence_s)
            || self.head_silence().is_some_and(|(s, _)| s > 0.0);
        let interval = (self.cfg.partial_interval_s * SAMPLE_RATE as f64) as usize;
        let closing = silent && !self.last_partial.is_empty() && self.since_decode >= CLOSING_STEP;
        if self.since_decode < interval.max(1) && !closing {
            return Vec::new();
        }
        self.since_decode = 0;
        self.decode_step(false)
    }

    /// The stream ended: flush the utterance in progress as a final.
    pub fn finish(&mut self) -> Vec<Event> {
        if let Some(stream) = &mut self.stream {
            stream.finish();
        }
        self.decode_step(true)
    }

    /// Stream position (samples) where the current utterance starts.
    fn origin(&self) -> u64 {
        match &self.stream {
            Some(s) => (s.origin_s() * SAMPLE_RATE as f64).round() as u64,
            None => self.buffer_start,
        }
    }

    /// Seconds at the end of the current utterance in which the model's speech head hears no
    /// speech, and the seconds that end an utterance (`None` without a head).
    fn head_silence(&self) -> Option<(f64, f64)> {
        let head = self.rec.speech_head()?;
        let stream = self.stream.as_ref()?;
        let silence =
            head.trailing_non_speech(stream.speech_probs()) as f64 * self.rec.frame_seconds();
        Some((silence, self.cfg.head_end_s(head)))
    }

    /// The current utterance decoded, words without any audible frame removed, its length,
    /// and the share of its trailing `max_trailing_silence_s` whose frames are not
    /// blank-dominated (`None` while it is shorter than that).
    fn current(&self) -> (Transcript, f64, Option<f64>, usize) {
        let origin = self.origin();
        let duration = match &self.stream {
            Some(s) => s.duration_s(),
            None => seconds(self.buffer.len() as u64),
        };
        let end = origin + (duration * SAMPLE_RATE as f64) as u64;
        // Without an audible frame there is nothing to decode: normalisation would blow
        // near-silence up into something the model may read words into.
        if !self.vad.audible_between(origin, end) {
            return (Transcript::default(), duration, None, 0);
        }
        let (mut t, speech, settled) = match &self.stream {
            Some(s) => {
                let (t, settled) = s.transcript_settled();
                (t, self.trailing_speech(s.log_probs()), settled)
            }
            // A bidirectional model rescores the whole buffer each time: nothing is settled
            // before the final, so its partials show every word (and may revise them).
            None => match Waveform::new(self.buffer.clone(), SAMPLE_RATE) {
                Some(wave) => {
                    let (t, lp) = self.rec.transcribe_scored(&wave);
                    let speech = self.trailing_speech(&lp);
                    let n = t.words.len();
                    (t, speech, n)
                }
                // Non-finite samples from the device are dropped rather than decoded.
                None => (Transcript::default(), None, 0),
            },
        };
        let mut kept_settled = 0;
        let mut index = 0;
        t.words.retain(|w| {
            let keep = self.voiced(w);
            if keep && index < settled {
                kept_settled += 1;
            }
            index += 1;
            keep
        });
        t.text = text_of(&t.words);
        (t, duration, speech, kept_settled)
    }

    /// The share of the last `max_trailing_silence_s` of `log_probs` (`[frames × vocab]`)
    /// where blank has less than `blank_threshold` of the probability.
    fn trailing_speech(&self, log_probs: &[f32]) -> Option<f64> {
        let window = (self.cfg.max_trailing_silence_s / self.rec.frame_seconds()).ceil() as usize;
        speech_share(
            log_probs,
            self.rec.vocab().size(),
            window,
            self.cfg.blank_threshold,
        )
    }

    fn decode_step(&mut self, flush: bool) -> Vec<Event> {
        let (mut t, duration, trailing_speech, settled) = self.current();
        let head = self.head_silence();
        let head_end = endpoint::head_ends(head);
        // Letters the model read into what its head calls non-speech are noise once the
        // utterance ends there: by the head's own rule, or because the stream ends.
        if let Some((silence, _)) = head.filter(|&(s, _)| s > 0.0 && (head_end || flush)) {
            keep_words_before(&mut t, duration - silence);
        }
        let Some(last) = t.words.last() else {
            // No speech: keep only a short tail so a word starting now is not cut (a stream
            // restarts instead, which bounds its memory the same way).
            let keep = (0.3 * SAMPLE_RATE as f64) as usize;
            if flush || duration > 0.6 {
                match &mut self.stream {
                    Some(s) => s.reset(),
                    None if flush => self.reset_after(self.buffer.len()),
                    None => self.reset_after(self.buffer.len().saturating_sub(keep)),
                }
            }
            if !self.last_partial.is_empty() {
                self.last_partial.clear();
            }
            return Vec::new();
        };
        let last_end = last.end;
        let trailing = duration - last_end;
        let all = self.buffer.len();
        let quiet = self.vad.reliable() && self.vad.silence_s() >= self.cfg.vad_silence_s;
        // Only asked once the head has heard non-speech for the rule's time, of the words
        // before it (the final would drop those after).
        let sentence_end = match (self.cfg.sentence_end_s, head) {
            (Some(wait), Some((silence, _))) if silence >= wait => {
                let spoken = t.words.partition_point(|w| w.start < duration - silence);
                (spoken > 0)
                    .then(|| self.rec.sentence_end_prob(&t.words[..spoken]))
                    .flatten()
            }
            _ => None,
        };
        let signals = EndSignals {
            quiet,
            trailing_s: trailing,
            trailing_speech,
            head,
            sentence_end,
        };
        let rule = if flush {
            Some(EndRule::Flush)
        } else {
            signals.rule(&self.cfg)
        };
        if let Some(rule) = rule {
            if let (EndRule::Sentence, Some((silence, _))) = (rule, head) {
                keep_words_before(&mut t, duration - silence);
            }
            let words = t.words.clone();
            // After a quiet ending all of the buffer is spent (its tail would only decode into
            // fragments); otherwise keep what follows the last word, a new word may be starting.
            let cut = if quiet {
                all
            } else {
                (last_end * SAMPLE_RATE as f64) as usize
            };
            return vec![self.finalize(words, cut, rule)];
        }
        if duration >= self.cfg.max_utterance_s {
            // Too long: finalise up to the last word boundary and keep the last word's audio
            // for the next utterance (all of it when there is only one word).
            let mut words = t.words.clone();
            let cut = if words.len() > 1 && self.stream.is_none() {
                let tail = words.pop().map_or(0.0, |w| w.start);
                (tail * SAMPLE_RATE as f64) as usize
            } else {
                self.buffer.len()
            };
            return vec![self.finalize(words, cut, EndRule::Length)];
        }
        // A partial holds back words that begin where the speech head hears no speech: if the
        // stretch grows to an endpoint the final drops them, so showing them would revise it.
        if let Some((silence, _)) = head.filter(|&(s, _)| s > 0.0) {
            keep_words_before(&mut t, duration - silence);
        }
        // Every word but the last is one the decoder has settled, so the words a partial has
        // finished are the final's; the last may still change as it is being spoken.
        if t.words.len() > settled + 1 {
            t.words.truncate(settled + 1);
            t.text = text_of(&t.words);
        }
        match t.words.first() {
            Some(first) if t.text != self.last_partial => {
                let start = seconds(self.origin()) + first.start;
                self.last_partial = t.text.clone();
                vec![Event::Partial {
                    text: t.text,
                    start,
                }]
            }
            _ => Vec::new(),
        }
    }

    /// Emit a final; the audio before `cut` is spent (a stream always spends all of it).
    fn finalize(&mut self, mut words: Vec<Word>, cut: usize, rule: EndRule) -> Event {
        self.last_end = Some(rule);
        let offset = seconds(self.origin());
        for w in &mut words {
            w.start += offset;
            w.end += offset;
        }
        let text = text_of(&words);
        let start = words.first().map_or(offset, |w| w.start);
        let end = words.last().map_or(offset, |w| w.end);
        match &mut self.stream {
            Some(s) => s.reset(),
            None => self.reset_after(cut.min(self.buffer.len())),
        }
        self.last_partial.clear();
        Event::Final {
            text,
            start,
            end,
            words,
        }
    }

    /// Whether anything was audible during a word (times relative to the utterance start,
    /// widened by 30 ms each side for the coarse CTC timing).
    fn voiced(&self, w: &Word) -> bool {
        let origin = self.origin();
        let at = |s: f64| origin + (s.max(0.0) * SAMPLE_RATE as f64) as u64;
        let pad = (0.03 * SAMPLE_RATE as f64) as u64;
        self.vad
            .audible_between(at(w.start).saturating_sub(pad), at(w.end) + pad)
    }

    /// Drop the first `n` samples of the buffer.
    fn reset_after(&mut self, n: usize) {
        self.buffer.drain(..n);
        self.buffer_start += n as u64;
    }
}
