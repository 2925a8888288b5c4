//! Long recordings in bounded memory. Audio arrives in blocks; it is cut into windows at the
//! quietest point near each nominal boundary, every window is recognised with some context on
//! both sides, and each word is kept by the one window whose core holds the word's middle, so a
//! word at a cut is neither lost nor duplicated. A word that the earlier window missed (the cut
//! then lands in what it took for a gap) is kept from the later window's context, when it lies
//! wholly after every word already kept. At most one window plus context is held, whatever the
//! length of the recording.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::audio::{AudioBlocks, SAMPLE_RATE, Waveform, rms};
use crate::error::{Error, Result};
use crate::recognizer::{Recognizer, Transcript, Word, text_of};

/// How a long recording is cut.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChunkConfig {
    /// Nominal core length of a window, seconds.
    pub window_s: f64,
    /// Audio decoded on each side of a core, seconds.
    pub context_s: f64,
    /// How far before the nominal boundary to look for a quiet cut, seconds.
    pub search_s: f64,
}

impl Default for ChunkConfig {
    fn default() -> Self {
        Self {
            window_s: 20.0,
            context_s: 2.0,
            search_s: 4.0,
        }
    }
}

impl ChunkConfig {
    pub fn validate(&self) -> Result<()> {
        let ok = self.window_s.is_finite()
            && self.context_s.is_finite()
            && self.search_s.is_finite()
            && self.window_s >= 1.0
            && self.context_s >= 0.0
            && self.search_s >= 0.0
            && self.search_s < self.window_s;
        if ok {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "chunking needs window ≥ 1 s, context ≥ 0, 0 ≤ search < window (got {self:?})"
            )))
        }
    }

    /// Most samples a [`LongTranscriber`] holds at once.
    pub fn max_buffered_samples(&self) -> usize {
        secs(self.window_s + 2.0 * self.context_s) + BLOCK_SLACK
    }
}

/// Input block size the buffer bound allows for on top of a window.
const BLOCK_SLACK: usize = SAMPLE_RATE as usize * 5;

fn secs(s: f64) -> usize {
    (s * SAMPLE_RATE as f64).round() as usize
}

/// Recognises a recording of any length pushed block by block.
pub struct LongTranscriber<'a> {
    rec: &'a Recognizer,
    cfg: ChunkConfig,
    /// Audio from sample `buf_start` (absolute) on.
    buf: Vec<f32>,
    buf_start: usize,
    /// Where the next window's core begins (absolute sample).
    core_start: usize,
    /// Where the last word kept so far ends (seconds on the recording's clock).
    kept_end: f64,
    total: usize,
}

impl<'a> LongTranscriber<'a> {
    pub fn new(rec: &'a Recognizer, cfg: ChunkConfig) -> Result<Self> {
        cfg.validate()?;
        Ok(Self {
            rec,
            cfg,
            buf: Vec::new(),
            buf_start: 0,
            core_start: 0,
            kept_end: 0.0,
            total: 0,
        })
    }

    /// Seconds of audio pushed so far.
    pub fn seconds(&self) -> f64 {
        self.total as f64 / SAMPLE_RATE as f64
    }

    /// Add 16 kHz samples; returns the words whose windows are complete, in order.
    pub fn push(&mut self, samples: &[f32]) -> Vec<Word> {
        self.buf.extend_from_slice(samples);
        self.total += samples.len();
        let (window, context, search) = (
            secs(self.cfg.window_s),
            secs(self.cfg.context_s),
            secs(self.cfg.search_s),
        );
        let mut words = Vec::new();
        while self.total >= self.core_start + window + context {
            let nominal = self.core_start + window;
            let quiet = self.quiet_point(nominal - search, nominal);
            let end = (quiet + context).min(self.total);
            let found = self.recognise(self.core_start, end);
            let cut = snap_to_word_gap(&found, self.core_start, quiet, quiet + context / 2);
            let kept = keep_between(found, self.core_start, Some(cut), self.kept_end);
            self.kept_end = kept.last().map_or(self.kept_end, |w| w.end);
            words.extend(kept);
            self.core_start = cut;
            let keep_from = cut.saturating_sub(context).max(self.buf_start);
            self.buf.drain(..keep_from - self.buf_start);
            self.buf_start = keep_from;
        }
        words
    }

    /// End of the recording: the words of the last window.
    pub fn finish(mut self) -> Vec<Word> {
        let (core, end) = (self.core_start, self.total);
        let found = self.recognise(core, end);
        self.buf.clear();
        keep_between(found, core, None, self.kept_end)
    }

    /// The middle of the quietest 100 ms between absolute samples `lo` and `hi`.
    fn quiet_point(&self, lo: usize, hi: usize) -> usize {
        const FRAME: usize = SAMPLE_RATE as usize / 100;
        const SPAN: usize = 10;
        let lo = lo.max(self.buf_start);
        let region = &self.buf[lo - self.buf_start..hi - self.buf_start];
        let energy: Vec<f32> = region.chunks(FRAME).map(rms).collect();
        if energy.len() <= SPAN {
            return hi;
        }
        let mut sum: f32 = energy[..SPAN].iter().sum();
        let (mut best, mut best_at) = (sum, 0);
        for i in SPAN..energy.len() {
            sum += energy[i] - energy[i - SPAN];
            if sum < best {
                (best, best_at) = (sum, i + 1 - SPAN);
            }
        }
        lo + (best_at * FRAME + SPAN * FRAME / 2).min(hi - lo)
    }

    /// Recognise `[core − context, end)`; words on the recording's clock.
    fn recognise(&self, core: usize, end: usize) -> Vec<Word> {
        let from = core
            .saturating_sub(secs(self.cfg.context_s))
            .max(self.buf_start);
        if end <= from {
            return Vec::new();
        }
        let samples = self.buf[from - self.buf_start..end - self.buf_start].to_vec();
        let Some(wave) = Waveform::new(samples, SAMPLE_RATE) else {
            return Vec::new();
        };
        let offset = from as f64 / SAMPLE_RATE as f64;
        self.rec
            .transcribe(&wave)
            .words
            .into_iter()
            .map(|w| Word {
                start: w.start + offset,
                end: w.end + offset,
                ..w
            })
            .collect()
    }
}

fn seconds_at(sample: usize) -> f64 {
    sample as f64 / SAMPLE_RATE as f64
}

fn middle(w: &Word) -> f64 {
    (w.start + w.end) / 2.0
}

/// The words whose middle lies in `[from, to)` (samples; no upper end when `to` is `None`),
/// and, before `from`, the words that start at or after `kept_end` (seconds): the earlier
/// window did not hear them, or a word of its own would end after their start.
fn keep_between(words: Vec<Word>, from: usize, to: Option<usize>, kept_end: f64) -> Vec<Word> {
    let lo = seconds_at(from);
    words
        .into_iter()
        .filter(|w| {
            (middle(w) >= lo || w.start >= kept_end)
                && to.is_none_or(|to| middle(w) < seconds_at(to))
        })
        .collect()
}

/// Move a cut that falls inside a recognised word to the nearest gap between words in
/// `(after, before]`, so the next window starts at a word boundary this window agrees on.
fn snap_to_word_gap(words: &[Word], after: usize, cut: usize, before: usize) -> usize {
    let t = seconds_at(cut);
    if !words.iter().any(|w| w.start < t && t < w.end) {
        return cut;
    }
    let (lo, hi) = (seconds_at(after), seconds_at(before));
    words
        .windows(2)
        .map(|p| (p[0].end + p[1].start) / 2.0)
        .filter(|&g| g > lo && g <= hi)
        .min_by(|a, b| (a - t).abs().total_cmp(&(b - t).abs()))
        .map_or(cut, |g| (g * SAMPLE_RATE as f64).round() as usize)
}

/// A transcript from words found over `duration_s` seconds.
pub fn transcript(words: Vec<Word>, duration_s: f64) -> Transcript {
    Transcript {
        text: text_of(&words),
        duration_s,
        words,
    }
}

/// Recognise an in-memory waveform (16 kHz) the way a long recording is: in windows.
pub fn transcribe_chunked(
    rec: &Recognizer,
    wave: &Waveform,
    cfg: ChunkConfig,
) -> Result<Transcript> {
    let mut long = LongTranscriber::new(rec, cfg)?;
    let mut words = Vec::new();
    for block in wave.samples().chunks(SAMPLE_RATE as usize) {
        words.extend(long.push(block));
    }
    words.extend(long.finish());
    Ok(transcript(words, wave.duration_s()))
}

/// Stream an audio file through a [`LongTranscriber`], a second at a time, until it ends or
/// `stop` is set (then the transcript holds the words of the audio read so far).
///
/// An error before any audio was read (the file cannot be opened, its header or its first
/// block is unusable) is returned as such. An error after some audio (a truncated or corrupt
/// stretch) is returned beside the words recognised before it; the transcript's duration is
/// then the audio read up to the error.
pub fn transcribe_file(
    rec: &Recognizer,
    path: &Path,
    cfg: ChunkConfig,
    stop: &AtomicBool,
) -> Result<(Transcript, Option<Error>)> {
    let mut blocks = AudioBlocks::open(path)?;
    let mut long = LongTranscriber::new(rec, cfg)?;
    let mut words = Vec::new();
    let mut error = None;
    while !stop.load(Ordering::SeqCst) {
        match blocks.next_block(SAMPLE_RATE as usize) {
            Ok(Some(block)) => words.extend(long.push(&block)),
            Ok(None) => break,
            Err(e) if long.seconds() == 0.0 => return Err(e),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let seconds = long.seconds();
    words.extend(long.finish());
    Ok((transcript(words, seconds), error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AudioError;
    use crate::test_support::{builtin_recognizer, noise_wav};

    fn word(word: &str, start: f64, end: f64) -> Word {
        Word {
            word: word.into(),
            start,
            end,
            confidence: 0.9,
        }
    }

    /// A window's words around a cut at 8.4 s. The earlier window kept words up to "fox"
    /// (ending 7.98 s) and missed "jumps" (8.18–8.36), so its cut fell inside that word. The
    /// later window, decoding from 6.9 s, reads "fox" again (before the cut and overlapping what
    /// was kept: dropped), "jumps" (before the cut but after everything kept: kept) and "over"
    /// (its core: kept).
    #[test]
    fn a_word_the_earlier_window_missed_is_kept_from_the_later_ones_context() {
        let cut = secs(8.4);
        let later = vec![
            word("brown", 7.35, 7.65),
            word("fox", 7.80, 7.98),
            word("jumps", 8.18, 8.36),
            word("over", 8.56, 8.89),
        ];
        let kept: Vec<String> = keep_between(later.clone(), cut, None, 7.98)
            .into_iter()
            .map(|w| w.word)
            .collect();
        assert_eq!(kept, ["jumps", "over"]);
        // Had the earlier window read "jumps" and kept it, only "over" would remain.
        let kept: Vec<String> = keep_between(later, cut, Some(secs(9.0)), 8.36)
            .into_iter()
            .map(|w| w.word)
            .collect();
        assert_eq!(kept, ["over"]);
    }

    fn float_wav(dir: &Path, seconds: f64, bad: Option<(usize, f32)>) -> std::path::PathBuf {
        noise_wav(dir, "float.wav", SAMPLE_RATE, seconds, bad)
    }

    #[test]
    fn a_whole_file_is_complete_and_a_missing_one_an_error() {
        let Some(rec) = builtin_recognizer() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let stop = AtomicBool::new(false);
        let path = float_wav(dir.path(), 2.5, None);
        let (t, error) = transcribe_file(&rec, &path, ChunkConfig::default(), &stop).unwrap();
        assert!(error.is_none());
        assert!((t.duration_s - 2.5).abs() < 1e-9, "{}", t.duration_s);
        let missing = dir.path().join("missing.wav");
        let e = transcribe_file(&rec, &missing, ChunkConfig::default(), &stop).unwrap_err();
        assert!(matches!(e, Error::Audio { .. }), "{e}");
    }

    #[test]
    fn an_error_after_some_audio_keeps_what_came_before() {
        let Some(rec) = builtin_recognizer() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let stop = AtomicBool::new(false);
        // A corrupt sample in the second second: the first second is kept.
        let at = SAMPLE_RATE as usize * 3 / 2;
        let path = float_wav(dir.path(), 3.0, Some((at, f32::NAN)));
        let (t, error) = transcribe_file(&rec, &path, ChunkConfig::default(), &stop).unwrap();
        let error = error.expect("the bad sample is reported");
        assert!(
            matches!(
                &error,
                Error::Audio {
                    kind: AudioError::NonFinite { .. },
                    ..
                }
            ),
            "{error}"
        );
        assert!((t.duration_s - 1.0).abs() < 1e-9, "{}", t.duration_s);
        // In the first block there is no audio before it: the error is the result.
        let path = float_wav(dir.path(), 3.0, Some((10, f32::INFINITY)));
        let e = transcribe_file(&rec, &path, ChunkConfig::default(), &stop).unwrap_err();
        assert!(matches!(e, Error::Audio { .. }), "{e}");
    }

    #[test]
    fn a_truncated_file_is_refused_before_any_audio() {
        let Some(rec) = builtin_recognizer() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let stop = AtomicBool::new(false);
        let path = float_wav(dir.path(), 3.0, None);
        let bytes = std::fs::read(&path).unwrap();
        // Cut the last half second of samples; the header still promises three seconds.
        std::fs::write(&path, &bytes[..bytes.len() - SAMPLE_RATE as usize * 2]).unwrap();
        let e = transcribe_file(&rec, &path, ChunkConfig::default(), &stop).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Audio {
                    kind: AudioError::Truncated { .. },
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn a_raised_stop_flag_reads_nothing_more() {
        let Some(rec) = builtin_recognizer() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = float_wav(dir.path(), 2.0, None);
        let stop = AtomicBool::new(true);
        let (t, error) = transcribe_file(&rec, &path, ChunkConfig::default(), &stop).unwrap();
        assert!(error.is_none());
        assert_eq!(t.duration_s, 0.0);
        assert!(t.words.is_empty() && t.text.is_empty());
    }
}
