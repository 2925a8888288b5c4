//! Streaming resampling: audio arriving in chunks at any rate, out at 16 kHz.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::SAMPLE_RATE;

/// Input frames per resampler call: the size of rubato's FFT sub-chunk, so the filter is the
/// same as with larger calls, while a block of live audio waits for at most 256 frames (5.3 ms
/// at 48 kHz) instead of 1024 (21 ms; docs/live.md, session 25).
const CHUNK: usize = 256;

/// Converts a stream of mono chunks at `from` Hz to 16 kHz, keeping state between chunks.
///
/// The resampler's start-up delay is trimmed, and [`StreamResampler::finish`] flushes the tail,
/// so a whole file pushed through it comes out sample for sample like
/// [`resample`](super::resample::resample) of the whole file.
pub struct StreamResampler {
    inner: Option<Fft<f32>>,
    pending: Vec<f32>,
    out: Vec<f32>,
    /// Output frames still to drop (the resampler's delay).
    to_trim: usize,
    /// Input frames pushed so far.
    consumed: u64,
    /// Output frames handed out so far.
    emitted: u64,
}

impl StreamResampler {
    pub fn new(from: u32) -> Result<Self, crate::error::AudioError> {
        let inner = if from == SAMPLE_RATE {
            None
        } else {
            Some(
                Fft::<f32>::new(
                    from as usize,
                    SAMPLE_RATE as usize,
                    CHUNK,
                    1,
                    FixedSync::Input,
                )
                .map_err(|e| crate::error::AudioError::Resample {
                    from,
                    message: e.to_string(),
                })?,
            )
        };
        let to_trim = inner.as_ref().map_or(0, |r| r.output_delay());
        Ok(Self {
            inner,
            pending: Vec::new(),
            out: Vec::new(),
            to_trim,
            consumed: 0,
            emitted: 0,
        })
    }

    /// Feed samples; returns the 16 kHz samples that are ready.
    pub fn push(&mut self, samples: &[f32]) -> Vec<f32> {
        self.consumed += samples.len() as u64;
        if self.inner.is_none() {
            self.emitted += samples.len() as u64;
            return samples.to_vec();
        }
        self.pending.extend_from_slice(samples);
        let mut ready = Vec::new();
        while self.process_one(&mut ready) {}
        self.emitted += ready.len() as u64;
        ready
    }

    /// End of the stream: pad with silence and return the rest of the output, so that the
    /// total is `ceil(input × 16000 / from)` samples.
    pub fn finish(&mut self) -> Vec<f32> {
        let Some(fft) = self.inner.as_ref() else {
            return Vec::new();
        };
        let expected = (fft.resample_ratio() * self.consumed as f64).ceil() as u64;
        let mut ready = Vec::new();
        while self.emitted + (ready.len() as u64) < expected {
            let need = self.inner.as_ref().map_or(0, |r| r.input_frames_next());
            let fill = need.saturating_sub(self.pending.len());
            self.pending.extend(std::iter::repeat_n(0.0, fill));
            if !self.process_one(&mut ready) {
                break;
            }
        }
        ready.truncate(expected.saturating_sub(self.emitted) as usize);
        self.emitted += ready.len() as u64;
        ready
    }

    /// Resample one block from `pending` into `ready`; false when there is not enough input.
    fn process_one(&mut self, ready: &mut Vec<f32>) -> bool {
        let Some(fft) = self.inner.as_mut() else {
            return false;
        };
        let need = fft.input_frames_next();
        if self.pending.len() < need {
            return false;
        }
        self.out.resize(fft.output_frames_max(), 0.0);
        let Ok(input) = InterleavedSlice::new(&self.pending[..need], 1, need) else {
            return false;
        };
        let frames = self.out.len();
        let Ok(mut output) = InterleavedSlice::new_mut(&mut self.out, 1, frames) else {
            return false;
        };
        let Ok((_, produced)) = fft.process_into_buffer(&input, &mut output, None) else {
            return false;
        };
        let skip = self.to_trim.min(produced);
        self.to_trim -= skip;
        ready.extend_from_slice(&self.out[skip..produced]);
        self.pending.drain(..need);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_48k_to_16k_at_the_right_rate() {
        let mut r = StreamResampler::new(48_000).unwrap();
        let tone: Vec<f32> = (0..48_000)
            .map(|i| (2.0 * std::f32::consts::PI * 300.0 * i as f32 / 48_000.0).sin())
            .collect();
        let mut out = Vec::new();
        for chunk in tone.chunks(441) {
            out.extend(r.push(chunk));
        }
        // All but the last partial chunk comes out: one second in, close to 16000 out.
        assert!(out.len() > 14_000 && out.len() <= 16_000, "{}", out.len());
        out.extend(r.finish());
        assert_eq!(out.len(), 16_000);
        let rms = (out[4000..12000].iter().map(|v| v * v).sum::<f32>() / 8000.0).sqrt();
        assert!(
            (rms - std::f32::consts::FRAC_1_SQRT_2).abs() < 0.01,
            "rms {rms}"
        );
    }

    #[test]
    fn a_whole_file_streamed_equals_resampling_it_at_once() {
        let x: Vec<f32> = (0..44_100 * 2 + 123)
            .map(|i| ((i as f32) * 0.013).sin() * 0.5 + ((i as f32) * 0.0007).cos() * 0.2)
            .collect();
        let whole = crate::audio::resample::resample(&x, 44_100, SAMPLE_RATE).unwrap();
        let mut r = StreamResampler::new(44_100).unwrap();
        let mut streamed = Vec::new();
        for chunk in x.chunks(3000) {
            streamed.extend(r.push(chunk));
        }
        streamed.extend(r.finish());
        assert_eq!(streamed.len(), whole.len());
        let max_diff = streamed
            .iter()
            .zip(&whole)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(max_diff < 1e-6, "max diff {max_diff}");
    }

    #[test]
    fn passes_16k_through() {
        let mut r = StreamResampler::new(16_000).unwrap();
        assert_eq!(r.push(&[0.5, 0.25]), vec![0.5, 0.25]);
    }
}
