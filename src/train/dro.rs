//! Group distributionally robust optimisation (Sagawa et al., 2020): training conditions are
//! split into groups (noise kind × SNR bucket), each group keeps a weight, and after every batch
//! the weights of the groups in it grow exponentially with their loss. The batch loss is the
//! weighted mean over the groups present, so training leans towards the worst conditions.

use serde::{Deserialize, Serialize};

/// What was done to an utterance, for grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoiseKind {
    Clean,
    /// White, pink or brown noise.
    Generated,
    /// A recorded clip from the noise bank.
    Recorded,
}

/// SNR buckets: ≥ 20 dB, 10–20, 0–10, below 0.
const SNR_EDGES: [f32; 3] = [20.0, 10.0, 0.0];

/// Number of groups: clean, plus 2 noise kinds × 4 SNR buckets.
pub const GROUPS: usize = 1 + 2 * (SNR_EDGES.len() + 1);

/// The group of an utterance with `kind` noise at `snr_db`.
pub fn group_of(kind: NoiseKind, snr_db: f32) -> usize {
    let bucket = SNR_EDGES
        .iter()
        .position(|&e| snr_db >= e)
        .unwrap_or(SNR_EDGES.len());
    match kind {
        NoiseKind::Clean => 0,
        NoiseKind::Generated => 1 + bucket,
        NoiseKind::Recorded => 1 + SNR_EDGES.len() + 1 + bucket,
    }
}

/// Exponentiated-gradient group weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupWeights {
    pub weights: Vec<f64>,
    /// Step size η of the exponentiated-gradient update.
    pub step: f64,
    /// CTC-DRO's smoothing α (Bartelds et al., 2025): a group's update is divided by its
    /// weight plus α, so a group that already weighs much grows slowly and no single group
    /// takes over; 0 is the plain update.
    #[serde(default)]
    pub smoothing: f64,
}

impl GroupWeights {
    pub fn new(step: f64, smoothing: f64) -> Self {
        Self {
            weights: vec![1.0 / GROUPS as f64; GROUPS],
            step,
            smoothing,
        }
    }

    /// Update with the mean loss of each group present in a batch (`None` for absent ones) and
    /// return the batch's weighting: one coefficient per group, summing to 1 over those present.
    pub fn update(&mut self, group_losses: &[Option<f64>]) -> Vec<f64> {
        for (w, l) in self.weights.iter_mut().zip(group_losses) {
            if let Some(l) = l
                && l.is_finite()
            {
                let scale = if self.smoothing > 0.0 {
                    1.0 / (*w + self.smoothing)
                } else {
                    1.0
                };
                *w *= (self.step * scale * l.min(50.0)).exp();
            }
        }
        let total: f64 = self.weights.iter().sum();
        self.weights.iter_mut().for_each(|w| *w /= total);
        let present: f64 = self
            .weights
            .iter()
            .zip(group_losses)
            .filter(|(_, l)| l.is_some())
            .map(|(w, _)| w)
            .sum();
        self.weights
            .iter()
            .zip(group_losses)
            .map(|(w, l)| if l.is_some() { w / present } else { 0.0 })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_cover_kinds_and_buckets() {
        assert_eq!(group_of(NoiseKind::Clean, 99.0), 0);
        assert_eq!(group_of(NoiseKind::Generated, 25.0), 1);
        assert_eq!(group_of(NoiseKind::Generated, -3.0), 4);
        assert_eq!(group_of(NoiseKind::Recorded, 12.0), 6);
        assert_eq!(group_of(NoiseKind::Recorded, -1.0), GROUPS - 1);
    }

    #[test]
    fn weights_move_towards_the_worst_group() {
        let mut w = GroupWeights::new(0.05, 0.0);
        let mut previous = w.weights[7];
        for _ in 0..200 {
            let mut losses = vec![None; GROUPS];
            losses[0] = Some(0.5);
            losses[3] = Some(1.0);
            losses[7] = Some(2.0);
            let coef = w.update(&losses);
            assert!((coef.iter().sum::<f64>() - 1.0).abs() < 1e-9);
            assert_eq!(coef[1], 0.0, "absent groups get no weight in the batch");
            assert!(w.weights[7] > previous, "the worst group keeps gaining");
            previous = w.weights[7];
        }
        let best = (0..GROUPS).max_by(|&a, &b| w.weights[a].total_cmp(&w.weights[b]));
        assert_eq!(best, Some(7));
        assert!(w.weights[7] > 0.9, "{:?}", w.weights);
    }

    #[test]
    fn smoothing_keeps_the_worst_group_from_taking_everything() {
        let losses: Vec<Option<f64>> = (0..GROUPS)
            .map(|g| [0, 3, 7].contains(&g).then_some(0.5 + g as f64 / 7.0 * 1.5))
            .collect();
        let mut plain = GroupWeights::new(0.05, 0.0);
        let mut smoothed = GroupWeights::new(0.05, 0.1);
        for _ in 0..200 {
            plain.update(&losses);
            smoothed.update(&losses);
        }
        // Both lean to group 7 (loss 2.0); the smoothed update less far: with weight w the
        // step shrinks by 1 / (w + 0.1).
        let top =
            |w: &GroupWeights| (0..GROUPS).max_by(|&a, &b| w.weights[a].total_cmp(&w.weights[b]));
        assert_eq!(top(&plain), Some(7));
        assert_eq!(top(&smoothed), Some(7));
        assert!(plain.weights[7] > 0.9, "{:?}", plain.weights);
        assert!(smoothed.weights[7] < 0.8, "{:?}", smoothed.weights);
        assert!(
            smoothed.weights[0] > 10.0 * plain.weights[0],
            "{:?} {:?}",
            smoothed.weights,
            plain.weights
        );
    }
}
