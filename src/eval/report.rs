//! A robustness report: one model scored on one test set under several conditions (clean,
//! each noise at each SNR, white-box attacks), with WER, CER, the calibration of its word
//! confidences and its speed, plus Aurora-style averages over 0–20 dB for each noise.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::attack::{Attacker, WaveAttackConfig, WaveAttacker};
use super::calibration::{Calibration, word_hits};
use super::{ErrorCounts, char_errors, word_errors};
use crate::audio::Waveform;
use crate::augment;
use crate::error::{Error, Result};
use crate::model::attack::AttackConfig;
use crate::noise::Noise;
use crate::recognizer::{Recognizer, Transcript};

/// Version tag of the JSON report.
pub const FORMAT: &str = "hark-eval/1";

/// Utterances per padded batch.
const BATCH: usize = 16;
/// Bins of the calibration error.
const CALIBRATION_BINS: usize = 10;

/// One test utterance.
pub struct TestUtterance {
    pub id: String,
    pub wave: Waveform,
    pub text: String,
}

/// What the test audio goes through before the recogniser hears it.
#[derive(Debug, Clone)]
pub enum Condition {
    Clean,
    /// `noise` (an index into the report's noises) mixed at `snr_db` over the whole utterance.
    Noisy {
        noise: usize,
        snr_db: f32,
    },
    /// A white-box attack on the clean features.
    Attack(AttackConfig),
    /// A white-box attack on the clean waveform, bounded in SNR.
    WaveAttack(WaveAttackConfig),
}

/// The scores of one condition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Row {
    pub condition: String,
    pub noise: Option<String>,
    pub snr_db: Option<f32>,
    pub attack_epsilon: Option<f32>,
    pub attack_steps: Option<usize>,
    /// The SNR bound (dB) of a waveform attack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack_snr_db: Option<f32>,
    pub wer: f64,
    pub cer: f64,
    pub words: ErrorCounts,
    pub chars: ErrorCounts,
    /// Expected calibration error of the word confidences, in [0, 1].
    pub ece: Option<f64>,
    /// Hypothesis words the calibration error is measured on.
    pub hypothesis_words: usize,
    /// Processing seconds per second of audio (attacks included).
    pub rtf: f64,
    /// The five worst utterances, most word errors first.
    pub worst: Vec<UtteranceResult>,
    /// Every utterance, in manifest order, when asked for (`hark eval --details`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub utterances: Vec<UtteranceResult>,
}

/// One utterance's result under one condition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UtteranceResult {
    pub id: String,
    pub reference: String,
    pub hypothesis: String,
    pub words: ErrorCounts,
    pub chars: ErrorCounts,
}

/// Mean WER of one noise over the SNRs from 0 to 20 dB that were measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoiseAverage {
    pub noise: String,
    pub snrs_db: Vec<f32>,
    pub wer: f64,
    pub cer: f64,
}

/// A whole report, as `hark eval --json` writes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub format: String,
    pub model: String,
    pub manifest: String,
    pub utterances: usize,
    /// Manifest lines or audio files that could not be used (named on stderr).
    pub failed: usize,
    pub beam: usize,
    pub mc_samples: usize,
    pub seed: u64,
    pub rows: Vec<Row>,
    pub averages_0_20db: Vec<NoiseAverage>,
}

/// Score `rec` on `utts` under each condition. `progress` is called after every batch with
/// the number of utterances done in this condition.
pub fn evaluate(
    rec: &Recognizer,
    utts: &[TestUtterance],
    noises: &[Noise],
    conditions: &[Condition],
    seed: u64,
    details: bool,
    mut progress: impl FnMut(&str, usize),
) -> Result<Vec<Row>> {
    let audio_s: f64 = utts.iter().map(|u| u.wave.duration_s()).sum();
    let mut rows = Vec::with_capacity(conditions.len());
    for condition in conditions {
        let name = describe(condition, noises);
        // Every condition draws its noise segments and attack starts from the same seed.
        let mut rng = augment::rng(seed);
        let attacker = ConditionAttacker::for_condition(rec, condition);
        let started = Instant::now();
        let mut transcripts: Vec<Transcript> = Vec::with_capacity(utts.len());
        for chunk in utts.chunks(BATCH) {
            let waves: Vec<Waveform> = match condition {
                Condition::Noisy { noise, snr_db } => {
                    let noise = noises.get(*noise).ok_or_else(|| {
                        Error::Config(format!("condition names noise {noise}, not loaded"))
                    })?;
                    chunk
                        .iter()
                        .map(|u| {
                            let mixed = noise.mix(u.wave.samples(), *snr_db, &mut rng);
                            Waveform::new(mixed, u.wave.sample_rate()).ok_or_else(|| {
                                Error::Config(format!("mixing {} gave non-finite samples", u.id))
                            })
                        })
                        .collect::<Result<_>>()?
                }
                _ => chunk.iter().map(|u| u.wave.clone()).collect(),
            };
            match &attacker {
                Some(a) => {
                    let refs: Vec<&Waveform> = waves.iter().collect();
                    let texts: Vec<&str> = chunk.iter().map(|u| u.text.as_str()).collect();
                    transcripts.extend(a.transcribe(rec, &refs, &texts, &mut rng));
                }
                None => transcripts.extend(rec.transcribe_batch(&waves)),
            }
            progress(&name, transcripts.len());
        }
        let rtf = started.elapsed().as_secs_f64() / audio_s.max(1e-9);
        rows.push(score(
            name,
            condition,
            noises,
            utts,
            &transcripts,
            rtf,
            details,
        ));
    }
    Ok(rows)
}

/// The attack a condition runs, if any.
enum ConditionAttacker {
    Features(Box<Attacker>),
    Wave(Box<WaveAttacker>),
}

impl ConditionAttacker {
    fn for_condition(rec: &Recognizer, condition: &Condition) -> Option<Self> {
        match condition {
            Condition::Attack(cfg) => Some(Self::Features(Box::new(Attacker::new(rec, *cfg)))),
            Condition::WaveAttack(cfg) => Some(Self::Wave(Box::new(WaveAttacker::new(rec, *cfg)))),
            Condition::Clean | Condition::Noisy { .. } => None,
        }
    }

    fn transcribe(
        &self,
        rec: &Recognizer,
        waves: &[&Waveform],
        texts: &[&str],
        rng: &mut augment::Rng,
    ) -> Vec<Transcript> {
        match self {
            Self::Features(a) => a.transcribe(rec, waves, texts, rng),
            Self::Wave(a) => a.transcribe(rec, waves, texts, rng),
        }
    }
}

fn describe(condition: &Condition, noises: &[Noise]) -> String {
    match condition {
        Condition::Clean => "clean".into(),
        Condition::Noisy { noise, snr_db } => format!(
            "{} {snr_db} dB",
            noises.get(*noise).map_or("?", Noise::name)
        ),
        Condition::Attack(cfg) if cfg.steps == 0 => format!("fgsm eps {}", cfg.epsilon),
        Condition::Attack(cfg) => format!("pgd{} eps {}", cfg.steps, cfg.epsilon),
        Condition::WaveAttack(cfg) if cfg.steps == 0 => {
            format!("wave fgsm snr {} dB", cfg.snr_db)
        }
        Condition::WaveAttack(cfg) => format!("wave pgd{} snr {} dB", cfg.steps, cfg.snr_db),
    }
}

fn score(
    name: String,
    condition: &Condition,
    noises: &[Noise],
    utts: &[TestUtterance],
    transcripts: &[Transcript],
    rtf: f64,
    details: bool,
) -> Row {
    let mut words = ErrorCounts::default();
    let mut chars = ErrorCounts::default();
    let mut calibration = Calibration::new(CALIBRATION_BINS);
    let mut each = Vec::with_capacity(utts.len());
    for (u, t) in utts.iter().zip(transcripts) {
        let w = word_errors(&u.text, &t.text);
        let c = char_errors(&u.text, &t.text);
        words += w;
        chars += c;
        let spelled: Vec<&str> = t.words.iter().map(|w| w.word.as_str()).collect();
        for (word, hit) in t.words.iter().zip(word_hits(&u.text, &spelled)) {
            calibration.add(word.confidence, hit);
        }
        each.push(UtteranceResult {
            id: u.id.clone(),
            reference: u.text.clone(),
            hypothesis: t.text.clone(),
            words: w,
            chars: c,
        });
    }
    let mut worst = each.clone();
    worst.sort_by_key(|w| std::cmp::Reverse(w.words.errors()));
    worst.truncate(5);
    if !details {
        each.clear();
    }
    let (noise, snr_db, attack) = match condition {
        Condition::Clean | Condition::WaveAttack(_) => (None, None, None),
        Condition::Noisy { noise, snr_db } => (
            noises.get(*noise).map(|n| n.name().to_string()),
            Some(*snr_db),
            None,
        ),
        Condition::Attack(cfg) => (None, None, Some(cfg)),
    };
    let wave = match condition {
        Condition::WaveAttack(cfg) => Some(cfg),
        _ => None,
    };
    Row {
        condition: name,
        noise,
        snr_db,
        attack_epsilon: attack.map(|a| a.epsilon),
        attack_steps: attack.map(|a| a.steps).or(wave.map(|w| w.steps)),
        attack_snr_db: wave.map(|w| w.snr_db),
        wer: words.rate(),
        cer: chars.rate(),
        words,
        chars,
        ece: calibration.expected_error(),
        hypothesis_words: calibration.count(),
        rtf,
        worst,
        utterances: each,
    }
}

/// For each noise, the WER and CER summed over its rows from 0 to 20 dB (Aurora 2's
/// average), when it has any.
pub fn averages_0_20db(rows: &[Row]) -> Vec<NoiseAverage> {
    let mut names: Vec<&str> = Vec::new();
    for r in rows {
        if let Some(n) = &r.noise
            && !names.contains(&n.as_str())
        {
            names.push(n);
        }
    }
    names
        .into_iter()
        .filter_map(|name| {
            let picked: Vec<&Row> = rows
                .iter()
                .filter(|r| r.noise.as_deref() == Some(name))
                .filter(|r| r.snr_db.is_some_and(|s| (0.0..=20.0).contains(&s)))
                .collect();
            if picked.is_empty() {
                return None;
            }
            let n = picked.len() as f64;
            Some(NoiseAverage {
                noise: name.to_string(),
                snrs_db: picked.iter().filter_map(|r| r.snr_db).collect(),
                wer: picked.iter().map(|r| r.wer).sum::<f64>() / n,
                cer: picked.iter().map(|r| r.cer).sum::<f64>() / n,
            })
        })
        .collect()
}

/// The clean condition's row, if it was measured.
pub fn clean_row(rows: &[Row]) -> Option<&Row> {
    rows.iter()
        .find(|r| r.noise.is_none() && r.attack_epsilon.is_none() && r.attack_snr_db.is_none())
}

/// WER against SNR, one line per noise (clean drawn at `clean_at_db`).
pub fn wer_by_snr(rows: &[Row], clean_at_db: f64) -> Vec<crate::plot::Series> {
    let clean = clean_row(rows);
    let mut series: Vec<crate::plot::Series> = Vec::new();
    for r in rows {
        let (Some(noise), Some(snr)) = (&r.noise, r.snr_db) else {
            continue;
        };
        let idx = match series.iter().position(|s| &s.name == noise) {
            Some(i) => i,
            None => {
                series.push(crate::plot::Series {
                    name: noise.clone(),
                    points: clean
                        .map(|c| vec![(clean_at_db, c.wer)])
                        .unwrap_or_default(),
                });
                series.len() - 1
            }
        };
        series[idx].points.push((f64::from(snr), r.wer));
    }
    for s in &mut series {
        s.points.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    series
}
