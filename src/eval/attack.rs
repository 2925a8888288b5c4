//! Test-time attacks on a recogniser, for the robustness report.

use burn::module::Module;
use burn::prelude::Device;

use crate::audio::Waveform;
use crate::augment::Rng;
use crate::data::Batch;
use crate::features::Features;
use crate::model::AcousticModel;
use crate::model::attack::{AttackConfig, perturb};
use crate::recognizer::{Recognizer, Transcript};

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
        let device = rec.device().clone().autodiff();
        let model = rec.model().clone().to_device(&device).train().freeze();
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
