//! `hark corpus mix`: a fixed, seeded noisy copy of a manifest for evaluation — every
//! utterance × every noise × every SNR, with the SNR measured on active speech
//! ([`crate::augment::active_speech_rms`]) — and `hark corpus babble`, which sums several
//! talkers of a corpus into a babble-noise clip.

use std::path::{Path, PathBuf};

use rand::RngExt;

use crate::audio::{SAMPLE_RATE, Waveform, decode, wav};
use crate::data::{Manifest, ManifestEntry, write_manifest};
use crate::error::{Error, Result};
use crate::noise::Noise;

/// What `mix` wrote.
#[derive(Debug, Default)]
pub struct MixReport {
    /// Condition name (`noise_snr`) and its manifest.
    pub manifests: Vec<(String, PathBuf)>,
    pub utterances: usize,
    /// Entries that could not be used, with the reason (they are left out, the rest goes on).
    pub failed: Vec<String>,
}

fn condition_name(noise: &Noise, snr: f32) -> String {
    format!("{}_{}db", noise.name(), snr).replace('-', "m")
}

/// Mix every entry of `manifest` with each noise at each SNR into `out`.
pub fn mix(
    manifest: &Path,
    noises: &[Noise],
    snrs: &[f32],
    out: &Path,
    seed: u64,
) -> Result<MixReport> {
    let m = Manifest::load(manifest)?;
    let mut report = MixReport::default();
    report.failed.extend(m.errors.iter().map(|e| e.to_string()));
    let mut speech = Vec::new();
    for e in &m.entries {
        match decode::read_any(&e.audio) {
            Ok(w) => speech.push((e, w)),
            Err(err) => report.failed.push(err.to_string()),
        }
    }
    for (ni, noise) in noises.iter().enumerate() {
        for (si, &snr) in snrs.iter().enumerate() {
            let name = condition_name(noise, snr);
            let dir = out.join("wav").join(&name);
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            // One RNG per condition: adding a noise or an SNR leaves the others unchanged.
            let mut rng = crate::augment::rng(seed ^ ((ni as u64) << 32) ^ si as u64);
            let mut entries = Vec::with_capacity(speech.len());
            for (i, (entry, wave)) in speech.iter().enumerate() {
                let noisy = noise.mix_active(wave.samples(), snr, &mut rng);
                let Some(noisy) = Waveform::new(noisy, SAMPLE_RATE) else {
                    report.failed.push(format!(
                        "{}: mixing gave non-finite samples",
                        entry.audio.display()
                    ));
                    continue;
                };
                let file = PathBuf::from("wav").join(&name).join(format!("{i:06}.wav"));
                wav::write(&out.join(&file), &noisy)?;
                entries.push(ManifestEntry {
                    audio: file,
                    text: entry.text.clone(),
                    speaker: entry.speaker.clone(),
                    duration: Some(noisy.duration_s()),
                    label: entry.label.clone(),
                });
            }
            let path = out.join(format!("{name}.jsonl"));
            write_manifest(&path, &entries)?;
            report.utterances += entries.len();
            report.manifests.push((name, path));
        }
    }
    Ok(report)
}

/// Sum `talkers` streams of utterances from `manifest` (each stream utterances back to back,
/// levelled to the same RMS) into `seconds` of babble, peak-normalised to −3 dBFS.
pub fn babble(manifest: &Path, talkers: usize, seconds: f64, seed: u64) -> Result<Waveform> {
    let m = Manifest::load(manifest)?;
    if m.entries.is_empty() {
        return Err(Error::Data(format!(
            "{}: no utterances",
            manifest.display()
        )));
    }
    let len = (seconds * SAMPLE_RATE as f64) as usize;
    let mut rng = crate::augment::rng(seed);
    let mut sum = vec![0.0f32; len];
    for _ in 0..talkers.max(1) {
        let mut stream = Vec::with_capacity(len);
        let mut tries = 0;
        while stream.len() < len && tries < 1000 {
            tries += 1;
            let e = &m.entries[rng.random_range(0..m.entries.len())];
            if let Ok(w) = decode::read_any(&e.audio) {
                stream.extend_from_slice(w.samples());
            }
        }
        stream.resize(len, 0.0);
        let r = crate::audio::rms(&stream).max(1e-9);
        for (s, x) in sum.iter_mut().zip(&stream) {
            *s += x / r;
        }
    }
    crate::audio::peak_normalize(&mut sum, -3.0);
    Waveform::new(sum, SAMPLE_RATE).ok_or_else(|| Error::Data("babble is not finite".into()))
}
