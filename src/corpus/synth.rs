//! `hark corpus synth`: text in, multi-speaker speech corpus out.
//!
//! Sentences (a text file, one per line, normalised with [`crate::text::normalize`]) and
//! generated prompts (numbers, dates, commands, digit strings) are split into disjoint pools
//! for train, dev and test; voices are split too (see [`super::voices`]). Each utterance draws a
//! voice of its split by weight, a speaker style (pitch × rate × warp) and a small jitter, all
//! from a seed, so the plan is the same on every run. A connected-digits set (1–7 digits,
//! Aurora-2 style) is planned the same way into its own manifests.
//!
//! The engine's output is read, resampled to 16 kHz (applying the warp), trimmed of leading
//! and trailing silence (frames below −45 dBFS after peak normalisation), faded (10 ms),
//! padded (0.1 s before, 0.15 s after) and peak-normalised to −3 dBFS.
//!
//! Jobs run on `jobs` threads; finished WAVs are kept, so an interrupted run resumes. A failed
//! utterance is reported and left out; it never stops the others.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::RngExt;
use serde::Serialize;

use super::Split;
use super::kokoro::KokoroWorker;
use super::prompts;
use super::voices::{self, Engine, ExtraEngines, Style, Voice};
use crate::audio::{SAMPLE_RATE, Waveform, wav};
use crate::data::{ManifestEntry, write_manifest};
use crate::error::{Error, Result};

/// What to build.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    /// Text files, one sentence per line (normalised on reading, duplicates dropped).
    /// Sentence files, one sentence per line; empty: [`BUILT_IN_TEXTS`].
    pub sentences: Vec<PathBuf>,
    pub out: PathBuf,
    /// Utterances per split (train, dev, test).
    pub counts: [usize; 3],
    /// Connected-digit utterances per split (0: no digits set).
    pub digit_counts: [usize; 3],
    /// Share of the main utterances that are generated prompts rather than sentences.
    pub prompt_share: f64,
    pub min_words: usize,
    pub max_words: usize,
    pub seed: u64,
    pub jobs: usize,
    /// piper and Kokoro, when given.
    pub extra: ExtraEngines,
    /// Only the voices of these engines (`None`: every engine found).
    pub engines: Option<Vec<Engine>>,
}

/// What [`run`] reports while it works, possibly from several threads at once.
#[derive(Debug, Clone)]
pub enum SynthEvent {
    /// A TTS engine is not installed; its voices are skipped.
    EngineMissing(String),
    /// The plan: this many utterances to make or find already made.
    Planned { utterances: usize },
    /// One utterance is done (made, or found already made).
    Done,
    /// One utterance failed; the others go on.
    Failed {
        id: String,
        voice: String,
        message: String,
    },
}

/// One planned utterance.
#[derive(Debug, Clone)]
struct Job {
    id: String,
    split: Split,
    set: &'static str,
    text: String,
    voice: usize,
    style: Style,
    jitter: f64,
}

impl Job {
    fn audio(&self) -> PathBuf {
        PathBuf::from(format!("wav/{}/{}.wav", self.split.name(), self.id))
    }

    /// Everything that determines the audio. Written beside the WAV (`.txt`); a WAV is reused
    /// only when its record matches, so changing the counts or the seed never pairs old audio
    /// with a new transcript.
    fn record(&self, voice: &Voice) -> String {
        format!(
            "{}\t{}\t{:.4}\t{}\n",
            voice.id(),
            self.style.label,
            self.jitter,
            self.text
        )
    }
}

/// Per-split totals written to `summary.json`.
#[derive(Debug, Default, Serialize)]
pub struct SplitSummary {
    pub utterances: usize,
    pub hours: f64,
    pub speakers: usize,
    pub voices: BTreeSet<String>,
    pub failed: usize,
}

/// What a run produced.
#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub sets: BTreeMap<String, SplitSummary>,
    pub synthesised: usize,
    pub reused: usize,
    pub failed: usize,
    pub seconds: f64,
    /// Hours of audio synthesised per hour of wall time in this run.
    pub speed: f64,
    pub skipped_engines: Vec<String>,
    /// Distinct sentences available (after normalisation and the word-count filter) and
    /// generated prompts.
    pub sentences: usize,
    pub prompts: usize,
}

/// The texts built into hark (`data/sentences.txt` and `data/wordnet_examples.txt`), used when
/// no sentence files are given.
pub const BUILT_IN_TEXTS: [(&str, &str); 2] = [
    (
        "data/sentences.txt",
        include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/sentences.txt")),
    ),
    (
        "data/wordnet_examples.txt",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/wordnet_examples.txt"
        )),
    ),
];

fn load_sentences(paths: &[PathBuf], min_words: usize, max_words: usize) -> Result<Vec<String>> {
    let mut texts: Vec<std::borrow::Cow<'static, str>> = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        texts.push(text.into());
    }
    if paths.is_empty() {
        texts.extend(BUILT_IN_TEXTS.iter().map(|(_, text)| (*text).into()));
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for text in &texts {
        for line in text.lines() {
            let s = crate::text::normalize(line);
            let n = s.split(' ').filter(|w| !w.is_empty()).count();
            if (min_words..=max_words).contains(&n) && seen.insert(s.clone()) {
                out.push(s);
            }
        }
    }
    Ok(out)
}

fn shuffle<T>(items: &mut [T], rng: &mut crate::augment::Rng) {
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i);
        items.swap(i, j);
    }
}

/// Split `items` into train/dev/test pools with `dev` and `test` items held out.
fn pools(mut items: Vec<String>, dev: usize, test: usize, seed: u64) -> [Vec<String>; 3] {
    shuffle(&mut items, &mut crate::augment::rng(seed));
    let test_pool: Vec<String> = items.drain(..test.min(items.len())).collect();
    let dev_pool: Vec<String> = items.drain(..dev.min(items.len())).collect();
    [items, dev_pool, test_pool]
}

fn pick_voice(voices: &[Voice], split: Split, rng: &mut crate::augment::Rng) -> Option<usize> {
    let total: f64 = voices
        .iter()
        .filter(|v| v.split == split)
        .map(|v| v.weight)
        .sum();
    let mut x = rng.random::<f64>() * total;
    let mut last = None;
    for (i, v) in voices.iter().enumerate().filter(|(_, v)| v.split == split) {
        last = Some(i);
        x -= v.weight;
        if x < 0.0 {
            return Some(i);
        }
    }
    last
}

fn utterance_rng(seed: u64, set: &str, split: Split, i: usize) -> crate::augment::Rng {
    // FNV-1a over the identity of the utterance, so plans do not shift when counts change.
    let mut h: u64 = 0xcbf29ce484222325 ^ seed;
    for b in format!("{set}:{}:{i}", split.name()).bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    crate::augment::rng(h)
}

/// The jobs, and the numbers of distinct sentences and generated prompts behind them.
fn plan(cfg: &SynthConfig, voices: &[Voice]) -> Result<(Vec<Job>, usize, usize)> {
    let sentences = load_sentences(&cfg.sentences, cfg.min_words, cfg.max_words)?;
    let n_sentences = sentences.len();
    let [n_train, n_dev, n_test] = cfg.counts;
    let prompt_count = |n: usize| (n as f64 * cfg.prompt_share).round() as usize;
    let sentence_pools = pools(
        sentences,
        n_dev - prompt_count(n_dev),
        n_test - prompt_count(n_test),
        cfg.seed,
    );
    if sentence_pools[0].is_empty() {
        return Err(Error::Data(format!(
            "{:?}: not enough sentences of {}-{} words for the dev and test sets",
            cfg.sentences, cfg.min_words, cfg.max_words
        )));
    }
    let mut prompt_rng = crate::augment::rng(cfg.seed ^ 0x9e37);
    let generated = prompts::distinct_prompts(
        prompt_count(n_train).min(20_000) + prompt_count(n_dev) + prompt_count(n_test),
        &mut prompt_rng,
    );
    let n_prompts_total = generated.len();
    let prompt_pools = pools(
        generated,
        prompt_count(n_dev),
        prompt_count(n_test),
        cfg.seed,
    );
    let styles = voices::styles();
    let mut jobs = Vec::new();
    for (k, split) in Split::ALL.into_iter().enumerate() {
        let n_prompts = prompt_count(cfg.counts[k]);
        for i in 0..cfg.counts[k] {
            let rng = utterance_rng(cfg.seed, "main", split, i);
            let use_prompt = i < n_prompts && !prompt_pools[k].is_empty();
            let pool = if use_prompt {
                &prompt_pools[k]
            } else {
                &sentence_pools[k]
            };
            if pool.is_empty() {
                continue;
            }
            // Pools are shuffled: walk them in order so texts repeat only after a full pass.
            let index = if use_prompt { i } else { i - n_prompts.min(i) };
            let text = pool[index % pool.len()].clone();
            push_job(&mut jobs, voices, &styles, split, "main", i, text, rng);
        }
        for i in 0..cfg.digit_counts[k] {
            let mut rng = utterance_rng(cfg.seed, "digits", split, i);
            let text = prompts::digit_string(&mut rng);
            push_job(&mut jobs, voices, &styles, split, "digits", i, text, rng);
        }
    }
    Ok((jobs, n_sentences, n_prompts_total))
}

#[allow(clippy::too_many_arguments)]
fn push_job(
    jobs: &mut Vec<Job>,
    voices: &[Voice],
    styles: &[Style],
    split: Split,
    set: &'static str,
    i: usize,
    text: String,
    mut rng: crate::augment::Rng,
) {
    let Some(voice) = pick_voice(voices, split, &mut rng) else {
        return;
    };
    let style = styles[rng.random_range(0..styles.len())];
    let jitter = rng.random_range(-0.04..0.04);
    let prefix = if set == "main" { "" } else { "digits_" };
    jobs.push(Job {
        id: format!("{prefix}{}_{i:06}", split.name()),
        split,
        set,
        text,
        voice,
        style,
        jitter,
    });
}

/// Frames (10 ms) below this level after peak normalisation count as silence at the ends.
const TRIM_DBFS: f32 = -45.0;

/// Trim, fade, pad and normalise 16 kHz speech.
fn finish_audio(mut x: Vec<f32>) -> Vec<f32> {
    if !crate::audio::peak_normalize(&mut x, -3.0) {
        return Vec::new();
    }
    let frame = SAMPLE_RATE as usize / 100;
    let threshold = 10f32.powf(TRIM_DBFS / 20.0);
    let loud: Vec<bool> = x
        .chunks(frame)
        .map(|f| crate::audio::rms(f) >= threshold)
        .collect();
    let (Some(first), Some(last)) = (loud.iter().position(|&l| l), loud.iter().rposition(|&l| l))
    else {
        return Vec::new();
    };
    let mut speech = x[first * frame..((last + 1) * frame).min(x.len())].to_vec();
    let fade = (SAMPLE_RATE as usize / 100).min(speech.len() / 2);
    let n = speech.len();
    for i in 0..fade {
        let g = i as f32 / fade as f32;
        speech[i] *= g;
        speech[n - 1 - i] *= g;
    }
    let mut out = vec![0.0; SAMPLE_RATE as usize / 10];
    out.extend(speech);
    out.extend(std::iter::repeat_n(0.0, SAMPLE_RATE as usize * 15 / 100));
    out
}

/// Seconds of audio and whether the file was already there, or why the utterance failed.
type JobResult = std::result::Result<(f64, bool), String>;

/// Shortest speech kept (a fast "oh" is about 0.15 s), and the padding around it, in seconds.
const MIN_SPEECH_S: f64 = 0.1;
const PADDING_S: f64 = 0.25;

/// A synthesis job's Kokoro process, started when its first Kokoro utterance comes (and again
/// after one died); `None` until then.
struct KokoroSlot {
    worker: Option<KokoroWorker>,
    log: PathBuf,
}

impl KokoroSlot {
    fn worker(&mut self, cfg: &SynthConfig) -> std::result::Result<&mut KokoroWorker, String> {
        if !self.worker.as_mut().is_some_and(KokoroWorker::is_running) {
            let kokoro = cfg.extra.kokoro.as_ref().ok_or("no --kokoro directory")?;
            if let Some(dir) = self.log.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            self.worker = Some(KokoroWorker::spawn(kokoro, &self.log)?);
        }
        self.worker
            .as_mut()
            .ok_or_else(|| "no Kokoro process".into())
    }
}

/// Run one engine command to completion; an error quotes the end of its standard error.
fn run_engine(
    voice: &Voice,
    mut command: std::process::Command,
) -> std::result::Result<(), String> {
    let out = command
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", voice.engine.name()))?;
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let tail: String = err
        .chars()
        .rev()
        .take(300)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    Err(format!(
        "{} exited with {}: {}",
        voice.engine.name(),
        out.status,
        tail.trim()
    ))
}

fn synth_one(
    job: &Job,
    voice: &Voice,
    cfg: &SynthConfig,
    kokoro: &mut KokoroSlot,
) -> std::result::Result<f64, String> {
    let dst = cfg.out.join(job.audio());
    let record_path = dst.with_extension("txt");
    let record = job.record(voice);
    if std::fs::read_to_string(&record_path).is_ok_and(|r| r == record)
        && let Ok(reader) = hound::WavReader::open(&dst)
    {
        return Ok(reader.duration() as f64 / reader.spec().sample_rate as f64);
    }
    let _ = std::fs::remove_file(&record_path);
    let tmp = cfg.out.join("tmp").join(&job.id);
    std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let result = (|| {
        let text_file = tmp.join("text.txt");
        let raw = tmp.join("raw.wav");
        std::fs::write(&text_file, format!("{}\n", job.text)).map_err(|e| e.to_string())?;
        match voices::command(voice, &job.style, job.jitter, &text_file, &raw, &cfg.extra) {
            Some(command) => run_engine(voice, command)?,
            None => kokoro
                .worker(cfg)?
                .speak(voice, &job.style, job.jitter, &text_file, &raw)?,
        }
        let wave = wav::read_native(&raw).map_err(|e| e.to_string())?;
        // The warp: treat the audio as if recorded at rate × warp, then resample to 16 kHz.
        let from = ((wave.sample_rate() as f64 * job.style.warp / 10.0).round() as u32) * 10;
        let at16k = crate::audio::resample::resample(wave.samples(), from, SAMPLE_RATE)
            .map_err(|e| e.to_string())?;
        let audio = finish_audio(at16k);
        let seconds = audio.len() as f64 / SAMPLE_RATE as f64;
        if seconds < MIN_SPEECH_S + PADDING_S {
            return Err(format!("{seconds:.2} s of audio: too short"));
        }
        let wave = Waveform::new(audio, SAMPLE_RATE).ok_or("non-finite samples")?;
        if let Some(dir) = dst.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        let part = dst.with_extension("part.wav");
        wav::write(&part, &wave).map_err(|e| e.to_string())?;
        std::fs::rename(&part, &dst).map_err(|e| e.to_string())?;
        std::fs::write(&record_path, &record).map_err(|e| e.to_string())?;
        Ok(seconds)
    })();
    let _ = std::fs::remove_dir_all(&tmp);
    result
}

/// Build the corpus, telling `on_event` how it goes. Returns the summary (also written to
/// `OUT/summary.json`).
pub fn run(cfg: &SynthConfig, on_event: &(dyn Fn(SynthEvent) + Sync)) -> Result<Summary> {
    let mut all = voices::inventory(
        cfg.extra.piper.as_ref().map(|p| p.model.as_path()),
        cfg.extra.kokoro.as_ref().map(|k| k.blends),
    );
    if let Some(engines) = &cfg.engines {
        all.retain(|v| engines.contains(&v.engine));
    }
    let missing = voices::missing_engines(&all, &cfg.extra);
    for e in &missing {
        on_event(SynthEvent::EngineMissing(e.name().to_string()));
    }
    all.retain(|v| !missing.contains(&v.engine));
    for split in Split::ALL {
        if !all.iter().any(|v| v.split == split) {
            return Err(Error::Data(format!(
                "no TTS engine available for the {} voices (install espeak-ng, flite, festival, \
                 or give --kokoro; --engines may have left them out)",
                split.name()
            )));
        }
    }
    let (jobs, n_sentences, n_prompts) = plan(cfg, &all)?;
    std::fs::create_dir_all(&cfg.out).map_err(|e| Error::io(&cfg.out, e))?;
    let started = std::time::Instant::now();
    on_event(SynthEvent::Planned {
        utterances: jobs.len(),
    });
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<JobResult>>> = Mutex::new(vec![None; jobs.len()]);
    std::thread::scope(|scope| {
        for slot in 0..cfg.jobs.max(1) {
            let (next, results, jobs, all) = (&next, &results, &jobs, &all);
            scope.spawn(move || {
                let mut kokoro = KokoroSlot {
                    worker: None,
                    log: cfg.out.join("tmp").join(format!("kokoro-{slot}.log")),
                };
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(job) = jobs.get(i) else { break };
                    let existed =
                        std::fs::read_to_string(cfg.out.join(job.audio()).with_extension("txt"))
                            .is_ok_and(|r| r == job.record(&all[job.voice]));
                    let r = synth_one(job, &all[job.voice], cfg, &mut kokoro).map(|s| (s, existed));
                    if let Err(e) = &r {
                        on_event(SynthEvent::Failed {
                            id: job.id.clone(),
                            voice: all[job.voice].id(),
                            message: e.clone(),
                        });
                    }
                    if let Ok(mut res) = results.lock() {
                        res[i] = Some(r);
                    }
                    on_event(SynthEvent::Done);
                }
            });
        }
    });
    let _ = std::fs::remove_dir_all(cfg.out.join("tmp"));
    let results = results.into_inner().unwrap_or_default();

    let mut summary = Summary {
        seconds: started.elapsed().as_secs_f64(),
        skipped_engines: missing.iter().map(|e| e.name().to_string()).collect(),
        sentences: n_sentences,
        prompts: n_prompts,
        ..Default::default()
    };
    let mut manifests: BTreeMap<String, Vec<ManifestEntry>> = BTreeMap::new();
    let mut speakers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut new_seconds = 0.0;
    for (job, r) in jobs.iter().zip(results) {
        let name = match job.set {
            "main" => job.split.name().to_string(),
            set => format!("{set}_{}", job.split.name()),
        };
        let s = summary.sets.entry(name.clone()).or_default();
        match r {
            Some(Ok((seconds, existed))) => {
                let voice = &all[job.voice];
                let speaker = format!("{}:{}", voice.id(), job.style.label);
                s.utterances += 1;
                s.hours += seconds / 3600.0;
                s.voices.insert(voice.id());
                speakers
                    .entry(name.clone())
                    .or_default()
                    .insert(speaker.clone());
                if existed {
                    summary.reused += 1;
                } else {
                    summary.synthesised += 1;
                    new_seconds += seconds;
                }
                manifests.entry(name).or_default().push(ManifestEntry {
                    audio: job.audio(),
                    text: job.text.clone(),
                    speaker: Some(speaker),
                    duration: Some((seconds * 1000.0).round() / 1000.0),
                    label: None,
                });
            }
            _ => {
                s.failed += 1;
                summary.failed += 1;
            }
        }
    }
    for (name, s) in summary.sets.iter_mut() {
        s.speakers = speakers.get(name).map_or(0, BTreeSet::len);
    }
    summary.speed = new_seconds / summary.seconds.max(1e-9);
    for (name, entries) in &manifests {
        write_manifest(&cfg.out.join(format!("{name}.jsonl")), entries)?;
    }
    let json = serde_json::to_string_pretty(&summary).map_err(|e| Error::Data(e.to_string()))?;
    crate::model_dir::write_atomic(&cfg.out.join("summary.json"), json.as_bytes())?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn config(dir: &Path, sentences: &Path) -> SynthConfig {
        SynthConfig {
            sentences: vec![sentences.to_path_buf()],
            out: dir.to_path_buf(),
            counts: [40, 10, 10],
            digit_counts: [5, 2, 2],
            prompt_share: 0.2,
            min_words: 2,
            max_words: 20,
            seed: 3,
            jobs: 1,
            extra: ExtraEngines::default(),
            engines: None,
        }
    }

    #[test]
    fn plans_are_deterministic_and_splits_are_disjoint() {
        let dir = tempfile::tempdir().unwrap();
        let sentences = dir.path().join("s.txt");
        let text: String = (0..200)
            .map(|i| format!("Sentence number {i}, with some words.\n"))
            .collect();
        std::fs::write(&sentences, text).unwrap();
        let cfg = config(dir.path(), &sentences);
        let voices = voices::inventory(None, None);
        let a = plan(&cfg, &voices).unwrap().0;
        let b = plan(&cfg, &voices).unwrap().0;
        assert_eq!(a.len(), 40 + 10 + 10 + 5 + 2 + 2);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!((&x.id, &x.text, x.voice), (&y.id, &y.text, y.voice));
        }
        let texts = |split: Split| -> BTreeSet<&str> {
            a.iter()
                .filter(|j| j.split == split && j.set == "main")
                .map(|j| j.text.as_str())
                .collect()
        };
        assert!(texts(Split::Train).is_disjoint(&texts(Split::Test)));
        assert!(texts(Split::Train).is_disjoint(&texts(Split::Dev)));
        for j in &a {
            assert_eq!(voices[j.voice].split, j.split, "voice in the wrong split");
        }
    }

    #[test]
    fn finishing_trims_pads_and_normalises() {
        let mut x = vec![0.0f32; 8000];
        x.extend((0..16000).map(|i| 0.2 * (i as f32 * 0.1).sin()));
        x.extend(vec![0.0f32; 8000]);
        let y = finish_audio(x);
        let expect = 1600 + 16000 + 2400;
        assert!((y.len() as i64 - expect as i64).abs() <= 160, "{}", y.len());
        let peak = y.iter().fold(0.0f32, |m, s| m.max(s.abs()));
        assert!((20.0 * peak.log10() + 3.0).abs() < 0.05);
        assert!(finish_audio(vec![0.0; 100]).is_empty());
    }
}
