//! `HARK_BENCH_FEED=cli|alsa` for `cargo bench --bench listen -- stream`: the stream goes
//! through the `hark` binary (`HARK_BENCH_BIN`, default `target/release/hark`; build it first)
//! instead of an in-process [`hark::live::LiveRecognizer`], the way a user runs it:
//! - `cli`: `hark listen --input stream.wav --realtime --format json`. The clock starts when it
//!   prints "listening on" (the file then plays like a device). `HARK_BENCH_FILE_RATE=HZ`
//!   writes the file at another rate, as a device at that rate delivers it.
//! - `alsa`: the real capture path, cpal on ALSA, with no sound card: ALSA's `file` plugin (as in
//!   `tests/it/listen.rs`) is the default capture device, and its input is a named pipe that
//!   this bench fills at real-time pace, at the device's rate, channels and sample format;
//!   `hark listen --format json --duration D` captures from it. A pipe read blocks until the
//!   audio is written, so the device delivers it no faster than a microphone would (a plain
//!   file behind the `file` plugin's clockless `null` slave is read far faster). The clock
//!   starts when the first block is written.
//!
//! Each block of 50 ms is handed over once its last sample would have been captured, as the
//! in-process feed does; each event is timed when its line arrives on hark's standard output.
//! CPU is hark's own (user + system time from `/proc/PID/stat`, last read before it exits).
//! The endpoint variables of the bench (`HARK_BENCH_SPEECH_END` and the rest) are passed as
//! the matching `listen` flags; `HARK_BENCH_NO_HEAD` has no flag and is refused.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hark::audio::SAMPLE_RATE;
use hark::live::Event;

use super::Fed;

/// How the stream reaches `hark listen`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Feed {
    /// `listen --input FILE --realtime`.
    Cli,
    /// cpal capturing from an ALSA `file` device that reads a paced named pipe.
    Alsa,
}

impl Feed {
    /// `HARK_BENCH_FEED`: `cli`, `alsa`, or unset (in process).
    pub fn from_env() -> Option<Self> {
        let feed = std::env::var("HARK_BENCH_FEED").ok()?;
        assert!(
            feed == "process" || std::env::var("HARK_BENCH_PACE").is_err(),
            "HARK_BENCH_PACE is for the in-process feed; the binary is fed at real-time pace"
        );
        match feed.as_str() {
            "cli" => Some(Self::Cli),
            "alsa" => Some(Self::Alsa),
            "" | "process" => None,
            other => panic!("HARK_BENCH_FEED is cli, alsa or process, not {other}"),
        }
    }
}

/// The bench's endpoint variables and the `listen` flags they stand for.
const ENDPOINT_FLAGS: [(&str, &str); 7] = [
    ("HARK_BENCH_VAD_SILENCE", "--vad-silence"),
    ("HARK_BENCH_TRAILING_SILENCE", "--max-trailing-silence"),
    ("HARK_BENCH_TRAILING_SPEECH", "--max-trailing-speech"),
    ("HARK_BENCH_SPEECH_END", "--speech-end"),
    ("HARK_BENCH_MODEL_END_HEAD", "--model-end-head"),
    ("HARK_BENCH_SENTENCE_END", "--sentence-end"),
    ("HARK_BENCH_SENTENCE_PROB", "--sentence-end-prob"),
];

/// Seconds per block handed to the device or written to the pipe.
const BLOCK_S: f64 = 0.05;

fn binary() -> PathBuf {
    let bin = std::env::var("HARK_BENCH_BIN").map_or_else(
        |_| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/hark"),
        PathBuf::from,
    );
    assert!(
        bin.is_file(),
        "{} not found: `cargo build --release` first, or set HARK_BENCH_BIN",
        bin.display()
    );
    bin
}

/// `hark listen --format json` with the bench's model and endpoint settings.
fn listen_command(home: &Path) -> Command {
    assert!(
        std::env::var_os("HARK_BENCH_NO_HEAD").is_none(),
        "HARK_BENCH_NO_HEAD has no `listen` flag; leave it unset with HARK_BENCH_FEED"
    );
    let mut cmd = Command::new(binary());
    cmd.args(["listen", "--format", "json"]).env("HOME", home);
    if let Ok(model) = std::env::var("HARK_BENCH_MODEL") {
        cmd.arg("--model").arg(model);
    }
    for (var, flag) in ENDPOINT_FLAGS {
        if let Ok(value) = std::env::var(var) {
            cmd.arg(flag).arg(value);
        }
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

/// What the running `hark listen` says: the moment it started listening, then each event with
/// the moment its line arrived; its standard error is kept for the failure message.
struct Listener {
    child: Child,
    started: mpsc::Receiver<Instant>,
    events: mpsc::Receiver<(Instant, Event)>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Listener {
    fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd.spawn().expect("hark listen starts");
        let (started_tx, started) = mpsc::channel();
        let (events_tx, events) = mpsc::channel();
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let err_pipe = child.stderr.take().expect("stderr");
        let log = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err_pipe).lines().map_while(Result::ok) {
                if line.starts_with("listening on") {
                    let _ = started_tx.send(Instant::now());
                }
                let mut log = log.lock().expect("stderr log");
                log.push_str(&line);
                log.push('\n');
            }
        });
        let out_pipe = child.stdout.take().expect("stdout");
        std::thread::spawn(move || {
            for line in BufReader::new(out_pipe).lines().map_while(Result::ok) {
                let event: Event = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("listen printed {line:?}: {e}"));
                if events_tx.send((Instant::now(), event)).is_err() {
                    break;
                }
            }
        });
        Self {
            child,
            started,
            events,
            stderr,
        }
    }

    /// The moment it started listening (panics with its standard error if it never does).
    fn wait_started(&mut self) -> Instant {
        match self.started.recv_timeout(Duration::from_secs(60)) {
            Ok(t) => t,
            Err(_) => {
                let _ = self.child.kill();
                panic!(
                    "hark listen did not start listening:\n{}",
                    self.stderr.lock().expect("stderr log")
                )
            }
        }
    }

    /// Whether it is still running; its CPU time is noted while it is.
    fn running(&mut self, cpu: &mut f64) -> bool {
        if let Some(c) = super::cpu_seconds_of(&self.child.id().to_string()) {
            *cpu = c;
        }
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Wait for it to exit (it must succeed): its events timed from `t0`, its CPU seconds and
    /// the seconds from `t0` to its exit.
    fn finish(mut self, t0: Instant) -> Fed {
        let mut cpu = 0.0;
        while self.running(&mut cpu) {
            std::thread::sleep(Duration::from_millis(50));
        }
        let wall = t0.elapsed().as_secs_f64();
        let status = self.child.wait().expect("hark listen exits");
        // The readers end with the pipes; give the last lines a moment to arrive.
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            status.success(),
            "hark listen failed ({status}):\n{}",
            self.stderr.lock().expect("stderr log")
        );
        let events = self
            .events
            .try_iter()
            .map(|(t, e)| (t.saturating_duration_since(t0).as_secs_f64(), e))
            .collect();
        Fed {
            events,
            end_rules: Vec::new(),
            cpu,
            wall,
        }
    }
}

/// Feed `stream` (16 kHz) to `hark listen` the `feed` way; `dir` is a scratch folder.
pub fn run(stream: &[f32], feed: Feed, dir: &Path) -> Fed {
    match feed {
        Feed::Cli => through_file(stream, dir),
        Feed::Alsa => through_alsa(stream, dir),
    }
}

/// `HARK_BENCH_FILE_RATE=HZ` writes the file at that rate (hark's resampler) instead of 16 kHz,
/// as a device at that rate would deliver the stream.
fn through_file(stream: &[f32], dir: &Path) -> Fed {
    let path = dir.join("stream.wav");
    let rate = std::env::var("HARK_BENCH_FILE_RATE")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(SAMPLE_RATE);
    let samples = hark::audio::resample::resample(stream, SAMPLE_RATE, rate).expect("resample");
    let wave = hark::audio::Waveform::new(samples, rate).expect("finite stream");
    hark::audio::wav::write(&path, &wave).expect("stream.wav");
    let mut cmd = listen_command(dir);
    cmd.arg("--input").arg(&path).arg("--realtime");
    let mut listener = Listener::spawn(cmd);
    let t0 = listener.wait_started();
    listener.finish(t0)
}

/// The default capture device's rate, channels and sample format, as `hark devices` lists it.
fn device_format(home: &Path) -> (u32, usize, String) {
    let out = Command::new(binary())
        .args(["devices", "--json"])
        .env("HOME", home)
        .output()
        .expect("hark devices");
    let text = String::from_utf8_lossy(&out.stdout);
    let dev: serde_json::Value = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|d| d["is_default"] == true)
        .unwrap_or_else(|| panic!("no default device listed: {text}"));
    (
        dev["sample_rate"].as_u64().expect("rate") as u32,
        dev["channels"].as_u64().expect("channels") as usize,
        dev["sample_format"].as_str().expect("format").to_string(),
    )
}

/// Samples as headerless PCM of `channels` interleaved copies in `format`.
fn pcm_bytes(samples: &[f32], channels: usize, format: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(samples.len() * channels * 4);
    for &s in samples {
        for _ in 0..channels {
            match format {
                "f32" => bytes.extend(s.to_le_bytes()),
                "i16" => {
                    bytes.extend(((s.clamp(-1.0, 1.0) * 32767.0).round() as i16).to_le_bytes())
                }
                "i32" => bytes
                    .extend(((s.clamp(-1.0, 1.0) as f64 * 2_147_483_647.0) as i32).to_le_bytes()),
                other => panic!("the bench does not write {other} samples"),
            }
        }
    }
    bytes
}

fn through_alsa(stream: &[f32], dir: &Path) -> Fed {
    let fifo = dir.join("capture.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success(), "mkfifo {}", fifo.display());
    std::fs::write(
        dir.join(".asoundrc"),
        format!(
            "pcm.!default {{\n  type file\n  slave.pcm \"null\"\n  file \"/dev/null\"\n  infile \"{}\"\n  format \"raw\"\n}}\n",
            fifo.display()
        ),
    )
    .expect(".asoundrc");
    // Held open for reading and writing, so neither side's open waits for the other.
    let mut pipe = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&fifo)
        .expect("open the pipe");
    let (rate, channels, format) = device_format(dir);
    let samples = hark::audio::resample::resample(stream, SAMPLE_RATE, rate).expect("resample");
    let block = (rate as f64 * BLOCK_S) as usize;
    let seconds = stream.len() as f64 / SAMPLE_RATE as f64;
    let mut cmd = listen_command(dir);
    // A little past the stream, for the resampler's delay; silence is written meanwhile.
    cmd.arg("--duration").arg(format!("{:.3}", seconds + 0.3));
    let mut listener = Listener::spawn(cmd);
    listener.wait_started();
    let t0 = Instant::now();
    // The writer is not joined: once hark has exited a full pipe would hold it for good.
    std::thread::spawn(move || {
        let silence = vec![0.0f32; block];
        let mut written = 0usize;
        for chunk in samples.chunks(block).chain(std::iter::repeat(&silence[..])) {
            written += chunk.len();
            let due = Duration::from_secs_f64(written as f64 / rate as f64);
            if let Some(wait) = due.checked_sub(t0.elapsed()) {
                std::thread::sleep(wait);
            }
            if pipe
                .write_all(&pcm_bytes(chunk, channels, &format))
                .is_err()
            {
                break;
            }
        }
    });
    listener.finish(t0)
}
