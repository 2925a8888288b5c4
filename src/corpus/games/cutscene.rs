//! Who speaks each line of FOTAQ's cutscenes, read from the game's own cutscene scripts.
//!
//! Format facts (from public descriptions of the Queen engine's data; checked on the package:
//! each of its 2,040 cutscene clips lands on a record that speaks):
//! - `QUEEN.JAS` and every `*.CUT` start with a 20-byte `AmBk` bank header; offsets and
//!   positions below count from its end. All numbers are big-endian 16-bit words.
//! - `QUEEN.JAS`: the counts of rooms, names, objects and descriptions, then 8 words per object
//!   (numbered from 1): its name's number (negative while the object is switched off), x, y,
//!   description, entry object, room, state and image; an image of -3 or -4 marks a person.
//!   Names are lines of `QUEEN2.JAS`, after the descriptions.
//! - A cutscene script (`*.CUT`): panel mode, record count (negative when the player cannot
//!   skip it), flags, and the offsets of the game-state block, the sentences and the bank names;
//!   then one record per step. A record is 17 words: the object (0 Joe, -1 Joe after a room
//!   fade, -2/-3 spoken text without a person, -4 displayed text, positive: an object of
//!   `QUEEN.JAS`), move-to x and y, bank, animation list, execute, four limit words, special
//!   move, animation type, from-object, start x and y, room and scale. A count of persons to
//!   switch on and that many words follow. A record that animates (an animation list, or an
//!   object that is not a person, with execute set, unless a from-object is given) is followed
//!   by frames of 10 words up to a header word of -2.
//! - The clip of record N (from 1) of scene S is named S padded with `_` to five characters,
//!   N in two digits and the part of the line in one: `C13A_011.SB`, `C100A032.SB`.

/// Who speaks a cutscene record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Speaker {
    /// Joe King, the hero.
    Joe,
    /// A person of the game, by the name the object table gives it (`Sparky`, `witch doctor`).
    Person(String),
    /// Spoken text without a person on screen (a narrator, a voice off).
    Narration,
    /// A record that does not speak (an animation, a displayed text, a room change).
    Silent,
}

const BANK_HEADER: usize = 20;
const RECORD_WORDS: usize = 17;
const FRAME_WORDS: usize = 10;
const FRAMES_END: i16 = -2;

/// The objects of `QUEEN.JAS`, with their names from `QUEEN2.JAS`.
#[derive(Debug, Default)]
pub struct ObjectTable {
    /// Index 0 is unused (objects are numbered from 1).
    objects: Vec<Object>,
}

#[derive(Debug, Clone)]
struct Object {
    name: Option<String>,
    person: bool,
}

/// Big-endian words of a byte slice, read with bounds checks.
struct Words<'a> {
    bytes: &'a [u8],
    what: &'a str,
}

impl Words<'_> {
    fn at(&self, offset: usize) -> Result<i16, String> {
        self.bytes
            .get(offset..offset + 2)
            .map(|w| i16::from_be_bytes([w[0], w[1]]))
            .ok_or_else(|| format!("{} ends at byte {offset}", self.what))
    }

    fn unsigned(&self, offset: usize) -> Result<usize, String> {
        self.at(offset).map(|w| w as u16 as usize)
    }
}

impl ObjectTable {
    /// Read the object table from `QUEEN.JAS` and its names from `QUEEN2.JAS`.
    pub fn parse(jas: &[u8], jas2: &[u8]) -> Result<Self, String> {
        let words = Words {
            bytes: jas
                .get(BANK_HEADER..)
                .ok_or("QUEEN.JAS is shorter than its header")?,
            what: "QUEEN.JAS",
        };
        let names = words.unsigned(2)?;
        let count = words.unsigned(4)?;
        let descriptions = words.unsigned(6)?;
        let lines: Vec<String> = String::from_utf8_lossy(jas2)
            .split("\r\n")
            .map(str::to_string)
            .collect();
        if lines.len() < descriptions + names {
            return Err(format!(
                "QUEEN2.JAS has {} lines, fewer than its {descriptions} descriptions and {names} names",
                lines.len()
            ));
        }
        let name_lines = &lines[descriptions..descriptions + names];
        let mut objects = vec![Object {
            name: None,
            person: false,
        }];
        for i in 0..count {
            let at = 8 + i * 16;
            let name = words.at(at)?.unsigned_abs() as usize;
            let image = words.at(at + 14)?;
            objects.push(Object {
                name: (name > 0)
                    .then(|| name_lines.get(name - 1).cloned())
                    .flatten(),
                person: image == -3 || image == -4,
            });
        }
        Ok(Self { objects })
    }

    fn get(&self, number: i16) -> Option<&Object> {
        usize::try_from(number)
            .ok()
            .and_then(|n| self.objects.get(n))
    }
}

/// Who speaks each record of a cutscene script (`speakers[n - 1]` for record `n`).
pub fn script_speakers(cut: &[u8], table: &ObjectTable) -> Result<Vec<Speaker>, String> {
    let words = Words {
        bytes: cut.get(BANK_HEADER..).ok_or("shorter than its header")?,
        what: "the script",
    };
    let count = words.at(2)?.unsigned_abs() as usize;
    let mut at = 12;
    let mut speakers = Vec::with_capacity(count);
    for _ in 0..count {
        let field = |i: usize| words.at(at + 2 * i);
        let mut number = field(0)?;
        let (animations, execute, from) = (field(4)?, field(5)?, field(12)?);
        at += 2 * RECORD_WORDS;
        let persons = words.at(at)?.max(0) as usize;
        at += 2 + 2 * persons;
        if number == -1 {
            // The room fades in, then the record is Joe's.
            number = 0;
        }
        let person = table.get(number).filter(|o| o.person);
        let speaker = match (number, person) {
            (0, _) if animations == 0 && from <= 0 => Speaker::Joe,
            (n, Some(o)) if n > 0 && animations == 0 && from <= 0 => {
                Speaker::Person(o.name.clone().unwrap_or_else(|| format!("object {n}")))
            }
            (-2 | -3, _) => Speaker::Narration,
            _ => Speaker::Silent,
        };
        let speaks = matches!(speaker, Speaker::Joe | Speaker::Person(_));
        let animates = from <= 0 && !speaks && !(-4..=-2).contains(&number) && execute != 0;
        if animates {
            loop {
                let header = words.at(at)?;
                at += 2;
                if header == FRAMES_END {
                    break;
                }
                if header > 1000 {
                    return Err(format!("animation frame header {header} at byte {at}"));
                }
                at += 2 * (FRAME_WORDS - 1);
            }
        }
        speakers.push(speaker);
    }
    Ok(speakers)
}

/// The scene and record number of a cutscene clip's name (`C100A032` → `C100A`, 3), if the
/// name has that shape; whether the scene exists is for the caller to check.
pub fn clip_record(stem: &str) -> Option<(&str, usize)> {
    if stem.len() != 8 || !stem.is_ascii() {
        return None;
    }
    let scene = stem[..5].trim_end_matches('_');
    let record: usize = stem[5..7].parse().ok()?;
    (!scene.is_empty() && record > 0).then_some((scene, record))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(values: &[i16]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_be_bytes()).collect()
    }

    /// A table of three objects: 1 a person called Sparky, 2 a door, 3 a person, switched off.
    fn table() -> ObjectTable {
        let mut jas = vec![0u8; BANK_HEADER];
        jas.extend(words(&[1, 3, 3, 1]));
        jas.extend(words(&[1, 0, 0, 0, 0, 1, 0, -3]));
        jas.extend(words(&[2, 0, 0, 0, 0, 1, 0, 5]));
        jas.extend(words(&[-3, 0, 0, 0, 0, 1, 0, -4]));
        let jas2 = b"It's a dog\r\nSparky\r\ndoor\r\nFaye\r\n";
        ObjectTable::parse(&jas, jas2).expect("table")
    }

    fn record(object: i16, animations: i16, execute: i16) -> Vec<i16> {
        let mut r = vec![0; RECORD_WORDS];
        r[0] = object;
        r[4] = animations;
        r[5] = execute;
        r
    }

    #[test]
    fn records_name_their_speakers_and_animations_are_skipped() {
        let mut body = vec![0, 6, 0, 0, 0, 0];
        // 1: Joe speaks (no animation list), switching on one person.
        body.extend(record(0, 0, 0));
        body.extend([1, 1]);
        // 2: the door animates: two frames, then the end mark.
        body.extend(record(2, 0, 1));
        body.push(0);
        body.extend(std::iter::repeat_n(7, 2 * FRAME_WORDS));
        body.push(FRAMES_END);
        // 3: Sparky speaks; 4: text spoken off screen; 5: Faye (a person, though switched off).
        body.extend(record(1, 0, 0));
        body.push(0);
        body.extend(record(-2, 0, 0));
        body.push(0);
        body.extend(record(3, 0, 0));
        body.push(0);
        // 6: a room fade is Joe's record.
        body.extend(record(-1, 0, 0));
        body.push(0);
        let mut cut = vec![0u8; BANK_HEADER];
        cut.extend(words(&body));
        let speakers = script_speakers(&cut, &table()).expect("parses");
        assert_eq!(
            speakers,
            vec![
                Speaker::Joe,
                Speaker::Silent,
                Speaker::Person("Sparky".into()),
                Speaker::Narration,
                Speaker::Person("Faye".into()),
                Speaker::Joe,
            ]
        );
        // Cut short inside the animation: an error, never a panic.
        let short = &cut[..BANK_HEADER + 2 * (6 + RECORD_WORDS + 2 + RECORD_WORDS + 1 + 5)];
        assert!(script_speakers(short, &table()).is_err());
    }

    #[test]
    fn clip_names_give_scene_and_record() {
        assert_eq!(clip_record("C13A_011"), Some(("C13A", 1)));
        assert_eq!(clip_record("C100A032"), Some(("C100A", 3)));
        assert_eq!(clip_record("C20F_05A"), Some(("C20F", 5)));
        assert_eq!(clip_record("C13A"), None);
        assert_eq!(clip_record("C13A_X11"), None);
    }
}
