//! Progress bars and log lines for the library's event streams.

use hark::corpus::synth::SynthEvent;
use hark::train::{DEV_NOISY_SNR_DB, TrainEvent};
use indicatif::{ProgressBar, ProgressStyle};

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
}

impl TrainPrinter {
    pub(crate) fn new(progress: bool) -> Self {
        Self {
            progress,
            bar: ProgressBar::hidden(),
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
            }
            TrainEvent::Step {
                loss,
                utterances_per_s,
            } => {
                self.bar
                    .set_message(format!("loss {loss:.3} | {utterances_per_s:.1} utt/s"));
                self.bar.inc(1);
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

/// Prints `corpus synth` events to standard error: a bar over the utterances, failures and
/// missing engines as lines.
#[derive(Default)]
pub(crate) struct SynthPrinter {
    bar: std::sync::OnceLock<ProgressBar>,
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
