//! Progress bars and log lines for the library's event streams.
//!
//! On a terminal, progress is a bar. When standard error goes to a file (a long training or
//! synthesis run in the background), a bar draws nothing, so a progress line is written
//! instead, once a minute.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hark::corpus::synth::SynthEvent;
use hark::train::{DEV_NOISY_SNR_DB, TrainEvent};
use indicatif::{HumanDuration, ProgressBar, ProgressStyle};

/// How often a progress line is written when standard error is not a terminal.
const LOG_EVERY: Duration = Duration::from_secs(60);

/// Says when the next progress line of a log is due: every `every`, and only when standard
/// error is not a terminal (a terminal has the bar). Shared between threads.
struct LogTicker {
    every: Option<Duration>,
    last: Mutex<Instant>,
}

impl LogTicker {
    fn new(every: Duration) -> Self {
        Self::with_terminal(every, std::io::stderr().is_terminal())
    }

    fn with_terminal(every: Duration, terminal: bool) -> Self {
        Self {
            every: (!terminal).then_some(every),
            last: Mutex::new(Instant::now()),
        }
    }

    /// True at most once per period, and never on a terminal.
    fn due(&self) -> bool {
        let Some(every) = self.every else {
            return false;
        };
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() < every {
            return false;
        }
        *last = Instant::now();
        true
    }
}

/// "812/2677 batches (30%), 2.92/s, about 32 minutes left": a bar's state as words.
fn progress_words(bar: &ProgressBar, unit: &str) -> String {
    let pos = bar.position();
    let len = bar.length().unwrap_or(0).max(1);
    format!(
        "{pos}/{len} {unit} ({:.0}%), {:.2}/s, about {} left",
        100.0 * pos as f64 / len as f64,
        bar.per_sec(),
        HumanDuration(bar.eta())
    )
}

/// A bar of `len` steps with `template`, or a hidden one when `enabled` is false.
pub(crate) fn bar(enabled: bool, len: u64, template: &str) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar
}

/// Prints training events to standard error: warnings and notes as lines, each epoch as a
/// progress bar (unless `progress` is false) and a summary line.
pub(crate) struct TrainPrinter {
    progress: bool,
    bar: ProgressBar,
    log: LogTicker,
}

impl TrainPrinter {
    pub(crate) fn new(progress: bool) -> Self {
        Self {
            progress,
            bar: ProgressBar::hidden(),
            log: LogTicker::new(LOG_EVERY),
        }
    }

    pub(crate) fn event(&mut self, event: TrainEvent) {
        match event {
            TrainEvent::Warning(message) => self.bar.suspend(|| eprintln!("warning: {message}")),
            TrainEvent::ExtraTrainSet {
                path,
                utterances,
                repeat,
            } => eprintln!(
                "{}: {utterances} utterances, seen {repeat}x per epoch",
                path.display()
            ),
            TrainEvent::DataLoaded {
                train_utterances,
                train_hours,
                skipped,
                dev_utterances,
            } => eprintln!(
                "training on {train_utterances} utterances ({train_hours:.2} h), {skipped} \
                 skipped; dev {dev_utterances} utterances"
            ),
            TrainEvent::StartedFrom(source) => eprintln!("starting from the weights of {source}"),
            TrainEvent::Resumed { epoch, batch, step } => {
                eprintln!("resuming in epoch {epoch} after batch {batch} (step {step})")
            }
            TrainEvent::DataParallel { devices } => {
                eprintln!("data-parallel over {devices} devices")
            }
            TrainEvent::EpochStarted {
                epoch,
                epochs,
                batches,
                done,
            } => {
                self.bar = bar(
                    self.progress,
                    batches as u64,
                    "epoch {prefix} [{bar:30}] {pos}/{len} batches, {msg}, ETA {eta}",
                );
                self.bar.set_prefix(format!("{epoch}/{epochs}"));
                self.bar.set_position(done as u64);
                self.bar.reset_eta();
            }
            TrainEvent::Step {
                loss,
                utterances_per_s,
            } => {
                self.bar
                    .set_message(format!("loss {loss:.3} | {utterances_per_s:.1} utt/s"));
                self.bar.inc(1);
                if self.progress && self.log.due() {
                    eprintln!(
                        "epoch {}: {}, loss {loss:.3}",
                        self.bar.prefix(),
                        progress_words(&self.bar, "batches")
                    );
                }
            }
            TrainEvent::NonFiniteLoss { step } => self
                .bar
                .suspend(|| eprintln!("warning: non-finite loss at step {step}, batch skipped")),
            TrainEvent::EpochEnded { epochs, metrics: m } => {
                self.bar.finish_and_clear();
                for (name, score) in &m.more_dev {
                    eprintln!(
                        "epoch {}: {name}: WER {:.1}%, CER {:.1}%",
                        m.epoch, score.wer, score.cer
                    );
                }
                eprintln!(
                    "epoch {}/{epochs}: loss {:.4}, dev WER {}, CER {}; white {DEV_NOISY_SNR_DB} \
                     dB: WER {}, CER {}; {:.0} s ({:.1} utt/s)",
                    m.epoch,
                    m.train_loss,
                    percent(m.dev_wer),
                    percent(m.dev_cer),
                    percent(m.dev_noisy_wer),
                    percent(m.dev_noisy_cer),
                    m.seconds,
                    m.utterances_per_s
                );
            }
        }
    }

    /// Clears a bar left by a run that stopped inside an epoch.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn percent(v: Option<f64>) -> String {
    v.map_or("-".into(), |x| format!("{x:.1}%"))
}

/// Prints `corpus synth` events to standard error: a bar over the utterances (a line a minute
/// when standard error is not a terminal), failures and missing engines as lines.
pub(crate) struct SynthPrinter {
    bar: std::sync::OnceLock<ProgressBar>,
    log: LogTicker,
}

impl Default for SynthPrinter {
    fn default() -> Self {
        Self {
            bar: std::sync::OnceLock::new(),
            log: LogTicker::new(LOG_EVERY),
        }
    }
}

impl SynthPrinter {
    /// Called from several threads at once.
    pub(crate) fn event(&self, event: SynthEvent) {
        match event {
            SynthEvent::EngineMissing(engine) => {
                eprintln!("warning: {engine} not found; its voices are skipped")
            }
            SynthEvent::Planned { utterances } => {
                let _ = self.bar.set(bar(
                    true,
                    utterances as u64,
                    "{bar:40} {pos}/{len} utterances  {per_sec}  ETA {eta}  {msg}",
                ));
            }
            SynthEvent::Done => {
                if let Some(bar) = self.bar.get() {
                    bar.inc(1);
                    if self.log.due() {
                        eprintln!("synth: {}", progress_words(bar, "utterances"));
                    }
                }
            }
            SynthEvent::Failed { id, voice, message } => {
                let line = || eprintln!("failed {id} ({voice}): {message}");
                match self.bar.get() {
                    Some(bar) => bar.suspend(line),
                    None => line(),
                }
            }
        }
    }

    pub(crate) fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_lines_are_never_due_on_a_terminal() {
        let ticker = LogTicker::with_terminal(Duration::ZERO, true);
        assert!(!ticker.due());
    }

    #[test]
    fn log_lines_are_due_once_per_period_off_a_terminal() {
        let every_call = LogTicker::with_terminal(Duration::ZERO, false);
        assert!(every_call.due());
        assert!(every_call.due());
        let hourly = LogTicker::with_terminal(Duration::from_secs(3600), false);
        assert!(!hourly.due(), "the first line waits a whole period");
    }

    #[test]
    fn progress_words_give_position_share_and_rate() {
        let bar = ProgressBar::hidden();
        bar.set_length(8);
        bar.set_position(2);
        let words = progress_words(&bar, "utterances");
        assert!(words.starts_with("2/8 utterances (25%), "), "{words}");
        assert!(words.contains("/s, about "), "{words}");
        assert!(words.ends_with(" left"), "{words}");
    }
}
