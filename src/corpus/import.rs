//! `hark corpus import`: turn the corpus layouts users already have into a JSONL manifest,
//! with a validation report. Every entry is checked (audio exists and decodes, transcript is
//! non-empty and within the vocabulary, the utterance is long enough for its transcript under
//! CTC, duration plausible); a bad entry is listed and skipped, never fatal.
//!
//! Layouts:
//! - **LibriSpeech**: `SPEAKER/CHAPTER/SPEAKER-CHAPTER.trans.txt` (`ID TEXT` per line) next to
//!   `ID.flac` (or `.wav`);
//! - **Common Voice**: a TSV (`validated.tsv`, `train.tsv`, ...) with `path` and `sentence`
//!   columns (and `client_id`), clips in `clips/` beside it;
//! - **Kaldi**: a data dir with `wav.scp` (`ID PATH`) and `text` (`ID TEXT`), optionally `utt2spk`;
//!   `wav.scp` entries that are commands (ending in `|`) are rejected;
//! - **folder**: `x.wav` (or `.flac`, `.mp3`, `.ogg`) with `x.txt` beside it, searched recursively.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::data::{ManifestEntry, write_manifest};
use crate::error::{Error, Result};
use crate::text::{Vocab, normalize};

/// A corpus layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    LibriSpeech,
    CommonVoice,
    Kaldi,
    Folder,
}

/// What is wrong with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// A line of a transcript/index file that cannot be parsed.
    BadLine,
    MissingAudio,
    UnreadableAudio,
    /// A Kaldi `wav.scp` entry that is a shell command.
    Command,
    /// No transcript for the audio, or none left after normalisation.
    EmptyTranscript,
    /// Letters outside the model's alphabet (a–z and apostrophe after accent folding).
    OutOfVocabulary,
    /// Fewer model frames than the transcript needs under CTC.
    TooShortForTranscript,
    /// Shorter than 0.2 s, longer than 60 s, or faster than 30 letters per second.
    DurationOutlier,
}

/// One skipped entry.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// Utterance id or file.
    pub entry: String,
    pub kind: ProblemKind,
    pub detail: String,
}

/// The result of an import.
#[derive(Debug, Default, Serialize)]
pub struct ImportReport {
    pub accepted: usize,
    pub hours: f64,
    pub problems: Vec<Problem>,
}

impl ImportReport {
    /// Problems counted by kind.
    pub fn counts(&self) -> Vec<(ProblemKind, usize)> {
        let mut counts: HashMap<ProblemKind, usize> = HashMap::new();
        for p in &self.problems {
            *counts.entry(p.kind).or_default() += 1;
        }
        let mut v: Vec<_> = counts.into_iter().collect();
        v.sort_by_key(|(k, _)| format!("{k:?}"));
        v
    }
}

/// An entry found in the layout, before validation.
pub(crate) struct Candidate {
    pub id: String,
    pub audio: PathBuf,
    pub text: Option<String>,
    pub speaker: Option<String>,
    /// Where the text came from (see [`ManifestEntry::label`]).
    pub label: Option<String>,
}

/// Feature frames per second, before the model stacks them.
const FEATURE_FRAMES_PER_S: f64 = 100.0;

/// Import `src` (a directory, or for Common Voice a TSV file) and write `out` (JSONL). `stack`
/// is the frame stack of the model that will train on it (the built-in model's, say): a clip
/// shorter than its transcript needs at that frame rate is refused.
pub fn import(layout: Layout, src: &Path, out: &Path, stack: usize) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    let candidates = match layout {
        Layout::LibriSpeech => librispeech(src, &mut report)?,
        Layout::CommonVoice => common_voice(src, &mut report)?,
        Layout::Kaldi => kaldi(src, &mut report)?,
        Layout::Folder => folder(src)?,
    };
    let entries = validate(candidates, &mut report, stack);
    write_manifest(out, &entries)?;
    Ok(report)
}

/// Check every candidate (see the module doc); the good ones become manifest entries, the bad
/// ones problems in `report`.
pub(crate) fn validate(
    candidates: Vec<Candidate>,
    report: &mut ImportReport,
    stack: usize,
) -> Vec<ManifestEntry> {
    let model_frames_per_s = FEATURE_FRAMES_PER_S / stack.max(1) as f64;
    let vocab = Vocab::english();
    let mut entries = Vec::new();
    for c in candidates {
        let mut problem = |kind, detail: String| {
            report.problems.push(Problem {
                entry: c.id.clone(),
                kind,
                detail,
            })
        };
        let Some(raw_text) = c.text.as_deref() else {
            problem(ProblemKind::EmptyTranscript, "no transcript".into());
            continue;
        };
        let in_alphabet = |ch: char| {
            let n = normalize(&ch.to_string());
            !n.is_empty() && n.chars().all(|x| x.is_ascii_lowercase())
        };
        if let Some(bad) = raw_text
            .chars()
            .find(|&ch| ch.is_alphabetic() && !in_alphabet(ch))
        {
            problem(
                ProblemKind::OutOfVocabulary,
                format!("letter '{bad}' in \"{raw_text}\""),
            );
            continue;
        }
        let text = normalize(raw_text);
        if text.is_empty() {
            problem(
                ProblemKind::EmptyTranscript,
                format!("\"{raw_text}\" is empty after normalisation"),
            );
            continue;
        }
        if !c.audio.exists() {
            problem(ProblemKind::MissingAudio, c.audio.display().to_string());
            continue;
        }
        let duration = match crate::audio::read_any(&c.audio) {
            Ok(w) => w.duration_s(),
            Err(e) => {
                problem(ProblemKind::UnreadableAudio, e.to_string());
                continue;
            }
        };
        let letters = text.chars().filter(|ch| *ch != ' ').count() as f64;
        let outlier = |problem: &mut dyn FnMut(ProblemKind, String)| {
            problem(
                ProblemKind::DurationOutlier,
                format!("{duration:.2} s for {letters} letters"),
            )
        };
        if !(0.2..=60.0).contains(&duration) {
            outlier(&mut problem);
            continue;
        }
        let needed = crate::ctc::min_frames(&vocab.encode(&text));
        let frames = (duration * model_frames_per_s).floor() as usize;
        if frames < needed {
            problem(
                ProblemKind::TooShortForTranscript,
                format!(
                    "{duration:.2} s gives {frames} model frames, the transcript needs {needed}"
                ),
            );
            continue;
        }
        if letters / duration > 30.0 {
            outlier(&mut problem);
            continue;
        }
        report.accepted += 1;
        report.hours += duration / 3600.0;
        entries.push(ManifestEntry {
            audio: std::path::absolute(&c.audio).unwrap_or(c.audio),
            text,
            speaker: c.speaker,
            duration: Some((duration * 1000.0).round() / 1000.0),
            label: c.label,
        });
    }
    entries
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

fn bad_line(report: &mut ImportReport, file: &Path, line: usize, detail: &str) {
    report.problems.push(Problem {
        entry: format!("{}:{line}", file.display()),
        kind: ProblemKind::BadLine,
        detail: detail.into(),
    });
}

/// Split `ID REST` at the first whitespace.
fn id_and_rest(line: &str) -> Option<(&str, &str)> {
    let line = line.trim();
    let (id, rest) = line.split_once(char::is_whitespace)?;
    Some((id, rest.trim()))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    let mut items: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    items.sort();
    for p in items {
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

fn librispeech(root: &Path, report: &mut ImportReport) -> Result<Vec<Candidate>> {
    let mut files = Vec::new();
    walk(root, &mut files)?;
    let mut out = Vec::new();
    for trans in files
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".trans.txt"))
    {
        let dir = trans.parent().unwrap_or(root);
        for (i, line) in read_text(trans)?.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let Some((id, text)) = id_and_rest(line) else {
                bad_line(report, trans, i + 1, "expected 'ID TEXT'");
                continue;
            };
            let flac = dir.join(format!("{id}.flac"));
            let audio = if flac.exists() {
                flac
            } else {
                dir.join(format!("{id}.wav"))
            };
            out.push(Candidate {
                id: id.to_string(),
                audio,
                text: Some(text.to_string()),
                speaker: id.split('-').next().map(str::to_string),
                label: None,
            });
        }
    }
    if out.is_empty() && report.problems.is_empty() {
        return Err(Error::Data(format!(
            "{}: no *.trans.txt files: not a LibriSpeech directory",
            root.display()
        )));
    }
    Ok(out)
}

fn common_voice(tsv: &Path, report: &mut ImportReport) -> Result<Vec<Candidate>> {
    let tsv = if tsv.is_dir() {
        tsv.join("validated.tsv")
    } else {
        tsv.to_path_buf()
    };
    let text = read_text(&tsv)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let (Some(path_col), Some(sentence_col)) = (col("path"), col("sentence")) else {
        return Err(Error::Data(format!(
            "{}: the header has no 'path' and 'sentence' columns",
            tsv.display()
        )));
    };
    let client_col = col("client_id");
    let clips = tsv.parent().unwrap_or(Path::new(".")).join("clips");
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        let (Some(path), Some(sentence)) = (fields.get(path_col), fields.get(sentence_col)) else {
            bad_line(report, &tsv, i + 2, "fewer columns than the header");
            continue;
        };
        out.push(Candidate {
            id: path.to_string(),
            audio: clips.join(path),
            text: Some(sentence.to_string()),
            speaker: client_col
                .and_then(|c| fields.get(c))
                .map(|s| s.to_string()),
            label: None,
        });
    }
    Ok(out)
}

fn kaldi(dir: &Path, report: &mut ImportReport) -> Result<Vec<Candidate>> {
    let scp = dir.join("wav.scp");
    let text_file = dir.join("text");
    let mut texts = HashMap::new();
    for line in read_text(&text_file)?.lines() {
        if line.trim().is_empty() {
            continue;
        }
        match id_and_rest(line) {
            Some((id, t)) => {
                texts.insert(id.to_string(), t.to_string());
            }
            // An id with no words: an empty transcript, reported below with its audio.
            None => {
                texts.insert(line.trim().to_string(), String::new());
            }
        }
    }
    let mut speakers = HashMap::new();
    if let Ok(u2s) = std::fs::read_to_string(dir.join("utt2spk")) {
        for line in u2s.lines() {
            if let Some((u, s)) = id_and_rest(line) {
                speakers.insert(u.to_string(), s.to_string());
            }
        }
    }
    let mut out = Vec::new();
    for (i, line) in read_text(&scp)?.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let Some((id, path)) = id_and_rest(line) else {
            bad_line(report, &scp, i + 1, "expected 'ID PATH'");
            continue;
        };
        if path.ends_with('|') || path.contains(" | ") {
            report.problems.push(Problem {
                entry: id.to_string(),
                kind: ProblemKind::Command,
                detail: format!("wav.scp entry is a command ({path}); hark reads files only: extract the audio to WAV first"),
            });
            continue;
        }
        let audio = PathBuf::from(path);
        out.push(Candidate {
            id: id.to_string(),
            audio: if audio.is_relative() {
                dir.join(audio)
            } else {
                audio
            },
            text: texts.get(id).cloned(),
            speaker: speakers.get(id).cloned(),
            label: None,
        });
    }
    Ok(out)
}

const AUDIO_EXTENSIONS: [&str; 4] = ["wav", "flac", "mp3", "ogg"];

fn folder(root: &Path) -> Result<Vec<Candidate>> {
    let mut files = Vec::new();
    walk(root, &mut files)?;
    Ok(files
        .iter()
        .filter(|p| {
            p.extension().is_some_and(|e| {
                AUDIO_EXTENSIONS.contains(&e.to_string_lossy().to_lowercase().as_str())
            })
        })
        .map(|audio| {
            let txt = audio.with_extension("txt");
            Candidate {
                id: audio
                    .strip_prefix(root)
                    .unwrap_or(audio)
                    .display()
                    .to_string(),
                audio: audio.clone(),
                text: std::fs::read_to_string(&txt).ok(),
                speaker: None,
                label: None,
            }
        })
        .collect())
}
