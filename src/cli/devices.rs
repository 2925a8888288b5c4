//! `hark devices`: the audio input devices, as a table or JSON lines.

use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

#[derive(Args, Debug)]
pub struct DevicesArgs {
    /// Print JSON lines instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn devices(args: DevicesArgs) -> Result<ExitCode> {
    let list = hark::audio::capture::list_input_devices()?;
    if list.is_empty() {
        eprintln!("no input devices found");
        return Ok(ExitCode::from(1));
    }
    for d in list {
        if args.json {
            println!("{}", serde_json::to_string(&d)?);
        } else {
            println!(
                "{} {}  ({}; default {} Hz, {} ch, {})",
                if d.is_default { "*" } else { " " },
                d.id,
                d.description,
                d.sample_rate,
                d.channels,
                d.sample_format
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
