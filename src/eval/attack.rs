//! Test-time attacks on a recogniser, for the robustness report: on the normalised features
//! ([`Attacker`]) and on the waveform, bounded in SNR ([`WaveAttacker`]).

use burn::module::Module;
use burn::prelude::*;

use crate::audio::Waveform;
use crate::augment::Rng;
use crate::data::Batch;
use crate::features::Features;
use crate::features::differentiable::TensorMfcc;
use crate::model::AcousticModel;
use crate::model::attack::{AttackConfig, perturb};
use crate::model::wave_attack::{self, losses_and_grads};
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

pub use crate::model::wave_attack::WaveAttackConfig;

/// A white-box attack on the waveform of utterances whose transcripts are known, bounded in
/// SNR ([`WaveAttackConfig`], [`crate::model::wave_attack`]); the attacked waveform is then
/// decoded through the ordinary FFT front end, as any audio would be.
pub struct WaveAttacker {
    model: AcousticModel,
    front_end: TensorMfcc,
    device: Device,
    cfg: WaveAttackConfig,
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
        let (losses, grads) = losses_and_grads(
            &self.model,
            &self.front_end,
            &[samples],
            &[target],
            &self.device,
        )?;
        Some((*losses.first()?, grads.into_iter().next()?))
    }

    /// `samples` moved within the SNR ball towards a higher CTC loss of `target`.
    pub fn attack(&self, samples: &[f32], target: &[u32], rng: &mut Rng) -> Vec<f32> {
        wave_attack::perturb(
            &self.model,
            &self.front_end,
            &[samples],
            &[target],
            &self.device,
            &self.cfg,
            rng,
        )
        .pop()
        .unwrap_or_else(|| samples.to_vec())
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
