//! Several robustness reports of the same test set side by side: a Markdown table of clean,
//! per-noise 0–20 dB, −5 dB and attacked scores, and WER against SNR averaged over the noises.

use std::path::Path;

use super::report::{FORMAT, Report, Row, clean_row};
use crate::error::{Error, Result};
use crate::plot::Series;

/// Read a `hark eval --json` report, refusing other formats.
pub fn load(path: &Path) -> Result<Report> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let report: Report = serde_json::from_slice(&bytes)
        .map_err(|e| Error::Config(format!("{}: not an eval report: {e}", path.display())))?;
    if report.format != FORMAT {
        return Err(Error::Config(format!(
            "{}: report format '{}', expected '{FORMAT}'",
            path.display(),
            report.format
        )));
    }
    Ok(report)
}

fn clean(r: &Report) -> Option<&Row> {
    clean_row(&r.rows)
}

/// Mean WER and CER over every noise at one SNR, when any noise was measured there.
fn mean_at(r: &Report, snr: f32) -> Option<(f64, f64)> {
    let rows: Vec<&Row> = r.rows.iter().filter(|x| x.snr_db == Some(snr)).collect();
    (!rows.is_empty()).then(|| {
        let n = rows.len() as f64;
        (
            rows.iter().map(|x| x.wer).sum::<f64>() / n,
            rows.iter().map(|x| x.cer).sum::<f64>() / n,
        )
    })
}

/// Mean WER and CER over all noises and SNRs from 0 to 20 dB.
pub fn mean_0_20db(r: &Report) -> Option<(f64, f64)> {
    let a = &r.averages_0_20db;
    (!a.is_empty()).then(|| {
        let n = a.len() as f64;
        (
            a.iter().map(|x| x.wer).sum::<f64>() / n,
            a.iter().map(|x| x.cer).sum::<f64>() / n,
        )
    })
}

fn cell(v: Option<(f64, f64)>) -> String {
    v.map_or("–".into(), |(w, c)| format!("{w:.1} / {c:.1}"))
}

/// A Markdown table, one row per `(name, report)`: WER / CER in percent.
pub fn markdown(reports: &[(String, Report)]) -> String {
    let Some((_, first)) = reports.first() else {
        return String::new();
    };
    let noises: Vec<String> = first
        .averages_0_20db
        .iter()
        .map(|a| a.noise.clone())
        .collect();
    let attacks: Vec<(f32, usize)> = first
        .rows
        .iter()
        .filter_map(|r| Some((r.attack_epsilon?, r.attack_steps?)))
        .collect();
    let wave_attacks: Vec<(f32, Option<usize>)> = first
        .rows
        .iter()
        .filter_map(|r| Some((r.attack_snr_db?, r.attack_steps)))
        .collect();
    let mut head = vec!["model".to_string(), "clean".into()];
    head.extend(noises.iter().map(|n| format!("{n} 0–20 dB")));
    head.push("mean 0–20 dB".into());
    head.push("Δ mean 0–20 dB".into());
    head.push("mean −5 dB".into());
    head.extend(attacks.iter().map(|(e, k)| format!("PGD{k} ε {e}")));
    head.extend(
        wave_attacks
            .iter()
            .map(|(snr, k)| format!("wave PGD{} {snr} dB", k.unwrap_or(0))),
    );
    head.push("ECE clean".into());
    let mut out = format!("| {} |\n|{}\n", head.join(" | "), "---|".repeat(head.len()));
    let base = mean_0_20db(first);
    for (name, r) in reports {
        let mut cells = vec![name.clone(), cell(clean(r).map(|c| (c.wer, c.cer)))];
        for n in &noises {
            let avg = r.averages_0_20db.iter().find(|a| &a.noise == n);
            cells.push(cell(avg.map(|a| (a.wer, a.cer))));
        }
        let mean = mean_0_20db(r);
        cells.push(cell(mean));
        let relative = |m: f64, b: f64| {
            if b > 0.0 {
                format!("{:+.1}%", 100.0 * (m - b) / b)
            } else {
                "–".into()
            }
        };
        cells.push(match (base, mean) {
            (Some((bw, bc)), Some((mw, mc))) => {
                format!("{} / {}", relative(mw, bw), relative(mc, bc))
            }
            _ => "–".into(),
        });
        cells.push(cell(mean_at(r, -5.0)));
        for (e, k) in &attacks {
            let row = r
                .rows
                .iter()
                .find(|x| x.attack_epsilon == Some(*e) && x.attack_steps == Some(*k));
            cells.push(cell(row.map(|x| (x.wer, x.cer))));
        }
        for (snr, k) in &wave_attacks {
            let row = r
                .rows
                .iter()
                .find(|x| x.attack_snr_db == Some(*snr) && x.attack_steps == *k);
            cells.push(cell(row.map(|x| (x.wer, x.cer))));
        }
        cells.push(
            clean(r)
                .and_then(|c| c.ece)
                .map_or("–".into(), |e| format!("{e:.3}")),
        );
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    out
}

/// WER (or, with `cer`, CER) against SNR averaged over the noises, one line per report (clean
/// drawn at `clean_at_db`).
pub fn mean_error_by_snr(reports: &[(String, Report)], clean_at_db: f64, cer: bool) -> Vec<Series> {
    let pick = |(w, c): (f64, f64)| if cer { c } else { w };
    reports
        .iter()
        .map(|(name, r)| {
            let mut snrs: Vec<f32> = r.rows.iter().filter_map(|x| x.snr_db).collect();
            snrs.sort_by(f32::total_cmp);
            snrs.dedup();
            let mut points: Vec<(f64, f64)> = snrs
                .into_iter()
                .filter_map(|s| mean_at(r, s).map(|m| (f64::from(s), pick(m))))
                .collect();
            if let Some(c) = clean(r) {
                points.push((clean_at_db, pick((c.wer, c.cer))));
            }
            Series {
                name: name.clone(),
                points,
            }
        })
        .collect()
}
