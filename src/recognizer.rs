//! The one inference path: waveform → features → model → decoder → words with times and
//! confidences. Used by `transcribe`, `listen` and `eval` alike.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use crate::audio::Waveform;
use crate::confidence::Platt;
use crate::ctc::{Decoder, Greedy, Hypothesis, LogProbs, PrefixBeam, decode_split_at_pauses};
use crate::error::{Error, Result};
use crate::features::{Features, Mfcc, MfccConfig};
use crate::live::speech_head::SpeechHead;
use crate::lm::word::WordLm;
use crate::model::{AcousticModel, LayerState};
use crate::model_dir::LoadedModel;
use crate::text::Vocab;

/// Longest pause (seconds) between two letters of one word; a longer one splits the word.
pub const MAX_PAUSE_IN_WORD_S: f64 = 0.5;

/// A recognised word with its time span (seconds) and confidence (0–1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub word: String,
    #[serde(serialize_with = "millisecond")]
    pub start: f64,
    #[serde(serialize_with = "millisecond")]
    pub end: f64,
    pub confidence: f32,
}

/// The result of recognising one waveform.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Transcript {
    pub text: String,
    #[serde(serialize_with = "millisecond")]
    pub duration_s: f64,
    pub words: Vec<Word>,
}

/// Seconds written to the millisecond: `3.18`, not `3.1799999999999997`.
pub fn millisecond<S: serde::Serializer>(
    seconds: &f64,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64((seconds * 1000.0).round() / 1000.0)
}

/// The beam width `transcribe`, `eval` and `tune` use unless told otherwise: the built-in
/// model's LM weights are tuned at it. Wider beams stopped paying on real-dev (64: no better
/// than 32, at twice the search's cost; docs/performance.md).
pub const DEFAULT_BEAM: usize = 32;

/// Pauses at least this long (seconds) split what the beam search decodes with language
/// models into pieces searched one at a time ([`decode_split_at_pauses`]). Chosen on real-dev
/// (docs/long-recordings.md): 30 minutes end to end read 71.6 % WER whole, 69.2 / 68.8 / 68.8 /
/// 69.2 / 69.4 / 71.1 at 0.2 / 0.3 / 0.4 / 0.5 / 0.8 / 1.2 s; the clips one by one 66.3 whole,
/// 66.1 at 0.3 s (and a little better in crowd noise too).
pub const DEFAULT_SPLIT_PAUSE_S: f64 = 0.3;

/// Recogniser settings.
#[derive(Debug, Clone)]
pub struct RecognizerConfig {
    /// Beam width; 1 means greedy decoding.
    pub beam: usize,
    /// Offline decoding with language models searches the stretches between pauses of at
    /// least this many seconds one at a time, each its own sentence for the LMs; 0 searches
    /// each utterance or window whole. Not under a grammar, nor in live decoding.
    pub split_pause_s: f64,
}

impl RecognizerConfig {
    /// Beam `beam`, the other settings at their defaults.
    pub fn with_beam(beam: usize) -> Self {
        Self {
            beam,
            ..Self::default()
        }
    }
}

impl Default for RecognizerConfig {
    fn default() -> Self {
        Self {
            beam: DEFAULT_BEAM,
            split_pause_s: DEFAULT_SPLIT_PAUSE_S,
        }
    }
}

/// A loaded model plus its front end and decoder.
pub struct Recognizer {
    model: AcousticModel,
    mfcc: Mfcc,
    vocab: Vocab,
    decoder: Box<dyn Decoder>,
    device: Device,
    /// Seconds per model output frame.
    frame_seconds: f64,
    /// Monte Carlo dropout at inference, when asked for.
    mc: Option<McDropout>,
    /// Whether a long pause between two letters splits a word; not under a grammar, whose
    /// phrases the search has already spelled out.
    pause_splits_words: bool,
    /// Offline decoding searches the stretches between pauses of at least this many output
    /// frames one at a time (0: whole).
    split_pause_frames: usize,
    /// Platt scaling of word confidences, from the model's config.
    calibration: Option<Platt>,
    /// Offline transcripts leave out words whose confidence is below this (the model's
    /// config: [`CalibrationInfo::min_confidence`](crate::model_dir::CalibrationInfo)).
    min_confidence: Option<f32>,
    /// The speech-activity head of a streaming model, from its config.
    speech_head: Option<SpeechHead>,
    /// The word LM, for live endpointing to ask whether the words so far end a sentence
    /// (none under a grammar, whose phrases may end anywhere).
    sentence_lm: Option<Arc<WordLm>>,
}

/// Monte Carlo dropout (Gal & Ghahramani, 2016): the model with its dropout left on, run
/// `samples` times per input.
struct McDropout {
    /// A copy of the model on the autodiff device with its training flags on and no gradients
    /// kept: burn applies dropout only there.
    model: AcousticModel,
    device: Device,
    samples: usize,
    seed: u64,
}

impl Recognizer {
    /// The model's language models, character and word, join the beam search; greedy decoding
    /// (beam 1) ignores them. A grammar or hotwords need the beam: with beam 1 they are an
    /// error rather than silently dropped.
    pub fn new(loaded: LoadedModel, device: Device, config: &RecognizerConfig) -> Result<Self> {
        if config.beam <= 1 && (loaded.guides.grammar.is_some() || loaded.guides.hotwords.is_some())
        {
            return Err(crate::Error::Config(
                "grammars and hotwords need the beam search (beam > 1)".into(),
            ));
        }
        let mut rec = Self::from_model(
            loaded.model,
            loaded.config.features,
            loaded.config.vocab,
            device,
            config,
        )?;
        rec.calibration = loaded.config.calibration.as_ref().map(|c| c.platt);
        rec.min_confidence = loaded
            .config
            .calibration
            .as_ref()
            .and_then(|c| c.min_confidence);
        if let Some(head) = loaded.config.speech_head {
            if !rec.can_stream() {
                return Err(Error::Config(
                    "a speech head needs a streaming (unidirectional) model".into(),
                ));
            }
            head.validate(rec.model.layers.last().map_or(0, |l| l.output_dim()))?;
            rec.speech_head = Some(head);
        }
        if config.beam > 1 && (loaded.lm.is_some() || !loaded.guides.is_empty()) {
            rec.pause_splits_words = loaded.guides.grammar.is_none();
            if loaded.guides.grammar.is_none() {
                rec.split_pause_frames = rec.frames_in(config.split_pause_s)?;
                rec.sentence_lm = loaded.guides.words.as_ref().map(|w| Arc::clone(&w.lm));
            }
            let mut beam = PrefixBeam::new(config.beam).with_guides(loaded.guides);
            beam.lm = loaded.lm;
            rec.decoder = Box::new(beam);
        }
        Ok(rec)
    }

    /// Decode with a prefix beam search of width `beam` that consults `lm`.
    pub fn with_lm(mut self, lm: crate::lm::LmScorer, beam: usize) -> Self {
        self.decoder = Box::new(PrefixBeam::new(beam).with_lm(lm));
        self
    }

    /// Build from an in-memory model (e.g. during training).
    pub fn from_model(
        model: AcousticModel,
        features: MfccConfig,
        vocab: Vocab,
        device: Device,
        config: &RecognizerConfig,
    ) -> Result<Self> {
        let frame_seconds = model.stack as f64 * features.frame_shift_ms as f64 / 1000.0;
        let mfcc = Mfcc::new(features)?;
        let decoder: Box<dyn Decoder> = if config.beam <= 1 {
            Box::new(Greedy)
        } else {
            Box::new(PrefixBeam::new(config.beam))
        };
        Ok(Self {
            model: model.valid(),
            mfcc,
            vocab,
            decoder,
            device,
            frame_seconds,
            mc: None,
            pause_splits_words: true,
            split_pause_frames: 0,
            calibration: None,
            min_confidence: None,
            speech_head: None,
            sentence_lm: None,
        })
    }

    /// Decode with Monte Carlo dropout: each input is run `samples` times with the model's
    /// dropout active; the decoder reads the mean of the sampled posteriors, and each word's
    /// confidence becomes the fraction of samples whose own greedy transcript has the same
    /// word overlapping it in time. Dropout is drawn from `seed` afresh for every call, so the
    /// same input gives the same output.
    pub fn with_mc_dropout(mut self, samples: usize, seed: u64) -> Result<Self> {
        if samples < 2 {
            return Err(Error::Config(format!(
                "Monte Carlo dropout needs at least 2 samples, not {samples}"
            )));
        }
        if self.model.dropout.prob <= 0.0 {
            return Err(Error::Config(
                "the model has no dropout to sample; Monte Carlo dropout needs one trained with \
                 --dropout above 0"
                    .into(),
            ));
        }
        let device = self.device.clone().autodiff();
        let model = self.model.clone().to_device(&device).train().no_grad();
        self.mc = Some(McDropout {
            model,
            device,
            samples,
            seed,
        });
        Ok(self)
    }

    /// Raw word confidences (the mean posterior of each word's letters), without the model's
    /// calibration.
    pub fn without_calibration(mut self) -> Self {
        self.calibration = None;
        self.min_confidence = None;
        self
    }

    /// Leave words whose confidence is below `min` out of offline transcripts (`None` or 0:
    /// keep every word), in place of the model's own threshold. Live partials and finals keep
    /// every word; with Monte Carlo dropout, whose confidences are agreement rates, no word is
    /// left out.
    pub fn with_min_confidence(mut self, min: Option<f32>) -> Self {
        self.min_confidence = min.filter(|&m| m > 0.0);
        self
    }

    /// The model as used for inference (no dropout, no autodiff).
    pub fn model(&self) -> &AcousticModel {
        &self.model
    }

    pub fn vocab(&self) -> &Vocab {
        &self.vocab
    }

    pub fn mfcc(&self) -> &Mfcc {
        &self.mfcc
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Whether the model can run as a stream carrying its state: unidirectional, with global
    /// (not per-utterance) feature normalisation.
    pub fn can_stream(&self) -> bool {
        !self.model.bidirectional && !self.mfcc.config().cmvn
    }

    /// Feature frames per model step.
    pub fn stack(&self) -> usize {
        self.model.stack
    }

    /// Seconds per model output frame.
    pub fn frame_seconds(&self) -> f64 {
        self.frame_seconds
    }

    /// Log-probabilities (`[frames × vocab]`) of `feats` — a whole number of `stack` frames —
    /// continuing a stream from `state`; returns the state after the last frame.
    pub fn stream_log_probs(
        &self,
        feats: &Features,
        state: Option<Vec<LayerState>>,
    ) -> (Vec<f32>, Vec<LayerState>) {
        let (logits, state) = self.model.forward_stream(self.stream_input(feats), state);
        (Self::log_probs_of(logits), state)
    }

    /// A streaming step ([`stream_log_probs`](Self::stream_log_probs)) that also gives the
    /// top layer's output, `[frames × top width]`.
    pub fn stream_step(
        &self,
        feats: &Features,
        state: Option<Vec<LayerState>>,
    ) -> (Vec<f32>, Vec<f32>, Vec<LayerState>) {
        let (hidden, state) = self
            .model
            .forward_stream_hidden(self.stream_input(feats), state);
        let lp = Self::log_probs_of(self.model.output_of(hidden.clone()));
        let hidden = hidden
            .into_data()
            .try_to_vec::<f32>()
            .expect("the model's hidden output is an f32 tensor");
        (lp, hidden, state)
    }

    /// One streamed chunk of features as the model's `[1, T, C]` input.
    fn stream_input(&self, feats: &Features) -> Tensor<3> {
        Tensor::<3>::from_data(
            TensorData::new(feats.data.clone(), [1, feats.num_frames, feats.dim]),
            &self.device,
        )
    }

    fn log_probs_of(logits: Tensor<3>) -> Vec<f32> {
        log_softmax(logits, 2)
            .into_data()
            .try_to_vec::<f32>()
            .expect("log_softmax of the model output is an f32 tensor")
    }

    /// The speech-activity head, when the model has one.
    pub fn speech_head(&self) -> Option<&SpeechHead> {
        self.speech_head.as_ref()
    }

    /// How likely the word LM finds a sentence to end after `words` (a probability), when
    /// the beam search has a word LM.
    pub fn sentence_end_prob(&self, words: &[Word]) -> Option<f64> {
        let lm = self.sentence_lm.as_ref()?;
        let words: Vec<&str> = words.iter().map(|w| w.word.as_str()).collect();
        Some(f64::from(lm.end_ln_prob(&words)).exp())
    }

    /// Replace the speech-activity head (e.g. while fitting one).
    pub fn with_speech_head(mut self, head: Option<SpeechHead>) -> Self {
        self.speech_head = head;
        self
    }

    /// Output frames in `seconds` of a pause setting (rounded up).
    pub fn frames_in(&self, seconds: f64) -> Result<usize> {
        if !(seconds.is_finite() && seconds >= 0.0) {
            return Err(Error::Config(format!(
                "a pause must be a finite number of seconds ≥ 0 (got {seconds})"
            )));
        }
        Ok((seconds / self.frame_seconds).ceil() as usize)
    }

    /// Decode log-probabilities (`[frames × vocab]`) of `duration_s` seconds of audio, the
    /// stretches between long pauses one at a time (see [`RecognizerConfig::split_pause_s`]).
    pub fn decode(&self, log_probs: &[f32], frames: usize, duration_s: f64) -> Transcript {
        let hyp = decode_split_at_pauses(
            self.decoder.as_ref(),
            LogProbs::new(log_probs, frames, self.vocab.size()),
            self.split_pause_frames,
            self.vocab.space(),
        );
        self.to_transcript(&hyp, duration_s)
    }

    /// [`decode`](Self::decode), and how many leading words of the transcript are settled:
    /// the decoder's [`Hypothesis::settled`] tokens hold each of them and the space after it,
    /// so more frames of the same stream will not change them.
    pub fn decode_settled(
        &self,
        log_probs: &[f32],
        frames: usize,
        duration_s: f64,
    ) -> (Transcript, usize) {
        let hyp = self
            .decoder
            .decode(LogProbs::new(log_probs, frames, self.vocab.size()));
        (
            self.to_transcript(&hyp, duration_s),
            self.settled_words(&hyp),
        )
    }

    /// The words of `hyp` that its settled tokens close with a space.
    fn settled_words(&self, hyp: &Hypothesis) -> usize {
        let space = self.vocab.space();
        let fixed = &hyp.tokens[..hyp.settled.min(hyp.tokens.len())];
        let Some(cut) = fixed.iter().rposition(|&t| t == space) else {
            return 0;
        };
        let head = Hypothesis {
            tokens: hyp.tokens[..cut].to_vec(),
            frames: hyp.frames[..cut].to_vec(),
            probs: hyp.probs[..cut].to_vec(),
            score: hyp.score,
            settled: cut,
        };
        self.to_transcript(&head, f64::INFINITY).words.len()
    }

    /// Recognise one waveform (16 kHz mono).
    pub fn transcribe(&self, wave: &Waveform) -> Transcript {
        self.transcribe_batch(std::slice::from_ref(wave))
            .pop()
            .expect("a batch of one waveform gives one transcript")
    }

    /// Recognise one waveform with the plain model (no Monte Carlo dropout), returning its
    /// per-frame log-probabilities (`[frames × vocab]`) beside the transcript.
    pub fn transcribe_scored(&self, wave: &Waveform) -> (Transcript, Vec<f32>) {
        let feats = self.mfcc.compute(wave);
        let (lp, frames) = self
            .log_probs(&[&feats])
            .pop()
            .expect("one input gives one output");
        let mut t = self.decode(&lp, frames, wave.duration_s());
        drop_inaudible_words(&mut t, wave);
        (t, lp)
    }

    /// Recognise several waveforms in one padded batch.
    pub fn transcribe_batch(&self, waves: &[Waveform]) -> Vec<Transcript> {
        let feats: Vec<Features> = waves.iter().map(|w| self.mfcc.compute(w)).collect();
        let refs: Vec<&Features> = feats.iter().collect();
        let durations: Vec<f64> = waves.iter().map(Waveform::duration_s).collect();
        self.transcribe_features(&refs, &durations)
            .into_iter()
            .zip(waves)
            .map(|(mut t, wave)| {
                drop_inaudible_words(&mut t, wave);
                if self.mc.is_none()
                    && let Some(min) = self.min_confidence
                {
                    drop_unsure_words(&mut t, min);
                }
                t
            })
            .collect()
    }

    /// Recognise feature matrices (normalised as `mfcc()` makes them) of utterances lasting
    /// `durations` seconds.
    pub fn transcribe_features(&self, feats: &[&Features], durations: &[f64]) -> Vec<Transcript> {
        match &self.mc {
            None => self
                .log_probs(feats)
                .into_iter()
                .zip(durations)
                .map(|((lp, frames), &d)| self.decode(&lp, frames, d))
                .collect(),
            Some(mc) => self.mc_transcripts(mc, feats, durations),
        }
    }

    fn mc_transcripts(
        &self,
        mc: &McDropout,
        feats: &[&Features],
        durations: &[f64],
    ) -> Vec<Transcript> {
        mc.device.seed(mc.seed);
        let draws: Vec<Vec<(Vec<f32>, usize)>> = (0..mc.samples)
            .map(|_| run_model(&mc.model, &mc.device, self.vocab.size(), feats))
            .collect();
        (0..feats.len())
            .map(|i| {
                let frames = draws[0][i].1;
                let mut mean = vec![0.0f32; draws[0][i].0.len()];
                for draw in &draws {
                    for (m, lp) in mean.iter_mut().zip(&draw[i].0) {
                        *m += lp.exp();
                    }
                }
                let n = mc.samples as f32;
                for m in &mut mean {
                    *m = (*m / n).max(f32::MIN_POSITIVE).ln();
                }
                let mut t = self.decode(&mean, frames, durations[i]);
                let sampled: Vec<Vec<Word>> = draws
                    .iter()
                    .map(|draw| {
                        let lp = LogProbs::new(&draw[i].0, frames, self.vocab.size());
                        self.to_transcript(&Greedy.decode(lp), durations[i]).words
                    })
                    .collect();
                for w in &mut t.words {
                    w.confidence = agreement(w, &sampled);
                }
                t
            })
            .collect()
    }

    /// Per-frame log-probabilities for each utterance: `(data [frames × vocab], frames)`.
    pub fn log_probs(&self, feats: &[&Features]) -> Vec<(Vec<f32>, usize)> {
        run_model(&self.model, &self.device, self.vocab.size(), feats)
    }

    /// Turn a hypothesis into words with times and confidences.
    pub fn to_transcript(&self, hyp: &Hypothesis, duration_s: f64) -> Transcript {
        let space = self.vocab.space();
        let mut words = Vec::new();
        let mut current: Vec<usize> = Vec::new();
        let flush = |current: &mut Vec<usize>, words: &mut Vec<Word>| {
            if current.is_empty() {
                return;
            }
            let ids: Vec<u32> = current.iter().map(|&k| hyp.tokens[k]).collect();
            let first = current[0];
            let last = current[current.len() - 1];
            let raw = current.iter().map(|&k| hyp.probs[k]).sum::<f32>() / current.len() as f32;
            let confidence = self.calibration.map_or(raw, |c| c.apply(raw));
            words.push(Word {
                word: self.vocab.decode(&ids),
                start: hyp.frames[first] as f64 * self.frame_seconds,
                end: ((hyp.frames[last] + 1) as f64 * self.frame_seconds).min(duration_s),
                confidence,
            });
            current.clear();
        };
        // CTC emits no space across a pause (only blanks), so a long silence between two
        // letters also ends a word, unless a grammar chose the words.
        let max_gap = (MAX_PAUSE_IN_WORD_S / self.frame_seconds).ceil() as usize;
        for (k, &tok) in hyp.tokens.iter().enumerate() {
            let paused = self.pause_splits_words
                && current
                    .last()
                    .is_some_and(|&j| hyp.frames[k].saturating_sub(hyp.frames[j]) > max_gap);
            if tok == space || paused {
                flush(&mut current, &mut words);
            }
            if tok != space {
                current.push(k);
            }
        }
        flush(&mut current, &mut words);
        let text = text_of(&words);
        Transcript {
            text,
            duration_s,
            words,
        }
    }
}

/// Per-frame log-probabilities of `model` on `device` for each utterance:
/// `(data [frames × vocab], frames)`.
fn run_model(
    model: &AcousticModel,
    device: &Device,
    vocab: usize,
    feats: &[&Features],
) -> Vec<(Vec<f32>, usize)> {
    let mut out: Vec<(Vec<f32>, usize)> = vec![(Vec::new(), 0); feats.len()];
    let live: Vec<usize> = (0..feats.len())
        .filter(|&i| feats[i].num_frames > 0)
        .collect();
    if live.is_empty() {
        return out;
    }
    let dim = feats[live[0]].dim;
    let max_t = live.iter().map(|&i| feats[i].num_frames).max().unwrap_or(0);
    let mut data = vec![0.0f32; live.len() * max_t * dim];
    let mut lengths = Vec::with_capacity(live.len());
    for (b, &i) in live.iter().enumerate() {
        let f = feats[i];
        data[b * max_t * dim..b * max_t * dim + f.data.len()].copy_from_slice(&f.data);
        lengths.push(f.num_frames);
    }
    let x = Tensor::<3>::from_data(TensorData::new(data, [live.len(), max_t, dim]), device);
    let logits = model.forward(x, &lengths); // [B, T', V]
    let [_, t_out, _] = logits.dims();
    let lp = log_softmax(logits, 2)
        .into_data()
        .try_to_vec::<f32>()
        .expect("log_softmax of the model output is an f32 tensor");
    let out_lengths = model.output_lengths(&lengths);
    for (b, &i) in live.iter().enumerate() {
        let frames = out_lengths[b];
        let start = b * t_out * vocab;
        out[i] = (lp[start..start + frames * vocab].to_vec(), frames);
    }
    out
}

/// The fraction of `samples` (each a list of words) holding a word with the same spelling
/// as `word` that overlaps it in time.
fn agreement(word: &Word, samples: &[Vec<Word>]) -> f32 {
    if samples.is_empty() {
        return word.confidence;
    }
    let agreeing = samples
        .iter()
        .filter(|s| {
            s.iter()
                .any(|v| v.word == word.word && v.start < word.end && word.start < v.end)
        })
        .count();
    agreeing as f32 / samples.len() as f32
}

/// Remove words during which nothing was audible (every 10 ms frame below −60 dBFS, within
/// 30 ms of the word): per-utterance normalisation blows near-silence up into patterns the
/// model reads words into. In any real noise every frame is audible and nothing is removed.
fn drop_inaudible_words(t: &mut Transcript, wave: &Waveform) {
    let before = t.words.len();
    t.words
        .retain(|w| crate::audio::audible(wave.samples(), w.start - 0.03, w.end + 0.03));
    if t.words.len() != before {
        t.text = text_of(&t.words);
    }
}

/// Leave out the words whose confidence is below `min`: where the model is that unsure, a word
/// is more often an insertion than a word heard right (the threshold is chosen on dev by
/// `hark tune`, which drops a word only where that lowers the errors).
pub fn drop_unsure_words(t: &mut Transcript, min: f32) {
    let before = t.words.len();
    t.words.retain(|w| w.confidence >= min);
    if t.words.len() != before {
        t.text = text_of(&t.words);
    }
}

/// The words joined by single spaces.
pub fn text_of(words: &[Word]) -> String {
    words
        .iter()
        .map(|w| w.word.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Words below the threshold leave the text as well as the word list; a word at it stays.
    #[test]
    fn unsure_words_leave_the_transcript() {
        let word = |w: &str, confidence: f32| Word {
            word: w.into(),
            start: 0.0,
            end: 0.1,
            confidence,
        };
        let mut t = Transcript {
            text: "a cat dog sat".into(),
            duration_s: 1.0,
            words: vec![
                word("a", 0.9),
                word("cat", 0.2),
                word("dog", 0.1),
                word("sat", 0.6),
            ],
        };
        drop_unsure_words(&mut t, 0.2);
        assert_eq!(t.text, "a cat sat");
        assert_eq!(t.words.len(), 3);
        drop_unsure_words(&mut t, 0.0);
        assert_eq!(t.text, "a cat sat");
    }

    #[test]
    fn pauses_split_the_search_only_with_language_models_and_no_grammar() {
        if !crate::model_dir::BuiltIn::Default.is_embedded() {
            return;
        }
        let device = crate::backend::DeviceSpec::Cpu.device().unwrap();
        let load = || {
            crate::model_dir::ModelSource::BUILT_IN
                .load(&device)
                .unwrap()
        };
        let with_lms =
            Recognizer::new(load(), device.clone(), &RecognizerConfig::default()).unwrap();
        // The built-in model's output frames are 30 ms: a 0.3 s pause is 10 of them.
        assert!((with_lms.frame_seconds - 0.03).abs() < 1e-9);
        assert_eq!(with_lms.split_pause_frames, 10);
        let whole = RecognizerConfig {
            split_pause_s: 0.0,
            ..RecognizerConfig::default()
        };
        let off = Recognizer::new(load(), device.clone(), &whole).unwrap();
        assert_eq!(off.split_pause_frames, 0);
        let greedy =
            Recognizer::new(load(), device.clone(), &RecognizerConfig::with_beam(1)).unwrap();
        assert_eq!(greedy.split_pause_frames, 0);
        let mut loaded = load();
        loaded.guides.grammar = Some(std::sync::Arc::new(
            crate::lm::guide::Grammar::parse("one\ntwo").unwrap(),
        ));
        let guided = Recognizer::new(loaded, device.clone(), &RecognizerConfig::default()).unwrap();
        assert_eq!(guided.split_pause_frames, 0);
        let negative = RecognizerConfig {
            split_pause_s: -1.0,
            ..RecognizerConfig::default()
        };
        assert!(Recognizer::new(load(), device, &negative).is_err());
    }

    /// "one" with its "e" a second after its "n": a long pause splits it into "on" and "e",
    /// except under a grammar, whose search spelled "one" as one word.
    #[test]
    fn a_pause_splits_a_word_except_under_a_grammar() {
        let Some(plain) = crate::test_support::builtin_recognizer() else {
            return;
        };
        let vocab = Vocab::english();
        let hyp = Hypothesis {
            tokens: vocab.encode("one"),
            frames: vec![0, 1, 40],
            probs: vec![0.9; 3],
            score: 0.0,
            settled: 3,
        };
        let words = |t: Transcript| t.words.into_iter().map(|w| w.word).collect::<Vec<_>>();
        assert_eq!(words(plain.to_transcript(&hyp, 2.0)), ["on", "e"]);
        let device = crate::backend::DeviceSpec::Cpu.device().unwrap();
        let mut loaded = crate::model_dir::ModelSource::BUILT_IN
            .load(&device)
            .unwrap();
        loaded.guides.grammar = Some(std::sync::Arc::new(
            crate::lm::guide::Grammar::parse("one\ntwo").unwrap(),
        ));
        let guided = Recognizer::new(loaded, device, &RecognizerConfig::with_beam(4)).unwrap();
        assert_eq!(words(guided.to_transcript(&hyp, 2.0)), ["one"]);
    }
}
