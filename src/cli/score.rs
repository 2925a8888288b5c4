//! `hark score`: any recogniser's hypotheses scored against a reference manifest.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// Reference manifest (JSONL with "audio" and "text").
    #[arg(long)]
    reference: PathBuf,
    /// Hypotheses in the same format, from any recogniser; matched to the reference by audio
    /// path (relative paths resolve against each file's folder). A reference utterance with no
    /// hypothesis is scored as an empty one.
    #[arg(long)]
    hypotheses: PathBuf,
}

/// `hark score`: WER and CER of any recogniser's output with hark's text normalisation, as one
/// JSON line.
pub fn score(args: ScoreArgs) -> Result<ExitCode> {
    use hark::eval::{ErrorCounts, char_errors, word_errors};
    use std::collections::HashMap;
    let reference = hark::data::Manifest::load(&args.reference)?;
    let hyps = hark::data::Manifest::load(&args.hypotheses)?;
    for e in reference.errors.iter().chain(&hyps.errors) {
        eprintln!("error: {e}");
    }
    let key = |p: &std::path::Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let by_audio: HashMap<PathBuf, &str> = hyps
        .entries
        .iter()
        .map(|e| (key(&e.audio), e.text.as_str()))
        .collect();
    let (mut words, mut chars, mut missing) = (ErrorCounts::default(), ErrorCounts::default(), 0);
    for e in &reference.entries {
        let hyp = by_audio.get(&key(&e.audio)).copied().unwrap_or_else(|| {
            missing += 1;
            ""
        });
        words += word_errors(&e.text, hyp);
        chars += char_errors(&e.text, hyp);
    }
    let line = serde_json::json!({
        "utterances": reference.entries.len(),
        "missing_hypotheses": missing,
        "wer": words.rate(),
        "cer": chars.rate(),
        "words": words,
        "chars": chars,
    });
    println!("{line}");
    let bad = reference.errors.len() + hyps.errors.len() + missing;
    Ok(if bad > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
