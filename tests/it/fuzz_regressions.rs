//! Replays the fuzz targets' seed corpora (`fuzz/corpus/`) and every input that once crashed
//! or hung a target (`fuzz/regressions/`) through the same entry points the fuzzers call.
//! A panic here is a regression.

use std::path::{Path, PathBuf};

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files: Vec<PathBuf> = ["corpus", "regressions"]
        .iter()
        .map(|d| root.join(d).join(target))
        .filter(|d| d.is_dir())
        .flat_map(|d| std::fs::read_dir(d).unwrap().map(|e| e.unwrap().path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str, run: impl Fn(&[u8]), at_least: usize) {
    let files = inputs(target);
    assert!(files.len() >= at_least, "{target}: {} inputs", files.len());
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let name = f.display().to_string();
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&data)));
        assert!(outcome.is_ok(), "{name} panics");
    }
}

#[test]
fn wav_pipeline_inputs_replay() {
    replay("wav_pipeline", hark::fuzzing::wav_pipeline, 10);
}

#[test]
fn manifest_line_inputs_replay() {
    replay("manifest_line", hark::fuzzing::manifest_line, 3);
}

#[test]
fn model_files_inputs_replay() {
    replay(
        "model_files",
        |d| {
            let _ = hark::fuzzing::model_files(d);
        },
        2,
    );
    // The checksum-fixing seed really loads: the target reaches past the parsers.
    let seed = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/model_files/tiny-mode1");
    assert!(hark::fuzzing::model_files(&std::fs::read(seed).unwrap()).is_some());
}
