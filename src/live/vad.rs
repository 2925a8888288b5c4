//! Energy voice-activity detection with an adaptive noise floor.
//!
//! The signal is cut into 10 ms frames. A frame is voiced when its energy is at least
//! `threshold_db` above the noise floor and above an absolute gate. The floor follows the
//! quietest recent frames: it drops at once to a quieter frame and rises slowly (`rise_db_per_s`),
//! so stationary background noise raises the floor rather than counting as speech, while a
//! word (a few hundred ms) barely moves it.
//!
//! Separately, each frame is *audible* when it is above the absolute gate: the recogniser does
//! not decode stretches with nothing audible (near-digital silence), whatever the floor says —
//! in loud noise every frame is audible, so nothing the model hears is thrown away there.

use std::collections::VecDeque;

use crate::audio::SAMPLE_RATE;

/// Energy detector settings.
#[derive(Debug, Clone)]
pub struct VadConfig {
    /// A frame is voiced this many dB above the noise floor.
    pub threshold_db: f64,
    /// Frames below this level (dBFS) are never voiced, nor audible.
    pub gate_dbfs: f64,
    /// How fast the floor may rise, in dB per second.
    pub rise_db_per_s: f64,
    /// The detector is trusted for endpoints only while the speech peaks are this many dB
    /// above the floor (in heavy noise its "silence" also covers quiet speech).
    pub reliable_margin_db: f64,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            threshold_db: 12.0,
            gate_dbfs: crate::audio::AUDIBLE_DBFS as f64,
            rise_db_per_s: 3.0,
            reliable_margin_db: 25.0,
        }
    }
}

/// Frame length in samples (10 ms at 16 kHz).
pub const FRAME: usize = SAMPLE_RATE as usize / 100;

/// Frames of decisions kept for [`EnergyVad::audible_between`] (60 s); older ones count as
/// voiced.
const HISTORY_FRAMES: usize = 6000;

/// Streaming energy detector over 16 kHz samples.
#[derive(Debug, Clone)]
pub struct EnergyVad {
    cfg: VadConfig,
    floor_db: Option<f64>,
    /// Samples of an incomplete frame carried to the next push.
    pending: Vec<f32>,
    /// Samples consumed so far (whole frames only).
    position: u64,
    /// Stream position just after the last voiced frame, if any.
    last_voiced_end: Option<u64>,
    /// Recent speech peak level: jumps up to louder frames, decays 2 dB/s.
    peak_db: Option<f64>,
    /// Audibility of the last frames, newest at the back (bounded by `HISTORY_FRAMES`).
    history: VecDeque<bool>,
}

/// Energy of a frame in dBFS (a full-scale sine is about −3 dBFS).
fn frame_db(frame: &[f32]) -> f64 {
    let rms = crate::audio::rms(frame) as f64;
    20.0 * (rms.max(1e-6)).log10()
}

impl EnergyVad {
    pub fn new(cfg: VadConfig) -> Self {
        Self {
            cfg,
            floor_db: None,
            pending: Vec::with_capacity(FRAME),
            position: 0,
            last_voiced_end: None,
            peak_db: None,
            history: VecDeque::with_capacity(HISTORY_FRAMES),
        }
    }

    /// Consume samples; the decision for complete frames is available at once.
    pub fn push(&mut self, samples: &[f32]) {
        let mut rest = samples;
        if !self.pending.is_empty() {
            let need = FRAME - self.pending.len();
            let take = need.min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() < FRAME {
                return;
            }
            let frame = std::mem::take(&mut self.pending);
            self.frame(&frame);
            self.pending = frame;
            self.pending.clear();
        }
        let mut frames = rest.chunks_exact(FRAME);
        for f in frames.by_ref() {
            self.frame(f);
        }
        self.pending.extend_from_slice(frames.remainder());
    }

    fn frame(&mut self, frame: &[f32]) {
        let db = frame_db(frame);
        let rise = self.cfg.rise_db_per_s * FRAME as f64 / SAMPLE_RATE as f64;
        let floor = match self.floor_db {
            Some(f) if db >= f => f + rise,
            _ => db,
        };
        self.floor_db = Some(floor);
        let decay = 2.0 * FRAME as f64 / SAMPLE_RATE as f64;
        self.peak_db = Some(self.peak_db.map_or(db, |p| (p - decay).max(db)));
        self.position += FRAME as u64;
        let audible = db >= self.cfg.gate_dbfs;
        if audible && db >= floor + self.cfg.threshold_db {
            self.last_voiced_end = Some(self.position);
        }
        if self.history.len() == HISTORY_FRAMES {
            self.history.pop_front();
        }
        self.history.push_back(audible);
    }

    /// Whether any frame overlapping stream samples `start..end` was audible (frames older
    /// than the history count as audible; frames not yet complete as inaudible).
    pub fn audible_between(&self, start: u64, end: u64) -> bool {
        let frames = self.position / FRAME as u64;
        let first_kept = frames - self.history.len() as u64;
        let (a, b) = (start / FRAME as u64, end.div_ceil(FRAME as u64).min(frames));
        if a < first_kept {
            return true;
        }
        (a..b).any(|f| self.history[(f - first_kept) as usize])
    }

    /// Seconds since the last voiced frame ended (since the stream start if none was voiced).
    pub fn silence_s(&self) -> f64 {
        let since = self.position - self.last_voiced_end.unwrap_or(0);
        since as f64 / SAMPLE_RATE as f64
    }

    /// Whether recent speech stands far enough above the noise floor for the silence
    /// decision to mean silence (a clean or moderately noisy room, not loud noise).
    pub fn reliable(&self) -> bool {
        match (self.peak_db, self.floor_db) {
            (Some(p), Some(f)) => p - f >= self.cfg.reliable_margin_db,
            _ => false,
        }
    }

    /// Whether any frame so far was voiced.
    pub fn heard_speech(&self) -> bool {
        self.last_voiced_end.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(seconds: f64, amplitude: f32) -> Vec<f32> {
        let n = (seconds * SAMPLE_RATE as f64) as usize;
        (0..n).map(|i| amplitude * (i as f32 * 0.2).sin()).collect()
    }

    fn noise(seconds: f64, amplitude: f32, seed: u64) -> Vec<f32> {
        let mut s = seed;
        let n = (seconds * SAMPLE_RATE as f64) as usize;
        (0..n)
            .map(|_| {
                s = s
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                amplitude * (((s >> 33) as f32 / (1u64 << 31) as f32) - 0.5)
            })
            .collect()
    }

    #[test]
    fn silence_after_a_tone_is_measured_from_its_end() {
        let mut vad = EnergyVad::new(VadConfig::default());
        vad.push(&vec![0.0; 8000]);
        assert!(!vad.heard_speech());
        vad.push(&tone(0.5, 0.3));
        assert!(vad.heard_speech());
        assert!(vad.silence_s() < 0.011);
        vad.push(&vec![0.0; 4800]);
        assert!((vad.silence_s() - 0.3).abs() < 0.011, "{}", vad.silence_s());
    }

    #[test]
    fn audible_between_finds_the_tone() {
        let mut vad = EnergyVad::new(VadConfig::default());
        vad.push(&vec![0.0; 8000]);
        vad.push(&tone(0.5, 0.3));
        vad.push(&vec![0.0; 8000]);
        assert!(!vad.audible_between(0, 7900));
        assert!(vad.audible_between(7900, 8100));
        assert!(vad.audible_between(10_000, 12_000));
        assert!(!vad.audible_between(16_200, 24_000));
        assert!(!vad.audible_between(30_000, 40_000), "not yet heard");
    }

    #[test]
    fn odd_push_sizes_give_the_same_decisions() {
        let mut signal = noise(1.0, 0.01, 1);
        signal.extend(tone(0.4, 0.3));
        signal.extend(noise(0.7, 0.01, 2));
        let mut whole = EnergyVad::new(VadConfig::default());
        whole.push(&signal);
        let mut pieces = EnergyVad::new(VadConfig::default());
        for c in signal.chunks(37) {
            pieces.push(c);
        }
        assert_eq!(whole.silence_s(), pieces.silence_s());
        assert!(
            (whole.silence_s() - 0.7).abs() < 0.021,
            "{}",
            whole.silence_s()
        );
    }

    #[test]
    fn reliable_in_quiet_not_in_loud_noise() {
        let mut quiet = EnergyVad::new(VadConfig::default());
        quiet.push(&noise(1.0, 0.001, 5));
        quiet.push(&tone(0.5, 0.3));
        quiet.push(&noise(0.3, 0.001, 6));
        assert!(quiet.reliable());
        let mut loud = EnergyVad::new(VadConfig::default());
        loud.push(&noise(1.0, 0.2, 7));
        loud.push(&tone(0.5, 0.3));
        loud.push(&noise(0.3, 0.2, 8));
        assert!(!loud.reliable());
    }

    #[test]
    fn stationary_noise_is_not_speech_but_speech_over_it_is() {
        let mut vad = EnergyVad::new(VadConfig::default());
        vad.push(&noise(3.0, 0.05, 3));
        assert!(!vad.heard_speech(), "steady noise counted as speech");
        vad.push(&tone(0.3, 0.4));
        assert!(vad.heard_speech());
    }
}
