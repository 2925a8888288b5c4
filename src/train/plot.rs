//! `training.png`: training loss and dev WER/CER per epoch, from `metrics.jsonl`.

use std::path::Path;

use crate::error::{Error, Result};
use crate::plot::{Series, line_chart};

/// Plot the curves in `metrics` (JSON lines with `epoch`, `train_loss`, `dev_wer`, `dev_cer`).
pub fn training_curves(metrics: &Path, png: &Path) -> Result<()> {
    let text = std::fs::read_to_string(metrics).map_err(|e| Error::io(metrics, e))?;
    let rows: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let series = |name: &str, key: &str, scale: f64| Series {
        name: name.into(),
        points: rows
            .iter()
            .filter_map(|r| Some((r["epoch"].as_f64()?, r[key].as_f64()? * scale)))
            .collect(),
    };
    line_chart(
        png,
        "training",
        "epoch",
        "loss ×100 / error %",
        &[
            series("train loss ×100", "train_loss", 100.0),
            series("dev WER %", "dev_wer", 1.0),
            series("dev CER %", "dev_cer", 1.0),
            series("noisy dev WER %", "dev_noisy_wer", 1.0),
            series("noisy dev CER %", "dev_noisy_cer", 1.0),
        ],
    )
}
