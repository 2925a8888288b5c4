//! Text: transcript normalisation and the character vocabulary (blank = 0).
//!
//! The same [`normalize`] is used for training targets, decoding output and scoring, so a
//! transcript means the same thing everywhere.

use serde::{Deserialize, Serialize};

/// Token id of the CTC blank.
pub const BLANK: u32 = 0;

/// Maps characters to token ids. Id 0 is the CTC blank; then space, apostrophe, `a`–`z`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocab {
    /// Symbols for ids 1.. (id 0 is blank).
    symbols: Vec<char>,
}

impl Default for Vocab {
    fn default() -> Self {
        Self::english()
    }
}

impl Vocab {
    /// Lowercase English letters, space and apostrophe.
    pub fn english() -> Self {
        let mut symbols = vec![' ', '\''];
        symbols.extend('a'..='z');
        Self { symbols }
    }

    /// Number of output classes including blank.
    pub fn size(&self) -> usize {
        self.symbols.len() + 1
    }

    pub fn id(&self, c: char) -> Option<u32> {
        self.symbols
            .iter()
            .position(|&s| s == c)
            .map(|i| i as u32 + 1)
    }

    pub fn symbol(&self, id: u32) -> Option<char> {
        if id == BLANK {
            return None;
        }
        self.symbols.get(id as usize - 1).copied()
    }

    /// Token id of the word separator.
    pub fn space(&self) -> u32 {
        self.id(' ').unwrap_or(1)
    }

    /// Normalise `text` and map it to token ids.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        normalize(text).chars().filter_map(|c| self.id(c)).collect()
    }

    /// Map token ids (no blanks expected; blanks are skipped) back to text.
    pub fn decode(&self, ids: &[u32]) -> String {
        ids.iter().filter_map(|&i| self.symbol(i)).collect()
    }
}

/// Normalise a transcript: lowercase, numbers spelled out, `&`/`%` as words, hyphens and
/// other separators as spaces, all other punctuation removed, whitespace collapsed.
pub fn normalize(text: &str) -> String {
    let mut spaced = String::with_capacity(text.len() + 8);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let mut digits = String::from(c);
            while let Some(&d) = chars.peek() {
                if d.is_ascii_digit() {
                    digits.push(d);
                    chars.next();
                } else if d == ',' {
                    // "1,000" is one number; a comma not followed by a digit is punctuation.
                    chars.next();
                    if chars.peek().is_some_and(|n| n.is_ascii_digit()) {
                        continue;
                    }
                    break;
                } else {
                    break;
                }
            }
            spaced.push(' ');
            spaced.push_str(&number_words(&digits));
            spaced.push(' ');
            continue;
        }
        match c {
            '&' => spaced.push_str(" and "),
            '%' => spaced.push_str(" percent "),
            '\'' | '’' | '‘' => spaced.push('\''),
            c if c.is_alphabetic() => {
                for l in c.to_lowercase() {
                    spaced.push(fold_accent(l));
                }
            }
            _ => spaced.push(' '),
        }
    }
    let mut out = String::with_capacity(spaced.len());
    for word in spaced.split_whitespace() {
        // Apostrophes only inside words ("don't"), not as quotes.
        let word = word.trim_matches('\'');
        let word: String = word
            .chars()
            .filter(|c| c.is_ascii_lowercase() || *c == '\'')
            .collect();
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        other => other,
    }
}

const ONES: [&str; 20] = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
];
const TENS: [&str; 10] = [
    "", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
];

/// Spell out a string of ASCII digits. Numbers with a leading zero or more than 12 digits are
/// read digit by digit ("007" → "zero zero seven"), as people read codes.
pub fn number_words(digits: &str) -> String {
    let leading_zero = digits.len() > 1 && digits.starts_with('0');
    match digits.parse::<u64>() {
        Ok(n) if !leading_zero && digits.len() <= 12 => cardinal(n),
        _ => digits
            .chars()
            .filter_map(|d| d.to_digit(10))
            .map(|d| ONES[d as usize])
            .collect::<Vec<_>>()
            .join(" "),
    }
}

fn cardinal(n: u64) -> String {
    if n < 20 {
        return ONES[n as usize].to_string();
    }
    if n < 100 {
        let t = TENS[(n / 10) as usize];
        return if n.is_multiple_of(10) {
            t.to_string()
        } else {
            format!("{t} {}", ONES[(n % 10) as usize])
        };
    }
    if n < 1000 {
        let rest = n % 100;
        let head = format!("{} hundred", ONES[(n / 100) as usize]);
        return if rest == 0 {
            head
        } else {
            format!("{head} {}", cardinal(rest))
        };
    }
    for (scale, name) in [
        (1_000_000_000u64, "billion"),
        (1_000_000, "million"),
        (1_000, "thousand"),
    ] {
        if n >= scale {
            let rest = n % scale;
            let head = format!("{} {name}", cardinal(n / scale));
            return if rest == 0 {
                head
            } else {
                format!("{head} {}", cardinal(rest))
            };
        }
    }
    unreachable!("all n >= 1000 are covered by the scales above")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_punctuation_case_and_numbers() {
        assert_eq!(
            normalize("Hello, World! It's 42 degrees -- isn't it?"),
            "hello world it's forty two degrees isn't it"
        );
        assert_eq!(normalize("'Quoted' text"), "quoted text");
        assert_eq!(
            normalize("1,250 & 7%"),
            "one thousand two hundred fifty and seven percent"
        );
        assert_eq!(normalize("call 007"), "call zero zero seven");
        assert_eq!(normalize("Café naïve"), "cafe naive");
        assert_eq!(normalize("   "), "");
    }

    #[test]
    fn vocab_round_trips() {
        let v = Vocab::english();
        assert_eq!(v.size(), 29);
        let ids = v.encode("Don't stop");
        assert!(!ids.contains(&BLANK));
        assert_eq!(v.decode(&ids), "don't stop");
    }

    #[test]
    fn large_numbers() {
        assert_eq!(number_words("1000000"), "one million");
        assert_eq!(number_words("2019"), "two thousand nineteen");
    }
}
