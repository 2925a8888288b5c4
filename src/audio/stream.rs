//! Streaming resampling: audio arriving in chunks at any rate, out at 16 kHz.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler};

use super::SAMPLE_RATE;

/// Input frames per resampler call.
const CHUNK: usize = 1024;

/// Converts a stream of mono chunks at `from` Hz to 16 kHz, keeping state between chunks.
pub struct StreamResampler {
    inner: Option<Fft<f32>>,
    pending: Vec<f32>,
    out: Vec<f32>,
}

impl StreamResampler {
    pub fn new(from: u32) -> Result<Self, String> {
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
                .map_err(|e| e.to_string())?,
            )
        };
        Ok(Self {
            inner,
            pending: Vec::new(),
            out: Vec::new(),
        })
    }

    /// Feed samples; returns the 16 kHz samples that are ready.
    pub fn push(&mut self, samples: &[f32]) -> Vec<f32> {
        let Some(fft) = self.inner.as_mut() else {
            return samples.to_vec();
        };
        self.pending.extend_from_slice(samples);
        let mut ready = Vec::new();
        while self.pending.len() >= fft.input_frames_next() {
            let need = fft.input_frames_next();
            self.out.resize(fft.output_frames_max(), 0.0);
            let produced = {
                let Ok(input) = InterleavedSlice::new(&self.pending[..need], 1, need) else {
                    break;
                };
                let frames = self.out.len();
                let Ok(mut output) =
                    rubato::audioadapter_buffers::direct::InterleavedSlice::new_mut(
                        &mut self.out,
                        1,
                        frames,
                    )
                else {
                    break;
                };
                match fft.process_into_buffer(&input, &mut output, None) {
                    Ok((_, produced)) => produced,
                    Err(_) => break,
                }
            };
            ready.extend_from_slice(&self.out[..produced]);
            self.pending.drain(..need);
        }
        ready
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
        assert!(out.len() > 15_000 && out.len() <= 16_000, "{}", out.len());
        let rms = (out[4000..12000].iter().map(|v| v * v).sum::<f32>() / 8000.0).sqrt();
        assert!(
            (rms - std::f32::consts::FRAC_1_SQRT_2).abs() < 0.01,
            "rms {rms}"
        );
    }

    #[test]
    fn passes_16k_through() {
        let mut r = StreamResampler::new(16_000).unwrap();
        assert_eq!(r.push(&[0.5, 0.25]), vec![0.5, 0.25]);
    }
}
