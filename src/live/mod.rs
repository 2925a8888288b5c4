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

pub mod session;
pub mod speech_head;
pub mod stream;
pub mod vad;

pub use session::{SessionConfig, Source, Summary, Update, run};

use serde::Serialize;

use crate::audio::{SAMPLE_RATE, Waveform};
use crate::recognizer::{Recognizer, Transcript, Word, text_of};
use stream::ModelStream;
use vad::{EnergyVad, VadConfig};

/// Endpointing rules. Defaults: partials every 0.25 s; an endpoint after 0.15 s of energy
/// silence with no new word, or after 0.8 s without a new word (or with at most 20 % of its
/// frames not blank-dominated) whatever the energy; utterances at most 15 s.
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
            vad: VadConfig::default(),
        }
    }
}

impl EndpointConfig {
    /// Seconds of non-speech after which `head` ends an utterance: `head_silence_s` when set,
    /// else the time recorded with the head.
    pub fn head_end_s(&self, head: &speech_head::SpeechHead) -> f64 {
        self.head_silence_s.unwrap_or_else(|| head.end_seconds())
    }
}

/// What the live recogniser reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
}

/// The share of the last `window` frames of `log_probs` (`[frames × vocab]`) in which blank
/// has less than `blank_threshold` of the probability; `None` when there are fewer frames.
fn speech_share(
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
            cfg,
        }
    }

    /// Whether the model runs as a stream carrying its state (a unidirectional model).
    pub fn is_streaming(&self) -> bool {
        self.stream.is_some()
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
    fn current(&self) -> (Transcript, f64, Option<f64>) {
        let origin = self.origin();
        let duration = match &self.stream {
            Some(s) => s.duration_s(),
            None => seconds(self.buffer.len() as u64),
        };
        let end = origin + (duration * SAMPLE_RATE as f64) as u64;
        // Without an audible frame there is nothing to decode: normalisation would blow
        // near-silence up into something the model may read words into.
        if !self.vad.audible_between(origin, end) {
            return (Transcript::default(), duration, None);
        }
        let (mut t, speech) = match &self.stream {
            Some(s) => (s.transcript(), self.trailing_speech(s.log_probs())),
            None => match Waveform::new(self.buffer.clone(), SAMPLE_RATE) {
                Some(wave) => {
                    let (t, lp) = self.rec.transcribe_scored(&wave);
                    let speech = self.trailing_speech(&lp);
                    (t, speech)
                }
                // Non-finite samples from the device are dropped rather than decoded.
                None => (Transcript::default(), None),
            },
        };
        t.words.retain(|w| self.voiced(w));
        t.text = text_of(&t.words);
        (t, duration, speech)
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
        let (mut t, duration, trailing_speech) = self.current();
        let head = self.head_silence();
        let head_end = head.is_some_and(|(silence, end)| silence >= end);
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
        let trailing = duration - last.end;
        let all = self.buffer.len();
        let quiet = self.vad.reliable() && self.vad.silence_s() >= self.cfg.vad_silence_s;
        // With a speech head, the energy detector's silence must be the head's too: in babble
        // it can call a pause between words quiet.
        let head_quiet = head.is_none_or(|(s, _)| s > 0.0);
        let vad_end = quiet && head_quiet && trailing >= self.cfg.vad_silence_s;
        let model_silence = trailing >= self.cfg.max_trailing_silence_s
            || trailing_speech.is_some_and(|f| f <= self.cfg.max_trailing_speech_fraction);
        if flush || vad_end || model_silence || head_end {
            let words = t.words.clone();
            // After a quiet ending all of the buffer is spent (its tail would only decode into
            // fragments); otherwise keep what follows the last word, a new word may be starting.
            let cut = if quiet {
                all
            } else {
                (last.end * SAMPLE_RATE as f64) as usize
            };
            return vec![self.finalize(words, cut)];
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
            return vec![self.finalize(words, cut)];
        }
        // A partial holds back words that begin where the speech head hears no speech: if the
        // stretch grows to an endpoint the final drops them, so showing them would revise it.
        if let Some((silence, _)) = head.filter(|&(s, _)| s > 0.0) {
            keep_words_before(&mut t, duration - silence);
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
    fn finalize(&mut self, mut words: Vec<Word>, cut: usize) -> Event {
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

#[cfg(test)]
mod tests {
    use super::speech_share;

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
}
