//! Chunked recognition with a unidirectional model: features are computed incrementally, the
//! model runs on each new block of frames starting from the recurrent state the previous block
//! left, and the log-probabilities of the utterance so far are kept for decoding. Each audio
//! sample goes through the model once, however long the utterance.

use super::speech_head::{LevelTrack, head_inputs};
use crate::features::{Features, StreamingFeatures};
use crate::model::LayerState;
use crate::recognizer::{Recognizer, Transcript};

/// The model side of a stream.
pub struct ModelStream<'a> {
    rec: &'a Recognizer,
    features: StreamingFeatures<'a>,
    /// Feature frames waiting for a whole model step (`stack` frames), row-major.
    pending: Vec<f32>,
    state: Option<Vec<LayerState>>,
    /// Log-probabilities of the current utterance, `[frames × vocab]`.
    log_probs: Vec<f32>,
    /// P(speech) of each frame of the current utterance, when the model has a speech head.
    speech: Vec<f32>,
    /// Levels of the whole stream for the speech head (not reset between utterances).
    levels: LevelTrack,
    frames: usize,
    /// Feature frames given to the model since the stream started.
    consumed: usize,
    /// Feature frame index where the current utterance starts.
    origin: usize,
}

impl<'a> ModelStream<'a> {
    /// `None` when the recogniser's model cannot stream.
    pub fn new(rec: &'a Recognizer) -> Option<Self> {
        if !rec.can_stream() {
            return None;
        }
        Some(Self {
            rec,
            features: StreamingFeatures::new(rec.mfcc()).ok()?,
            pending: Vec::new(),
            state: None,
            log_probs: Vec::new(),
            speech: Vec::new(),
            levels: LevelTrack::default(),
            frames: 0,
            consumed: 0,
            origin: 0,
        })
    }

    /// Feed 16 kHz samples.
    pub fn push(&mut self, samples: &[f32]) {
        if self.rec.speech_head().is_some() {
            self.levels.push(samples);
        }
        let f = self.features.push(samples);
        self.advance(f, false);
    }

    /// The stream ended: run the held-back frames (the last step zero-padded, as offline).
    pub fn finish(&mut self) {
        let f = self.features.finish();
        self.advance(f, true);
    }

    fn advance(&mut self, f: Features, last: bool) {
        let dim = self.rec.mfcc().config().dim();
        self.pending.extend_from_slice(&f.data);
        let stack = self.rec.stack();
        let mut ready = self.pending.len() / dim;
        if last && !ready.is_multiple_of(stack) {
            let pad = stack - ready % stack;
            self.pending.extend(std::iter::repeat_n(0.0, pad * dim));
            ready += pad;
        }
        let steps = ready / stack;
        if steps == 0 {
            return;
        }
        let take = steps * stack;
        let chunk = Features {
            data: self.pending.drain(..take * dim).collect(),
            num_frames: take,
            dim,
        };
        let (lp, state) = match self.rec.speech_head() {
            Some(head) => {
                let (lp, hidden, state) = self.rec.stream_step(&chunk, self.state.take());
                let inputs = head_inputs(
                    &hidden,
                    hidden.len() / steps,
                    &self.levels,
                    self.consumed / stack,
                    stack,
                );
                self.speech.extend(head.probs(&inputs));
                (lp, state)
            }
            None => self.rec.stream_log_probs(&chunk, self.state.take()),
        };
        self.log_probs.extend(lp);
        self.state = Some(state);
        self.frames += steps;
        self.consumed += take;
    }

    /// The current utterance decoded, times relative to [`origin_s`](Self::origin_s), and how
    /// many of its leading words later audio cannot change ([`Recognizer::decode_settled`]).
    pub fn transcript_settled(&self) -> (Transcript, usize) {
        let duration = self.frames as f64 * self.rec.frame_seconds();
        self.rec
            .decode_settled(&self.log_probs, self.frames, duration)
    }

    /// Log-probabilities of the current utterance so far, `[frames × vocab]`.
    pub fn log_probs(&self) -> &[f32] {
        &self.log_probs
    }

    /// P(speech) of each frame of the current utterance (empty without a speech head).
    pub fn speech_probs(&self) -> &[f32] {
        &self.speech
    }

    /// Stream time (seconds) where the current utterance starts.
    pub fn origin_s(&self) -> f64 {
        self.origin as f64 * self.rec.mfcc().config().frame_shift_ms as f64 / 1000.0
    }

    /// Seconds of audio the model has consumed in the current utterance.
    pub fn duration_s(&self) -> f64 {
        self.frames as f64 * self.rec.frame_seconds()
    }

    /// Start a new utterance: forget the scores and the recurrent state.
    pub fn reset(&mut self) {
        self.log_probs.clear();
        self.speech.clear();
        self.frames = 0;
        self.state = None;
        self.origin = self.consumed;
    }
}
