//! A live session: audio from a source (an input device, or a WAV file fed like one) through a
//! streaming resampler into a [`LiveRecognizer`], its events handed to the caller as they come.
//!
//! A file goes the way a device does: at its own rate, in blocks of the capture size, through
//! the same resampler; at real-time pace when asked, else as fast as recognition goes.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use super::{EndpointConfig, Event, LiveRecognizer};
use crate::audio::capture::{BLOCK_SECONDS, Capture};
use crate::audio::stream::StreamResampler;
use crate::audio::{SAMPLE_RATE, decode};
use crate::error::Error;
use crate::recognizer::Recognizer;

/// Where a session's audio comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// An input device by its id (see [`crate::audio::capture::list_input_devices`]), or the
    /// system's default input.
    Device(Option<String>),
    /// A WAV file, delivered at real-time pace or as fast as possible.
    File { path: PathBuf, realtime: bool },
}

/// Session settings.
#[derive(Debug, Clone, Default)]
pub struct SessionConfig {
    pub endpoint: EndpointConfig,
    /// Stop after this many seconds of audio (none: until the source ends or `stop` is set).
    pub max_seconds: Option<f64>,
}

/// What a session reports, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Update {
    /// The input device is open and capturing at its own rate (or a file fed at real-time
    /// pace starts playing: its path and rate).
    Listening { device: String, sample_rate: u32 },
    /// A partial or final hypothesis.
    Event(Event),
}

/// How a session ended.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// Seconds of (16 kHz) audio given to the recogniser.
    pub seconds: f64,
    /// Capture blocks dropped because recognition fell behind.
    pub dropped_blocks: u64,
    /// The input device, when it stopped delivering audio before the session was over.
    pub lost_device: Option<String>,
}

/// Run `rec` live on `source` until the source ends, `cfg.max_seconds` of audio have gone
/// through, or `stop` is set; then the utterance in progress is flushed as a final.
///
/// Every update goes to `on_update` as it comes; an error it returns ends the session at once
/// and is returned. Library errors (the file or device cannot be opened) are converted into
/// the caller's error type.
pub fn run<E: From<Error>>(
    rec: &Recognizer,
    source: &Source,
    cfg: &SessionConfig,
    stop: &AtomicBool,
    mut on_update: impl FnMut(Update) -> Result<(), E>,
) -> Result<Summary, E> {
    let limit = cfg
        .max_seconds
        .map(|d| (d.max(0.0) * SAMPLE_RATE as f64) as u64);
    let mut feed = Feed {
        live: LiveRecognizer::new(rec, cfg.endpoint.clone()),
        limit,
        fed: 0,
    };
    let stopped = || stop.load(Ordering::SeqCst);
    match source {
        Source::File { path, realtime } => {
            let wave = decode::read_native_any(path)?;
            let rate = wave.sample_rate();
            let mut resampler =
                StreamResampler::new(rate).map_err(|kind| Error::audio(path, kind))?;
            let block = ((rate as f32 * BLOCK_SECONDS) as usize).max(1);
            if *realtime {
                // Played like a device from here on: the clock a client times events by.
                on_update(Update::Listening {
                    device: path.display().to_string(),
                    sample_rate: rate,
                })?;
            }
            let started = Instant::now();
            let mut whole = true;
            for (i, c) in wave.samples().chunks(block).enumerate() {
                if *realtime {
                    // A block is handed over once its last sample would have been captured.
                    let due = Duration::from_secs_f64((i * block + c.len()) as f64 / rate as f64);
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        std::thread::sleep(wait);
                    }
                }
                if stopped() || !feed.push(&resampler.push(c), &mut on_update)? {
                    whole = false;
                    break;
                }
            }
            if whole {
                // The resampler's last samples: the end of a file at another rate.
                feed.push(&resampler.finish(), &mut on_update)?;
            }
            feed.finish(&mut on_update)?;
            Ok(feed.summary())
        }
        Source::Device(id) => {
            let capture = Capture::start(id.as_deref())?;
            on_update(Update::Listening {
                device: capture.device.clone(),
                sample_rate: capture.sample_rate,
            })?;
            let mut resampler = StreamResampler::new(capture.sample_rate)
                .map_err(|e| Error::Device(format!("{}: {e}", capture.device)))?;
            let mut lost = false;
            while !stopped() {
                if capture.failed() {
                    lost = true;
                    break;
                }
                match capture.chunks.recv_timeout(Duration::from_millis(100)) {
                    Ok(chunk) => {
                        if !feed.push(&resampler.push(&chunk), &mut on_update)? {
                            break;
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => {
                        lost = true;
                        break;
                    }
                }
            }
            feed.finish(&mut on_update)?;
            Ok(Summary {
                dropped_blocks: capture.overflows(),
                lost_device: lost.then(|| capture.device.clone()),
                ..feed.summary()
            })
        }
    }
}

/// The recogniser and the audio budget.
struct Feed<'r> {
    live: LiveRecognizer<'r>,
    /// Most samples to feed.
    limit: Option<u64>,
    fed: u64,
}

impl Feed<'_> {
    /// Feed 16 kHz samples up to the limit; false once it is reached.
    fn push<E>(
        &mut self,
        samples: &[f32],
        on_update: &mut impl FnMut(Update) -> Result<(), E>,
    ) -> Result<bool, E> {
        let take = match self.limit {
            Some(l) => (l.saturating_sub(self.fed) as usize).min(samples.len()),
            None => samples.len(),
        };
        self.fed += take as u64;
        for e in self.live.push(&samples[..take]) {
            on_update(Update::Event(e))?;
        }
        Ok(self.limit.is_none_or(|l| self.fed < l))
    }

    fn finish<E>(&mut self, on_update: &mut impl FnMut(Update) -> Result<(), E>) -> Result<(), E> {
        for e in self.live.finish() {
            on_update(Update::Event(e))?;
        }
        Ok(())
    }

    fn summary(&self) -> Summary {
        Summary {
            seconds: self.fed as f64 / SAMPLE_RATE as f64,
            ..Summary::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{builtin_recognizer, noise_wav, speech_sample};

    fn file(path: PathBuf) -> Source {
        Source::File {
            path,
            realtime: false,
        }
    }

    /// Run to the end, collecting the updates.
    fn collect(
        rec: &Recognizer,
        source: &Source,
        cfg: &SessionConfig,
        stop: &AtomicBool,
    ) -> crate::Result<(Summary, Vec<Update>)> {
        let mut updates = Vec::new();
        let summary = run(rec, source, cfg, stop, |u| {
            updates.push(u);
            Ok::<_, Error>(())
        })?;
        Ok((summary, updates))
    }

    #[test]
    fn a_file_at_another_rate_stops_at_the_duration_limit() {
        let Some(rec) = builtin_recognizer() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = noise_wav(dir.path(), "8k.wav", 8000, 2.0, None);
        let cfg = SessionConfig {
            max_seconds: Some(0.5),
            ..Default::default()
        };
        let stop = AtomicBool::new(false);
        let (summary, updates) = collect(&rec, &file(path), &cfg, &stop).unwrap();
        assert_eq!(summary.seconds, 0.5);
        assert_eq!(summary.dropped_blocks, 0);
        assert_eq!(summary.lost_device, None);
        assert!(
            !updates
                .iter()
                .any(|u| matches!(u, Update::Listening { .. }))
        );
    }

    #[test]
    fn a_file_at_real_time_pace_announces_itself_and_takes_its_own_duration() {
        let Some(rec) = builtin_recognizer() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = noise_wav(dir.path(), "8k.wav", 8000, 0.4, None);
        let source = Source::File {
            path: path.clone(),
            realtime: true,
        };
        let started = std::time::Instant::now();
        let (summary, updates) = collect(
            &rec,
            &source,
            &SessionConfig::default(),
            &AtomicBool::new(false),
        )
        .unwrap();
        // Each block is handed over once its last sample would have been captured, so the
        // whole file takes at least its duration.
        assert!(started.elapsed().as_secs_f64() >= 0.4);
        assert_eq!(summary.seconds, 0.4);
        assert_eq!(
            updates.first(),
            Some(&Update::Listening {
                device: path.display().to_string(),
                sample_rate: 8000
            })
        );
    }

    #[test]
    fn a_raised_stop_flag_feeds_nothing_and_a_missing_file_is_an_error() {
        let Some(rec) = builtin_recognizer() else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let path = noise_wav(dir.path(), "16k.wav", SAMPLE_RATE, 1.0, None);
        let (summary, updates) = collect(
            &rec,
            &file(path),
            &SessionConfig::default(),
            &AtomicBool::new(true),
        )
        .unwrap();
        assert_eq!(summary.seconds, 0.0);
        assert!(updates.is_empty());
        let missing = file(dir.path().join("missing.wav"));
        let e = collect(
            &rec,
            &missing,
            &SessionConfig::default(),
            &AtomicBool::new(false),
        )
        .unwrap_err();
        assert!(matches!(e, Error::Audio { .. }), "{e}");
    }

    #[test]
    fn speech_gives_a_final_and_a_failing_consumer_ends_the_session() {
        let Some(rec) = builtin_recognizer() else {
            return;
        };
        let source = file(speech_sample());
        let cfg = SessionConfig::default();
        let stop = AtomicBool::new(false);
        let (summary, updates) = collect(&rec, &source, &cfg, &stop).unwrap();
        assert!(summary.seconds > 1.0);
        let finals: Vec<&Event> = updates
            .iter()
            .filter_map(|u| match u {
                Update::Event(e @ Event::Final { .. }) => Some(e),
                _ => None,
            })
            .collect();
        assert!(!finals.is_empty(), "{updates:?}");
        let mut calls = 0;
        let e = run(&rec, &source, &cfg, &stop, |_| {
            calls += 1;
            Err(Error::Data("consumer gone".into()))
        })
        .unwrap_err();
        assert_eq!(e.to_string(), "consumer gone");
        assert_eq!(calls, 1);
    }
}
