//! Test-time attacks on a recogniser, for the robustness report: on the normalised features
//! ([`Attacker`]) and on the waveform, bounded in SNR ([`WaveAttacker`]).

use burn::module::Module;
use burn::prelude::*;
use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::audio::Waveform;
use crate::augment::Rng;
use crate::data::Batch;
use crate::features::Features;
use crate::features::differentiable::TensorMfcc;
use crate::model::AcousticModel;
use crate::model::attack::{AttackConfig, perturb};
use crate::model::loss::utterance_losses;
use crate::recognizer::{Recognizer, Transcript};

/// The recogniser's model on its autodiff device, frozen (no dropout, no weight gradients):
/// what an attack differentiates through.
fn frozen_on_autodiff(rec: &Recognizer) -> (AcousticModel, Device) {
    let device = rec.device().clone().autodiff();
    let model = rec.model().clone().to_device(&device).train().freeze();
    (model, device)
}

/// A test-time attack on a recogniser: FGSM/PGD against its model on the normalised features
/// of utterances whose transcripts are known, then decoded as usual. This is the white-box
/// worst case within an L∞ ball, not a model of any real channel.
pub struct Attacker {
    /// The recogniser's model on the autodiff device, frozen: no dropout, no weight gradients.
    model: AcousticModel,
    device: Device,
    cfg: AttackConfig,
}

impl Attacker {
    pub fn new(rec: &Recognizer, cfg: AttackConfig) -> Self {
        let (model, device) = frozen_on_autodiff(rec);
        Self { model, device, cfg }
    }

    /// Transcripts of `waves` attacked towards raising the CTC loss of their reference `texts`.
    /// Utterances with no frames or no target letters are decoded unattacked.
    pub fn transcribe(
        &self,
        rec: &Recognizer,
        waves: &[&Waveform],
        texts: &[&str],
        rng: &mut Rng,
    ) -> Vec<Transcript> {
        let mut feats: Vec<Features> = waves.iter().map(|w| rec.mfcc().compute(w)).collect();
        let targets: Vec<Vec<u32>> = texts.iter().map(|t| rec.vocab().encode(t)).collect();
        let attacked: Vec<usize> = (0..feats.len())
            .filter(|&i| feats[i].num_frames > 0 && !targets[i].is_empty())
            .collect();
        if !attacked.is_empty() {
            let items: Vec<(&Features, &[u32])> = attacked
                .iter()
                .map(|&i| (&feats[i], targets[i].as_slice()))
                .collect();
            let batch = Batch::collate(&items);
            let (adv, _) = perturb(&self.model, &batch, &self.device, &self.cfg, rng);
            let row = batch.max_frames * batch.dim;
            for (b, &i) in attacked.iter().enumerate() {
                let n = feats[i].data.len();
                feats[i].data.copy_from_slice(&adv[b * row..b * row + n]);
            }
        }
        let refs: Vec<&Features> = feats.iter().collect();
        let durations: Vec<f64> = waves.iter().map(|w| w.duration_s()).collect();
        rec.transcribe_features(&refs, &durations)
    }
}

/// A white-box attack on the waveform, bounded in signal-to-noise ratio: the perturbation's
/// energy stays `snr_db` below the utterance's, so ε is a level a listener can judge (30 dB is
/// a faint hiss under the voice, 10 dB clearly audible). PGD in that L2 ball of radius
/// `‖x‖ · 10^(−snr/20)`: `steps` normalised-gradient steps of `2.5 r / steps` from a random
/// start, each projected back onto the ball and onto `[-1, 1]`; `steps == 0` is one step of the
/// full radius (the L2 form of FGSM). The gradient flows through
/// [`TensorMfcc`](crate::features::differentiable::TensorMfcc), the MFCC pipeline as tensor
/// operations; the attacked waveform is then decoded through the ordinary FFT front end, as
/// any audio would be.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WaveAttackConfig {
    /// Signal-to-perturbation ratio in dB (the bound; higher is a weaker attack).
    pub snr_db: f32,
    pub steps: usize,
}

impl WaveAttackConfig {
    /// The L2 radius for an utterance of energy `norm²`.
    pub fn radius(&self, norm: f32) -> f32 {
        norm * 10f32.powf(-self.snr_db / 20.0)
    }
}

/// Runs [`WaveAttackConfig`] attacks against one recogniser.
pub struct WaveAttacker {
    model: AcousticModel,
    front_end: TensorMfcc,
    device: Device,
    cfg: WaveAttackConfig,
}

fn l2(v: &[f32]) -> f32 {
    v.iter().map(|x| x * x).sum::<f32>().sqrt()
}

impl WaveAttacker {
    pub fn new(rec: &Recognizer, cfg: WaveAttackConfig) -> Self {
        let (model, device) = frozen_on_autodiff(rec);
        let front_end = TensorMfcc::new(rec.mfcc(), &device);
        Self {
            model,
            front_end,
            device,
            cfg,
        }
    }

    /// The CTC loss (per target letter) of `target` on `samples` and its gradient with respect
    /// to them, or `None` when the audio is shorter than one frame.
    pub fn loss_and_grad(&self, samples: &[f32], target: &[u32]) -> Option<(f32, Vec<f32>)> {
        let x = Tensor::<1>::from_data(
            TensorData::new(samples.to_vec(), [samples.len()]),
            &self.device,
        )
        .require_grad();
        let feats = self.front_end.forward(x.clone())?;
        let [frames, dim] = feats.dims();
        let shape = Features {
            data: vec![0.0; frames * dim],
            num_frames: frames,
            dim,
        };
        let batch = Batch::collate(&[(&shape, target)]);
        let loss =
            utterance_losses(&self.model, feats.unsqueeze::<3>(), &batch, &self.device).sum();
        let value = loss.clone().into_scalar::<f32>();
        let grads = loss.backward();
        let grad = x.grad(&grads)?.into_data().try_to_vec::<f32>().ok()?;
        Some((value, grad))
    }

    /// `samples` moved within the SNR ball towards a higher CTC loss of `target`.
    pub fn attack(&self, samples: &[f32], target: &[u32], rng: &mut Rng) -> Vec<f32> {
        let radius = self.cfg.radius(l2(samples));
        if target.is_empty() || radius.is_nan() || radius <= 0.0 {
            return samples.to_vec();
        }
        let project = |delta: &mut Vec<f32>| {
            let norm = l2(delta);
            if norm > radius {
                delta.iter_mut().for_each(|d| *d *= radius / norm);
            }
            for (d, &s) in delta.iter_mut().zip(samples) {
                *d = (s + *d).clamp(-1.0, 1.0) - s;
            }
        };
        let (step, rounds) = match self.cfg.steps {
            0 => (radius, 1),
            k => (2.5 * radius / k as f32, k),
        };
        let mut delta = vec![0.0f32; samples.len()];
        if self.cfg.steps > 0 {
            let direction: Vec<f32> = (0..samples.len())
                .map(|_| rng.random_range(-1.0f32..1.0))
                .collect();
            let scale = radius * rng.random_range(0.0f32..1.0) / l2(&direction).max(1e-12);
            delta = direction.iter().map(|d| d * scale).collect();
            project(&mut delta);
        }
        for _ in 0..rounds {
            let moved: Vec<f32> = samples.iter().zip(&delta).map(|(s, d)| s + d).collect();
            let Some((_, grad)) = self.loss_and_grad(&moved, target) else {
                break;
            };
            let norm = l2(&grad);
            if !(norm.is_finite() && norm > 0.0) {
                break;
            }
            for (d, g) in delta.iter_mut().zip(&grad) {
                *d += step * g / norm;
            }
            project(&mut delta);
        }
        samples.iter().zip(&delta).map(|(s, d)| s + d).collect()
    }

    /// Transcripts of `waves` attacked towards raising the CTC loss of their reference `texts`,
    /// decoded through the recogniser's own front end.
    pub fn transcribe(
        &self,
        rec: &Recognizer,
        waves: &[&Waveform],
        texts: &[&str],
        rng: &mut Rng,
    ) -> Vec<Transcript> {
        let attacked: Vec<Waveform> = waves
            .iter()
            .zip(texts)
            .map(|(w, t)| {
                let moved = self.attack(w.samples(), &rec.vocab().encode(t), rng);
                Waveform::new(moved, w.sample_rate()).unwrap_or_else(|| (*w).clone())
            })
            .collect();
        rec.transcribe_batch(&attacked)
    }
}
