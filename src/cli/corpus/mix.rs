//! `hark corpus mix` and `hark corpus babble`: noisy copies of a manifest, and babble noise.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct MixArgs {
    /// Manifest to corrupt.
    #[arg(long)]
    manifest: PathBuf,
    /// Comma-separated noises: white, pink, brown, noise-bank names, or WAV files.
    #[arg(long)]
    noise: String,
    /// Comma-separated SNRs in dB (signal power over active speech only).
    #[arg(long, default_value = "20,15,10,5,0,-5")]
    snr: String,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_os_t = hark::noise::default_bank_dir())]
    noise_bank: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Args, Debug)]
pub struct BabbleArgs {
    /// Manifest of the talkers (use a training split only).
    #[arg(long)]
    manifest: PathBuf,
    #[arg(long, default_value_t = 6)]
    talkers: usize,
    #[arg(long, default_value_t = 12.0)]
    seconds: f64,
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub fn mix(a: MixArgs) -> Result<ExitCode> {
    let bank = hark::noise::NoiseBank::open(&a.noise_bank).ok();
    let noises = a
        .noise
        .split(',')
        .map(|n| hark::noise::resolve(n.trim(), bank.as_ref()))
        .collect::<hark::Result<Vec<_>>>()?;
    let snrs = a
        .snr
        .split(',')
        .map(|s| {
            s.trim()
                .parse::<f32>()
                .map_err(|_| anyhow::anyhow!("bad SNR '{s}'"))
        })
        .collect::<Result<Vec<_>>>()?;
    let report = hark::corpus::mix::mix(&a.manifest, &noises, &snrs, &a.out, a.seed)?;
    for f in &report.failed {
        eprintln!("error: {f}");
    }
    for (name, path) in &report.manifests {
        println!("{name:<24} {}", path.display());
    }
    println!("{} noisy utterances", report.utterances);
    Ok(if report.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

pub fn babble(a: BabbleArgs) -> Result<ExitCode> {
    let wave = hark::corpus::mix::babble(&a.manifest, a.talkers, a.seconds, a.seed)?;
    hark::audio::wav::write(&a.out, &wave)?;
    println!(
        "{}: {:.1} s of {}-talker babble",
        a.out.display(),
        wave.duration_s(),
        a.talkers
    );
    Ok(ExitCode::SUCCESS)
}
