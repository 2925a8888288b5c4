//! Real speech from Debian's voice-acted adventure games: `flight-of-the-amazon-queen` (FOTAQ,
//! [`fotaq`]) and `beneath-a-steel-sky` (BASS, [`bass`]). No game audio is committed; the packages
//! install with `apt-get` and `hark corpus import --format games` reads them where ScummVM's
//! packages put them (`/usr/share/scummvm`).
//!
//! The import runs in two passes:
//! 1. **Extract**: every speech clip becomes a 16 kHz WAV under `OUT_DIR/wav/GAME/`, listed in
//!    `OUT_DIR/clips.jsonl` with what its name tells about the speaker; FOTAQ's own text lines
//!    go to `OUT_DIR/lines.jsonl`.
//! 2. **Label and split** (with `--labels`): a label file (`data/games/labels.jsonl`, made by
//!    `scripts/label_games.py`: a Whisper teacher's transcript, snapped to the game's nearest
//!    line when it is close) gives each clip its text. FOTAQ's speakers are attributed to
//!    characters and, through the game's own credits, to voice artists; the split is by voice
//!    artist, so no actor of real-dev or real-test is heard in real-train. Dev and test keep only
//!    snapped labels (the game's own text). FOTAQ's cutscene lines are attributed from the
//!    cutscene scripts ([`cutscene`]); those of dev and test voices stay out of every split, so
//!    the yardstick does not change. Clips whose speaker cannot be attributed (uncredited
//!    characters, narration) are held out of every split.

pub mod bass;
pub mod cutscene;
pub mod fotaq;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Split;
use super::import::{Candidate, ImportReport, Problem, ProblemKind, validate};
use crate::audio::wav;
use crate::data::{ManifestEntry, write_manifest};
use crate::error::{Error, Result};

/// One text line of a game, with the resource it came from.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GameLine {
    pub source: String,
    pub text: String,
}

/// One extracted clip (a line of `clips.jsonl`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Clip {
    /// `fotaq/020006J1`, `bass/12345`.
    pub id: String,
    /// Relative to the folder of `clips.jsonl`.
    pub audio: PathBuf,
    pub duration: f64,
    /// Who speaks, as far as the game tells: `joe`; `person-NAME` (a cutscene line, the
    /// speaker named by the cutscene script as the game's object table names it); `dialogue-RR`
    /// (the other person of dialogue `RR`); `cutscene-SCENE` (a cutscene line, speaker unknown:
    /// narration or an unreadable script); `unknown`.
    pub voice: String,
}

/// One clip's transcript (a line of the label file).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Label {
    pub id: String,
    pub text: String,
    /// `exact`, `snapped` or `pseudo` (see [`ManifestEntry::label`]).
    pub label: String,
    /// The game resource of the line a label was snapped to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A pseudo-label checked by a second teacher: word edits between the two teachers'
    /// transcripts per word of the first's (0 when they agree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disagreement: Option<f64>,
}

/// Pseudo-labels whose two teachers differ in more than this share of the words are left out:
/// on 400 FOTAQ clips with the game's own text (session 35) those transcripts were a quarter
/// of the words wrong (the first teacher) to nearly half (the second), where the clips the
/// teachers agreed on were 2.9 % off.
pub const MAX_TEACHER_DISAGREEMENT: f64 = 0.25;

/// What the import found.
#[derive(Debug, Default, Serialize)]
pub struct GamesReport {
    /// Clips extracted per game, and their hours.
    pub extracted: BTreeMap<String, (usize, f64)>,
    /// Clips that could not be extracted (per-clip; the others are kept).
    pub extract_failures: Vec<Problem>,
    /// Per split: the validation of its entries.
    pub splits: BTreeMap<String, ImportReport>,
    /// Per split: the speakers (voice artists, or `bass`) in it.
    pub speakers: BTreeMap<String, Vec<String>>,
    /// Clips held out of every split, by reason.
    pub held_out: BTreeMap<String, usize>,
    /// Clips without a label.
    pub unlabelled: usize,
}

/// Where the packages put the games, if they are there.
fn find(root: &Path, package: &str, file: &str) -> Option<PathBuf> {
    [root.join(file), root.join(package).join(file)]
        .into_iter()
        .find(|p| p.is_file())
}

/// Whether FOTAQ's cutscene clips are attributed to their speakers from the cutscene scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cutscenes {
    /// Read the scripts: lines of training voices go to real-train (since 2026-12-05).
    #[default]
    Attributed,
    /// Hold every cutscene clip out, as imports before 2026-12-05 did: the split the models
    /// shipped until then were trained on.
    HeldOut,
}

/// Pass 1: extract every clip of the games found under `root` into `out_dir` (clips whose WAV
/// is already there are not decoded again).
pub fn extract(
    root: &Path,
    out_dir: &Path,
    cutscenes: Cutscenes,
    report: &mut GamesReport,
) -> Result<Vec<Clip>> {
    let mut clips = Vec::new();
    let mut lines = Vec::new();
    let fotaq = find(root, "flight-of-the-amazon-queen", "queen.1c");
    let bass = find(root, "beneath-a-steel-sky", "sky.dnr");
    if fotaq.is_none() && bass.is_none() {
        return Err(Error::GameData {
            path: root.to_path_buf(),
            message: "neither queen.1c (flight-of-the-amazon-queen) nor sky.dnr (beneath-a-steel-sky) found here or in the package folders below; install them with apt-get".into(),
        });
    }
    if let Some(path) = fotaq {
        let archive = fotaq::Archive::open(&path)?;
        lines = archive.lines();
        let (scripted, failures) = match cutscenes {
            Cutscenes::Attributed => archive.cutscene_speakers(),
            Cutscenes::HeldOut => Default::default(),
        };
        for (script, why) in failures {
            report.extract_failures.push(Problem {
                entry: format!("fotaq/{script}"),
                kind: ProblemKind::BadLine,
                detail: format!("cutscene script unreadable, its clips' speakers unknown: {why}"),
            });
        }
        for entry in archive.speech() {
            let stem = entry.name.trim_end_matches(".SB");
            let voice = match (scripted.get(stem), fotaq::voice_of(&entry.name)) {
                (Some(cutscene::Speaker::Joe), _) => "joe".to_string(),
                (Some(cutscene::Speaker::Person(name)), _) => format!("person-{name}"),
                (_, fotaq::Voice::Joe) => "joe".to_string(),
                (_, fotaq::Voice::Person { dialogue }) => format!("dialogue-{dialogue}"),
                (_, fotaq::Voice::Cutscene { scene }) => format!("cutscene-{scene}"),
                (_, fotaq::Voice::Unknown) => "unknown".to_string(),
            };
            let id = format!("fotaq/{stem}");
            let clip = save(out_dir, &id, voice, || archive.decode_speech(entry));
            keep(clip, &id, "fotaq", &mut clips, report);
        }
    }
    if let Some(path) = bass {
        let dir = path.parent().unwrap_or(Path::new("."));
        let speech = bass::speech_clips(dir).map_err(|e| Error::io(&path, e))?;
        for (name, clip) in speech {
            let id = format!("bass/{}", name.trim_start_matches("bass-"));
            let clip = save(out_dir, &id, "unknown".into(), || {
                let c = clip.map_err(|message| Error::GameData {
                    path: path.clone(),
                    message: format!("clip {name}: {message}"),
                })?;
                crate::audio::Waveform::new(c.samples, c.sample_rate).ok_or_else(|| {
                    Error::GameData {
                        path: path.clone(),
                        message: format!("clip {name} is empty"),
                    }
                })
            });
            keep(clip, &id, "bass", &mut clips, report);
        }
    }
    write_jsonl(&out_dir.join("clips.jsonl"), &clips)?;
    write_jsonl(&out_dir.join("lines.jsonl"), &lines)?;
    Ok(clips)
}

fn keep(clip: Result<Clip>, id: &str, game: &str, clips: &mut Vec<Clip>, report: &mut GamesReport) {
    match clip {
        Ok(c) => {
            let e = report.extracted.entry(game.to_string()).or_default();
            e.0 += 1;
            e.1 += c.duration / 3600.0;
            clips.push(c);
        }
        Err(e) => report.extract_failures.push(Problem {
            entry: id.to_string(),
            kind: ProblemKind::UnreadableAudio,
            detail: e.to_string(),
        }),
    }
}

/// Write one clip as a 16 kHz WAV, unless a readable one is there already.
fn save(
    out_dir: &Path,
    id: &str,
    voice: String,
    decode: impl FnOnce() -> Result<crate::audio::Waveform>,
) -> Result<Clip> {
    let audio = PathBuf::from("wav").join(format!("{id}.wav"));
    let path = out_dir.join(&audio);
    let wave = match wav::read(&path) {
        Ok(w) => w,
        Err(_) => {
            let native = decode()?;
            let wave = wav::to_16k(native, &path)?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            }
            wav::write(&path, &wave)?;
            wave
        }
    };
    Ok(Clip {
        id: id.to_string(),
        audio,
        duration: (wave.duration_s() * 1000.0).round() / 1000.0,
        voice,
    })
}

fn write_jsonl<T: Serialize>(path: &Path, items: &[T]) -> Result<()> {
    let mut out = String::new();
    for item in items {
        out.push_str(&serde_json::to_string(item).map_err(|e| Error::Data(e.to_string()))?);
        out.push('\n');
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::write(path, out).map_err(|e| Error::io(path, e))
}

/// Read a label file into `labels`; a bad line is a problem of its own, never fatal. A line for
/// a clip already labelled (by an earlier line or file) replaces that label.
pub fn read_labels(
    path: &Path,
    labels: &mut HashMap<String, Label>,
    report: &mut GamesReport,
) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Label>(line) {
            Ok(l) => {
                labels.insert(l.id.clone(), l);
            }
            Err(e) => report.extract_failures.push(Problem {
                entry: format!("{}:{}", path.display(), i + 1),
                kind: ProblemKind::BadLine,
                detail: e.to_string(),
            }),
        }
    }
    Ok(())
}

/// Which teacher transcripts (pseudo-labels) the import trains on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PseudoLabels {
    /// Leave out the [`doubtful`] ones: disputed by a second teacher, plainly hallucinated
    /// ([`implausible`]), or empty.
    #[default]
    Plausible,
    /// Keep every non-empty one: the split of imports before 2026-12-07 (session 35), which the
    /// models shipped until then trained on.
    All,
}

/// Why a pseudo-label is left out of a `plausible` import, if it is: the teacher heard no words,
/// two teachers disagree on over [`MAX_TEACHER_DISAGREEMENT`] of the words, or the transcript
/// is [`implausible`]. Labels with the game's own text are never doubtful.
pub fn doubtful(label: &Label, duration_s: f64) -> Option<&'static str> {
    if label.label != "pseudo" {
        None
    } else if label.text.trim().is_empty() {
        Some("teacher heard no words")
    } else if label
        .disagreement
        .is_some_and(|d| d > MAX_TEACHER_DISAGREEMENT)
    {
        Some("two teachers disagree on over a quarter of the words")
    } else {
        implausible(&label.text, duration_s)
    }
}

/// Why a teacher's transcript of a clip cannot be what was said, if it plainly cannot: more
/// than six words a second, or a loop (one word four times running, or a phrase of two to
/// four words three times running: Whisper's repetition failure on grunts and laughs, as in
/// "oh, oh, oh, oh, oh, …" over a three-second moan).
pub fn implausible(text: &str, duration_s: f64) -> Option<&'static str> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric() || *c == '\'')
                .flat_map(char::to_lowercase)
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if words.len() as f64 > 6.0 * duration_s.max(0.25) {
        return Some("teacher's transcript too fast for the clip (over 6 words/s)");
    }
    for n in 1..=4 {
        let repeats = if n == 1 { 4 } else { 3 };
        let span = n * repeats;
        if words.len() < span {
            break;
        }
        let looping = (0..=words.len() - span).any(|start| {
            (1..repeats)
                .all(|r| words[start..start + n] == words[start + r * n..start + (r + 1) * n])
        });
        if looping {
            return Some("teacher's transcript loops (a word or phrase repeated)");
        }
    }
    None
}

/// FOTAQ's dialogue files (by name, digits dropped) and the character who answers Joe in them,
/// as the credits spell the name. Dialogues not listed here (DEATH, LARIS, MAN, ORACLE,
/// TALLPYG, TAM) cannot be tied to a credited character and are held out.
const DIALOGUE_CHARACTERS: &[(&str, &str)] = &[
    ("AND", "Anderson"),
    ("APE", "Gorillla"),
    ("BOB", "Trader Bob"),
    ("BUD", "Bud"),
    ("CHEF", "Chef"),
    ("CHIEF", "Pygmy Chief"),
    ("DOG", "Guard Dog"),
    ("FAYE", "Faye Russel"),
    ("FRANK", "Frank Ironstein"),
    ("HENRY", "Henry"),
    ("IAN", "Ian"),
    ("JIM", "Jimmy Cook"),
    ("JOHN", "John"),
    ("KLUNK", "Klunk"),
    ("LOLA", "Lola"),
    ("LOU", "Mary-Lou Cook"),
    ("NAOMI", "Naomi"),
    ("PRIN", "Princess Azura"),
    ("SEC", "Secretary"),
    ("SHOWERAM", "Showering Amazon"),
    ("SPARKY", "Sparky"),
    ("WEDGE", "Wedgewood"),
    ("WITCH", "Witch Doctor"),
    ("ZOMBIE", "Zombie Woman"),
];

/// The voice artists whose every character goes to real-dev and real-test. Everyone else is
/// trained on. Lola was voiced by two artists, so both are on the same side.
const DEV_ACTORS: &[&str] = &[
    "Barry James",
    "Regina Reagan",
    "Debbie Arnold",
    "Jon Coleman",
];
const TEST_ACTORS: &[&str] = &["Jessica Martin", "Lisa Valdez", "Bill Hootkins"];

fn actor_split(actor: &str) -> Split {
    if DEV_ACTORS.contains(&actor) {
        Split::Dev
    } else if TEST_ACTORS.contains(&actor) {
        Split::Test
    } else {
        Split::Train
    }
}

/// The dialogue file a dialogue number belongs to: the one most of its snapped labels came from.
fn dialogue_files(clips: &[Clip], labels: &HashMap<String, Label>) -> HashMap<String, String> {
    let mut votes: HashMap<String, HashMap<String, usize>> = HashMap::new();
    for c in clips.iter().filter(|c| c.voice.starts_with("dialogue-")) {
        if let Some(source) = labels.get(&c.id).and_then(|l| l.source.as_ref())
            && source.ends_with(".DOG")
        {
            *votes
                .entry(c.voice.clone())
                .or_default()
                .entry(source.clone())
                .or_default() += 1;
        }
    }
    votes
        .into_iter()
        .filter_map(|(voice, v)| {
            v.into_iter()
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
                .map(|(file, _)| (voice, file))
        })
        .collect()
}

/// The character of a dialogue file (`BOB3.DOG` → Trader Bob).
fn dialogue_character(file: &str) -> Option<&'static str> {
    let stem: String = file
        .trim_end_matches(".DOG")
        .chars()
        .filter(|c| !c.is_ascii_digit())
        .collect();
    DIALOGUE_CHARACTERS
        .iter()
        .find(|(s, _)| *s == stem)
        .map(|(_, c)| *c)
}

/// Who speaks in a clip (an actor, `bass`) and which split that puts it in, or why it is held out.
fn attribute(
    clip: &Clip,
    dialogue_file: &HashMap<String, String>,
    actor_of: &HashMap<String, String>,
) -> std::result::Result<(String, Split), &'static str> {
    if clip.id.starts_with("bass/") {
        return Ok(("bass".into(), Split::Train));
    }
    let character = match clip.voice.as_str() {
        "joe" => "Joe King",
        v if v.starts_with("dialogue-") => {
            let file = dialogue_file
                .get(v)
                .ok_or("dialogue not tied to a dialogue file")?;
            dialogue_character(file).ok_or("dialogue character not in the credits")?
        }
        v if v.starts_with("person-") => credited_character(&v["person-".len()..], actor_of.keys())
            .ok_or("cutscene speaker not in the credits")?,
        v if v.starts_with("cutscene-") => return Err("cutscene (speaker unknown)"),
        _ => return Err("speaker unknown"),
    };
    let actor = actor_of
        .get(character)
        .ok_or("character not in the credits (or voiced on both sides of the split)")?;
    Ok((format!("fotaq:{actor}"), actor_split(actor)))
}

/// The credited character a cutscene script's object name stands for: the same name, or the
/// one credited name that begins or ends with it in whole words (`Frank` → `Frank Ironstein`,
/// `guardian` → `Temple Guardian`), ignoring case. Unknown or ambiguous names (`guard`: `Amazon
/// Guard` or `Guard Dog`) give none.
fn credited_character<'a>(
    name: &str,
    credited: impl Iterator<Item = &'a String>,
) -> Option<&'a str> {
    let words = |s: &str| -> Vec<String> { s.split_whitespace().map(str::to_lowercase).collect() };
    let wanted = words(name);
    if wanted.is_empty() {
        return None;
    }
    let mut exact = None;
    let mut partial = Vec::new();
    for c in credited {
        let have = words(c);
        if have == wanted {
            exact = Some(c.as_str());
        } else if have.starts_with(&wanted) || have.ends_with(&wanted) {
            partial.push(c.as_str());
        }
    }
    exact.or(match partial.as_slice() {
        [one] => Some(*one),
        _ => None,
    })
}

/// Each credited character's voice artist. A character credited to two artists on different
/// sides of the split is left out (its clips cannot go anywhere safely).
fn actors_by_character(cast: &[(String, Vec<String>)]) -> HashMap<String, String> {
    let mut actor_of: HashMap<String, String> = HashMap::new();
    let mut conflicted = Vec::new();
    for (actor, characters) in cast {
        for c in characters {
            if let Some(other) = actor_of.insert(c.clone(), actor.clone())
                && actor_split(&other) != actor_split(actor)
            {
                conflicted.push(c.clone());
            }
        }
    }
    for c in conflicted {
        actor_of.remove(&c);
    }
    actor_of
}

/// Import the games under `root` into `out` (all labelled clips) and, beside it,
/// `real-train.jsonl`, `real-dev.jsonl` and `real-test.jsonl`; with the cutscenes attributed,
/// also `real-dev-cutscenes.jsonl` and `real-test-cutscenes.jsonl` (cutscene lines of the dev
/// and test voices, a second yardstick that leaves the first as it was).
pub fn import(
    root: &Path,
    out: &Path,
    label_files: &[PathBuf],
    cutscenes: Cutscenes,
    pseudo: PseudoLabels,
    stack: usize,
) -> Result<GamesReport> {
    let mut report = GamesReport::default();
    let out_dir = out.parent().unwrap_or(Path::new(".")).to_path_buf();
    let clips = extract(root, &out_dir, cutscenes, &mut report)?;
    if label_files.is_empty() {
        report.unlabelled = clips.len();
        return Ok(report);
    }
    let mut labels = HashMap::new();
    for path in label_files {
        read_labels(path, &mut labels, &mut report)?;
    }
    let cast = find(root, "flight-of-the-amazon-queen", "queen.1c")
        .map(|p| fotaq::Archive::open(&p).map(|a| a.cast()))
        .transpose()?
        .unwrap_or_default();
    let actor_of = actors_by_character(&cast);
    let dialogue_file = dialogue_files(&clips, &labels);
    let mut by_split: BTreeMap<String, Vec<Candidate>> = BTreeMap::new();
    let mut all = Vec::new();
    for clip in &clips {
        let Some(label) = labels.get(&clip.id) else {
            report.unlabelled += 1;
            continue;
        };
        let doubt = match pseudo {
            PseudoLabels::Plausible => doubtful(label, clip.duration),
            PseudoLabels::All => None,
        };
        if let Some(why) = doubt {
            *report.held_out.entry(why.into()).or_default() += 1;
            continue;
        }
        let candidate = |speaker: Option<String>| Candidate {
            id: clip.id.clone(),
            audio: out_dir.join(&clip.audio),
            text: Some(label.text.clone()),
            speaker,
            label: Some(label.label.clone()),
        };
        match attribute(clip, &dialogue_file, &actor_of) {
            Ok((speaker, split)) => {
                if split != Split::Train && label.label == "pseudo" {
                    *report
                        .held_out
                        .entry("dev/test clip without the game's own text".into())
                        .or_default() += 1;
                    continue;
                }
                // Real-dev and real-test stay the clips every earlier model was measured on;
                // cutscene lines of their voices make manifests of their own beside them.
                let name = if split != Split::Train && clip.voice.starts_with("person-") {
                    format!("{}-cutscenes", split.name())
                } else {
                    split.name().to_string()
                };
                by_split
                    .entry(name)
                    .or_default()
                    .push(candidate(Some(speaker)));
            }
            Err(why) => {
                *report.held_out.entry(why.into()).or_default() += 1;
                all.push(candidate(None));
            }
        }
    }
    for (split, candidates) in by_split {
        let mut split_report = ImportReport::default();
        let entries = validate(candidates, &mut split_report, stack);
        let mut speakers: Vec<String> = entries.iter().filter_map(|e| e.speaker.clone()).collect();
        speakers.sort();
        speakers.dedup();
        report.speakers.insert(split.clone(), speakers);
        write_manifest(&out_dir.join(format!("real-{split}.jsonl")), &entries)?;
        all.extend(entries.into_iter().map(|e| Candidate {
            id: e.audio.display().to_string(),
            audio: e.audio,
            text: Some(e.text),
            speaker: e.speaker,
            label: e.label,
        }));
        report.splits.insert(split, split_report);
    }
    let mut all_report = ImportReport::default();
    let entries: Vec<ManifestEntry> = validate(all, &mut all_report, stack);
    write_manifest(out, &entries)?;
    report.splits.insert("all".into(), all_report);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clip(id: &str, voice: &str) -> Clip {
        Clip {
            id: id.into(),
            audio: PathBuf::from("x.wav"),
            duration: 1.0,
            voice: voice.into(),
        }
    }

    fn label(id: &str, source: Option<&str>) -> (String, Label) {
        (
            id.into(),
            Label {
                id: id.into(),
                text: "hello".into(),
                label: "snapped".into(),
                source: source.map(str::to_string),
                disagreement: None,
            },
        )
    }

    #[test]
    fn speakers_are_tied_to_actors_and_actors_to_one_split() {
        let clips = vec![
            clip("fotaq/100001P1", "dialogue-10"),
            clip("fotaq/100002P1", "dialogue-10"),
            clip("fotaq/100003P1", "dialogue-10"),
            clip("fotaq/200001P1", "dialogue-20"),
            clip("fotaq/100001J1", "joe"),
            clip("fotaq/C13A_001", "cutscene-C13A"),
            clip("bass/1", "unknown"),
        ];
        // Dialogue 10: two of its snapped lines come from BOB2.DOG, one from JAS (not a dialogue).
        let labels: HashMap<String, Label> = [
            label("fotaq/100001P1", Some("BOB2.DOG")),
            label("fotaq/100002P1", Some("BOB2.DOG")),
            label("fotaq/100003P1", Some("SPARKY1.DOG")),
            label("fotaq/200001P1", Some("TAM1.DOG")),
        ]
        .into_iter()
        .collect();
        let files = dialogue_files(&clips, &labels);
        assert_eq!(files["dialogue-10"], "BOB2.DOG");
        let actor_of: HashMap<String, String> =
            [("Trader Bob", "Jon Coleman"), ("Joe King", "Brad Lavelle")]
                .into_iter()
                .map(|(c, a)| (c.to_string(), a.to_string()))
                .collect();
        let who = |c: &Clip| attribute(c, &files, &actor_of);
        assert_eq!(who(&clips[0]), Ok(("fotaq:Jon Coleman".into(), Split::Dev)));
        // The minority line of dialogue 10 follows its dialogue, not its own snap.
        assert_eq!(who(&clips[2]), Ok(("fotaq:Jon Coleman".into(), Split::Dev)));
        assert_eq!(who(&clips[3]), Err("dialogue character not in the credits"));
        assert_eq!(
            who(&clips[4]),
            Ok(("fotaq:Brad Lavelle".into(), Split::Train))
        );
        assert!(who(&clips[5]).is_err());
        assert_eq!(who(&clips[6]), Ok(("bass".into(), Split::Train)));
    }

    #[test]
    fn cutscene_speakers_go_to_training_only_when_their_artist_is_trained_on() {
        let cast: Vec<(String, Vec<String>)> = [
            ("Tom Hill", vec!["Sparky", "Guard Dog"]),
            ("Jon Coleman", vec!["Trader Bob"]),
            ("Debbie Arnold", vec!["Amazon Guard", "Lola"]),
            ("Regina Reagan", vec!["Lola"]),
            ("Penelope Keith", vec!["Temple Guardian"]),
            // Credited to a training voice and a test voice: no side is safe.
            ("Bill Hootkins", vec!["Rico"]),
            ("Enn Reitel", vec!["Rico"]),
        ]
        .into_iter()
        .map(|(a, cs)| (a.to_string(), cs.into_iter().map(str::to_string).collect()))
        .collect();
        let actor_of = actors_by_character(&cast);
        assert_eq!(actor_of["Lola"], "Regina Reagan");
        assert!(!actor_of.contains_key("Rico"));
        let who =
            |voice: &str| attribute(&clip("fotaq/C1A__081", voice), &HashMap::new(), &actor_of);
        assert_eq!(
            who("person-Sparky"),
            Ok(("fotaq:Tom Hill".into(), Split::Train))
        );
        assert_eq!(
            who("person-guardian"),
            Ok(("fotaq:Penelope Keith".into(), Split::Train))
        );
        assert_eq!(
            who("person-Trader Bob"),
            Ok(("fotaq:Jon Coleman".into(), Split::Dev))
        );
        assert_eq!(
            who("person-guard"),
            Err("cutscene speaker not in the credits")
        );
        assert_eq!(
            who("person-smoke"),
            Err("cutscene speaker not in the credits")
        );
        assert!(who("person-Rico").is_err());
        assert_eq!(who("cutscene-C1A"), Err("cutscene (speaker unknown)"));
    }

    #[test]
    fn script_names_match_credited_names_in_whole_words() {
        let credited: Vec<String> = [
            "Frank Ironstein",
            "Mary-Lou Cook",
            "Big Hugh",
            "Faye Russel",
        ]
        .into_iter()
        .map(str::to_string)
        .collect();
        let find = |n: &str| credited_character(n, credited.iter());
        assert_eq!(find("Frank"), Some("Frank Ironstein"));
        assert_eq!(find("mary-lou"), Some("Mary-Lou Cook"));
        assert_eq!(find("Hugh"), Some("Big Hugh"));
        assert_eq!(find("Fay"), None);
        assert_eq!(find("Cook"), Some("Mary-Lou Cook"));
        assert_eq!(find(""), None);
    }

    #[test]
    fn no_actor_is_on_two_sides() {
        for a in DEV_ACTORS {
            assert!(!TEST_ACTORS.contains(a), "{a} in dev and test");
        }
    }

    #[test]
    fn teacher_loops_and_rushes_are_implausible() {
        // Whisper's repetition failure on a 3 s moan, and a phrase looping across clips.
        assert!(implausible("oh, oh, oh, oh,", 3.0).is_some());
        assert!(implausible("it's over there, it's over there, it's over there", 3.0).is_some());
        // 13 words in 2 s: 6.5 words/s.
        assert!(implausible("a b c d e f g h i j k l m", 2.0).is_some());
        // Three of one word, and a phrase said twice, are speech.
        assert!(implausible("no, no, no, I said", 2.0).is_none());
        assert!(implausible("go away go away now", 2.0).is_none());
        // 12 words in 2 s is 6 a second: fast, but not over the line.
        assert!(implausible("a b c d e f g h i j k l", 2.0).is_none());
        assert!(implausible("I had to inspect it", 1.2).is_none());
    }

    #[test]
    fn doubtful_pseudo_labels_are_told_from_sure_ones() {
        let pseudo = |text: &str, disagreement: Option<f64>| Label {
            id: "bass/1".into(),
            text: text.into(),
            label: "pseudo".into(),
            source: None,
            disagreement,
        };
        assert_eq!(doubtful(&pseudo("what's it for", None), 1.0), None);
        assert_eq!(doubtful(&pseudo("what's it for", Some(0.25)), 1.0), None);
        assert!(doubtful(&pseudo("what's it for", Some(0.34)), 1.0).is_some());
        assert!(doubtful(&pseudo("  ", None), 1.0).is_some());
        assert!(doubtful(&pseudo("oh oh oh oh", Some(0.0)), 3.0).is_some());
        // The game's own text is kept whatever a teacher said.
        let (_, mut snapped) = label("fotaq/1", Some("AND1.DOG"));
        snapped.disagreement = Some(1.0);
        assert_eq!(doubtful(&snapped, 1.0), None);
    }

    #[test]
    fn a_later_label_file_replaces_an_earlier_files_lines() {
        let dir = std::env::temp_dir().join(format!("hark-labels-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (first, second) = (dir.join("a.jsonl"), dir.join("b.jsonl"));
        std::fs::write(
            &first,
            "{\"id\":\"bass/1\",\"text\":\"hey\",\"label\":\"pseudo\"}\n\
             {\"id\":\"bass/2\",\"text\":\"what's it for\",\"label\":\"pseudo\"}\n",
        )
        .unwrap();
        std::fs::write(
            &second,
            "{\"id\":\"bass/2\",\"text\":\"what is it for\",\"label\":\"pseudo\",\
             \"second_teacher\":\"what is it\",\"disagreement\":0.25}\nnot json\n",
        )
        .unwrap();
        let (mut labels, mut report) = (HashMap::new(), GamesReport::default());
        read_labels(&first, &mut labels, &mut report).unwrap();
        read_labels(&second, &mut labels, &mut report).unwrap();
        assert_eq!(labels["bass/1"].text, "hey");
        assert_eq!(labels["bass/2"].text, "what is it for");
        assert_eq!(labels["bass/1"].disagreement, None);
        assert_eq!(labels["bass/2"].disagreement, Some(0.25));
        assert_eq!(
            report.extract_failures.len(),
            1,
            "the bad line is reported, not fatal"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
