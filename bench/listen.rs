//! Live recognition: latency at real-time pace, and memory over a long stream.
//!
//! `cargo bench --bench listen` — latency. Utterances (16 kHz WAVs) separated by 1 s of quiet
//! (white noise at −70 dBFS) before and 1.5 s after are fed to [`LiveRecognizer`] in 50 ms
//! blocks, each block handed over when its last sample would have been captured in real time.
//! - end of speech: the end of the last 10 ms frame within 40 dB of the utterance's loudest
//!   frame;
//! - final latency: wall time of the utterance's last final − wall time the end of speech was
//!   delivered (a pause inside the utterance may give earlier finals too);
//! - partial lag, for each word of each final, from the wall time the word's end (its CTC time
//!   in the final) was delivered to the first partial (or the final) that (a) has at least as many
//!   letters as the final up to that word, (b) shows the final's word in that position. (a) measures responsiveness,
//!   (b) also hypothesis stability. Negative when a partial shows a word before its CTC end;
//! - CPU: process CPU time / wall time while listening (1.0 = one core busy).
//!
//! `cargo bench --bench listen -- stream` — the utterances in one stream with 0.5–2 s gaps and
//! the noise over all of it (see `listen_stream.rs`): finals per utterance, latency, WER against
//! offline, partial revisions.
//!
//! `cargo bench --bench listen -- soak [MINUTES]` — the same stream looped for MINUTES (default
//! 60) of audio, fed as fast as possible; peak RSS is printed every 10 minutes of audio.
//!
//! `HARK_BENCH_TRAILING_SPEECH=F` sets the endpoint's `max_trailing_speech_fraction` (0: the
//! blank-share rule off, leaving the word-gap rule alone), `HARK_BENCH_TRAILING_SILENCE=S` its
//! `max_trailing_silence_s`, `HARK_BENCH_VAD_SILENCE=S` its `vad_silence_s`,
//! `HARK_BENCH_SPEECH_END=S` its `head_silence_s` (`--speech-end`), `HARK_BENCH_MODEL_END_HEAD=S`
//! its `model_end_head_s` (`--model-end-head`), `HARK_BENCH_SENTENCE_END=S` and
//! `HARK_BENCH_SENTENCE_PROB=P` its `sentence_end_s` and `sentence_end_prob` (`--sentence-end`,
//! `--sentence-end-prob`); `HARK_BENCH_NO_HEAD=1`
//! drops the model's speech head, leaving the other rules.
//!
//! `HARK_BENCH_PACE=fast` feeds as fast as recognition goes and times events by the
//! audio delivered before them: latency without compute, for sweeping settings.
//!
//! `HARK_BENCH_FEED=cli|alsa` (stream only) feeds the stream to the `hark` binary instead, at
//! real-time pace: through `listen --input --realtime`, or through cpal capturing from an ALSA
//! `file` device that reads a paced named pipe (see `listen_capture.rs`).
//!
//! `HARK_BENCH_NOISE=NAME HARK_BENCH_SNR=DB` adds a noise (white/pink/brown or a noise-bank
//! name) to each padded utterance at that SNR over active speech (end of speech is still
//! measured on the clean utterance).
//!
//! Utterances: `HARK_BENCH_MANIFEST` (a JSONL manifest; its first `HARK_BENCH_UTTS`, default 20)
//! or else the clean samples in `audio/samples`. Model: `HARK_BENCH_MODEL` (a model dir,
//! `builtin` or `builtin:streaming`) or the one `hark listen` uses by default.

#[path = "listen_capture.rs"]
mod capture;
#[path = "listen_stream.rs"]
mod stream;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hark::audio::{SAMPLE_RATE, wav};
use hark::live::{EndRule, EndpointConfig, Event, LiveRecognizer};
use hark::model_dir::ModelSource;
use hark::recognizer::{Recognizer, RecognizerConfig};

const BLOCK: usize = SAMPLE_RATE as usize / 20;
const LEAD_S: f64 = 1.0;
const TAIL_S: f64 = 1.5;

struct Utterance {
    samples: Vec<f32>,
    /// Reference transcript, when the utterances come from a manifest.
    text: Option<String>,
    /// Speech end within `samples`, in samples.
    speech_end: usize,
}

fn utterance_files() -> Vec<(PathBuf, Option<String>)> {
    if let Ok(m) = std::env::var("HARK_BENCH_MANIFEST") {
        let n = std::env::var("HARK_BENCH_UTTS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(20);
        let manifest = hark::data::Manifest::load(Path::new(&m)).expect("manifest");
        return manifest
            .entries
            .into_iter()
            .take(n)
            .map(|e| (e.audio, Some(e.text)))
            .collect();
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("audio/samples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("audio/samples")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("clean_"))
        })
        .collect();
    files.sort();
    files.into_iter().map(|f| (f, None)).collect()
}

/// Start and end (in samples) of the 10 ms frames within 40 dB of the loudest frame.
fn speech_span(samples: &[f32]) -> (usize, usize) {
    let frame = SAMPLE_RATE as usize / 100;
    let energies: Vec<f32> = samples
        .chunks(frame)
        .map(|f| hark::audio::rms(f).max(1e-7))
        .collect();
    let peak = energies.iter().cloned().fold(0.0f32, f32::max);
    let loud = |e: &f32| 20.0 * (e / peak).log10() > -40.0;
    let first = energies.iter().position(loud).unwrap_or(0);
    let last = energies.iter().rposition(loud).unwrap_or(0);
    (first * frame, ((last + 1) * frame).min(samples.len()))
}

fn speech_end(samples: &[f32]) -> usize {
    speech_span(samples).1
}

fn quiet(n: usize, seed: &mut u64) -> Vec<f32> {
    (0..n)
        .map(|_| {
            *seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (*seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5;
            u * 2.0 * 3.0f32.sqrt() * 10f32.powf(-70.0 / 20.0)
        })
        .collect()
}

fn load() -> Recognizer {
    let device = burn::tensor::Device::default();
    let source = std::env::var("HARK_BENCH_MODEL")
        .map(|d| ModelSource::parse(Path::new(&d)))
        .unwrap_or_else(|_| ModelSource::live_default());
    let loaded = source.load(&device).expect("model");
    let rec = Recognizer::new(loaded, device, &RecognizerConfig::with_beam(4)).expect("recognizer");
    if std::env::var_os("HARK_BENCH_NO_HEAD").is_some() {
        rec.with_speech_head(None)
    } else {
        rec
    }
}

/// `HARK_BENCH_NOISE` at `HARK_BENCH_SNR` dB (default 10), when set.
fn bench_noise() -> Option<(hark::noise::Noise, f32)> {
    let name = std::env::var("HARK_BENCH_NOISE").ok()?;
    let bank = hark::noise::NoiseBank::open(&hark::noise::default_bank_dir()).ok();
    let snr: f32 = std::env::var("HARK_BENCH_SNR")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10.0);
    Some((
        hark::noise::resolve(&name, bank.as_ref()).expect("noise"),
        snr,
    ))
}

/// Each utterance alone, with quiet before and after and the bench noise over all of it.
fn padded_utterances() -> Vec<Utterance> {
    let mut seed = 1u64;
    let noise = bench_noise();
    let mut noise_rng = hark::augment::rng(5);
    utterance_files()
        .into_iter()
        .map(|(p, text)| {
            let speech = wav::read(&p).expect("utterance").into_samples();
            let lead = quiet((LEAD_S * SAMPLE_RATE as f64) as usize, &mut seed);
            let end = lead.len() + speech_end(&speech);
            let mut samples = lead;
            samples.extend(speech);
            samples.extend(quiet((TAIL_S * SAMPLE_RATE as f64) as usize, &mut seed));
            if let Some((noise, snr)) = &noise {
                samples = noise.mix_active(&samples, *snr, &mut noise_rng);
            }
            Utterance {
                samples,
                text,
                speech_end: end,
            }
        })
        .collect()
}

/// User + system CPU seconds of process `pid` (`"self"`: this one) so far; `None` when its
/// `/proc` entry cannot be read (it has exited).
fn cpu_seconds_of(pid: &str) -> Option<f64> {
    // utime and stime, fields 14 and 15 of /proc/PID/stat, in clock ticks (100 Hz on Linux).
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after = stat.rsplit(')').next()?;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok());
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

fn cpu_seconds() -> f64 {
    cpu_seconds_of("self").unwrap_or(0.0)
}

/// `HARK_BENCH_PACE=fast`: feed as fast as recognition goes.
fn fast_pace() -> bool {
    std::env::var("HARK_BENCH_PACE").is_ok_and(|v| v == "fast")
}

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Mean, median, p90 and max of latencies in seconds, printed in ms.
fn latency_summary(v: &mut [f64]) -> String {
    let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
    format!(
        "mean {:4.0} ms  median {:4.0} ms  p90 {:4.0} ms  max {:4.0} ms",
        mean * 1e3,
        percentile(v, 0.5) * 1e3,
        percentile(v, 0.9) * 1e3,
        percentile(v, 1.0) * 1e3
    )
}

/// What feeding a stream produced: events with the wall time (s) they came, CPU and wall s.
struct Fed {
    events: Vec<(f64, Event)>,
    /// The rule that ended each final, in order.
    end_rules: Vec<EndRule>,
    cpu: f64,
    wall: f64,
}

/// `samples` fed to `live` in 50 ms blocks, each handed over when its last sample would have
/// been captured in real time; with `finish`, the utterance in progress is flushed at the end.
/// With `HARK_BENCH_PACE=fast` the blocks go as fast as recognition takes them, and each event
/// is timed by the audio delivered before it (latency without the compute: for sweeps).
fn feed_realtime(live: &mut LiveRecognizer, samples: &[f32], finish: bool) -> Fed {
    let fast = fast_pace();
    let mut events = Vec::new();
    let mut end_rules = Vec::new();
    let cpu0 = cpu_seconds();
    let t0 = Instant::now();
    let mut delivered = Duration::ZERO;
    let at = |delivered: Duration| {
        if fast {
            delivered.as_secs_f64()
        } else {
            t0.elapsed().as_secs_f64()
        }
    };
    for (i, block) in samples.chunks(BLOCK).enumerate() {
        delivered = Duration::from_secs_f64((i * BLOCK + block.len()) as f64 / SAMPLE_RATE as f64);
        if let Some(wait) = delivered.checked_sub(t0.elapsed()).filter(|_| !fast) {
            std::thread::sleep(wait);
        }
        for e in live.push(block) {
            note_end(live, &e, &mut end_rules);
            events.push((at(delivered), e));
        }
    }
    if finish {
        for e in live.finish() {
            note_end(live, &e, &mut end_rules);
            events.push((at(delivered), e));
        }
    }
    Fed {
        events,
        end_rules,
        cpu: cpu_seconds() - cpu0,
        wall: t0.elapsed().as_secs_f64(),
    }
}

/// After a final, the rule that ended it.
fn note_end(live: &LiveRecognizer, e: &Event, rules: &mut Vec<EndRule>) {
    if let (Event::Final { .. }, Some(rule)) = (e, live.last_end_rule()) {
        rules.push(rule);
    }
}

fn words_of(e: &Event) -> Vec<&str> {
    match e {
        Event::Partial { text, .. } | Event::Final { text, .. } => {
            text.split_whitespace().collect()
        }
    }
}

/// The endpoint defaults, with `HARK_BENCH_VAD_SILENCE`, `HARK_BENCH_TRAILING_SILENCE`,
/// `HARK_BENCH_TRAILING_SPEECH`, `HARK_BENCH_SPEECH_END`, `HARK_BENCH_MODEL_END_HEAD`,
/// `HARK_BENCH_SENTENCE_END` and `HARK_BENCH_SENTENCE_PROB` in place of `--vad-silence`,
/// `--max-trailing-silence`, `--max-trailing-speech`, `--speech-end`, `--model-end-head`,
/// `--sentence-end` and `--sentence-end-prob` where set.
fn bench_endpoint() -> EndpointConfig {
    let mut cfg = EndpointConfig::default();
    let var = |name: &str| std::env::var(name).ok().and_then(|v| v.parse().ok());
    if let Some(v) = var("HARK_BENCH_VAD_SILENCE") {
        cfg.vad_silence_s = v;
    }
    if let Some(v) = var("HARK_BENCH_TRAILING_SILENCE") {
        cfg.max_trailing_silence_s = v;
    }
    if let Some(v) = var("HARK_BENCH_TRAILING_SPEECH") {
        cfg.max_trailing_speech_fraction = v;
    }
    if let Some(v) = var("HARK_BENCH_SPEECH_END") {
        cfg.head_silence_s = Some(v);
    }
    if let Some(v) = var("HARK_BENCH_MODEL_END_HEAD") {
        cfg.model_end_head_s = v;
    }
    if let Some(v) = var("HARK_BENCH_SENTENCE_END") {
        cfg.sentence_end_s = Some(v);
    }
    if let Some(v) = var("HARK_BENCH_SENTENCE_PROB") {
        cfg.sentence_end_prob = v;
    }
    cfg
}

fn latency(rec: &Recognizer, utts: &[Utterance]) {
    let cfg = bench_endpoint();
    let (mut live_errors, mut offline_errors) = (Vec::new(), Vec::new());
    let mut final_lat = Vec::new();
    let mut count_lag = Vec::new();
    let mut word_lag = Vec::new();
    let mut missed = 0;
    let mut split = 0;
    let (mut cpu, mut wall, mut audio) = (0.0, 0.0, 0.0);
    for u in utts {
        // One utterance per recogniser run, so each final belongs to its utterance.
        let mut live = LiveRecognizer::new(rec, cfg.clone());
        let fed = feed_realtime(&mut live, &u.samples, false);
        let events = fed.events;
        cpu += fed.cpu;
        wall += fed.wall;
        audio += u.samples.len() as f64 / SAMPLE_RATE as f64;
        let end_s = u.speech_end as f64 / SAMPLE_RATE as f64;
        // The stream is cut into segments by finals (a pause may end an utterance early);
        // partials belong to the segment of the next final.
        let mut segment_start = 0;
        let mut last_final = None;
        let mut finals = 0;
        for (fi, (t_final, e)) in events.iter().enumerate() {
            let Event::Final { words, .. } = e else {
                continue;
            };
            let segment = &events[segment_start..=fi];
            segment_start = fi + 1;
            if words.is_empty() {
                continue;
            }
            last_final = Some(*t_final);
            finals += 1;
            for (k, w) in words.iter().enumerate() {
                let shown = |f: &dyn Fn(&Event) -> bool| {
                    segment.iter().find(|(_, e)| f(e)).map(|(t, _)| t - w.end)
                };
                let chars: usize = words[..=k].iter().map(|w| w.word.len()).sum();
                if let Some(lag) = shown(&|e| words_of(e).concat().len() >= chars) {
                    count_lag.push(lag);
                }
                if let Some(lag) = shown(&|e| words_of(e).get(k) == Some(&w.word.as_str())) {
                    word_lag.push(lag);
                }
            }
        }
        if std::env::var_os("HARK_BENCH_VERBOSE").is_some() {
            for (t, e) in &events {
                if let Event::Final { text, end, .. } = e {
                    println!(
                        "    speech end {end_s:.2}  final at {t:.2} (last word end {end:.2}): {text}"
                    );
                }
            }
        }
        if let Some(reference) = &u.text {
            let live_text: Vec<String> = events
                .iter()
                .filter_map(|(_, e)| match e {
                    Event::Final { text, .. } => Some(text.clone()),
                    _ => None,
                })
                .collect();
            live_errors.push(hark::eval::word_errors(reference, &live_text.join(" ")));
            let wave = hark::audio::Waveform::new(u.samples.clone(), SAMPLE_RATE).expect("finite");
            offline_errors.push(hark::eval::word_errors(
                reference,
                &rec.transcribe(&wave).text,
            ));
        }
        match last_final {
            Some(t) => final_lat.push(t - end_s),
            None => missed += 1,
        }
        if finals > 1 {
            split += 1;
        }
    }
    println!(
        "listen latency ({} utterances, {:.1} s of audio, real-time pace, 50 ms blocks, vad silence {} s, trailing speech share {})",
        utts.len(),
        audio,
        cfg.vad_silence_s,
        cfg.max_trailing_speech_fraction
    );
    println!(
        "  end of speech -> last final: {}  (target <= 300)",
        latency_summary(&mut final_lat)
    );
    for (what, lags) in [
        ("a partial has as many letters", &mut count_lag),
        ("a partial shows the final's word", &mut word_lag),
    ] {
        println!(
            "  word end -> {what:33}: median {:4.0} ms  p90 {:4.0} ms  max {:4.0} ms  ({} words; target <= 250)",
            percentile(lags, 0.5) * 1e3,
            percentile(lags, 0.9) * 1e3,
            percentile(lags, 1.0) * 1e3,
            lags.len()
        );
    }
    println!("  utterances without a final before the stream moved on: {missed}");
    println!("  utterances split over more than one final: {split}");
    if !live_errors.is_empty() {
        let wer = |e: &[hark::eval::ErrorCounts]| {
            let errors: usize = e.iter().map(|c| c.errors()).sum();
            let words: usize = e.iter().map(|c| c.reference).sum();
            100.0 * errors as f64 / words.max(1) as f64
        };
        println!(
            "  WER of the finals {:.1}% vs offline `transcribe` of the same audio {:.1}%",
            wer(&live_errors),
            wer(&offline_errors)
        );
    }
    println!(
        "  CPU while listening: {:.1}% of one core ({:.2} s CPU over {:.1} s)",
        100.0 * cpu / wall,
        cpu,
        wall
    );
}

fn soak(rec: &Recognizer, utts: &[Utterance], minutes: u64) {
    let mut live = LiveRecognizer::new(rec, EndpointConfig::default());
    let total = minutes * 60 * SAMPLE_RATE as u64;
    let mut fed = 0u64;
    let mut finals = 0usize;
    let mut next_report = 10 * 60 * SAMPLE_RATE as u64;
    let started = Instant::now();
    let mut first_hwm = None;
    println!("listen soak: {minutes} min of audio fed as fast as possible");
    'outer: loop {
        for u in utts {
            for block in u.samples.chunks(BLOCK) {
                finals += live
                    .push(block)
                    .iter()
                    .filter(|e| matches!(e, Event::Final { .. }))
                    .count();
                fed += block.len() as u64;
                if fed >= next_report {
                    let hwm = status_kib("VmHWM:");
                    first_hwm.get_or_insert(hwm);
                    println!(
                        "  {:3} min audio  peak RSS {:7.1} MiB  RSS {:7.1} MiB  finals {:6}  wall {:6.1} s",
                        fed / 60 / SAMPLE_RATE as u64,
                        hwm as f64 / 1024.0,
                        status_kib("VmRSS:") as f64 / 1024.0,
                        finals,
                        started.elapsed().as_secs_f64()
                    );
                    next_report += 10 * 60 * SAMPLE_RATE as u64;
                }
                if fed >= total {
                    break 'outer;
                }
            }
        }
    }
    if let Some(first) = first_hwm {
        println!(
            "  peak RSS at the end / at 10 min: {:.3}",
            status_kib("VmHWM:") as f64 / first as f64
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let rec = load();
    match args.first().map(String::as_str) {
        Some("soak") => {
            let minutes = args.get(1).and_then(|m| m.parse().ok()).unwrap_or(60);
            soak(&rec, &padded_utterances(), minutes)
        }
        Some("stream") => stream::run(&rec),
        _ => latency(&rec, &padded_utterances()),
    }
}
