//! The TTS voices a corpus is made from, which split each belongs to, its licence, and the
//! command that makes it speak.
//!
//! A voice is one engine voice (for espeak-ng: an accent plus a variant). Voices that are the
//! same human speaker (flite `kal`/`kal16` and festival `kal_diphone`; flite `slt` and
//! festival's HTS `slt`) stay in one split. A *speaker* of the corpus is a voice with a pitch,
//! a rate and a vocal-tract warp (see [`Style`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::Split;
use super::kokoro::Kokoro;

/// The engines, each run as a subprocess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    Espeak,
    Flite,
    Festival,
    Piper,
    Kokoro,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Espeak => "espeak",
            Engine::Flite => "flite",
            Engine::Festival => "festival",
            Engine::Piper => "piper",
            Engine::Kokoro => "kokoro",
        }
    }

    /// Every engine, in the order `--engines` lists them.
    pub const ALL: [Engine; 5] = [
        Engine::Espeak,
        Engine::Flite,
        Engine::Festival,
        Engine::Piper,
        Engine::Kokoro,
    ];

    /// The engine of this name.
    pub fn parse(name: &str) -> Option<Engine> {
        Engine::ALL.into_iter().find(|e| e.name() == name)
    }

    /// The program that must be on `PATH` (piper and Kokoro run through their own Python).
    fn program(self) -> &'static str {
        match self {
            Engine::Espeak => "espeak-ng",
            Engine::Flite => "flite",
            Engine::Festival => "text2wave",
            Engine::Piper | Engine::Kokoro => "python3",
        }
    }
}

/// One voice of the inventory.
#[derive(Debug, Clone)]
pub struct Voice {
    pub engine: Engine,
    pub name: String,
    pub split: Split,
    /// Relative share of the utterances of its split.
    pub weight: f64,
    pub licence: &'static str,
    /// Mean F0 in Hz for engines that take a pitch target; `None`: no native pitch control.
    pub base_f0: Option<f64>,
    /// Whether the engine honours a duration stretch for this voice.
    pub native_rate: bool,
}

impl Voice {
    pub fn id(&self) -> String {
        format!("{}:{}", self.engine.name(), self.name)
    }
}

/// Pitch, rate and vocal-tract warp of one corpus speaker.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Style {
    /// Pitch multiplier (espeak-ng: pitch 0–99 scaled from 50).
    pub pitch: f64,
    /// Duration stretch (> 1 slower).
    pub stretch: f64,
    /// Resampling factor applied after synthesis: > 1 shortens the vocal tract (and raises
    /// pitch and tempo with it), like a smaller speaker.
    pub warp: f64,
    pub label: &'static str,
}

/// The speaker styles: 3 pitches × 3 rates × 3 warps.
pub fn styles() -> Vec<Style> {
    const LABELS: [&str; 27] = [
        "lo-slow-s",
        "lo-slow-m",
        "lo-slow-l",
        "lo-norm-s",
        "lo-norm-m",
        "lo-norm-l",
        "lo-fast-s",
        "lo-fast-m",
        "lo-fast-l",
        "mid-slow-s",
        "mid-slow-m",
        "mid-slow-l",
        "mid-norm-s",
        "mid-norm-m",
        "mid-norm-l",
        "mid-fast-s",
        "mid-fast-m",
        "mid-fast-l",
        "hi-slow-s",
        "hi-slow-m",
        "hi-slow-l",
        "hi-norm-s",
        "hi-norm-m",
        "hi-norm-l",
        "hi-fast-s",
        "hi-fast-m",
        "hi-fast-l",
    ];
    let mut out = Vec::with_capacity(27);
    for pitch in [0.85, 1.0, 1.18] {
        for stretch in [1.15, 1.0, 0.88] {
            for warp in [1.07, 1.0, 0.94] {
                let label = LABELS[out.len()];
                out.push(Style {
                    pitch,
                    stretch,
                    warp,
                    label,
                });
            }
        }
    }
    out
}

const ESPEAK_LICENCE: &str = "espeak-ng (GPL-3+ program; output not covered)";
const FLITE_LICENCE: &str = "CMU Flite licence (BSD-style)";

/// The voice inventory for the engines found (see `audio/README.md` for the licences).
/// `piper`: a piper `.onnx` voice to add to the training split; `kokoro`: add Kokoro's 28
/// English voices ([`super::kokoro::VOICES`]), half the weight of each split; `Some(n)` with
/// n > 0 replaces its 22 training voices by n blends of two of them
/// ([`super::kokoro::blends`]); the dev and test voices stay as they are.
pub fn inventory(piper: Option<&Path>, kokoro: Option<usize>) -> Vec<Voice> {
    let mut v = Vec::new();
    let mut add = |engine, name: &str, split, weight, licence, base_f0, native_rate| {
        v.push(Voice {
            engine,
            name: name.to_string(),
            split,
            weight,
            licence,
            base_f0,
            native_rate,
        })
    };
    use Engine::*;
    use Split::*;
    // Natural-sounding voices carry most of the weight; espeak-ng adds accents.
    add(Flite, "kal", Train, 10.0, FLITE_LICENCE, Some(105.0), true);
    add(
        Flite,
        "kal16",
        Train,
        12.0,
        FLITE_LICENCE,
        Some(105.0),
        true,
    );
    add(Flite, "slt", Train, 18.0, FLITE_LICENCE, Some(175.0), true);
    add(
        Festival,
        "kal_diphone",
        Train,
        12.0,
        "CMU/CSTR free-use licence (BSD-style)",
        Some(105.0),
        true,
    );
    add(
        Festival,
        "cmu_us_slt_arctic_hts",
        Train,
        18.0,
        "CMU EST free-use licence + BSD-3-clause",
        None,
        false,
    );
    add(Flite, "awb", Dev, 65.0, FLITE_LICENCE, Some(110.0), true);
    add(Flite, "rms", Test, 35.0, FLITE_LICENCE, None, true);
    add(
        Festival,
        "ked_diphone",
        Test,
        35.0,
        "University of Edinburgh CSTR free-use licence (BSD-style)",
        Some(106.0),
        true,
    );
    let accents: [(Split, &[&str], &[&str], f64); 3] = [
        (
            Train,
            &[
                "en-us",
                "en",
                "en-gb-x-rp",
                "en-gb-x-gbclan",
                "en-gb-x-gbcwmd",
                "en-us-nyc",
            ],
            &[
                "", "m1", "m2", "m3", "m4", "m7", "f1", "f2", "f3", "klatt2", "klatt4", "Alex",
                "Annie",
            ],
            30.0,
        ),
        (Dev, &["en-029"], &["", "m5", "f5", "klatt"], 35.0),
        (
            Test,
            &["en-gb-scotland"],
            &["", "m6", "f4", "klatt3", "Andy"],
            30.0,
        ),
    ];
    for (split, accents, variants, share) in accents {
        let each = share / (accents.len() * variants.len()) as f64;
        for a in accents {
            for var in variants {
                let name = if var.is_empty() {
                    a.to_string()
                } else {
                    format!("{a}+{var}")
                };
                add(Espeak, &name, split, each, ESPEAK_LICENCE, Some(1.0), true);
            }
        }
    }
    if let Some(model) = piper {
        let name = model
            .file_stem()
            .map_or("piper".into(), |s| s.to_string_lossy().into_owned());
        add(
            Piper,
            &name,
            Train,
            15.0,
            "see the voice's model card (not used for shipped models)",
            None,
            true,
        );
    }
    if let Some(blends) = kokoro {
        for split in Split::ALL {
            let names: Vec<String> = if split == Split::Train && blends > 0 {
                super::kokoro::blends(blends)
            } else {
                super::kokoro::VOICES
                    .iter()
                    .filter(|(_, s)| *s == split)
                    .map(|(name, _)| name.to_string())
                    .collect()
            };
            // The other voices of each split weigh 100 together.
            let each = 100.0 / names.len() as f64;
            for name in &names {
                add(
                    Kokoro,
                    name,
                    split,
                    each,
                    super::kokoro::LICENCE,
                    None,
                    true,
                );
            }
        }
    }
    v
}

/// The engines beyond the Debian ones, when the user points at them.
#[derive(Debug, Clone, Default)]
pub struct ExtraEngines {
    pub piper: Option<PiperVoice>,
    pub kokoro: Option<Kokoro>,
}

/// A piper voice: the Python that has `piper-tts` installed and the voice's `.onnx` model.
#[derive(Debug, Clone)]
pub struct PiperVoice {
    pub python: PathBuf,
    pub model: PathBuf,
}

/// Whether `program` can be run (a path, or a name found on `PATH`).
pub fn on_path(program: &str) -> bool {
    if program.contains('/') {
        return Path::new(program).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// The engines of `voices` whose program is missing (for Kokoro: any file of its setup).
pub fn missing_engines(voices: &[Voice], extra: &ExtraEngines) -> Vec<Engine> {
    let mut missing = Vec::new();
    for v in voices {
        let installed = match (v.engine, &extra.piper, &extra.kokoro) {
            (Engine::Piper, Some(p), _) => on_path(&p.python.to_string_lossy()),
            (Engine::Kokoro, _, Some(k)) => k.missing().is_none(),
            (Engine::Kokoro, _, None) => false,
            (e, _, _) => on_path(e.program()),
        };
        if !missing.contains(&v.engine) && !installed {
            missing.push(v.engine);
        }
    }
    missing
}

/// The command that speaks the text in `text_file` into `out_wav` in `voice` with `style`'s
/// pitch and rate (the warp is applied afterwards). `jitter` (±0.04) varies pitch and rate a
/// little within a speaker. `None` for Kokoro, which speaks through a
/// [`KokoroWorker`](super::kokoro::KokoroWorker) that loads its model once.
pub fn command(
    voice: &Voice,
    style: &Style,
    jitter: f64,
    text_file: &Path,
    out_wav: &Path,
    extra: &ExtraEngines,
) -> Option<Command> {
    let stretch = style.stretch * (1.0 - jitter);
    let f0 = voice.base_f0.map(|f| f * style.pitch * (1.0 + jitter));
    let command = match voice.engine {
        Engine::Espeak => {
            let mut c = Command::new("espeak-ng");
            let pitch = (50.0 * style.pitch * (1.0 + jitter))
                .round()
                .clamp(0.0, 99.0);
            let words_per_min = (165.0 / stretch).round();
            c.args(["-v", &voice.name, "-p", &format!("{pitch}")])
                .args(["-s", &format!("{words_per_min}"), "-w"])
                .arg(out_wav)
                .arg("-f")
                .arg(text_file);
            c
        }
        Engine::Flite => {
            let mut c = Command::new("flite");
            c.args(["-voice", &voice.name]);
            if let Some(f0) = f0 {
                c.args(["--setf", &format!("int_f0_target_mean={f0:.1}")]);
            }
            c.args(["--setf", &format!("duration_stretch={stretch:.3}")])
                .arg("-f")
                .arg(text_file)
                .arg("-o")
                .arg(out_wav);
            c
        }
        Engine::Festival => {
            let mut c = Command::new("text2wave");
            c.args(["-eval", &format!("(voice_{})", voice.name)]);
            if let Some(f0) = f0 {
                c.args([
                    "-eval",
                    &format!(
                        "(set! int_lr_params '((target_f0_mean {f0:.1}) (target_f0_std {:.1}) (model_f0_mean 170) (model_f0_std 34)))",
                        0.14 * f0
                    ),
                ]);
            }
            if voice.native_rate {
                c.args([
                    "-eval",
                    &format!("(Parameter.set 'Duration_Stretch {stretch:.3})"),
                ]);
            }
            c.arg("-o").arg(out_wav).arg(text_file);
            c
        }
        Engine::Piper => {
            let (python, model) = extra
                .piper
                .as_ref()
                .map_or((Path::new("python3"), Path::new("")), |p| {
                    (p.python.as_path(), p.model.as_path())
                });
            let mut c = Command::new(python);
            c.args(["-m", "piper", "-m"])
                .arg(model)
                .args(["--length-scale", &format!("{stretch:.3}")])
                .args(["--noise-scale", "0", "--noise-w-scale", "0", "-f"])
                .arg(out_wav)
                .arg("-i")
                .arg(text_file);
            c
        }
        Engine::Kokoro => return None,
    };
    Some(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_share_no_voice_and_each_has_one() {
        let inv = inventory(None, Some(0));
        for split in Split::ALL {
            assert!(inv.iter().any(|v| v.split == split));
        }
        let mut ids: Vec<String> = inv.iter().map(Voice::id).collect();
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "a voice is listed twice");
        // The same human speakers stay together in train.
        for name in [
            "kal",
            "kal16",
            "kal_diphone",
            "slt",
            "cmu_us_slt_arctic_hts",
        ] {
            let v = inv.iter().find(|v| v.name == name).unwrap();
            assert_eq!(v.split, Split::Train, "{name}");
        }
    }

    #[test]
    fn kokoro_adds_its_english_voices_with_half_of_each_split() {
        let without = inventory(None, None);
        let with = inventory(None, Some(0));
        let kokoro: Vec<&Voice> = with.iter().filter(|v| v.engine == Engine::Kokoro).collect();
        assert_eq!(kokoro.len(), 28);
        assert_eq!(with.len(), without.len() + 28);
        for (split, n) in [(Split::Train, 22), (Split::Dev, 3), (Split::Test, 3)] {
            let of_split: Vec<&&Voice> = kokoro.iter().filter(|v| v.split == split).collect();
            assert_eq!(of_split.len(), n, "{split:?}");
            let share: f64 = of_split.iter().map(|v| v.weight).sum();
            assert!((share - 100.0).abs() < 1e-9, "{split:?}: {share}");
            // Each held-out split hears both sexes.
            if split != Split::Train {
                assert!(of_split.iter().any(|v| v.name.as_bytes()[1] == b'f'));
                assert!(of_split.iter().any(|v| v.name.as_bytes()[1] == b'm'));
            }
        }
    }

    #[test]
    fn kokoro_counts_as_missing_without_its_setup() {
        let inv = inventory(None, Some(0));
        let elsewhere = ExtraEngines {
            piper: None,
            kokoro: Some(Kokoro {
                dir: PathBuf::from("/nonexistent/kokoro"),
                blends: 0,
            }),
        };
        assert!(missing_engines(&inv, &elsewhere).contains(&Engine::Kokoro));
        assert!(missing_engines(&inv, &ExtraEngines::default()).contains(&Engine::Kokoro));
        let kokoro = inv.iter().find(|v| v.engine == Engine::Kokoro).unwrap();
        let style = styles()[0];
        let speak = command(
            kokoro,
            &style,
            0.0,
            Path::new("t"),
            Path::new("o"),
            &elsewhere,
        );
        assert!(speak.is_none(), "Kokoro speaks through its worker");
    }

    #[test]
    fn engines_parse_by_name() {
        for e in Engine::ALL {
            assert_eq!(Engine::parse(e.name()), Some(e));
        }
        assert_eq!(Engine::parse("mbrola"), None);
    }

    #[test]
    fn twenty_seven_distinct_styles() {
        let s = styles();
        assert_eq!(s.len(), 27);
        let mut labels: Vec<&str> = s.iter().map(|s| s.label).collect();
        labels.dedup();
        assert_eq!(labels.len(), 27);
    }
}
