//! `hark corpus import`: a corpus on disk (or the voice-acted games) to a manifest.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum LayoutArg {
    Librispeech,
    CommonVoice,
    Kaldi,
    Folder,
    /// The voice-acted games in Debian (beneath-a-steel-sky, flight-of-the-amazon-queen).
    Games,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum CutscenesArg {
    Attributed,
    HeldOut,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum PseudoLabelsArg {
    Plausible,
    All,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[arg(long, value_enum)]
    format: LayoutArg,
    /// The corpus directory (Common Voice: the directory with validated.tsv, or a .tsv file).
    source: PathBuf,
    /// Manifest to write (JSONL).
    #[arg(long)]
    out: PathBuf,
    /// Also write the validation report as JSON.
    #[arg(long)]
    report: Option<PathBuf>,
    /// `--format games`: the clips' transcripts (data/games/labels.jsonl, made by
    /// scripts/label_games.py). Without it the clips are only extracted. Give it again to
    /// layer files: a later file's line replaces an earlier file's for the same clip
    /// (data/games/labels-base.jsonl: the Whisper base teacher's pseudo-labels).
    #[arg(long)]
    labels: Vec<PathBuf>,
    /// `--format games`: `plausible` leaves out pseudo-labels (teacher transcripts) that two
    /// teachers disagree on in over a quarter of the words, that loop or run faster than six
    /// words a second, and clips the teacher heard no words in; `all` keeps them, the split of
    /// imports before 2026-12-07 (to rebuild the models shipped until then). Real-dev and
    /// real-test keep only the games' own text, so they are the same either way.
    #[arg(long, value_enum, default_value = "plausible")]
    pseudo_labels: PseudoLabelsArg,
    /// `--format games`: `attributed` reads FOTAQ's cutscene scripts for who speaks each
    /// cutscene line, and trains on the lines of training voices; `held-out` keeps every
    /// cutscene clip out, the split of imports before 2026-12-05 (to rebuild the models
    /// shipped until then).
    #[arg(long, value_enum, default_value = "attributed")]
    cutscenes: CutscenesArg,
    /// Frames the model that will train on the corpus stacks per step: a clip too short for
    /// its transcript at that frame rate is refused (default: the built-in model's).
    #[arg(long)]
    stack: Option<usize>,
}

/// `--stack`, or the built-in model's frame stack (3 for a binary without one).
fn stack(a: &ImportArgs) -> usize {
    a.stack.unwrap_or_else(|| {
        hark::model_dir::ModelSource::BUILT_IN
            .read()
            .map_or(3, |(config, _)| config.model.stack)
    })
}

pub fn import(a: ImportArgs) -> Result<ExitCode> {
    use hark::corpus::import::Layout;
    if let LayoutArg::Games = a.format {
        return import_games(a);
    }
    let layout = match a.format {
        LayoutArg::Games => unreachable!("handled above"),
        LayoutArg::Librispeech => Layout::LibriSpeech,
        LayoutArg::CommonVoice => Layout::CommonVoice,
        LayoutArg::Kaldi => Layout::Kaldi,
        LayoutArg::Folder => Layout::Folder,
    };
    let report = hark::corpus::import::import(layout, &a.source, &a.out, stack(&a))?;
    print_skips(&report.problems);
    print_summary(&a.out.display().to_string(), &report);
    finish(a.report.as_deref(), &report, report.problems.is_empty())
}

fn import_games(a: ImportArgs) -> Result<ExitCode> {
    use hark::corpus::games::{Cutscenes, PseudoLabels};
    let cutscenes = match a.cutscenes {
        CutscenesArg::Attributed => Cutscenes::Attributed,
        CutscenesArg::HeldOut => Cutscenes::HeldOut,
    };
    let pseudo = match a.pseudo_labels {
        PseudoLabelsArg::Plausible => PseudoLabels::Plausible,
        PseudoLabelsArg::All => PseudoLabels::All,
    };
    let report =
        hark::corpus::games::import(&a.source, &a.out, &a.labels, cutscenes, pseudo, stack(&a))?;
    print_skips(&report.extract_failures);
    for (game, (clips, hours)) in &report.extracted {
        println!("{game}: {clips} clips extracted, {hours:.2} h");
    }
    if report.unlabelled > 0 {
        println!("{} clips without a label", report.unlabelled);
    }
    for (split, r) in &report.splits {
        print_summary(split, r);
        if let Some(speakers) = report.speakers.get(split) {
            println!("  speakers: {}", speakers.join(", "));
        }
    }
    for (why, n) in &report.held_out {
        println!("held out: {n} ({why})");
    }
    finish(
        a.report.as_deref(),
        &report,
        report.extract_failures.is_empty(),
    )
}

/// One line of utterances, hours and skips, then the skips by kind.
fn print_summary(name: &str, report: &hark::corpus::import::ImportReport) {
    println!(
        "{name}: {} utterances, {:.2} h; {} skipped",
        report.accepted,
        report.hours,
        report.problems.len()
    );
    for (kind, n) in report.counts() {
        println!("  {kind:?}: {n}");
    }
}

fn print_skips(problems: &[hark::corpus::import::Problem]) {
    for p in problems {
        eprintln!("skipped {} ({:?}): {}", p.entry, p.kind, p.detail);
    }
}

/// Write the report as JSON when asked; exit 0 when nothing was skipped, else 1.
fn finish(
    path: Option<&std::path::Path>,
    report: &impl serde::Serialize,
    clean: bool,
) -> Result<ExitCode> {
    if let Some(path) = path {
        std::fs::write(path, serde_json::to_string_pretty(report)?)?;
    }
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
