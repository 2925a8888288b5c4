//! Band-limited resampling to [`SAMPLE_RATE`](super::SAMPLE_RATE) with rubato's FFT resampler.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use crate::error::AudioError;

/// Resample mono samples from `from` Hz to `to` Hz. Identity when the rates agree.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Result<Vec<f32>, AudioError> {
    if from == to || samples.is_empty() {
        return Ok(samples.to_vec());
    }
    let failed = |message: String| AudioError::Resample { from, message };
    if from == 0 || to == 0 {
        return Err(failed(format!(
            "cannot resample between {from} Hz and {to} Hz"
        )));
    }
    let mut resampler = Fft::<f32>::new(from as usize, to as usize, 1024, 1, FixedSync::Input)
        .map_err(|e| failed(e.to_string()))?;
    let input =
        InterleavedSlice::new(samples, 1, samples.len()).map_err(|e| failed(e.to_string()))?;
    let out = resampler
        .process_all(&input, samples.len(), None)
        .map_err(|e| failed(e.to_string()))?;
    Ok(out.take_data())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, rate: u32, seconds: f32) -> Vec<f32> {
        (0..(rate as f32 * seconds) as usize)
            .map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin())
            .collect()
    }

    #[test]
    fn keeps_length_and_tone() {
        let x = sine(440.0, 44_100, 0.5);
        let y = resample(&x, 44_100, 16_000).unwrap();
        assert!((y.len() as i64 - 8000).abs() <= 1, "len {}", y.len());
        // Fit a 440 Hz sinusoid of free phase (the resampler may delay by a fraction of a
        // sample) away from the edges; the amplitude must be kept and the residual tiny.
        let w = 2.0 * std::f32::consts::PI * 440.0 / 16_000.0;
        let range = 1000..7000;
        let n = range.len() as f32;
        let a: f32 = range
            .clone()
            .map(|i| y[i] * (w * i as f32).sin())
            .sum::<f32>()
            * 2.0
            / n;
        let b: f32 = range
            .clone()
            .map(|i| y[i] * (w * i as f32).cos())
            .sum::<f32>()
            * 2.0
            / n;
        let amplitude = (a * a + b * b).sqrt();
        assert!((amplitude - 1.0).abs() < 0.01, "amplitude {amplitude}");
        let residual = range
            .map(|i| (y[i] - a * (w * i as f32).sin() - b * (w * i as f32).cos()).powi(2))
            .sum::<f32>()
            / n;
        assert!(residual.sqrt() < 0.005, "residual rms {}", residual.sqrt());
    }

    #[test]
    fn removes_content_above_the_new_nyquist() {
        // 12 kHz is above 8 kHz (Nyquist at 16 kHz): it must be filtered out, not aliased.
        let x = sine(12_000.0, 48_000, 0.5);
        let y = resample(&x, 48_000, 16_000).unwrap();
        let rms = (y[500..7500].iter().map(|v| v * v).sum::<f32>() / 7000.0).sqrt();
        assert!(rms < 0.01, "alias rms {rms}");
    }
}
