//! `hark lm`: build a character n-gram language model from transcripts, and the `--lm*` flags
//! that the decoding commands share.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use hark::lm::{CharLm, LmScorer};
use hark::model_dir::LoadedModel;
use hark::text::Vocab;

/// Weight of the LM log-probability when a file is given with `--lm` and no `--lm-weight`.
const DEFAULT_WEIGHT: f32 = 0.5;
/// Per-character bonus when a file is given with `--lm` and no `--lm-bonus`.
const DEFAULT_BONUS: f32 = 1.0;

#[derive(Args, Debug)]
pub struct LmArgs {
    /// Training text: JSONL manifests (their "text" fields) or plain text files (one sentence
    /// per line, by extension other than .jsonl); repeatable.
    #[arg(long = "text", required = true)]
    texts: Vec<PathBuf>,
    /// n-gram order (characters, counting the one predicted).
    #[arg(long, default_value_t = 6)]
    order: usize,
    /// Attach the LM to this model directory (written as lm.bin, recorded in config.json).
    #[arg(long, required_unless_present = "out")]
    into: Option<PathBuf>,
    /// Write the LM file here instead (use it with `--lm FILE`).
    #[arg(long, conflicts_with = "into")]
    out: Option<PathBuf>,
    /// Beam-search weight recorded with --into.
    #[arg(long, default_value_t = DEFAULT_WEIGHT)]
    weight: f32,
    /// Per-character bonus recorded with --into.
    #[arg(long, default_value_t = DEFAULT_BONUS)]
    bonus: f32,
}

/// Language-model flags of `transcribe`, `eval` and `listen`.
#[derive(Args, Debug, Clone, Default)]
pub struct LmFlags {
    /// Decode with this character LM (from `hark lm --out`) instead of the model's own.
    #[arg(long = "lm", value_name = "FILE", conflicts_with = "no_lm")]
    pub file: Option<PathBuf>,
    /// Decode without a language model even if the model ships one.
    #[arg(long)]
    pub no_lm: bool,
    /// Weight of the LM log-probability in the beam search.
    #[arg(long)]
    pub lm_weight: Option<f32>,
    /// Score added per character in the beam search (balances the LM's taste for short output).
    #[arg(long)]
    pub lm_bonus: Option<f32>,
}

impl LmFlags {
    /// Apply the flags to `loaded`'s language model.
    pub fn apply(&self, loaded: &mut LoadedModel) -> Result<()> {
        if self.no_lm {
            loaded.lm = None;
            return Ok(());
        }
        if let Some(path) = &self.file {
            let bytes = std::fs::read(path).with_context(|| path.display().to_string())?;
            let lm = CharLm::from_bytes(&bytes).with_context(|| path.display().to_string())?;
            loaded.lm = Some(LmScorer {
                lm: std::sync::Arc::new(lm),
                weight: DEFAULT_WEIGHT,
                bonus: DEFAULT_BONUS,
            });
        }
        if let Some(lm) = &mut loaded.lm {
            lm.weight = self.lm_weight.unwrap_or(lm.weight);
            lm.bonus = self.lm_bonus.unwrap_or(lm.bonus);
            if !(lm.weight.is_finite() && lm.weight >= 0.0 && lm.bonus.is_finite()) {
                bail!("--lm-weight must be a finite number ≥ 0 and --lm-bonus finite");
            }
        }
        Ok(())
    }
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
    let vocab = Vocab::english();
    let lm = CharLm::train(all.iter().map(String::as_str), &vocab, args.order)?;
    let source = format!(
        "hark lm --order {} --text {}",
        args.order,
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
        args.order,
        all.len(),
        lm.len(),
        bytes as f64 / 1e6
    );
    Ok(std::process::ExitCode::SUCCESS)
}
