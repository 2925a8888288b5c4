//! `hark features`: the MFCC features of a WAV file as CSV or NumPy `.npy`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use super::output::{features_csv, features_npy};
use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use hark::audio::decode;
use hark::model_dir::ModelSource;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FeatureFormat {
    Csv,
    Npy,
}

#[derive(Args, Debug)]
pub struct FeaturesArgs {
    file: PathBuf,
    #[arg(long, value_enum, default_value = "csv")]
    format: FeatureFormat,
    /// Output file (default: stdout for CSV; required for npy).
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Take the feature settings of this model (default: the built-in model's, else defaults).
    #[arg(long)]
    model: Option<PathBuf>,
}

pub fn features(args: FeaturesArgs) -> Result<ExitCode> {
    let cfg = match args.model {
        Some(dir) => ModelSource::Dir(dir).read()?.0.features,
        None if hark::model_dir::BuiltIn::Default.is_embedded() => {
            ModelSource::BUILT_IN.read()?.0.features
        }
        None => hark::features::MfccConfig::default(),
    };
    let mfcc = hark::features::Mfcc::new(cfg).map_err(anyhow::Error::msg)?;
    let wave = decode::read_any(&args.file)?;
    let feats = mfcc.compute(&wave);
    match args.format {
        FeatureFormat::Csv => {
            let text = features_csv(&feats);
            match args.output {
                Some(p) => std::fs::write(&p, text).with_context(|| p.display().to_string())?,
                None => std::io::stdout().write_all(text.as_bytes())?,
            }
        }
        FeatureFormat::Npy => {
            let Some(p) = args.output else {
                bail!("--format npy needs --output FILE");
            };
            std::fs::write(&p, features_npy(&feats)).with_context(|| p.display().to_string())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
