//! Flight of the Amazon Queen, as Debian's `flight-of-the-amazon-queen` ships it: one file,
//! `queen.1c`, the CD version repacked for ScummVM with its speech as MP3.
//!
//! Format facts (from public descriptions of the repacked FOTAQ data; checked on the package):
//! - `queen.1c` starts with `QTBL`, a 5-byte version (`CEM10`: CD, English), 4 bytes of flags,
//!   a big-endian `u16` entry count, then one 21-byte entry per resource: a 12-byte NUL-padded
//!   name, a bundle byte, and big-endian `u32` offset and size into the same file.
//! - `*.SB` resources are speech: plain MPEG-2.5 layer III, mono, 11,025 Hz, 16 kbit/s.
//!   Their names say who speaks: `RRNNNNJk` is Joe's part of a dialogue and `RRNNNNPk` the other
//!   person's (`RR` numbers the dialogue), `JOEnnnnn` Joe describing things, `CnnX_nnn` a
//!   cutscene line (any character).
//! - Text lives in `*.DOG` (dialogues), `*.CUT` (cutscenes) and `QUEEN*.JAS` (descriptions):
//!   DOG/CUT hold length-prefixed strings, JAS holds CR LF lines. Inside a line, `*NN` (two
//!   digits) marks an animation frame and `*FL`/`*FR` a facing; they also separate the parts
//!   that are spoken as separate clips.
//! - `CREDIT2.CRD` lists the voice artists and, under each, the characters they voiced.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::cutscene::{self, ObjectTable, Speaker};
use crate::audio::Waveform;
use crate::error::{Error, Result};

const MAGIC: &[u8; 4] = b"QTBL";
const HEADER_LEN: usize = 15;
const ENTRY_LEN: usize = 21;

/// One resource of `queen.1c`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    offset: usize,
    size: usize,
}

/// The resources of `queen.1c`, held in memory (54 MB).
pub struct Archive {
    path: PathBuf,
    bytes: Vec<u8>,
    entries: Vec<Entry>,
}

impl Archive {
    /// Read and index `queen.1c`.
    pub fn open(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        Self::parse(bytes, path)
    }

    /// Index an archive held in memory; `path` is what errors name.
    pub fn parse(bytes: Vec<u8>, path: &Path) -> Result<Self> {
        let bad = |message: String| Error::GameData {
            path: path.to_path_buf(),
            message,
        };
        if bytes.len() < HEADER_LEN || &bytes[..4] != MAGIC {
            return Err(bad("not a FOTAQ resource file (no QTBL header)".into()));
        }
        let count = u16::from_be_bytes([bytes[13], bytes[14]]) as usize;
        let table_end = HEADER_LEN + count * ENTRY_LEN;
        if table_end > bytes.len() {
            return Err(bad(format!(
                "table of {count} entries runs past the end of the file ({} bytes)",
                bytes.len()
            )));
        }
        let mut entries = Vec::with_capacity(count);
        for raw in bytes[HEADER_LEN..table_end].chunks_exact(ENTRY_LEN) {
            let name_end = raw[..12].iter().position(|&b| b == 0).unwrap_or(12);
            let name = String::from_utf8_lossy(&raw[..name_end]).into_owned();
            let word =
                |at: usize| u32::from_be_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]]);
            let (offset, size) = (word(13) as usize, word(17) as usize);
            if offset.checked_add(size).is_none_or(|end| end > bytes.len()) {
                return Err(bad(format!(
                    "entry {name} ({size} bytes at {offset}) lies outside the file"
                )));
            }
            entries.push(Entry { name, offset, size });
        }
        Ok(Self {
            path: path.to_path_buf(),
            bytes,
            entries,
        })
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The bytes of `entry` (bounds were checked when the table was read).
    pub fn data(&self, entry: &Entry) -> &[u8] {
        &self.bytes[entry.offset..entry.offset + entry.size]
    }

    /// The resource called `name`, if any.
    pub fn find(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.name.eq_ignore_ascii_case(name))
    }

    /// The speech resources (`*.SB`).
    pub fn speech(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| e.name.ends_with(".SB"))
    }

    /// Decode one speech resource to a waveform at its own rate (11,025 Hz).
    pub fn decode_speech(&self, entry: &Entry) -> Result<Waveform> {
        let name = self.path.join(entry.name.replace(".SB", ".mp3"));
        crate::audio::decode::decode_bytes(self.data(entry).to_vec(), &name)
    }

    /// Every text line of the game's dialogue, cutscene and description files.
    pub fn lines(&self) -> Vec<super::GameLine> {
        let mut lines = Vec::new();
        for e in &self.entries {
            let data = self.data(e);
            let strings = if e.name.ends_with(".DOG") || e.name.ends_with(".CUT") {
                length_prefixed_strings(data)
            } else if e.name.ends_with(".JAS") {
                data.split(|&b| b == b'\n' || b == b'\r')
                    .map(|l| String::from_utf8_lossy(l).into_owned())
                    .collect()
            } else {
                continue;
            };
            for s in strings {
                for text in spoken_parts(&s) {
                    lines.push(super::GameLine {
                        source: e.name.clone(),
                        text,
                    });
                }
            }
        }
        lines.sort();
        lines.dedup();
        lines
    }

    /// Who speaks each cutscene clip (by resource name without `.SB`), from the cutscene
    /// scripts; and, per script that cannot be read, why (its clips are left out of the map).
    pub fn cutscene_speakers(&self) -> (HashMap<String, Speaker>, Vec<(String, String)>) {
        let mut speakers = HashMap::new();
        let mut failures = Vec::new();
        let table = match (self.find("QUEEN.JAS"), self.find("QUEEN2.JAS")) {
            (Some(jas), Some(jas2)) => ObjectTable::parse(self.data(jas), self.data(jas2)),
            _ => Err("QUEEN.JAS or QUEEN2.JAS missing".to_string()),
        };
        let table = match table {
            Ok(t) => t,
            Err(why) => {
                failures.push(("QUEEN.JAS".to_string(), why));
                return (speakers, failures);
            }
        };
        let mut scripts: HashMap<String, Option<Vec<Speaker>>> = HashMap::new();
        for entry in self.speech() {
            let stem = entry.name.trim_end_matches(".SB");
            let Some((scene, record)) = cutscene::clip_record(stem) else {
                continue;
            };
            let script = scripts.entry(scene.to_string()).or_insert_with(|| {
                let cut = self.find(&format!("{scene}.CUT"))?;
                cutscene::script_speakers(self.data(cut), &table)
                    .map_err(|why| failures.push((cut.name.clone(), why)))
                    .ok()
            });
            if let Some(speaker) = script.as_ref().and_then(|s| s.get(record - 1)) {
                speakers.insert(stem.to_string(), speaker.clone());
            }
        }
        (speakers, failures)
    }

    /// Voice artists and the characters each voiced, from `CREDIT2.CRD`.
    pub fn cast(&self) -> Vec<(String, Vec<String>)> {
        self.find("CREDIT2.CRD")
            .map(|e| parse_cast(&String::from_utf8_lossy(self.data(e))))
            .unwrap_or_default()
    }
}

/// Who speaks in a speech resource, as far as its name tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Voice {
    /// Joe King, the hero.
    Joe,
    /// The other person of dialogue `RR` (the first two characters of the name).
    Person {
        dialogue: String,
    },
    /// Any character of a cutscene (the scene's name).
    Cutscene {
        scene: String,
    },
    Unknown,
}

/// Read the speaker from a speech resource's name.
pub fn voice_of(name: &str) -> Voice {
    let stem = name.split('.').next().unwrap_or(name);
    let b = stem.as_bytes();
    if stem.starts_with("JOE") {
        return Voice::Joe;
    }
    if b.len() == 8 && b[0] == b'C' && stem.contains('_') {
        let scene = stem.split('_').next().unwrap_or(stem);
        return Voice::Cutscene {
            scene: scene.to_string(),
        };
    }
    if b.len() == 8 && b[..2].iter().all(u8::is_ascii_digit) {
        return match b[6] {
            b'J' => Voice::Joe,
            b'P' => Voice::Person {
                dialogue: stem[..2].to_string(),
            },
            _ => Voice::Unknown,
        };
    }
    Voice::Unknown
}

/// The strings of a DOG/CUT file: printable runs, each without the length byte that precedes
/// it when that byte happens to be printable (it equals the length of the rest of the run).
fn length_prefixed_strings(data: &[u8]) -> Vec<String> {
    data.split(|b| !(0x20..0x7f).contains(b))
        .filter(|run| run.len() >= 3)
        .map(|run| {
            let start = (0..run.len().min(3))
                .find(|&i| run[i] as usize == run.len() - i - 1)
                .map_or(0, |i| i + 1);
            String::from_utf8_lossy(&run[start..]).into_owned()
        })
        .collect()
}

/// The spoken text of one game string: each part between `*NN`/`*FL`/`*FR` codes, and the whole
/// string with the codes removed when it has several parts. Parts without a letter are dropped,
/// and so are resource-file headers (`Datas`).
fn spoken_parts(s: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '*'
            && i + 2 < chars.len() + 1
            && chars.get(i + 1).is_some_and(|c| c.is_ascii_alphanumeric())
            && chars.get(i + 2).is_some_and(|c| c.is_ascii_alphanumeric())
        {
            parts.push(std::mem::take(&mut current));
            i += 3;
            continue;
        }
        current.push(chars[i]);
        i += 1;
    }
    parts.push(current);
    let parts: Vec<String> = parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| p.chars().any(char::is_alphabetic) && !p.starts_with("Datas"))
        .collect();
    let mut out = parts.clone();
    if parts.len() > 1 {
        out.push(parts.join(" "));
    }
    out
}

/// Parse the voice artists of `CREDIT2.CRD`: after the "Voice Artists" heading, each artist is
/// a `.i 30` line, the name, a `.i 222` line, then one character per line up to a blank line or
/// the next `.` directive.
fn parse_cast(credits: &str) -> Vec<(String, Vec<String>)> {
    let lines: Vec<&str> = credits.lines().map(str::trim).collect();
    let Some(first) = lines.iter().position(|l| *l == "Voice Artists") else {
        return Vec::new();
    };
    let mut cast = Vec::new();
    let mut i = first;
    while i + 2 < lines.len() {
        if lines[i].starts_with(".i 30") && lines[i + 2].starts_with(".i 222") {
            let actor = lines[i + 1].to_string();
            let mut characters = Vec::new();
            let mut j = i + 3;
            while j < lines.len() && !lines[j].starts_with('.') && !lines[j].is_empty() {
                characters.push(lines[j].to_string());
                j += 1;
            }
            cast.push((actor, characters));
            i = j;
        } else {
            i += 1;
        }
    }
    cast
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut head = b"QTBLCEM10\0\0\0\x01".to_vec();
        head.extend((entries.len() as u16).to_be_bytes());
        let mut offset = head.len() + entries.len() * ENTRY_LEN;
        let mut body = Vec::new();
        for (name, data) in entries {
            let mut n = [0u8; 12];
            n[..name.len()].copy_from_slice(name.as_bytes());
            head.extend(n);
            head.push(1);
            head.extend((offset as u32).to_be_bytes());
            head.extend((data.len() as u32).to_be_bytes());
            body.extend_from_slice(data);
            offset += data.len();
        }
        head.extend(body);
        head
    }

    #[test]
    fn the_table_is_read_and_entries_outside_the_file_are_refused() {
        let bytes = archive(&[("A.DOG", b"xyz"), ("B.SB", b"1234")]);
        let a = Archive::parse(bytes.clone(), Path::new("q")).expect("valid archive");
        assert_eq!(a.entries().len(), 2);
        assert_eq!(a.data(&a.entries()[1]), b"1234");
        assert_eq!(a.speech().count(), 1);
        let truncated = bytes[..bytes.len() - 2].to_vec();
        let err = Archive::parse(truncated, Path::new("q"))
            .err()
            .expect("refused");
        assert!(err.to_string().contains("B.SB"), "{err}");
        assert!(Archive::parse(b"RIFF....".to_vec(), Path::new("q")).is_err());
        let mut short_table = bytes[..HEADER_LEN].to_vec();
        short_table[14] = 9;
        assert!(Archive::parse(short_table, Path::new("q")).is_err());
    }

    #[test]
    fn strings_lose_their_length_byte_and_codes_split_the_parts() {
        // '1' is 49, the length of the rest; "#*" : '*' (42) is the length of what follows it.
        let data = b"\x00\x061At least I don't look like I need to wear one.*15\x00\x16You and whose army?*03\x00#*Oh yeah, you ain't seen nothing yet.*01*03";
        let strings = length_prefixed_strings(data);
        assert_eq!(
            strings[0],
            "At least I don't look like I need to wear one.*15"
        );
        assert_eq!(strings[1], "You and whose army?*03");
        assert_eq!(strings[2], "Oh yeah, you ain't seen nothing yet.*01*03");
        assert_eq!(
            spoken_parts("*FRHey Sparky...*15"),
            vec!["Hey Sparky...".to_string()]
        );
        assert_eq!(
            spoken_parts("Sorry pal*00That page was gone*02"),
            vec![
                "Sorry pal",
                "That page was gone",
                "Sorry pal That page was gone"
            ]
        );
        assert!(spoken_parts("*FL*02").is_empty());
    }

    #[test]
    fn names_tell_the_speaker() {
        assert_eq!(voice_of("020006J1.SB"), Voice::Joe);
        assert_eq!(voice_of("JOE00123.SB"), Voice::Joe);
        assert_eq!(
            voice_of("0300BAP3.SB"),
            Voice::Person {
                dialogue: "03".into()
            }
        );
        assert_eq!(
            voice_of("C13A_001.SB"),
            Voice::Cutscene {
                scene: "C13A".into()
            }
        );
        assert_eq!(voice_of("67SSSSJ2.SB"), Voice::Joe);
        assert_eq!(voice_of("X.SB"), Voice::Unknown);
    }

    #[test]
    fn the_cast_is_read_from_the_credits() {
        // As in the game: CR LF lines, blank lines between artists, several under one heading.
        let credits = ".p 8\r\n.i 15\r\nVoice Artists\r\n\r\n.i 30\r\nBrad Lavelle\r\n.i 222\r\n    Joe King\r\n     Commander Rocket Characters\r\n\r\n.i 30\r\nTom Hill\r\n.i 222\r\n    Sparky\r\n.p 5\r\n.i 15\r\nVoice Artists\r\n.i 30\r\nJon Coleman\r\n.i 222\r\n    Trader Bob\r\n.p 5\r\n";
        let cast = parse_cast(credits);
        assert_eq!(cast.len(), 3);
        assert_eq!(cast[0].0, "Brad Lavelle");
        assert_eq!(cast[0].1, vec!["Joe King", "Commander Rocket Characters"]);
        assert_eq!(
            cast[1],
            ("Tom Hill".to_string(), vec!["Sparky".to_string()])
        );
        assert_eq!(cast[2].1, vec!["Trader Bob"]);
    }

    /// The real package, when installed (the README's setup command installs it).
    #[test]
    fn the_debian_package_reads_whole() {
        let path = Path::new("/usr/share/scummvm/flight-of-the-amazon-queen/queen.1c");
        if !path.is_file() {
            eprintln!(
                "skipping: {} not installed (apt-get install flight-of-the-amazon-queen)",
                path.display()
            );
            return;
        }
        let a = Archive::open(path).expect("queen.1c reads");
        assert_eq!(a.entries().len(), 7671);
        assert_eq!(a.speech().count(), 6745);
        let clip = a.find("020006J1.SB").expect("a dialogue clip");
        let wave = a.decode_speech(clip).expect("decodes");
        assert_eq!(wave.sample_rate(), 11_025);
        assert!(
            (1.0..6.0).contains(&wave.duration_s()),
            "{}",
            wave.duration_s()
        );
        assert!(wave.rms() > 0.01);
        let lines = a.lines();
        assert!(
            lines
                .iter()
                .any(|l| l.source == "AND1.DOG" && l.text == "You and whose army?")
        );
        let cast = a.cast();
        let joe = cast
            .iter()
            .find(|(actor, _)| actor == "Brad Lavelle")
            .expect("Joe's actor");
        assert!(joe.1.iter().any(|c| c == "Joe King"));
        assert!(cast.len() >= 10, "{} artists", cast.len());
        // Every cutscene clip lands on a record that speaks; C1A is Joe and Sparky by turns.
        let (speakers, failures) = a.cutscene_speakers();
        assert!(failures.is_empty(), "{failures:?}");
        assert_eq!(speakers.len(), 2040);
        assert!(speakers.values().all(|s| *s != Speaker::Silent));
        assert_eq!(speakers["C1A__012"], Speaker::Joe);
        assert_eq!(speakers["C1A__081"], Speaker::Person("Sparky".into()));
        assert_eq!(speakers["C100A032"], Speaker::Person("Ian".into()));
    }
}
