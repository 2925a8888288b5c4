//! The augmentation pipeline: one training batch from utterance indices. Every batch draws its
//! randomness from its own seed (run seed, epoch, batch number), so a run resumed in the middle
//! of an epoch sees exactly the batches an uninterrupted run would.

use rand::RngExt;

use super::TrainingConfig;
use super::dro::{NoiseKind, group_of};
use crate::augment::{self, NoiseColor, Rng, bursts, channel, reverb, specaug};
use crate::data::Batch;
use crate::features::Mfcc;
use crate::noise::Noise;

/// The RNG for batch `index` of `epoch`.
pub fn batch_rng(seed: u64, epoch: usize, index: usize) -> Rng {
    let mix = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add((epoch as u64) << 32)
        .wrapping_add(index as u64);
    augment::rng(mix)
}

/// Lowest SNR allowed at training clock `clock` (0 → 1 over the run): with the curriculum on,
/// the range opens from its top to its bottom over the first half of training.
pub fn snr_floor(cfg: &TrainingConfig, clock: f64) -> f32 {
    if !cfg.snr_curriculum {
        return cfg.snr_min_db;
    }
    let open = (clock / 0.5).clamp(0.0, 1.0) as f32;
    cfg.snr_max_db - (cfg.snr_max_db - cfg.snr_min_db) * open
}

/// Corrupt one utterance: speed, reverberation, bursts beside it, additive noise, channel
/// (each by its probability). Returns the samples and the DRO group they fall in.
pub fn corrupt(
    original: &[f32],
    cfg: &TrainingConfig,
    bank: &[Noise],
    clock: f64,
    rng: &mut Rng,
) -> (Vec<f32>, usize) {
    let mut x = if rng.random::<f64>() < cfg.speed_prob {
        let r = cfg.speed_range;
        augment::speed_perturb(original, rng.random_range(1.0 - r..=1.0 + r))
    } else {
        original.to_vec()
    };
    if rng.random::<f64>() < cfg.reverb_prob {
        let h = reverb::room_impulse_response(cfg.room, rng);
        x = reverb::reverberate(&x, &h);
    }
    if cfg.burst_prob > 0.0 && rng.random::<f64>() < cfg.burst_prob {
        x = bursts::add_bursts(&x, bank, &bursts::BurstRanges::default(), rng);
    }
    let mut group = group_of(NoiseKind::Clean, f32::INFINITY);
    if rng.random::<f64>() < cfg.noise_prob {
        let floor = snr_floor(cfg, clock);
        let snr = if cfg.snr_max_db > floor {
            rng.random_range(floor..=cfg.snr_max_db)
        } else {
            floor
        };
        if !bank.is_empty() && rng.random::<f64>() < 0.7 {
            x = bank[rng.random_range(0..bank.len())].mix(&x, snr, rng);
            group = group_of(NoiseKind::Recorded, snr);
        } else {
            let colors: &[NoiseColor] = if bank.is_empty() {
                &[NoiseColor::White, NoiseColor::Pink]
            } else {
                &[NoiseColor::White, NoiseColor::Pink, NoiseColor::Brown]
            };
            let color = colors[rng.random_range(0..colors.len())];
            x = augment::add_noise(&x, color, snr, rng);
            group = group_of(NoiseKind::Generated, snr);
        }
    }
    if rng.random::<f64>() < cfg.channel_prob {
        x = channel::random_channel(&x, &cfg.channel, rng);
    }
    (x, group)
}

/// One training batch, ready for a step.
pub struct Prepared {
    /// Features (corrupted, with SpecAugment masks) and targets.
    pub batch: Batch,
    /// Each utterance's DRO group.
    pub groups: Vec<usize>,
    /// The corrupted audio each utterance's features came from (before SpecAugment): kept only
    /// for waveform-adversarial training, which attacks it; empty otherwise.
    pub waves: Vec<Vec<f32>>,
}

/// Features and targets of one batch, each utterance's DRO group, and its corrupted audio
/// when `cfg.wave_adversarial` asks for it.
pub fn prepare(
    items: &[(&[f32], &[u32])],
    cfg: &TrainingConfig,
    mfcc: &Mfcc,
    bank: &[Noise],
    clock: f64,
    rng: &mut Rng,
) -> Prepared {
    let keep_waves = cfg.wave_adversarial.is_some();
    let mut groups = Vec::with_capacity(items.len());
    let mut waves = Vec::new();
    let feats: Vec<_> = items
        .iter()
        .map(|(samples, _)| {
            let (x, group) = corrupt(samples, cfg, bank, clock, rng);
            groups.push(group);
            let mut f = mfcc.compute_samples(&x);
            if rng.random::<f64>() < cfg.spec_augment_prob {
                specaug::spec_augment(&mut f, cfg.features.num_ceps, &cfg.spec_augment, rng);
            }
            if keep_waves {
                waves.push(x);
            }
            f
        })
        .collect();
    let pairs: Vec<_> = feats.iter().zip(items).map(|(f, (_, t))| (f, *t)).collect();
    Prepared {
        batch: Batch::collate(&pairs),
        groups,
        waves,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn speech() -> Vec<f32> {
        (0..16_000).map(|i| 0.3 * (i as f32 * 0.07).sin()).collect()
    }

    #[test]
    fn bursts_come_only_when_asked_and_leave_other_recipes_alone() {
        let plain = TrainingConfig::english().without_augmentation();
        let x = speech();
        let mut rng = augment::rng(3);
        let (same, _) = corrupt(&x, &plain, &[], 0.5, &mut rng);
        assert_eq!(same, x);
        // Bursts off: one draw each for speed, reverberation, noise and channel and none for
        // bursts, so a recipe saved before the option sees the random numbers it always saw.
        let mut reference = augment::rng(3);
        for _ in 0..4 {
            let _: f64 = reference.random();
        }
        assert_eq!(rng.random::<u64>(), reference.random::<u64>());
        let bursty = plain.with_burst_prob(1.0);
        for seed in 0..5 {
            let (y, _) = corrupt(&x, &bursty, &[], 0.5, &mut augment::rng(seed));
            assert!(y.len() > x.len(), "seed {seed}: no burst added");
        }
    }
}
