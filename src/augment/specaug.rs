//! SpecAugment on normalised features: time masks (runs of frames) and frequency masks (runs of
//! cepstral coefficients, masked alike in the static, Δ and ΔΔ blocks). Masked values become 0,
//! the mean after normalisation.

use rand::RngExt;

use super::Rng;
use crate::features::Features;

/// Mask counts and widths.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpecAugmentConfig {
    pub time_masks: usize,
    /// Longest time mask, frames.
    pub max_time_width: usize,
    /// A time mask covers at most this fraction of the utterance.
    pub max_time_fraction: f32,
    pub freq_masks: usize,
    /// Widest frequency mask, coefficients.
    pub max_freq_width: usize,
}

impl Default for SpecAugmentConfig {
    fn default() -> Self {
        Self {
            time_masks: 2,
            max_time_width: 40,
            max_time_fraction: 0.2,
            freq_masks: 2,
            max_freq_width: 3,
        }
    }
}

/// Mask `feats` in place; `block` is the number of coefficients per static/Δ/ΔΔ block.
pub fn spec_augment(feats: &mut Features, block: usize, cfg: &SpecAugmentConfig, rng: &mut Rng) {
    let (frames, dim) = (feats.num_frames, feats.dim);
    if frames == 0 || dim == 0 || block == 0 {
        return;
    }
    let max_t = cfg
        .max_time_width
        .min((frames as f32 * cfg.max_time_fraction) as usize);
    for _ in 0..cfg.time_masks {
        if max_t == 0 {
            break;
        }
        let width = rng.random_range(0..=max_t);
        let start = rng.random_range(0..=frames - width);
        feats.data[start * dim..(start + width) * dim].fill(0.0);
    }
    let max_f = cfg.max_freq_width.min(block);
    for _ in 0..cfg.freq_masks {
        if max_f == 0 {
            break;
        }
        let width = rng.random_range(0..=max_f);
        let start = rng.random_range(0..=block - width);
        for t in 0..frames {
            let row = &mut feats.data[t * dim..(t + 1) * dim];
            for b in (0..dim).step_by(block) {
                row[(b + start).min(dim)..(b + start + width).min(dim)].fill(0.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_stay_within_their_limits() {
        let mut rng = crate::augment::rng(5);
        let cfg = SpecAugmentConfig::default();
        for _ in 0..50 {
            let mut f = Features {
                data: vec![1.0; 300 * 39],
                num_frames: 300,
                dim: 39,
            };
            spec_augment(&mut f, 13, &cfg, &mut rng);
            let zero_rows = (0..300)
                .filter(|&t| f.frame(t).iter().all(|&v| v == 0.0))
                .count();
            assert!(zero_rows <= 2 * 40, "{zero_rows} frames masked");
            // Frequency masks hit the same coefficient in all three blocks.
            let row = (0..300)
                .find(|&t| f.frame(t).iter().any(|&v| v != 0.0))
                .unwrap();
            let r = f.frame(row);
            for c in 0..13 {
                assert_eq!(r[c] == 0.0, r[c + 13] == 0.0);
                assert_eq!(r[c] == 0.0, r[c + 26] == 0.0);
            }
            let masked = r.iter().filter(|&&v| v == 0.0).count();
            assert!(masked <= 3 * 2 * 3);
        }
    }
}
