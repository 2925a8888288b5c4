//! Short sounds that are not speech, set just before or after an utterance: a radio's squelch,
//! a key click, a knock, a breath of static. Recognisers read such a burst as a short word ("oh",
//! "a"): hark's digits model put an "oh" before each of the Warzone 2100 commander's radio
//! digits, whose clips open with 120 ms of static and a 100 ms gap (docs/language-models.md).
//! Training with bursts beside the speech, and the transcript unchanged, teaches the model that
//! they carry no letters.
//!
//! Domain: signal (16 kHz samples).

use rand::RngExt;

use super::{NoiseColor, Rng, channel, generate_noise};
use crate::audio::SAMPLE_RATE;
use crate::noise::Noise;

/// The kinds of burst: shaped noise (static, squelch, a hiss) or clicks (a switch, a key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Static,
    Clicks,
    Clip,
}

/// Ranges the bursts are drawn from.
#[derive(Debug, Clone, Copy)]
pub struct BurstRanges {
    /// Length of a burst, seconds.
    pub length_s: (f32, f32),
    /// Silence between the burst and the speech, seconds.
    pub gap_s: (f32, f32),
    /// Peak level of the burst against the speech's peak, dB.
    pub level_db: (f32, f32),
}

impl Default for BurstRanges {
    fn default() -> Self {
        Self {
            length_s: (0.02, 0.25),
            gap_s: (0.03, 0.4),
            level_db: (-25.0, 0.0),
        }
    }
}

fn seconds(s: f32) -> usize {
    (s * SAMPLE_RATE as f32).round() as usize
}

/// A value drawn uniformly from `[lo, hi]`. Inclusive of `hi`, unlike [`super::uniform`]: kept
/// so that the recipes trained with bursts (models/digits) draw the values they drew.
fn draw(range: (f32, f32), rng: &mut Rng) -> f32 {
    if range.1 > range.0 {
        rng.random_range(range.0..=range.1)
    } else {
        range.0
    }
}

/// One burst of `len` samples with a peak of 1: static (band-passed noise with a quick attack
/// and a decay), a few clicks, or a cut of a recorded noise from `bank`, faded in and out.
fn burst(kind: Kind, len: usize, bank: &[Noise], rng: &mut Rng) -> Vec<f32> {
    let mut b = match kind {
        Kind::Static => {
            let color = [NoiseColor::White, NoiseColor::Pink][rng.random_range(0..2)];
            let lo = rng.random_range(100.0..1500.0f32);
            let hi = rng.random_range(lo + 500.0..7500.0f32);
            let noise = channel::band_pass(&generate_noise(color, len, rng), lo, hi);
            let decay = rng.random_range(0.2..3.0f32);
            let attack = seconds(0.002).max(1);
            noise
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let rise = (i as f32 / attack as f32).min(1.0);
                    let fall = (-decay * i as f32 / len as f32).exp();
                    v * rise * fall
                })
                .collect()
        }
        Kind::Clicks => {
            let mut b = vec![0.0f32; len];
            for _ in 0..rng.random_range(1..=4usize) {
                let at = rng.random_range(0..len);
                let width = seconds(0.004).min(len - at).max(1);
                let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
                for (k, v) in b[at..at + width].iter_mut().enumerate() {
                    *v += sign * (-(k as f32) / (width as f32 / 4.0)).exp();
                }
            }
            b
        }
        Kind::Clip => {
            let noise = &bank[rng.random_range(0..bank.len())];
            let mut b = noise.segment(len, rng);
            let fade = (len / 8).max(1);
            for i in 0..fade.min(len) {
                let g = i as f32 / fade as f32;
                b[i] *= g;
                b[len - 1 - i] *= g;
            }
            b
        }
    };
    let peak = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if peak > 0.0 {
        b.iter_mut().for_each(|v| *v /= peak);
    }
    b
}

/// `x` with one burst before it, one after it, or both, each separated from the speech by a
/// silent gap; the speech itself is untouched. Audio without any signal comes back as it is.
pub fn add_bursts(x: &[f32], bank: &[Noise], ranges: &BurstRanges, rng: &mut Rng) -> Vec<f32> {
    let peak = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if peak == 0.0 {
        return x.to_vec();
    }
    let (before, after) = match rng.random_range(0..3) {
        0 => (true, false),
        1 => (false, true),
        _ => (true, true),
    };
    let make = |rng: &mut Rng| {
        let kinds: &[Kind] = if bank.is_empty() {
            &[Kind::Static, Kind::Clicks]
        } else {
            &[Kind::Static, Kind::Clicks, Kind::Clip]
        };
        let kind = kinds[rng.random_range(0..kinds.len())];
        let len = seconds(draw(ranges.length_s, rng)).max(1);
        let gain = peak * 10f32.powf(draw(ranges.level_db, rng) / 20.0);
        let mut b: Vec<f32> = burst(kind, len, bank, rng)
            .iter()
            .map(|v| v * gain)
            .collect();
        b.extend(std::iter::repeat_n(0.0, seconds(draw(ranges.gap_s, rng))));
        b
    };
    let mut out = Vec::new();
    if before {
        out.extend(make(rng));
    }
    out.extend_from_slice(x);
    if after {
        let mut b = make(rng);
        b.reverse();
        out.extend(b);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::augment::rng;

    fn tone(len: usize) -> Vec<f32> {
        (0..len).map(|i| 0.5 * (i as f32 * 0.05).sin()).collect()
    }

    #[test]
    fn the_speech_stays_whole_and_the_bursts_stand_beside_it() {
        let ranges = BurstRanges::default();
        for seed in 0..40 {
            let x = tone(8000);
            let y = add_bursts(&x, &[], &ranges, &mut rng(seed));
            let max_extra = 2 * (seconds(0.25) + seconds(0.4) + 1);
            assert!(
                y.len() > x.len() && y.len() <= x.len() + max_extra,
                "seed {seed}"
            );
            // The speech appears unchanged, in one piece, somewhere in the output.
            let start = (0..=y.len() - x.len())
                .find(|&s| y[s..s + x.len()] == x[..])
                .unwrap_or_else(|| panic!("seed {seed}: speech not found intact"));
            // Something audible lies outside it, never louder than the speech.
            let outside = y[..start].iter().chain(&y[start + x.len()..]);
            let loudest = outside.fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(
                loudest > 0.5 * 10f32.powf(-25.0 / 20.0) * 0.99,
                "seed {seed}"
            );
            assert!(loudest <= 0.5 * 1.0001, "seed {seed}: {loudest}");
        }
    }

    #[test]
    fn silence_stays_silence_and_the_same_seed_gives_the_same_audio() {
        let ranges = BurstRanges::default();
        assert_eq!(
            add_bursts(&[0.0; 400], &[], &ranges, &mut rng(1)),
            vec![0.0; 400]
        );
        let x = tone(4000);
        let a = add_bursts(&x, &[], &ranges, &mut rng(9));
        let b = add_bursts(&x, &[], &ranges, &mut rng(9));
        assert_eq!(a, b);
    }

    #[test]
    fn every_kind_is_finite_and_peaks_at_one() {
        let bank = [Noise::Generated(NoiseColor::Brown)];
        for kind in [Kind::Static, Kind::Clicks, Kind::Clip] {
            for seed in 0..10 {
                let b = burst(kind, 800, &bank, &mut rng(seed));
                assert_eq!(b.len(), 800);
                assert!(b.iter().all(|v| v.is_finite()));
                let peak = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                assert!(
                    (peak - 1.0).abs() < 1e-5,
                    "{kind:?} seed {seed}: peak {peak}"
                );
            }
        }
    }
}
