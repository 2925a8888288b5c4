//! Features of a stream, chunk by chunk, with the same values as the whole utterance's.

use super::{Features, Mfcc, add_deltas};

fn delta_context(order: usize) -> usize {
    2 * order
}

/// Features of a stream, chunk by chunk, equal to [`Mfcc::compute_samples`] on the whole stream
/// when normalisation is global (or off). Holds back `2 × delta_order` frames (40 ms with
/// delta-deltas) until the samples after them arrive.
#[derive(Debug)]
pub struct StreamingFeatures<'a> {
    mfcc: &'a Mfcc,
    /// Samples from the start of the next static frame on.
    pending: Vec<f32>,
    /// Static frames from `window_start` on (at most the delta context before `next`).
    statics: Vec<Vec<f32>>,
    /// Stream index of `statics[0]`.
    window_start: usize,
    /// Index of the next frame to emit.
    next: usize,
}

impl<'a> StreamingFeatures<'a> {
    /// Fails for per-utterance CMVN, which needs the whole utterance.
    pub fn new(mfcc: &'a Mfcc) -> crate::Result<Self> {
        if mfcc.config.cmvn {
            return Err(crate::Error::Config(
                "streaming features need global (or no) normalisation, not per-utterance CMVN"
                    .into(),
            ));
        }
        Ok(Self {
            mfcc,
            pending: Vec::new(),
            statics: Vec::new(),
            window_start: 0,
            next: 0,
        })
    }

    /// Add samples; returns the frames that became final (`[frames × dim]`, row-major).
    pub fn push(&mut self, samples: &[f32]) -> Features {
        self.pending.extend_from_slice(samples);
        let cfg = &self.mfcc.config;
        let frames = cfg.num_frames(self.pending.len());
        if frames > 0 {
            let st = self.mfcc.static_mfcc(
                &self.pending[..(frames - 1) * cfg.frame_shift() + cfg.frame_length()],
            );
            for t in 0..st.num_frames {
                self.statics.push(st.frame(t).to_vec());
            }
            self.pending.drain(..frames * cfg.frame_shift());
        }
        let total = self.window_start + self.statics.len();
        let ready = total.saturating_sub(delta_context(cfg.delta_order));
        self.emit(ready)
    }

    /// The stream ended: the held-back frames, with the end edge handled as offline.
    pub fn finish(&mut self) -> Features {
        let total = self.window_start + self.statics.len();
        self.emit(total)
    }

    /// Emit frames `next..upto` and trim the window.
    fn emit(&mut self, upto: usize) -> Features {
        let cfg = &self.mfcc.config;
        let ceps = cfg.num_ceps;
        let dim = cfg.dim();
        if upto <= self.next {
            return Features {
                data: Vec::new(),
                num_frames: 0,
                dim,
            };
        }
        let window = Features {
            data: self.statics.concat(),
            num_frames: self.statics.len(),
            dim: ceps,
        };
        let with_deltas = add_deltas(&window, cfg.delta_order);
        let from = self.next - self.window_start;
        let to = upto - self.window_start;
        let num_frames = to - from;
        let mut data = with_deltas.data[from * dim..to * dim].to_vec();
        if let Some(g) = &cfg.global_cmvn {
            g.apply(&mut data);
        }
        self.next = upto;
        // Keep the context the next frames' deltas need.
        let keep_from = self
            .next
            .saturating_sub(delta_context(cfg.delta_order))
            .max(self.window_start);
        self.statics.drain(..keep_from - self.window_start);
        self.window_start = keep_from;
        Features {
            data,
            num_frames,
            dim,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{GlobalCmvn, MfccConfig};

    #[test]
    fn streaming_equals_offline_with_global_normalisation() {
        let samples: Vec<f32> = (0..16_000 * 2)
            .map(|i| {
                0.3 * ((i as f32 * 0.031).sin() + 0.5 * (i as f32 * 0.0071).sin())
                    * (1.0 + (i as f32 * 0.0003).sin())
            })
            .collect();
        let probe = Mfcc::new(MfccConfig {
            cmvn: false,
            ..Default::default()
        })
        .unwrap();
        let stats = GlobalCmvn::measure(&[probe.compute_samples(&samples)]).unwrap();
        let mfcc = Mfcc::new(MfccConfig {
            cmvn: false,
            global_cmvn: Some(stats),
            ..Default::default()
        })
        .unwrap();
        let offline = mfcc.compute_samples(&samples);
        for chunk in [1, 160, 333, 800, 7000] {
            let mut stream = StreamingFeatures::new(&mfcc).unwrap();
            let mut data = Vec::new();
            for c in samples.chunks(chunk) {
                data.extend(stream.push(c).data);
            }
            data.extend(stream.finish().data);
            assert_eq!(data.len(), offline.data.len(), "chunk {chunk}");
            let max = data
                .iter()
                .zip(&offline.data)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0f32, f32::max);
            assert!(max < 1e-4, "chunk {chunk}: max diff {max}");
        }
        let per_utt = Mfcc::new(MfccConfig::default()).unwrap();
        assert!(StreamingFeatures::new(&per_utt).is_err());
    }
}
