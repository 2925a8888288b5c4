//! `hark average`: one model whose weights are the mean of several models' of one architecture
//! (checkpoint averaging), with the first model's language models.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;
use hark::backend::DeviceSpec;
use hark::model_dir::{self, ModelSource};

#[derive(Args, Debug)]
#[command(
    after_help = "Average relatives only: fine-tuning runs from one model, or the last \
checkpoints of one run. The output keeps the first model's language models and their weights \
(and the grammar it ships, with its bonus), but not its confidence calibration or speech head, \
which were fitted to its own weights: run `hark tune --write` (and `hark speech-head --write` \
for a streaming model) on the result."
)]
pub struct AverageArgs {
    /// Model directories (or `builtin`, `builtin:streaming`) of one architecture.
    #[arg(required = true, num_args = 2..)]
    models: Vec<PathBuf>,
    /// Relative weight of each model, comma-separated (default: equal).
    #[arg(long, value_delimiter = ',')]
    weights: Option<Vec<f32>>,
    /// Output model directory (must not exist, or be empty).
    #[arg(long)]
    out: PathBuf,
}

pub fn average(args: AverageArgs, device: DeviceSpec) -> Result<ExitCode> {
    if std::fs::read_dir(&args.out).is_ok_and(|mut d| d.next().is_some()) {
        bail!("{} exists and is not empty", args.out.display());
    }
    let device = device.device()?;
    let sources: Vec<ModelSource> = args.models.iter().map(|p| ModelSource::parse(p)).collect();
    let mut configs = Vec::new();
    let mut models = Vec::new();
    for source in &sources {
        let loaded = source
            .load_acoustic(&device)
            .with_context(|| format!("loading {source}"))?;
        configs.push(loaded.config);
        models.push(loaded.model);
    }
    let first = &configs[0];
    for (source, config) in sources.iter().zip(&configs).skip(1) {
        if config.model != first.model {
            bail!("{source} has another architecture than {}", sources[0]);
        }
        if config.features != first.features || config.vocab != first.vocab {
            bail!(
                "{source} has other features or another alphabet than {}",
                sources[0]
            );
        }
    }
    let model = hark::model::average::average(models, args.weights.as_deref())?;
    let mut config = first.clone();
    config.calibration = None;
    config.speech_head = None;
    config.training = serde_json::json!({
        "averaged": sources
            .iter()
            .zip(&configs)
            .map(|(s, c)| serde_json::json!({"model": s.to_string(), "sha256": c.weights.sha256}))
            .collect::<Vec<_>>(),
        "weights": args.weights,
        "first_model_training": first.training,
    });
    sources[0].copy_language_models(&config, &args.out)?;
    let saved = model_dir::save(&args.out, config, model)?;
    println!(
        "averaged {} models into {} ({} bytes of weights); tune it with `hark tune --model {} --write`",
        sources.len(),
        args.out.display(),
        saved.weights.bytes,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
