//! Long recordings in bounded memory. Audio arrives in blocks; it is cut into windows at the
//! quietest point near each nominal boundary, and every window is recognised with some context
//! on both sides. The words a window shares with the next one are held back until the next one
//! is decoded; then the cut moves to the nearest gap that neither window's words cross, and each
//! word is kept by the one window whose side of that cut holds the word's middle, so a word at a
//! cut is neither lost nor duplicated even when the two windows split it differently. A word
//! that the earlier window missed altogether is kept from the later window's context, when it
//! lies wholly after every word already kept. At most one window plus context is held, whatever
//! the length of the recording.

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
    /// The last window's words that the next window hears too, held back until the two agree
    /// where to cut (in time order, on the recording's clock).
    pending: Vec<Word>,
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
            pending: Vec::new(),
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
            let mut kept = self.settle(found);
            // The next window decodes from `cut − context`: what ends after that, it hears too.
            let next_from = cut.saturating_sub(context);
            let held = kept.iter().position(|w| w.end > seconds_at(next_from));
            self.pending = kept.split_off(held.unwrap_or(kept.len()));
            self.note_kept(&kept);
            words.extend(kept);
            self.core_start = cut;
            let drop_to = next_from.max(self.buf_start);
            self.buf.drain(..drop_to - self.buf_start);
            self.buf_start = drop_to;
        }
        words
    }

    /// End of the recording: the words of the last window.
    pub fn finish(mut self) -> Vec<Word> {
        let (core, end) = (self.core_start, self.total);
        let found = self.recognise(core, end);
        self.buf.clear();
        self.settle(found)
    }

    /// Join the held-back words of the last window with `found`, the words of the window that
    /// starts at `core_start`: the earlier window's words before the cut both agree on, then
    /// this window's words from it on. The first window has nothing held back and nothing kept
    /// before it (`kept_end` 0), so all its words stay.
    fn settle(&mut self, found: Vec<Word>) -> Vec<Word> {
        let cut = seconds_at(self.core_start);
        let reach = self.cfg.context_s / 4.0;
        let pending = std::mem::take(&mut self.pending);
        join_at_cut(pending, found, cut, reach, self.kept_end)
    }

    fn note_kept(&mut self, kept: &[Word]) {
        if let Some(last) = kept.last() {
            self.kept_end = self.kept_end.max(last.end);
        }
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

/// The words whose middle lies at or after `from` (seconds), and, before it, the words that
/// start at or after `kept_end`: the earlier window did not hear them, or a word of its own
/// would end after their start.
fn keep_from(words: Vec<Word>, from: f64, kept_end: f64) -> Vec<Word> {
    words
        .into_iter()
        .filter(|w| middle(w) >= from || w.start >= kept_end)
        .collect()
}

/// How far from a word's edge an agreed cut stays, seconds.
const CUT_MARGIN: f64 = 0.05;

/// A time within `reach` seconds of `cut` that no word of either window crosses, nearest
/// `cut`; `None` when their words leave no common gap there.
fn agreed_cut(earlier: &[Word], later: &[Word], cut: f64, reach: f64) -> Option<f64> {
    let (lo, hi) = (cut - reach, cut + reach);
    let mut spans: Vec<(f64, f64)> = earlier
        .iter()
        .chain(later)
        .map(|w| (w.start, w.end))
        .filter(|&(start, end)| end > lo && start < hi)
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut gaps = Vec::new();
    let mut free_from = lo;
    for (start, end) in spans {
        if start > free_from {
            gaps.push((free_from, start));
        }
        free_from = free_from.max(end);
    }
    if free_from < hi {
        gaps.push((free_from, hi));
    }
    gaps.into_iter()
        .map(|(a, b)| {
            let margin = CUT_MARGIN.min((b - a) / 2.0);
            cut.clamp(a + margin, b - margin)
        })
        .min_by(|a, b| (a - cut).abs().total_cmp(&(b - cut).abs()))
}

/// The earlier window's held-back words before the cut both windows agree on (within `reach`
/// of `cut`, or `cut` itself when they agree on none), then the later window's words from there
/// on, and those of its words before it that start after every word kept (`kept_end`, now or
/// from the earlier window).
fn join_at_cut(
    earlier: Vec<Word>,
    later: Vec<Word>,
    cut: f64,
    reach: f64,
    kept_end: f64,
) -> Vec<Word> {
    let at = agreed_cut(&earlier, &later, cut, reach).unwrap_or(cut);
    let mut words: Vec<Word> = earlier.into_iter().filter(|w| middle(w) < at).collect();
    let kept_end = words.last().map_or(kept_end, |w| kept_end.max(w.end));
    words.extend(keep_from(later, at, kept_end));
    words
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

    fn spelled(words: Vec<Word>) -> Vec<String> {
        words.into_iter().map(|w| w.word).collect()
    }

    /// A window's words around a cut at 8.4 s. The earlier window kept words up to "fox"
    /// (ending 7.98 s) and missed "jumps" (8.18–8.36), so its cut fell inside that word. The
    /// later window, decoding from 6.9 s, reads "fox" again (before the cut and overlapping what
    /// was kept: dropped), "jumps" (before the cut but after everything kept: kept) and "over"
    /// (after the cut: kept).
    #[test]
    fn a_word_the_earlier_window_missed_is_kept_from_the_later_ones_context() {
        let later = vec![
            word("brown", 7.35, 7.65),
            word("fox", 7.80, 7.98),
            word("jumps", 8.18, 8.36),
            word("over", 8.56, 8.89),
        ];
        assert_eq!(
            spelled(keep_from(later.clone(), 8.4, 7.98)),
            ["jumps", "over"]
        );
        // Had the earlier window read "jumps" and kept it, only "over" would remain.
        assert_eq!(spelled(keep_from(later.clone(), 8.4, 8.36)), ["over"]);
        // Joined at the cut: the earlier window held back "fox" (and heard nothing after it).
        // The only gaps neither window's words cross within 0.5 s of 8.4 s are 7.98–8.18
        // (nearest point to 8.4 with the 0.05 s margin: 8.13) and 8.36–8.56 (8.41); 8.41 is
        // nearer, so the earlier window keeps "fox" (middle 7.89) and the later one gives
        // "jumps" (middle 8.27 < 8.41, but it starts after "fox" ends) and "over".
        let earlier = vec![word("fox", 7.80, 7.98)];
        let at = agreed_cut(&earlier, &later, 8.4, 0.5).unwrap();
        assert!((at - 8.41).abs() < 1e-9, "{at}");
        let joined = join_at_cut(earlier, later, 8.4, 0.5, 7.65);
        assert_eq!(spelled(joined), ["fox", "jumps", "over"]);
    }

    /// The case of docs/long-recordings.md: the earlier window read "fox" (7.80–7.98) and
    /// "jumps" (8.18–8.36) and cut between them at 8.09 s; the later window read them as one
    /// word, "fuxcum" (7.81–8.35), whose middle (8.08) fell just before that cut. Cutting at 8.09
    /// keeps "fox" from the earlier window and drops "fuxcum" (it starts before "fox" ends), so
    /// "jumps" is lost. Within 0.5 s of 8.09 the stretches that neither window's words cross are
    /// 7.59–7.80 (nearest point to the cut with the 0.05 s margin: 7.75, 0.34 away) and
    /// 8.36–8.57 (8.41, 0.32 away), so the windows agree on 8.41: the earlier one keeps "fox" and
    /// "jumps"; the later one's "fuxcum" (middle 8.08, starting before "jumps" ends) is dropped
    /// and its "over" (middle 8.735) kept.
    #[test]
    fn windows_that_split_a_word_differently_agree_on_a_cut_outside_it() {
        let earlier = vec![
            word("fox", 7.80, 7.98),
            word("jumps", 8.18, 8.36),
            word("over", 8.57, 8.89),
        ];
        let later = vec![word("fuxcum", 7.81, 8.35), word("over", 8.57, 8.90)];
        let cut = 8.09;
        let at = agreed_cut(&earlier, &later, cut, 0.5).unwrap();
        assert!((at - 8.41).abs() < 1e-9, "{at}");
        let joined = join_at_cut(earlier.clone(), later.clone(), cut, 0.5, 7.5);
        assert_eq!(spelled(joined), ["fox", "jumps", "over"]);
        // Without agreement (no reach), the cut stays at 8.09: "jumps" is lost.
        let joined = join_at_cut(earlier, later, cut, 0.0, 7.5);
        assert_eq!(spelled(joined), ["fox", "over"]);
    }

    /// When the windows' words cover the whole reach, there is no agreed cut and the window's
    /// own cut is kept.
    #[test]
    fn no_common_gap_keeps_the_windows_cut() {
        let earlier = vec![word("alpha", 7.0, 8.2), word("beta", 8.2, 9.0)];
        let later = vec![word("alphabet", 7.1, 9.0)];
        assert_eq!(agreed_cut(&earlier, &later, 8.1, 0.5), None);
        assert_eq!(agreed_cut(&[], &[], 8.1, 0.5), Some(8.1));
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
