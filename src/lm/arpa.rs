//! ARPA text for word n-gram models, as KenLM's `lmplz` and SRILM write it: `\data\` with
//! the count of each order, one `\N-grams:` section per order (`log10 p`, the words, an
//! optional `log10` back-off), then `\end\`. Read plain or gzip-compressed, written plain.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;

use super::word::{MAX_ORDER, NGram, WordLm};
use crate::error::{Error, Result};

impl WordLm {
    /// Write the model as ARPA text.
    pub fn write_arpa(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(out, "\n\\data\\")?;
        for (i, count) in self.counts().iter().enumerate() {
            writeln!(out, "ngram {}={count}", i + 1)?;
        }
        let mut current = 0;
        for g in self.ngrams() {
            if g.words.len() != current {
                current = g.words.len();
                writeln!(out, "\n\\{current}-grams:")?;
            }
            write!(out, "{}\t{}", g.log10_prob, g.words.join(" "))?;
            match g.log10_backoff {
                Some(b) if b != 0.0 => writeln!(out, "\t{b}")?,
                _ => writeln!(out)?,
            }
        }
        writeln!(out, "\n\\end\\")
    }

    /// Read ARPA text (gzip-compressed or not: told apart by the first two bytes).
    pub fn read_arpa(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader = BufReader::new(file);
        let gzip = reader
            .fill_buf()
            .map_err(|e| Error::io(path, e))?
            .starts_with(&[0x1f, 0x8b]);
        let text: Box<dyn BufRead> = if gzip {
            Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(reader)))
        } else {
            Box::new(reader)
        };
        Self::parse_arpa(text).map_err(|e| match e {
            Error::Data(m) => Error::Data(format!("{}: {m}", path.display())),
            other => other,
        })
    }

    /// Parse ARPA text; errors name the line.
    pub fn parse_arpa(text: impl BufRead) -> Result<Self> {
        let mut declared: Vec<usize> = Vec::new();
        let mut ngrams: Vec<NGram> = Vec::new();
        let mut section: Option<usize> = None;
        let mut seen_data = false;
        let mut ended = false;
        for (number, line) in text.lines().enumerate() {
            let at = |m: String| Error::Data(format!("ARPA line {}: {m}", number + 1));
            let line = line.map_err(|e| at(e.to_string()))?;
            let line = line.trim();
            if line.is_empty() || ended {
                continue;
            }
            if line == "\\data\\" {
                seen_data = true;
                continue;
            }
            if line == "\\end\\" {
                ended = true;
                continue;
            }
            if let Some(rest) = line.strip_prefix("ngram ") {
                let (n, count) = rest
                    .split_once('=')
                    .ok_or_else(|| at(format!("expected `ngram N=COUNT`, got `{line}`")))?;
                let n: usize = n
                    .trim()
                    .parse()
                    .map_err(|_| at(format!("bad order `{n}`")))?;
                let count: usize = count
                    .trim()
                    .parse()
                    .map_err(|_| at(format!("bad count `{count}`")))?;
                if n == 0 || n > MAX_ORDER {
                    return Err(at(format!("{n}-grams: orders 1–{MAX_ORDER} are supported")));
                }
                if declared.len() < n {
                    declared.resize(n, 0);
                }
                declared[n - 1] = count;
                continue;
            }
            if let Some(n) = line
                .strip_prefix('\\')
                .and_then(|l| l.strip_suffix("-grams:"))
            {
                let n: usize = n.parse().map_err(|_| at(format!("bad section `{line}`")))?;
                if !seen_data || n == 0 || n > declared.len() {
                    return Err(at(format!("section `{line}` not declared in \\data\\")));
                }
                section = Some(n);
                continue;
            }
            let Some(n) = section else {
                return Err(at(format!("unexpected `{line}` before the first section")));
            };
            let fields: Vec<&str> = line.split_whitespace().collect();
            let number_at = |s: &str| -> Result<f32> {
                s.parse::<f32>()
                    .map_err(|_| at(format!("`{s}` is not a number")))
            };
            let (prob, backoff) = match fields.len() {
                k if k == n + 1 => (number_at(fields[0])?, None),
                k if k == n + 2 => (number_at(fields[0])?, Some(number_at(fields[n + 1])?)),
                k => {
                    return Err(at(format!(
                        "a {n}-gram line has {} or {} fields, this one {k}",
                        n + 1,
                        n + 2
                    )));
                }
            };
            ngrams.push(NGram {
                words: fields[1..=n].iter().map(|w| w.to_string()).collect(),
                log10_prob: prob,
                log10_backoff: backoff,
            });
        }
        if !seen_data {
            return Err(Error::Data("not an ARPA file (no \\data\\ header)".into()));
        }
        if !ended {
            return Err(Error::Data("truncated ARPA file (no \\end\\)".into()));
        }
        let mut found = vec![0usize; declared.len()];
        for g in &ngrams {
            found[g.words.len() - 1] += 1;
        }
        if found != declared {
            return Err(Error::Data(format!(
                "\\data\\ declares {declared:?} n-grams per order, the sections hold {found:?}"
            )));
        }
        Self::from_ngrams(ngrams)
    }
}
