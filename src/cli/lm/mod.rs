//! `hark lm`: build a character or word n-gram language model from text. The `--lm*`,
//! `--grammar` and `--hotwords` flags that the decoding commands share are in [`flags`].

mod flags;

pub use flags::LmFlags;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use hark::lm::CharLm;
use hark::lm::kneser_ney::{self, KneserNeyConfig};
use hark::text::Vocab;

#[derive(Args, Debug)]
pub struct LmArgs {
    /// Training text: JSONL manifests (their "text" fields) or plain text files (one sentence
    /// per line, by extension other than .jsonl); repeatable.
    #[arg(long = "text", required = true)]
    texts: Vec<PathBuf>,
    /// n-gram order, counting the symbol predicted (default: 6 characters, or 3 words).
    #[arg(long)]
    order: Option<usize>,
    /// Build a word model (interpolated modified Kneser-Ney) instead of a character model;
    /// write it with --out (hark's binary form) and/or --arpa.
    #[arg(long)]
    words: bool,
    /// Word model: drop n-grams seen fewer times than these counts, per order from
    /// unigrams up (e.g. 0,1,2: keep every bigram, trigrams seen twice or more).
    #[arg(long, value_delimiter = ',', requires = "words")]
    prune: Vec<u32>,
    /// Word model: keep only this many most frequent words (others become <unk>; 0: all).
    #[arg(long, default_value_t = 0, requires = "words")]
    max_vocabulary: usize,
    /// Word model: also write it as ARPA text here (gzip-compressed when the name ends .gz).
    #[arg(long, requires = "words")]
    arpa: Option<PathBuf>,
    /// Word model: the out-of-vocabulary penalty recorded with --into.
    #[arg(long, default_value_t = -2.0, allow_negative_numbers = true, requires = "words")]
    oov_penalty: f32,
    /// Attach the LM to this model directory (lm.bin, or words.bin with --words), recorded in
    /// its config.json with the weights below.
    #[arg(long, required_unless_present_any = ["out", "arpa"])]
    into: Option<PathBuf>,
    /// Write the LM file here instead (use it with `--lm FILE`).
    #[arg(long, conflicts_with = "into")]
    out: Option<PathBuf>,
    /// Beam-search weight recorded with --into (a word model's default: 0.5 as well).
    #[arg(long, default_value_t = flags::DEFAULT_WEIGHT)]
    weight: f32,
    /// Per-character (per-word with --words) bonus recorded with --into.
    #[arg(long, default_value_t = flags::DEFAULT_BONUS)]
    bonus: f32,
}

/// Sentences of a manifest's "text" fields or of a plain text file.
fn sentences(path: &PathBuf) -> Result<Vec<String>> {
    if path.extension().is_some_and(|e| e == "jsonl") {
        let manifest = hark::data::Manifest::load(path)?;
        for e in &manifest.errors {
            eprintln!("warning: {e}");
        }
        Ok(manifest.entries.into_iter().map(|e| e.text).collect())
    } else {
        let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
        Ok(text.lines().map(str::to_string).collect())
    }
}

pub fn lm(args: LmArgs) -> Result<std::process::ExitCode> {
    let mut all = Vec::new();
    for path in &args.texts {
        all.extend(sentences(path)?);
    }
    if args.words {
        return word_lm(&args, &all);
    }
    let order = args.order.unwrap_or(6);
    let vocab = Vocab::english();
    let lm = CharLm::train(all.iter().map(String::as_str), &vocab, order)?;
    let source = format!(
        "hark lm --order {} --text {}",
        order,
        args.texts
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(" --text ")
    );
    let (bytes, place) = if let Some(dir) = &args.into {
        let info = hark::model_dir::attach_lm(dir, &lm, args.weight, args.bonus, source)?;
        let place = format!(
            "attached to {} (weight {}, bonus {})",
            dir.display(),
            args.weight,
            args.bonus
        );
        (info.bytes as usize, place)
    } else if let Some(out) = &args.out {
        let bytes = lm.to_bytes();
        hark::model_dir::write_atomic(out, &bytes)?;
        (bytes.len(), format!("written to {}", out.display()))
    } else {
        bail!("give --into MODEL_DIR or --out FILE");
    };
    eprintln!(
        "{}-gram LM from {} sentences: {} n-grams, {:.1} MB, {place}",
        order,
        all.len(),
        lm.len(),
        bytes as f64 / 1e6
    );
    Ok(std::process::ExitCode::SUCCESS)
}

/// `hark lm --words`: a word model from `sentences`, written as asked.
fn word_lm(args: &LmArgs, sentences: &[String]) -> Result<std::process::ExitCode> {
    let normalised: Vec<String> = sentences.iter().map(|s| hark::text::normalize(s)).collect();
    let mut cfg = KneserNeyConfig::new(args.order.unwrap_or(3));
    cfg.prune = args.prune.clone();
    cfg.max_vocabulary = args.max_vocabulary;
    let lm = kneser_ney::build(
        normalised
            .iter()
            .map(|s| s.split(' ').filter(|w| !w.is_empty()).collect()),
        &cfg,
    )?;
    let mut written = Vec::new();
    if let Some(dir) = &args.into {
        let source = format!(
            "hark lm --words --order {} --prune {} --max-vocabulary {} --text {}",
            lm.order(),
            args.prune
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(","),
            args.max_vocabulary,
            args.texts
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" --text ")
        );
        let weights = (args.weight, args.bonus, args.oov_penalty);
        let info = hark::model_dir::attach_word_lm(dir, &lm, weights, source)?;
        written.push(format!(
            "{} in {} (weight {}, bonus {}, OOV penalty {})",
            info.file,
            dir.display(),
            args.weight,
            args.bonus,
            args.oov_penalty
        ));
    }
    if let Some(out) = &args.out {
        let bytes = lm.to_bytes();
        hark::model_dir::write_atomic(out, &bytes)?;
        written.push(format!(
            "{} ({:.1} MB)",
            out.display(),
            bytes.len() as f64 / 1e6
        ));
    }
    if let Some(path) = &args.arpa {
        let mut text = Vec::new();
        lm.write_arpa(&mut text)?;
        let bytes = if path.extension().is_some_and(|e| e == "gz") {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(&text)?;
            gz.finish()?
        } else {
            text
        };
        hark::model_dir::write_atomic(path, &bytes)?;
        written.push(format!(
            "{} ({:.1} MB)",
            path.display(),
            bytes.len() as f64 / 1e6
        ));
    }
    let counts: Vec<String> = lm.counts().iter().map(|c| c.to_string()).collect();
    eprintln!(
        "{}-gram word LM from {} sentences: {} words, n-grams per order {}; written to {}",
        lm.order(),
        sentences.len(),
        lm.vocabulary_size(),
        counts.join("/"),
        written.join(" and ")
    );
    Ok(std::process::ExitCode::SUCCESS)
}
