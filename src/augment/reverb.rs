//! Reverberation with synthetic room impulse responses: a direct path, sparse early reflections
//! whose delays follow from the room size, and a late tail of Gaussian noise decaying at the rate
//! set by RT60 (−60 dB after RT60 seconds) — the statistical room model, cheaper than the image
//! method and enough to teach a model smeared speech. Convolution is done with rustfft.

use rand::RngExt;
use rustfft::FftPlanner;
use rustfft::num_complex::Complex32;

use super::{Rng, gaussian, uniform};
use crate::audio::SAMPLE_RATE;

/// Ranges a room is drawn from.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RoomRanges {
    /// Reverberation time, seconds.
    pub rt60_s: (f32, f32),
    /// Largest room dimension, metres (sets the early-reflection delays).
    pub size_m: (f32, f32),
}

impl Default for RoomRanges {
    fn default() -> Self {
        Self {
            rt60_s: (0.2, 0.9),
            size_m: (3.0, 12.0),
        }
    }
}

const SPEED_OF_SOUND: f32 = 343.0;

/// A random room impulse response (16 kHz), peak-normalised so the direct path is 1.
pub fn room_impulse_response(ranges: RoomRanges, rng: &mut Rng) -> Vec<f32> {
    let rt60 = uniform(ranges.rt60_s, rng).max(0.05);
    let size = uniform(ranges.size_m, rng).max(1.0);
    let rate = SAMPLE_RATE as f32;
    let len = ((rt60 * rate) as usize).max(64);
    // Amplitude decays by 60 dB over rt60: exp(-6.91 t / rt60).
    let decay = |t: f32| (-6.908 * t / rt60).exp();
    let mut h = vec![0.0f32; len];
    h[0] = 1.0;
    // Six first-order reflections (walls, floor, ceiling), 1–2 room lengths of extra path.
    for _ in 0..6 {
        let path = rng.random_range(0.3..1.0f32) * size;
        let i = ((path / SPEED_OF_SOUND) * rate) as usize;
        if i > 0 && i < len {
            let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
            h[i] += sign * rng.random_range(0.3..0.8f32) * decay(i as f32 / rate);
        }
    }
    // Late diffuse tail from the mixing time (about 2 room transits) on.
    let mixing = (((2.0 * size / SPEED_OF_SOUND) * rate) as usize).clamp(1, len);
    for (i, v) in h.iter_mut().enumerate().skip(mixing) {
        *v += 0.3 * gaussian(rng) * decay(i as f32 / rate);
    }
    h
}

/// `x` convolved with `h`, cut to the length of `x` and scaled back to `x`'s RMS level.
pub fn reverberate(x: &[f32], h: &[f32]) -> Vec<f32> {
    if x.is_empty() || h.is_empty() {
        return x.to_vec();
    }
    let n = (x.len() + h.len() - 1).next_power_of_two();
    let mut planner = FftPlanner::<f32>::new();
    let (fwd, inv) = (planner.plan_fft_forward(n), planner.plan_fft_inverse(n));
    let pad = |v: &[f32]| {
        let mut b: Vec<Complex32> = v.iter().map(|&s| Complex32::new(s, 0.0)).collect();
        b.resize(n, Complex32::new(0.0, 0.0));
        b
    };
    let (mut a, mut b) = (pad(x), pad(h));
    fwd.process(&mut a);
    fwd.process(&mut b);
    a.iter_mut().zip(&b).for_each(|(p, q)| *p *= q);
    inv.process(&mut a);
    let mut y: Vec<f32> = a[..x.len()].iter().map(|c| c.re / n as f32).collect();
    let (rx, ry) = (crate::audio::rms(x), crate::audio::rms(&y));
    if ry > 0.0 {
        y.iter_mut().for_each(|v| *v *= rx / ry);
    }
    y
}

/// Measured RT60 of an impulse response by Schroeder backward integration (−5 to −25 dB
/// decay, extrapolated to 60 dB), in seconds; `None` if it never decays 25 dB.
pub fn measure_rt60(h: &[f32]) -> Option<f32> {
    let mut energy: Vec<f64> = h.iter().map(|&v| (v as f64) * (v as f64)).collect();
    for i in (0..energy.len().saturating_sub(1)).rev() {
        energy[i] += energy[i + 1];
    }
    let total = *energy.first()?;
    let db = |e: f64| 10.0 * (e / total).log10();
    let t5 = energy.iter().position(|&e| db(e) <= -5.0)?;
    let t25 = energy.iter().position(|&e| db(e) <= -25.0)?;
    Some((t25 - t5) as f32 / SAMPLE_RATE as f32 * 3.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impulse_responses_decay_at_the_drawn_rt60() {
        let mut rng = crate::augment::rng(3);
        for rt60 in [0.3f32, 0.6, 0.9] {
            let ranges = RoomRanges {
                rt60_s: (rt60, rt60),
                size_m: (6.0, 6.0),
            };
            let h = room_impulse_response(ranges, &mut rng);
            let measured = measure_rt60(&h).unwrap();
            // The direct path and early reflections speed up the first 5 dB; the tail sets T20.
            assert!((measured - rt60).abs() < 0.25 * rt60, "{rt60}: {measured}");
        }
    }

    #[test]
    fn convolution_with_an_impulse_is_identity_and_keeps_level() {
        let x: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.1).sin()).collect();
        let y = reverberate(&x, &[1.0]);
        assert!(x.iter().zip(&y).all(|(a, b)| (a - b).abs() < 1e-4));
        let mut rng = crate::augment::rng(1);
        let h = room_impulse_response(RoomRanges::default(), &mut rng);
        let y = reverberate(&x, &h);
        assert_eq!(y.len(), x.len());
        let (rx, ry) = (crate::audio::rms(&x), crate::audio::rms(&y));
        assert!((rx - ry).abs() < 1e-3 * rx.max(1.0));
    }
}
