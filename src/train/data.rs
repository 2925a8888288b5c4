//! The data of a run: utterances loaded from manifests (bad files reported and skipped), the
//! noise bank, the noisy dev copy, and the batches, prepared on a producer thread.

use std::path::Path;
use std::sync::mpsc::SyncSender;

use rand::RngExt;
use rand::seq::SliceRandom;

use super::events::TrainEvent;
use super::{TrainOptions, TrainingConfig, pipeline};
use rayon::prelude::*;

use crate::audio::{Waveform, decode};
use crate::augment;
use crate::ctc::min_frames;
use crate::data::Manifest;
use crate::error::{Error, Result};
use crate::features::{Mfcc, MfccConfig};
use crate::noise::Noise;
use crate::text::Vocab;

/// Everything a run trains and scores on.
pub(crate) struct TrainData {
    /// Training utterances, the extra sets repeated as asked.
    pub train: Vec<Utterance>,
    /// Utterances skipped while loading the training sets.
    pub skipped: usize,
    pub dev: Vec<Utterance>,
    /// The dev set with white noise at [`DEV_NOISY_SNR_DB`].
    pub dev_noisy: Vec<Utterance>,
    /// The further dev sets, by the names of [`crate::data::short_names`].
    pub more_dev: Vec<(String, Vec<Utterance>)>,
    /// The noise bank's *train* clips.
    pub bank: Vec<Noise>,
}

impl TrainData {
    /// Load the training and dev sets of `opts` and the noise bank of `cfg`.
    pub fn load(
        cfg: &TrainingConfig,
        opts: &TrainOptions,
        on_event: &mut dyn FnMut(TrainEvent),
    ) -> Result<Self> {
        let vocab = Vocab::english();
        let bank = training_noises(cfg.noise_bank.as_deref())?;
        let (mut train, mut skipped) =
            load_utterances(&opts.train_manifest, &vocab, cfg, &cfg.features, on_event)?;
        for (path, repeat) in &opts.more_train {
            let (more, more_skipped) = load_utterances(path, &vocab, cfg, &cfg.features, on_event)?;
            on_event(TrainEvent::ExtraTrainSet {
                path: path.clone(),
                utterances: more.len(),
                repeat: *repeat,
            });
            skipped += more_skipped;
            for _ in 0..*repeat {
                train.extend(more.iter().cloned());
            }
        }
        if train.is_empty() {
            return Err(Error::Data(format!(
                "{}: no usable training utterances",
                opts.train_manifest.display()
            )));
        }
        let dev = match &opts.dev_manifest {
            Some(p) => load_utterances(p, &vocab, cfg, &cfg.features, on_event)?.0,
            None => Vec::new(),
        };
        let dev_noisy = noisy_copy(&dev);
        let names = crate::data::short_names(&opts.more_dev, "");
        let more_dev = opts
            .more_dev
            .iter()
            .zip(names)
            .map(|(p, name)| {
                Ok((
                    name,
                    load_utterances(p, &vocab, cfg, &cfg.features, on_event)?.0,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            train,
            skipped,
            dev,
            dev_noisy,
            more_dev,
            bank,
        })
    }

    /// Hours of training audio.
    pub fn train_hours(&self) -> f64 {
        self.train.iter().map(|u| u.wave.duration_s()).sum::<f64>() / 3600.0
    }

    /// Seconds of audio in the batch of utterance indices `batch`.
    pub fn seconds(&self, batch: &[usize]) -> f64 {
        batch.iter().map(|&i| self.train[i].wave.duration_s()).sum()
    }

    /// Prepares batches `first`, `first + stride`, … of `batches` (epoch `epoch`) and sends
    /// them down `tx`, each with its index; stops when the receiver is gone. Each batch draws
    /// from its own generator (`pipeline::batch_rng`), so how the batches are shared between
    /// producers never changes what they hold.
    #[allow(clippy::too_many_arguments)]
    pub fn produce(
        &self,
        cfg: &TrainingConfig,
        mfcc: &Mfcc,
        epoch: usize,
        batches: &[Vec<usize>],
        first: usize,
        stride: usize,
        tx: SyncSender<(usize, pipeline::Prepared)>,
    ) {
        for (k, batch) in batches
            .iter()
            .enumerate()
            .skip(first)
            .step_by(stride.max(1))
        {
            let mut rng = pipeline::batch_rng(cfg.seed, epoch, k);
            let clock = (epoch - 1) as f64 / cfg.epochs as f64
                + k as f64 / (batches.len() * cfg.epochs) as f64;
            let items: Vec<(&[f32], &[u32])> = batch
                .iter()
                .map(|&i| {
                    (
                        self.train[i].wave.samples(),
                        self.train[i].targets.as_slice(),
                    )
                })
                .collect();
            let prepared = pipeline::prepare(&items, cfg, mfcc, &self.bank, clock, &mut rng);
            if tx.send((k, prepared)).is_err() {
                return;
            }
        }
    }
}

/// `cfg` with global normalisation statistics measured on (up to 2,000 of) the clean training
/// utterances: what streaming models use instead of per-utterance CMVN.
pub(crate) fn with_global_cmvn(
    cfg: &TrainingConfig,
    train: &[Utterance],
) -> Result<TrainingConfig> {
    let raw = Mfcc::new(cfg.features.clone())?;
    let step = train.len().div_ceil(2000).max(1);
    let feats: Vec<_> = train
        .iter()
        .step_by(step)
        .map(|u| raw.compute(&u.wave))
        .collect();
    let stats = crate::features::GlobalCmvn::measure(&feats)
        .ok_or_else(|| Error::Data("no frames to measure feature statistics on".into()))?;
    let mut out = cfg.clone();
    out.features.global_cmvn = Some(stats);
    Ok(out)
}

/// The *train* clips of the noise bank at `dir` (none without a bank).
fn training_noises(dir: Option<&str>) -> Result<Vec<Noise>> {
    let Some(dir) = dir else {
        return Ok(Vec::new());
    };
    let bank = crate::noise::NoiseBank::open(Path::new(dir))?;
    bank.names(crate::noise::NoiseSplit::Train)
        .into_iter()
        .map(|name| bank.load(name))
        .collect()
}

/// A loaded training utterance.
#[derive(Clone)]
pub(crate) struct Utterance {
    pub wave: Waveform,
    pub targets: Vec<u32>,
    pub text: String,
}

/// Read the audio of a manifest; bad files are reported and skipped.
fn load_utterances(
    path: &Path,
    vocab: &Vocab,
    cfg: &TrainingConfig,
    mfcc_cfg: &MfccConfig,
    on_event: &mut dyn FnMut(TrainEvent),
) -> Result<(Vec<Utterance>, usize)> {
    let manifest = Manifest::load(path)?;
    let mut skipped = manifest.errors.len();
    for e in &manifest.errors {
        on_event(TrainEvent::Warning(e.to_string()));
    }
    let mut out = Vec::with_capacity(manifest.entries.len());
    let mut too_short = 0usize;
    // Decoding (MP3, FLAC, Vorbis or WAV, resampled to 16 kHz) runs on all cores, in order.
    let waves: Vec<Result<Waveform>> = manifest
        .entries
        .par_iter()
        .map(|entry| decode::read_any(&entry.audio))
        .collect();
    for (entry, wave) in manifest.entries.into_iter().zip(waves) {
        let wave = match wave {
            Ok(w) => w,
            Err(e) => {
                on_event(TrainEvent::Warning(format!("skipping {e}")));
                skipped += 1;
                continue;
            }
        };
        if wave.duration_s() > cfg.max_duration_s {
            skipped += 1;
            continue;
        }
        let targets = vocab.encode(&entry.text);
        let frames = cfg.model.output_length(mfcc_cfg.num_frames(wave.len()));
        if targets.is_empty() || frames < min_frames(&targets) {
            if too_short < 5 {
                on_event(TrainEvent::Warning(format!(
                    "skipping {}: {} output frames cannot align {} target symbols",
                    entry.audio.display(),
                    frames,
                    targets.len()
                )));
            }
            too_short += 1;
            skipped += 1;
            continue;
        }
        out.push(Utterance {
            wave,
            targets,
            text: entry.text,
        });
    }
    if too_short >= 5 {
        on_event(TrainEvent::Warning(format!(
            "{too_short} utterances too short for their transcripts in total"
        )));
    }
    Ok((out, skipped))
}

/// Batches of utterance indices, similar lengths together, in a seeded random order.
pub(crate) fn make_batches(
    utts: &[Utterance],
    batch_size: usize,
    rng: &mut augment::Rng,
) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..utts.len()).collect();
    // Sort by length with a random tie-break so buckets differ between epochs.
    let keys: Vec<(usize, u32)> = utts
        .iter()
        .map(|u| (u.wave.len() / 1600, rng.random::<u32>()))
        .collect();
    order.sort_by_key(|&i| keys[i]);
    let mut batches: Vec<Vec<usize>> = order
        .chunks(batch_size.max(1))
        .map(|c| c.to_vec())
        .collect();
    batches.shuffle(rng);
    batches
}

/// SNR of the noisy copy of the dev set scored after every epoch (white noise, fixed seed).
pub const DEV_NOISY_SNR_DB: f32 = 10.0;

/// The dev utterances with white noise at [`DEV_NOISY_SNR_DB`], drawn from a fixed seed.
pub(crate) fn noisy_copy(dev: &[Utterance]) -> Vec<Utterance> {
    let mut rng = augment::rng(0x0DE7);
    dev.iter()
        .filter_map(|u| {
            let mixed = augment::add_noise(
                u.wave.samples(),
                augment::NoiseColor::White,
                DEV_NOISY_SNR_DB,
                &mut rng,
            );
            Some(Utterance {
                wave: Waveform::new(mixed, u.wave.sample_rate())?,
                targets: u.targets.clone(),
                text: u.text.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Producers that share the batches (every N-th each) prepare exactly the batches one
    /// producer does: each batch draws from its own generator. With augmentation on (noise,
    /// speed, reverb, channel and SpecAugment all draw from it).
    #[test]
    fn batches_are_the_same_for_any_number_of_producers() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let cfg = TrainingConfig::english().with_batch_size(1);
        let opts = TrainOptions::new(
            root.join("tests/fixtures/overfit.jsonl"),
            root.join("target/unused"),
        );
        let data = TrainData::load(&cfg, &opts, &mut |_| {}).expect("fixtures load");
        let mfcc = Mfcc::new(cfg.features.clone()).expect("features");
        let batches: Vec<Vec<usize>> = vec![vec![0], vec![1], vec![0, 1], vec![1], vec![0]];
        let prepare = |workers: usize| {
            let mut out = Vec::new();
            for w in 0..workers {
                let (tx, rx) = std::sync::mpsc::sync_channel(batches.len());
                data.produce(&cfg, &mfcc, 2, &batches, w, workers, tx);
                out.extend(rx.iter().map(|(k, p)| (k, p.batch.features, p.groups)));
            }
            out.sort_by_key(|(k, _, _)| *k);
            out
        };
        let one = prepare(1);
        assert_eq!(one.len(), batches.len());
        // The same utterance comes out differently in different batches: augmentation is on.
        assert!(one[0].1 != one[4].1);
        for workers in [2, 3, 7] {
            assert!(one == prepare(workers), "{workers} producers");
        }
    }

    /// Training manifests may name FLAC, MP3 and Ogg Vorbis files as well as WAV: all come out
    /// as 16 kHz mono, in the manifest's order, and a missing or corrupt file is skipped.
    #[test]
    fn training_sets_load_compressed_audio_and_skip_bad_files() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("corrupt.mp3"), b"ID3 but no frames").expect("write");
        let entry = |audio: &Path| {
            serde_json::json!({"audio": audio, "text": "please turn"}).to_string() + "\n"
        };
        let fixtures = root.join("tests/fixtures");
        let files = [
            fixtures.join("speech.flac"),
            dir.path().join("missing.flac"),
            fixtures.join("speech.mp3"),
            dir.path().join("corrupt.mp3"),
            fixtures.join("speech_stereo_22k.ogg"),
            fixtures.join("overfit-1.wav"),
        ];
        let manifest = dir.path().join("m.jsonl");
        let text: String = files.iter().map(|f| entry(f)).collect();
        std::fs::write(&manifest, text).expect("write manifest");
        let cfg = TrainingConfig::english();
        let (utts, skipped) = load_utterances(
            &manifest,
            &Vocab::english(),
            &cfg,
            &cfg.features,
            &mut |_| {},
        )
        .expect("manifest loads");
        assert_eq!(skipped, 2, "the missing and the corrupt file");
        assert_eq!(utts.len(), 4);
        // The three compressed copies are the same 1.5 s, resampled to 16 kHz as needed (MP3
        // adds its encoder's delay and padding, 84 ms here).
        for u in &utts[..3] {
            assert!(
                (u.wave.duration_s() - 1.5).abs() < 0.1,
                "{}",
                u.wave.duration_s()
            );
        }
        let flac = utts[0].wave.samples();
        let wav =
            crate::audio::wav::read(&root.join("audio/samples/clean_festival_ked_lights.wav"))
                .expect("sample");
        let diff = flac
            .iter()
            .zip(wav.samples())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-3, "FLAC differs from its source by {diff}");
    }

    fn utterance(seconds: f64) -> Utterance {
        let samples = (0..(seconds * 16_000.0) as usize)
            .map(|i| (i as f32 * 0.05).sin() * 0.3)
            .collect();
        Utterance {
            wave: Waveform::new(samples, 16_000).expect("valid waveform"),
            targets: vec![1],
            text: "a".into(),
        }
    }

    #[test]
    fn batches_cover_every_utterance_once_and_group_similar_lengths() {
        let lengths = [0.5, 3.0, 0.6, 2.9, 0.55, 3.1, 1.5, 1.6];
        let utts: Vec<Utterance> = lengths.iter().map(|&s| utterance(s)).collect();
        let mut rng = augment::rng(7);
        let batches = make_batches(&utts, 3, &mut rng);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..utts.len()).collect::<Vec<_>>());
        assert_eq!(batches.iter().map(Vec::len).max(), Some(3));
        // Sorted by length before chunking: the three shortest share a batch.
        assert!(batches.iter().any(|b| {
            let mut b = b.clone();
            b.sort_unstable();
            b == [0, 2, 4]
        }));
        // Seeded: the same seed gives the same batches, another seed another order.
        assert_eq!(batches, make_batches(&utts, 3, &mut augment::rng(7)));
        let orders: std::collections::HashSet<Vec<Vec<usize>>> = (0..8)
            .map(|seed| make_batches(&utts, 3, &mut augment::rng(seed)))
            .collect();
        assert!(orders.len() > 1);
        // A zero batch size still gives batches of one.
        assert_eq!(make_batches(&utts, 0, &mut rng).len(), utts.len());
    }

    #[test]
    fn noisy_dev_copy_is_fixed_and_keeps_the_transcripts() {
        let dev = vec![utterance(0.5), utterance(0.25)];
        let a = noisy_copy(&dev);
        let b = noisy_copy(&dev);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].text, "a");
        assert_eq!(a[0].wave.samples(), b[0].wave.samples());
        assert_ne!(a[0].wave.samples(), dev[0].wave.samples());
    }
}
