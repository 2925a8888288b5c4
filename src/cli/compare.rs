//! `hark compare`: robustness reports side by side.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct CompareArgs {
    /// Reports written by `hark eval --json` on the same test set; the first is the baseline
    /// of the relative change.
    #[arg(required = true)]
    reports: Vec<PathBuf>,
    /// Also draw WER against SNR (mean over the noises), one line per report, as a PNG here.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Plot CER instead of WER.
    #[arg(long, requires = "plot")]
    cer: bool,
}

/// `hark compare`: reports side by side as a Markdown table, named by [`hark::data::short_names`].
pub fn compare(args: CompareArgs) -> Result<ExitCode> {
    use hark::eval::compare;
    let names = hark::data::short_names(&args.reports, ".eval");
    let reports = args
        .reports
        .iter()
        .zip(names)
        .map(|(p, name)| Ok((name, compare::load(p)?)))
        .collect::<Result<Vec<_>>>()?;
    print!("{}", compare::markdown(&reports));
    if let Some(p) = &args.plot {
        let metric = if args.cer { "CER" } else { "WER" };
        hark::plot::line_chart(
            p,
            &format!("{metric} against SNR, mean over noises (clean drawn at 30 dB)"),
            "SNR (dB)",
            &format!("{metric} (%)"),
            &compare::mean_error_by_snr(&reports, 30.0, args.cer),
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
