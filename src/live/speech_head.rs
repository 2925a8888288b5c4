//! A speech-activity head for streaming models: logistic regression over the top recurrent
//! layer's output and three level features ([`LevelTrack`]: how far the signal stands above the
//! recent noise floor), optionally through one small tanh layer first ([`HiddenLayer`]), giving
//! P(speech) for each model frame.
//!
//! The energy detector cannot tell speech from babble or music at 10 dB, and the CTC posteriors
//! slip there too: the model reads a stray letter into the background now and then, and each
//! one restarts a fixed blank-count rule. The recurrent state knows more than the letters it
//! emits — whether a voice in front of the background is talking — so a linear read-out of it,
//! fitted on real utterances laid in gaps of noise ([`TrainingStream`]), marks where speech ends.
//! [`crate::live::LiveRecognizer`] ends an utterance once the head's causal moving average has
//! stayed below its threshold for `EndpointConfig::head_silence_s`, or else the head's own
//! `end_s`.
//!
//! The head is stored in the model's `config.json` (`speech_head`) and fitted by
//! `hark speech-head`.

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::audio::SAMPLE_RATE;
use crate::augment::{self, Rng};
use crate::error::{Error, Result};
use crate::noise::Noise;
use crate::recognizer::Recognizer;

/// Logistic regression over the top layer's output, with the smoothing and threshold the
/// endpointer applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeechHead {
    /// One weight per unit of the top recurrent layer's output, then one per level feature
    /// ([`LEVEL_FEATURES`]).
    pub weights: Vec<f32>,
    pub bias: f32,
    /// Frames of the causal moving average of P(speech) that the threshold is applied to.
    pub window: usize,
    /// A frame is non-speech when the moving average is below this.
    pub threshold: f32,
    /// Seconds of non-speech that end an utterance, chosen with this head (`None`: the
    /// endpointer's default, [`DEFAULT_END_S`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_s: Option<f64>,
    /// Where it was fitted, with its held-out frame accuracy (free-form).
    #[serde(default)]
    pub source: String,
    /// A tanh layer between the inputs and the logistic read-out; `weights` then has one
    /// weight per unit of this layer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden_layer: Option<HiddenLayer>,
}

/// The optional tanh layer of a [`SpeechHead`]: `units` rows of input weights, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HiddenLayer {
    /// `[units × inputs]`.
    pub weights: Vec<f32>,
    /// One per unit.
    pub bias: Vec<f32>,
}

impl HiddenLayer {
    fn units(&self) -> usize {
        self.bias.len()
    }

    /// The layer's output for one input row, into `out` (`units` long).
    fn apply(&self, row: &[f32], out: &mut [f32]) {
        for ((o, w), b) in out
            .iter_mut()
            .zip(self.weights.chunks_exact(row.len().max(1)))
            .zip(&self.bias)
        {
            *o = (dot(w, row) + b).tanh();
        }
    }
}

/// Seconds of non-speech that end an utterance for a head that records none.
pub const DEFAULT_END_S: f64 = 0.3;

/// Whether `end_s` is a usable end time for a head: none, or a positive number of seconds.
pub fn valid_end_s(end_s: Option<f64>) -> bool {
    end_s.is_none_or(|e| e.is_finite() && e > 0.0)
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

impl SpeechHead {
    /// Check the head against the width of the model's top layer output.
    pub fn validate(&self, hidden_dim: usize) -> Result<()> {
        let inputs = hidden_dim + LEVEL_FEATURES;
        if let Some(layer) = &self.hidden_layer
            && (layer.units() == 0
                || layer.weights.len() != layer.units() * inputs
                || self.weights.len() != layer.units()
                || !layer
                    .weights
                    .iter()
                    .chain(&layer.bias)
                    .all(|w| w.is_finite()))
        {
            return Err(Error::Config(format!(
                "the speech head's hidden layer does not fit: {} units, {} input weights for {inputs} inputs, {} read-out weights, or a non-finite weight",
                layer.units(),
                layer.weights.len(),
                self.weights.len()
            )));
        }
        if self.hidden_layer.is_none() && self.weights.len() != inputs {
            return Err(Error::Config(format!(
                "the speech head has {} weights but the model's top layer has {hidden_dim} outputs (plus {LEVEL_FEATURES} level features)",
                self.weights.len()
            )));
        }
        if !self
            .weights
            .iter()
            .chain([&self.bias])
            .all(|w| w.is_finite())
            || !(0.0..=1.0).contains(&self.threshold)
            || self.window == 0
            || !valid_end_s(self.end_s)
        {
            return Err(Error::Config(
                "the speech head has a non-finite weight, a threshold outside 0..1, no window or an end time that is not a positive number of seconds"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Seconds of non-speech that end an utterance with this head.
    pub fn end_seconds(&self) -> f64 {
        self.end_s.unwrap_or(DEFAULT_END_S)
    }

    /// Inputs per frame: the top layer's width plus the level features.
    fn input_width(&self) -> usize {
        match &self.hidden_layer {
            Some(layer) => layer.weights.len() / layer.units().max(1),
            None => self.weights.len(),
        }
    }

    /// P(speech) of each frame of `inputs` (`[frames × (width + LEVEL_FEATURES)]`, see
    /// [`head_inputs`]).
    pub fn probs(&self, inputs: &[f32]) -> Vec<f32> {
        let rows = inputs.chunks_exact(self.input_width().max(1));
        match &self.hidden_layer {
            None => rows
                .map(|h| sigmoid(dot(&self.weights, h) + self.bias))
                .collect(),
            Some(layer) => {
                let mut units = vec![0.0f32; layer.units()];
                rows.map(|h| {
                    layer.apply(h, &mut units);
                    sigmoid(dot(&self.weights, &units) + self.bias)
                })
                .collect()
            }
        }
    }

    /// The causal moving average at frame `i` of `probs`: the mean of the `window` frames
    /// ending there (fewer at the start).
    fn average_at(&self, probs: &[f32], i: usize) -> f32 {
        let from = (i + 1).saturating_sub(self.window);
        let sum: f64 = probs[from..=i].iter().map(|&p| p as f64).sum();
        (sum / (i + 1 - from) as f64) as f32
    }

    /// Causal moving average of `probs` over `window` frames (fewer at the start).
    pub fn smooth(&self, probs: &[f32]) -> Vec<f32> {
        (0..probs.len())
            .map(|i| self.average_at(probs, i))
            .collect()
    }

    /// Frames at the end of `probs` whose moving average is below the threshold; only those
    /// frames (and one more) are averaged, as the live endpointer asks at every block.
    pub fn trailing_non_speech(&self, probs: &[f32]) -> usize {
        (0..probs.len())
            .rev()
            .take_while(|&i| self.average_at(probs, i) < self.threshold)
            .count()
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Level features per frame: the frame's level, its 300 ms average and the recent peak of
/// that average, each in tens of dB above the recent floor.
pub const LEVEL_FEATURES: usize = 3;

/// Samples per level frame (10 ms at 16 kHz), as the feature frames.
const LEVEL_FRAME: usize = SAMPLE_RATE as usize / 100;

/// Level frames of history for the floor and the peak (3 s).
const LEVEL_HISTORY: usize = 300;

/// Tracks how far the signal stands above its recent floor, 10 ms at a time: what tells a
/// voice in front of babble from the babble when both sound like speech. The floor is the
/// lowest 300 ms average of the last 3 s (minimum statistics), so it rests on the gaps and
/// pauses between words.
#[derive(Debug, Clone, Default)]
pub struct LevelTrack {
    pending: Vec<f32>,
    average_db: Option<f64>,
    history: std::collections::VecDeque<f64>,
    /// Features of the recent complete frames, `[frames × LEVEL_FEATURES]`, from frame `dropped`
    /// of the stream on (older ones are dropped so a long stream keeps flat memory).
    features: Vec<f32>,
    dropped: usize,
}

/// Level frames kept for the model to catch up on (10 s; it lags by a few frames).
const LEVEL_KEEP: usize = 1000;

impl LevelTrack {
    /// Consume 16 kHz samples.
    pub fn push(&mut self, samples: &[f32]) {
        self.pending.extend_from_slice(samples);
        let whole = self.pending.len() / LEVEL_FRAME * LEVEL_FRAME;
        let frames: Vec<f32> = self.pending.drain(..whole).collect();
        for frame in frames.chunks_exact(LEVEL_FRAME) {
            let db = 20.0 * (crate::audio::rms(frame) as f64).max(1e-6).log10();
            // 300 ms time constant at 10 ms frames.
            let average = self.average_db.map_or(db, |a| a + (db - a) / 30.0);
            self.average_db = Some(average);
            if self.history.len() == LEVEL_HISTORY {
                self.history.pop_front();
            }
            self.history.push_back(average);
            let floor = self.history.iter().cloned().fold(f64::INFINITY, f64::min);
            let peak = self
                .history
                .iter()
                .cloned()
                .fold(f64::NEG_INFINITY, f64::max);
            for v in [db - floor, average - floor, peak - floor] {
                self.features.push((v / 10.0) as f32);
            }
        }
        let kept = self.features.len() / LEVEL_FEATURES;
        if kept > 2 * LEVEL_KEEP {
            self.features.drain(..(kept - LEVEL_KEEP) * LEVEL_FEATURES);
            self.dropped += kept - LEVEL_KEEP;
        }
    }

    /// Complete level frames so far.
    pub fn frames(&self) -> usize {
        self.dropped + self.features.len() / LEVEL_FEATURES
    }

    /// The mean features of level frames `first..first + count` (the frames a model step
    /// covers); frames not yet complete repeat the last one (zeros before any), frames already
    /// dropped the oldest kept one.
    pub fn span(&self, first: usize, count: usize) -> [f32; LEVEL_FEATURES] {
        let mut out = [0.0f32; LEVEL_FEATURES];
        let last = self.frames().checked_sub(1);
        for k in first..first + count.max(1) {
            let Some(k) = last.map(|l| k.min(l).max(self.dropped) - self.dropped) else {
                break;
            };
            let f = &self.features[k * LEVEL_FEATURES..(k + 1) * LEVEL_FEATURES];
            for (o, v) in out.iter_mut().zip(f) {
                *o += v / count.max(1) as f32;
            }
        }
        out
    }
}

/// The head's inputs: each row of `hidden` (`[frames × width]`, model frames `first..`, counted
/// from the start of `levels`' stream, each covering `stack` level frames) followed by its
/// level features.
pub fn head_inputs(
    hidden: &[f32],
    width: usize,
    levels: &LevelTrack,
    first: usize,
    stack: usize,
) -> Vec<f32> {
    let mut out = Vec::with_capacity(hidden.len() / width.max(1) * (width + LEVEL_FEATURES));
    for (i, row) in hidden.chunks_exact(width.max(1)).enumerate() {
        out.extend_from_slice(row);
        out.extend(levels.span((first + i) * stack, stack));
    }
    out
}

/// How [`fit`] runs.
#[derive(Debug, Clone)]
pub struct FitConfig {
    /// Full-batch Adam steps.
    pub steps: usize,
    pub learning_rate: f32,
    /// L2 penalty on the weights.
    pub l2: f32,
    /// Frames per Adam step of [`fit_hidden`] ([`fit`] always takes all of them).
    pub batch: usize,
}

impl Default for FitConfig {
    fn default() -> Self {
        Self {
            steps: 400,
            learning_rate: 0.05,
            l2: 1e-4,
            batch: 1024,
        }
    }
}

/// Fit logistic-regression weights and bias to frames `x` (`[labels.len() × dim]`): full-batch
/// Adam on the class-balanced mean log loss plus `l2`. Both classes must be present.
pub fn fit(x: &[f32], dim: usize, labels: &[bool], cfg: &FitConfig) -> Result<(Vec<f32>, f32)> {
    let weights = ClassWeights::of(x, dim, labels)?;
    let mut params = vec![0.0f32; dim + 1];
    let mut adam = Adam::new(params.len(), cfg.learning_rate);
    let mut grad = vec![0.0f32; dim + 1];
    for _ in 0..cfg.steps {
        grad.fill(0.0);
        for (row, &label) in x.chunks_exact(dim).zip(labels) {
            let p = sigmoid(dot(&params[..dim], row) + params[dim]);
            let g = (p - if label { 1.0 } else { 0.0 }) * weights.of_label(label);
            for (gi, xi) in grad.iter_mut().zip(row) {
                *gi += g * xi;
            }
            grad[dim] += g;
        }
        for (gi, wi) in grad.iter_mut().zip(&params).take(dim) {
            *gi += cfg.l2 * wi;
        }
        adam.update(&mut params, &grad);
    }
    let bias = params.pop().unwrap_or(0.0);
    Ok((params, bias))
}

/// Loss weights that make each class weigh half of the mean log loss.
struct ClassWeights {
    speech: f32,
    non_speech: f32,
}

impl ClassWeights {
    /// Check that `x` holds `labels.len()` frames of `dim` values and that both classes are
    /// present, and weigh them.
    fn of(x: &[f32], dim: usize, labels: &[bool]) -> Result<Self> {
        let n = labels.len();
        if dim == 0 || x.len() != n * dim {
            return Err(Error::Data(format!(
                "{} values are not {n} frames of {dim}",
                x.len()
            )));
        }
        let positives = labels.iter().filter(|&&l| l).count();
        if positives == 0 || positives == n {
            return Err(Error::Data(
                "the speech head needs frames of both speech and non-speech".into(),
            ));
        }
        Ok(Self {
            speech: 0.5 / positives as f32,
            non_speech: 0.5 / (n - positives) as f32,
        })
    }

    fn of_label(&self, speech: bool) -> f32 {
        if speech { self.speech } else { self.non_speech }
    }
}

/// Adam (β 0.9 / 0.999, ε 1e-8) over a flat parameter vector.
struct Adam {
    m: Vec<f32>,
    v: Vec<f32>,
    step: i32,
    learning_rate: f32,
}

impl Adam {
    fn new(len: usize, learning_rate: f32) -> Self {
        Self {
            m: vec![0.0; len],
            v: vec![0.0; len],
            step: 0,
            learning_rate,
        }
    }

    /// One bias-corrected step of `params` along `grad`.
    fn update(&mut self, params: &mut [f32], grad: &[f32]) {
        let (b1, b2, eps) = (0.9f32, 0.999f32, 1e-8f32);
        self.step += 1;
        let (c1, c2) = (1.0 - b1.powi(self.step), 1.0 - b2.powi(self.step));
        for (((p, g), m), v) in params
            .iter_mut()
            .zip(grad)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            *m = b1 * *m + (1.0 - b1) * g;
            *v = b2 * *v + (1.0 - b2) * g * g;
            *p -= self.learning_rate * (*m / c1) / ((*v / c2).sqrt() + eps);
        }
    }
}

/// Fit a head with a tanh layer of `units` units to frames `x` (`[labels.len() × dim]`):
/// mini-batch Adam (`cfg.steps` batches of `cfg.batch` frames, drawn in a seeded random order)
/// on the class-balanced mean log loss plus `cfg.l2`, from a seeded random start. Returns the
/// layer and the read-out's weights and bias.
pub fn fit_hidden(
    x: &[f32],
    dim: usize,
    labels: &[bool],
    units: usize,
    cfg: &FitConfig,
    rng: &mut Rng,
) -> Result<(HiddenLayer, Vec<f32>, f32)> {
    if units == 0 {
        return Err(Error::Data("a hidden layer needs at least one unit".into()));
    }
    let weights = ClassWeights::of(x, dim, labels)?;
    let n = labels.len();
    let batch = cfg.batch.clamp(1, n);
    // A batch's gradient is scaled to the whole set's.
    let scale = n as f32 / batch as f32;
    // Parameters, flat: layer weights [units × dim], layer biases, read-out weights, bias.
    let (w1, b1, w2) = (0, units * dim, units * dim + units);
    let b2 = w2 + units;
    let mut params = vec![0.0f32; b2 + 1];
    let spread = 1.0 / (dim as f32).sqrt();
    for p in &mut params[w1..b1] {
        *p = augment::gaussian(rng) * spread;
    }
    for p in &mut params[w2..b2] {
        *p = augment::gaussian(rng) / (units as f32).sqrt();
    }
    let mut adam = Adam::new(params.len(), cfg.learning_rate);
    let mut grad = vec![0.0f32; params.len()];
    let mut order: Vec<usize> = (0..n).collect();
    let mut next = n;
    let (mut h, mut dh) = (vec![0.0f32; units], vec![0.0f32; units]);
    for _ in 0..cfg.steps {
        grad.fill(0.0);
        for _ in 0..batch {
            if next == n {
                order.shuffle(rng);
                next = 0;
            }
            let i = order[next];
            next += 1;
            let row = &x[i * dim..(i + 1) * dim];
            for (u, hu) in h.iter_mut().enumerate() {
                *hu = (dot(&params[w1 + u * dim..w1 + (u + 1) * dim], row) + params[b1 + u]).tanh();
            }
            let p = sigmoid(dot(&params[w2..b2], &h) + params[b2]);
            let g = (p - if labels[i] { 1.0 } else { 0.0 }) * (scale * weights.of_label(labels[i]));
            for u in 0..units {
                grad[w2 + u] += g * h[u];
                dh[u] = g * params[w2 + u] * (1.0 - h[u] * h[u]);
                grad[b1 + u] += dh[u];
                for (gi, xi) in grad[w1 + u * dim..w1 + (u + 1) * dim].iter_mut().zip(row) {
                    *gi += dh[u] * xi;
                }
            }
            grad[b2] += g;
        }
        for k in (w1..b1).chain(w2..b2) {
            grad[k] += cfg.l2 * params[k];
        }
        adam.update(&mut params, &grad);
    }
    let layer = HiddenLayer {
        weights: params[w1..b1].to_vec(),
        bias: params[b1..w2].to_vec(),
    };
    Ok((layer, params[w2..b2].to_vec(), params[b2]))
}

/// One utterance laid between two gaps of silence, with noise over all of it: what the head
/// learns from. `speech` is the sample range where the utterance is talking (its own leading and
/// trailing silence excluded).
#[derive(Debug, Clone)]
pub struct TrainingStream {
    pub samples: Vec<f32>,
    pub speech: std::ops::Range<usize>,
}

/// Where `clip` is talking: from the first to the last 10 ms frame within 35 dB of its loudest
/// frame; `None` for a silent clip.
pub fn speech_extent(clip: &[f32]) -> Option<std::ops::Range<usize>> {
    const FRAME: usize = 160;
    let energies: Vec<f64> = clip
        .chunks(FRAME)
        .map(|f| f.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / f.len() as f64)
        .collect();
    let peak = energies.iter().cloned().fold(0.0, f64::max);
    if peak <= 0.0 {
        return None;
    }
    let loud = |e: &&f64| **e >= peak * 10f64.powf(-3.5);
    let first = energies.iter().position(|e| loud(&e))?;
    let last = energies.iter().rposition(|e| loud(&e))?;
    Some(first * FRAME..((last + 1) * FRAME).min(clip.len()))
}

/// Lay `clip` (16 kHz) between `before` and `after` samples of silence and mix `noise` over
/// the whole at `snr_db` (measured on the active speech); no noise when `noise` is `None`.
pub fn training_stream(
    clip: &[f32],
    before: usize,
    after: usize,
    noise: Option<(&Noise, f32)>,
    rng: &mut Rng,
) -> Option<TrainingStream> {
    let extent = speech_extent(clip)?;
    let mut samples = vec![0.0f32; before];
    samples.extend_from_slice(clip);
    samples.resize(before + clip.len() + after, 0.0);
    if let Some((noise, snr_db)) = noise {
        // The SNR is the clip's (its active speech), not diluted by the gaps.
        let segment = noise.segment(samples.len(), rng);
        samples = augment::add_at_snr(&samples, &segment, augment::active_speech_rms(clip), snr_db);
    }
    Some(TrainingStream {
        samples,
        speech: before + extent.start..before + extent.end,
    })
}

/// The label of each of `frames` model frames of `frame_samples` samples: speech when the
/// frame's centre lies in `speech`.
pub fn frame_labels(
    frames: usize,
    frame_samples: usize,
    speech: &std::ops::Range<usize>,
) -> Vec<bool> {
    (0..frames)
        .map(|t| speech.contains(&(t * frame_samples + frame_samples / 2)))
        .collect()
}

/// The head's inputs (`[frames × (width + LEVEL_FEATURES)]`) for each model frame of `stream`,
/// the model run from a fresh state as a live utterance starts, and each frame's label.
pub fn frames_of(rec: &Recognizer, stream: &TrainingStream) -> (Vec<f32>, Vec<bool>) {
    let mut feats = rec.mfcc().compute_samples(&stream.samples);
    let stack = rec.stack();
    let short = (stack - feats.num_frames % stack) % stack;
    feats
        .data
        .extend(std::iter::repeat_n(0.0, short * feats.dim));
    feats.num_frames += short;
    if feats.num_frames == 0 {
        return (Vec::new(), Vec::new());
    }
    let (_, hidden, _) = rec.stream_step(&feats, None);
    let frames = feats.num_frames / stack;
    let mut levels = LevelTrack::default();
    levels.push(&stream.samples);
    let inputs = head_inputs(&hidden, hidden.len() / frames, &levels, 0, stack);
    let frame_samples = (rec.frame_seconds() * SAMPLE_RATE as f64).round() as usize;
    (inputs, frame_labels(frames, frame_samples, &stream.speech))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_separates_a_separable_problem_and_needs_both_classes() {
        // Speech frames have a positive first unit, non-speech a negative one; the second unit
        // is noise. The fitted head must lean on the first.
        let mut rng = augment::rng(3);
        let mut x = Vec::new();
        let mut labels = Vec::new();
        for i in 0..400 {
            let speech = i % 3 == 0;
            let sign = if speech { 1.0 } else { -1.0 };
            x.push(sign * (0.5 + 0.1 * augment::gaussian(&mut rng).abs()));
            x.push(augment::gaussian(&mut rng));
            labels.push(speech);
        }
        let (w, b) = fit(&x, 2, &labels, &FitConfig::default()).unwrap();
        assert!(w[0] > 1.0 && w[0].abs() > 5.0 * w[1].abs(), "{w:?}");
        let head = SpeechHead {
            weights: w,
            bias: b,
            window: 1,
            threshold: 0.5,
            end_s: None,
            source: String::new(),
            hidden_layer: None,
        };
        let correct = head
            .probs(&x)
            .iter()
            .zip(&labels)
            .filter(|&(&p, &l)| (p >= 0.5) == l)
            .count();
        assert_eq!(correct, labels.len());
        let e = fit(&x, 2, &vec![true; 400], &FitConfig::default()).unwrap_err();
        assert!(e.to_string().contains("both"), "{e}");
        assert!(fit(&x, 3, &labels, &FitConfig::default()).is_err());
    }

    /// Speech when the two units have the same sign (XOR of signs; the level features are zero):
    /// no line separates it, so logistic regression stays near chance while one small tanh
    /// layer learns it.
    #[test]
    fn a_hidden_layer_learns_what_a_line_cannot_separate() {
        let mut rng = augment::rng(5);
        let (mut x, mut labels) = (Vec::new(), Vec::new());
        for _ in 0..2000 {
            let (a, b) = (augment::gaussian(&mut rng), augment::gaussian(&mut rng));
            x.extend([a, b]);
            x.extend([0.0; LEVEL_FEATURES]);
            labels.push(a * b > 0.0);
        }
        let accuracy = |head: &SpeechHead| {
            let right = head
                .probs(&x)
                .iter()
                .zip(&labels)
                .filter(|&(&p, &l)| (p >= 0.5) == l)
                .count();
            right as f64 / labels.len() as f64
        };
        let plain = |weights, bias, hidden_layer| SpeechHead {
            weights,
            bias,
            window: 1,
            threshold: 0.5,
            end_s: None,
            source: String::new(),
            hidden_layer,
        };
        let dim = 2 + LEVEL_FEATURES;
        let (w, b) = fit(&x, dim, &labels, &FitConfig::default()).unwrap();
        let linear = accuracy(&plain(w, b, None));
        let cfg = FitConfig {
            steps: 1500,
            learning_rate: 0.01,
            batch: 256,
            ..FitConfig::default()
        };
        let (layer, w, b) = fit_hidden(&x, dim, &labels, 8, &cfg, &mut augment::rng(1)).unwrap();
        let head = plain(w, b, Some(layer));
        head.validate(2).unwrap_or_else(|e| panic!("{e}"));
        let hidden = accuracy(&head);
        assert!(linear < 0.65, "a line got {linear}");
        assert!(hidden > 0.95, "the hidden layer got {hidden}");
        // The head survives config.json, and a head without a layer writes no `hidden_layer`.
        let json = serde_json::to_string(&head).unwrap();
        let back: SpeechHead = serde_json::from_str(&json).unwrap();
        assert_eq!(back, head);
        let old = serde_json::to_string(&plain(vec![1.0, 2.0], 0.0, None)).unwrap();
        assert!(!old.contains("hidden_layer"), "{old}");
        // Shapes are checked: the read-out must have one weight per unit.
        let mut bad = head.clone();
        bad.weights.pop();
        assert!(bad.validate(2).is_err());
        assert!(head.validate(3).is_err(), "a model of another width");
        assert!(fit_hidden(&x, dim, &labels, 0, &cfg, &mut rng).is_err());
    }

    #[test]
    fn smoothing_is_causal_and_trailing_non_speech_counts_from_the_end() {
        let head = SpeechHead {
            weights: vec![1.0],
            bias: 0.0,
            window: 2,
            threshold: 0.5,
            end_s: None,
            source: String::new(),
            hidden_layer: None,
        };
        // Means over the last two frames: 1, 0.95, 0.5, 0.05, 0.1, 0.1.
        let probs = [1.0, 0.9, 0.1, 0.0, 0.2, 0.0];
        let smooth = head.smooth(&probs);
        let expected = [1.0, 0.95, 0.5, 0.05, 0.1, 0.1];
        for (s, e) in smooth.iter().zip(expected) {
            assert!((s - e).abs() < 1e-6, "{smooth:?}");
        }
        // 0.5 is not below the threshold: three trailing frames.
        assert_eq!(head.trailing_non_speech(&probs), 3);
        assert_eq!(head.trailing_non_speech(&[]), 0);
    }

    #[test]
    fn a_stream_labels_the_talking_part_of_its_clip() {
        // A clip of 0.1 s silence, 0.2 s tone, 0.1 s silence between 0.5 s and 1 s gaps.
        let mut clip = vec![0.0f32; 1600];
        clip.extend((0..3200).map(|i| 0.3 * (i as f32 * 0.2).sin()));
        clip.extend(vec![0.0f32; 1600]);
        let mut rng = augment::rng(1);
        let noise = Noise::Generated(augment::NoiseColor::White);
        let s = training_stream(&clip, 8000, 16000, Some((&noise, 10.0)), &mut rng).unwrap();
        assert_eq!(s.samples.len(), 8000 + 6400 + 16000);
        assert_eq!(s.speech, 9600..12800);
        assert!(
            s.samples[..8000].iter().any(|&v| v != 0.0),
            "noise in the gap"
        );
        let labels = frame_labels(s.samples.len() / 480, 480, &s.speech);
        let speech: Vec<usize> = (0..labels.len()).filter(|&t| labels[t]).collect();
        // Frames 20..=26 have centres 9840..12720, inside 9600..12800.
        assert_eq!(speech, (20..=26).collect::<Vec<_>>());
        assert!(training_stream(&[0.0; 100], 10, 10, None, &mut rng).is_none());
    }

    #[test]
    fn the_level_track_measures_from_the_recent_floor() {
        // 1 s at 0.01 RMS, then 0.5 s twenty dB louder.
        let quiet: Vec<f32> = (0..16000)
            .map(|i| if i % 2 == 0 { 0.01 } else { -0.01 })
            .collect();
        let loud: Vec<f32> = quiet[..8000].iter().map(|v| v * 10.0).collect();
        let mut track = LevelTrack::default();
        track.push(&quiet[..1000]);
        track.push(&quiet[1000..]);
        track.push(&loud);
        assert_eq!(track.frames(), 150);
        let at = |k: usize| track.span(k, 1);
        // In the quiet second everything sits on the floor.
        assert!(at(99).iter().all(|v| v.abs() < 1e-3), "{:?}", at(99));
        // The first loud frame is 20 dB (2.0) above the floor; its average has only begun to rise.
        assert!((at(100)[0] - 2.0).abs() < 1e-3, "{:?}", at(100));
        assert!(at(100)[1] > 0.0 && at(100)[1] < 0.2, "{:?}", at(100));
        // After 0.5 s the 300 ms average has risen most of the way, and the peak with it.
        let end = at(149);
        assert!(
            end[1] > 1.5 && end[1] < 2.0 && (end[2] - end[1]).abs() < 1e-6,
            "{end:?}"
        );
        // A span averages its frames; frames not yet heard repeat the last one.
        let two = track.span(99, 2);
        assert!((two[0] - 1.0).abs() < 1e-3, "{two:?}");
        let beyond = track.span(400, 3);
        assert!(
            beyond.iter().zip(end).all(|(a, b)| (a - b).abs() < 1e-5),
            "{beyond:?}"
        );
        assert_eq!(LevelTrack::default().span(0, 3), [0.0; LEVEL_FEATURES]);
        // A long stream keeps at most 2 × LEVEL_KEEP frames; old ones answer as the oldest kept.
        let mut long = LevelTrack::default();
        for _ in 0..50 {
            long.push(&quiet);
        }
        assert_eq!(long.frames(), 5000);
        assert!(long.features.len() <= 2 * LEVEL_KEEP * LEVEL_FEATURES);
        assert_eq!(long.span(0, 3), long.span(long.dropped, 3));
    }

    #[test]
    fn validate_checks_width_and_values() {
        let mut head = SpeechHead {
            weights: vec![0.1; 4 + LEVEL_FEATURES],
            bias: 0.0,
            window: 3,
            threshold: 0.5,
            end_s: None,
            source: String::new(),
            hidden_layer: None,
        };
        assert!(head.validate(4).is_ok());
        assert!(head.validate(5).is_err());
        head.end_s = Some(0.5);
        assert!(head.validate(4).is_ok());
        head.end_s = Some(0.0);
        assert!(head.validate(4).is_err());
        head.end_s = None;
        head.weights[1] = f32::NAN;
        assert!(head.validate(4).is_err());
    }
}
