//! Audio in: the [`Waveform`] type and the ways to obtain one.

pub mod capture;
pub mod decode;
pub mod resample;
pub mod stream;
pub mod wav;

/// The sample rate every part of hark after the front end works at.
pub const SAMPLE_RATE: u32 = 16_000;

pub use decode::{AudioBlocks, read_any};

/// Largest sample magnitude a [`Waveform`] holds. Float WAVs may legitimately go past ±1
/// (unnormalised, or scaled like integers), but ±2²⁴ and beyond is a corrupt file, and would
/// overflow the front end's `f32` power spectra.
pub const MAX_MAGNITUDE: f32 = 16_777_216.0;

/// Why a sample cannot be in a [`Waveform`], if it cannot.
pub fn bad_sample(s: f32) -> bool {
    !s.is_finite() || s.abs() > MAX_MAGNITUDE
}

/// The first unusable sample: its index and value.
pub fn first_bad_sample(samples: &[f32]) -> Option<(usize, f32)> {
    samples
        .iter()
        .position(|&s| bad_sample(s))
        .map(|i| (i, samples[i]))
}

/// Mono audio as `f32` samples in `[-1, 1]` (nominally), all finite and within
/// ±[`MAX_MAGNITUDE`].
#[derive(Debug, Clone, PartialEq)]
pub struct Waveform {
    samples: Vec<f32>,
    sample_rate: u32,
}

impl Waveform {
    /// Build a waveform, replacing nothing: returns `None` when a sample is not finite or past
    /// ±[`MAX_MAGNITUDE`], or the rate is zero.
    pub fn new(samples: Vec<f32>, sample_rate: u32) -> Option<Self> {
        if sample_rate == 0 || samples.iter().any(|&s| bad_sample(s)) {
            return None;
        }
        Some(Self {
            samples,
            sample_rate,
        })
    }

    pub fn samples(&self) -> &[f32] {
        &self.samples
    }

    pub fn into_samples(self) -> Vec<f32> {
        self.samples
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Duration in seconds.
    pub fn duration_s(&self) -> f64 {
        self.samples.len() as f64 / self.sample_rate as f64
    }

    /// Root-mean-square level.
    pub fn rms(&self) -> f32 {
        rms(&self.samples)
    }
}

/// Root-mean-square level of samples (0 for none), accumulated in `f64`.
pub fn rms(samples: &[f32]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let energy: f64 = samples.iter().map(|&s| (s as f64) * (s as f64)).sum();
    (energy / samples.len() as f64).sqrt() as f32
}

/// Level (dBFS, frame RMS) below which a 10 ms frame counts as inaudible.
pub const AUDIBLE_DBFS: f32 = -60.0;

/// Whether any 10 ms frame (at 16 kHz) between `start_s` and `end_s` is at or above
/// [`AUDIBLE_DBFS`].
pub fn audible(samples: &[f32], start_s: f64, end_s: f64) -> bool {
    let frame = SAMPLE_RATE as usize / 100;
    let at = |s: f64| ((s.max(0.0) * SAMPLE_RATE as f64) as usize).min(samples.len());
    let (a, b) = (at(start_s) / frame * frame, at(end_s));
    let threshold = 10f32.powf(AUDIBLE_DBFS / 20.0);
    samples[a..b.max(a)]
        .chunks(frame)
        .any(|f| rms(f) >= threshold)
}

/// Scale `samples` so the largest magnitude is `dbfs` (e.g. −3); returns false (and leaves
/// them) when all are zero.
pub fn peak_normalize(samples: &mut [f32], dbfs: f32) -> bool {
    let peak = samples.iter().fold(0.0f32, |m, s| m.max(s.abs()));
    if peak == 0.0 {
        return false;
    }
    let gain = 10f32.powf(dbfs / 20.0) / peak;
    samples.iter_mut().for_each(|s| *s *= gain);
    true
}
