//! The noise bank: recorded noise clips with a train/test split (`audio/noise/bank.json`), and
//! generated noises, behind one [`Noise`] type that mixes itself into speech at a given SNR.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::audio::decode;
use crate::augment::{self, NoiseColor, Rng};
use crate::error::{Error, Result};

/// Which experiments a recorded clip may be used in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NoiseSplit {
    Train,
    Test,
}

#[derive(Debug, Deserialize)]
struct BankFile {
    clips: Vec<ClipEntry>,
}

#[derive(Debug, Clone, Deserialize)]
struct ClipEntry {
    name: String,
    file: PathBuf,
    #[serde(rename = "type")]
    kind: String,
    split: NoiseSplit,
}

/// A noise to mix into speech.
#[derive(Debug, Clone)]
pub enum Noise {
    Generated(NoiseColor),
    Recorded {
        name: String,
        kind: String,
        split: Option<NoiseSplit>,
        samples: Vec<f32>,
    },
}

impl Noise {
    pub fn name(&self) -> &str {
        match self {
            Noise::Generated(c) => c.name(),
            Noise::Recorded { name, .. } => name,
        }
    }

    /// Mix into `speech` at `snr_db`, with the SNR measured over the whole utterance (the
    /// definition of `hark eval` and training).
    pub fn mix(&self, speech: &[f32], snr_db: f32, rng: &mut Rng) -> Vec<f32> {
        match self {
            Noise::Generated(color) => augment::add_noise(speech, *color, snr_db, rng),
            Noise::Recorded { samples, .. } => augment::mix_at_snr(speech, samples, snr_db, rng),
        }
    }

    /// Mix into `speech` at `snr_db` measured on active speech only (see
    /// [`augment::active_speech_rms`]): leading and trailing silence do not dilute the SNR.
    pub fn mix_active(&self, speech: &[f32], snr_db: f32, rng: &mut Rng) -> Vec<f32> {
        augment::mix_segment_at_active_snr(speech, &self.segment(speech.len(), rng), snr_db)
    }

    /// `len` samples of this noise: generated afresh, or a recorded clip from a random offset
    /// (looped).
    pub fn segment(&self, len: usize, rng: &mut Rng) -> Vec<f32> {
        match self {
            Noise::Generated(color) => augment::generate_noise(*color, len, rng),
            Noise::Recorded { samples, .. } => augment::noise_segment(samples, len, rng),
        }
    }
}

/// The recorded clips of a bank directory.
#[derive(Debug, Clone)]
pub struct NoiseBank {
    pub dir: PathBuf,
    clips: Vec<ClipEntry>,
}

/// The bank that ships with hark (`audio/noise` of the source tree).
pub fn default_bank_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("audio/noise")
}

impl NoiseBank {
    /// Read `dir/bank.json` (the clips are loaded on demand).
    pub fn open(dir: &Path) -> Result<Self> {
        let path = dir.join("bank.json");
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let bank: BankFile = serde_json::from_str(&text)
            .map_err(|e| Error::Data(format!("{}: {e}", path.display())))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            clips: bank.clips,
        })
    }

    /// Names of the clips in `split`.
    pub fn names(&self, split: NoiseSplit) -> Vec<&str> {
        self.clips
            .iter()
            .filter(|c| c.split == split)
            .map(|c| c.name.as_str())
            .collect()
    }

    /// Load the clip called `name`.
    pub fn load(&self, name: &str) -> Result<Noise> {
        let clip = self.clips.iter().find(|c| c.name == name).ok_or_else(|| {
            Error::Data(format!(
                "no noise called '{name}' in {}",
                self.dir.display()
            ))
        })?;
        let samples = decode::read_any(&self.dir.join(&clip.file))?.into_samples();
        Ok(Noise::Recorded {
            name: clip.name.clone(),
            kind: clip.kind.clone(),
            split: Some(clip.split),
            samples,
        })
    }
}

/// Resolve a noise given by the user: `white`, `pink`, `brown`, a clip name of `bank`, or a
/// WAV file.
pub fn resolve(spec: &str, bank: Option<&NoiseBank>) -> Result<Noise> {
    if let Some(color) = NoiseColor::from_name(spec) {
        return Ok(Noise::Generated(color));
    }
    if let Some(bank) = bank
        && bank.clips.iter().any(|c| c.name == spec)
    {
        return bank.load(spec);
    }
    let path = Path::new(spec);
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("wav"))
        || path.exists()
    {
        let samples = decode::read_any(path)?.into_samples();
        let name = path
            .file_stem()
            .map_or(spec.to_string(), |s| s.to_string_lossy().into_owned());
        return Ok(Noise::Recorded {
            name,
            kind: "file".into(),
            split: None,
            samples,
        });
    }
    Err(Error::Data(format!(
        "unknown noise '{spec}': use white, pink, brown, a name from the noise bank, or a WAV file"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_bank_has_disjoint_train_and_test_types() {
        let bank = NoiseBank::open(&default_bank_dir()).unwrap();
        let kind = |name: &str| {
            bank.clips
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .kind
                .clone()
        };
        let train: Vec<String> = bank
            .names(NoiseSplit::Train)
            .iter()
            .map(|n| kind(n))
            .collect();
        let test: Vec<String> = bank
            .names(NoiseSplit::Test)
            .iter()
            .map(|n| kind(n))
            .collect();
        assert!(
            test.iter().all(|t| !train.contains(t)),
            "a test noise type is in training"
        );
        let mut test_types = test.clone();
        test_types.dedup();
        assert!(test_types.len() >= 2);
        let mut all: Vec<String> = train.iter().chain(&test).cloned().collect();
        all.sort();
        all.dedup();
        assert!(all.len() >= 10, "{all:?}");
        for c in &bank.clips {
            assert!(
                bank.dir.join(&c.file).is_file(),
                "{} missing",
                c.file.display()
            );
        }
    }

    #[test]
    fn resolves_generated_clips_and_errors() {
        let bank = NoiseBank::open(&default_bank_dir()).unwrap();
        assert!(matches!(
            resolve("brown", Some(&bank)),
            Ok(Noise::Generated(NoiseColor::Brown))
        ));
        let crowd = resolve("crowd", Some(&bank)).unwrap();
        assert_eq!(crowd.name(), "crowd");
        let err = resolve("no-such-noise", Some(&bank))
            .unwrap_err()
            .to_string();
        assert!(err.contains("no-such-noise"), "{err}");
    }
}
