//! Manifests (JSON lines) and batching of features and targets.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::features::Features;

/// One utterance of a manifest. `audio` is resolved against the manifest's folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub audio: PathBuf,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<f64>,
    /// Where the transcript came from when it is not simply given: `exact` (the source's own
    /// text), `snapped` (a teacher's transcript replaced by the source's nearest line) or
    /// `pseudo` (a teacher's transcript).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// A parsed manifest: the good entries, and one error per bad line (bad lines never stop the
/// good ones).
#[derive(Debug, Default)]
pub struct Manifest {
    pub entries: Vec<ManifestEntry>,
    pub errors: Vec<Error>,
}

impl Manifest {
    /// Read a JSONL manifest. Fails only when the file itself cannot be read.
    pub fn load(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let base = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let mut manifest = Manifest::default();
        for (i, line) in BufReader::new(file).lines().enumerate() {
            let line = line.map_err(|e| Error::io(path, e))?;
            match parse_line(&line, &base) {
                Ok(Some(entry)) => manifest.entries.push(entry),
                Ok(None) => {}
                Err(message) => manifest.errors.push(Error::Manifest {
                    path: path.to_path_buf(),
                    line: i + 1,
                    message,
                }),
            }
        }
        Ok(manifest)
    }
}

/// Parse one manifest line; blank lines give `None`.
pub fn parse_line(line: &str, base: &Path) -> std::result::Result<Option<ManifestEntry>, String> {
    let line = line.trim();
    if line.is_empty() {
        return Ok(None);
    }
    let mut entry: ManifestEntry =
        serde_json::from_str(line).map_err(|e| format!("not a manifest entry: {e}"))?;
    if entry.audio.as_os_str().is_empty() {
        return Err("empty \"audio\" path".into());
    }
    if let Some(d) = entry.duration
        && !(d.is_finite() && d >= 0.0)
    {
        return Err(format!("bad duration {d}"));
    }
    if entry.audio.is_relative() {
        entry.audio = base.join(&entry.audio);
    }
    Ok(Some(entry))
}

/// Write entries as JSON lines.
pub fn write_manifest(path: &Path, entries: &[ManifestEntry]) -> Result<()> {
    let mut out = String::new();
    for e in entries {
        out.push_str(&serde_json::to_string(e).map_err(|e| Error::Data(e.to_string()))?);
        out.push('\n');
    }
    std::fs::write(path, out).map_err(|e| Error::io(path, e))
}

/// A padded batch ready for the model, in host memory.
#[derive(Debug, Clone)]
pub struct Batch {
    /// `[N, T, C]` row-major, zero padded.
    pub features: Vec<f32>,
    pub lengths: Vec<usize>,
    pub max_frames: usize,
    pub dim: usize,
    /// `[N, S]` row-major, padded with 0 (blank, never a target).
    pub targets: Vec<i64>,
    pub target_lengths: Vec<usize>,
    pub max_target: usize,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.lengths.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lengths.is_empty()
    }

    /// The target of utterance `i`, without padding.
    pub fn target(&self, i: usize) -> &[i64] {
        let start = i * self.max_target;
        &self.targets[start..start + self.target_lengths[i]]
    }

    /// Utterances `range` of this batch as a batch of their own, padded only as far as they
    /// need.
    pub fn rows(&self, range: std::ops::Range<usize>) -> Batch {
        let range = range.start.min(self.len())..range.end.min(self.len());
        let lengths = self.lengths[range.clone()].to_vec();
        let target_lengths = self.target_lengths[range.clone()].to_vec();
        let max_frames = lengths.iter().copied().max().unwrap_or(0);
        let max_target = target_lengths.iter().copied().max().unwrap_or(0).max(1);
        let (t, d) = (self.max_frames, self.dim);
        let mut features = vec![0.0f32; range.len() * max_frames * d];
        let mut targets = vec![0i64; range.len() * max_target];
        for (r, i) in range.enumerate() {
            let n = self.lengths[i] * d;
            features[r * max_frames * d..r * max_frames * d + n]
                .copy_from_slice(&self.features[i * t * d..i * t * d + n]);
            let target = self.target(i);
            targets[r * max_target..r * max_target + target.len()].copy_from_slice(target);
        }
        Batch {
            features,
            lengths,
            max_frames,
            dim: d,
            targets,
            target_lengths,
            max_target,
        }
    }

    /// Cut into at most `parts` batches of nearly equal size, in order.
    pub fn split(&self, parts: usize) -> Vec<Batch> {
        let parts = parts.clamp(1, self.len().max(1));
        let (n, base, extra) = (self.len(), self.len() / parts, self.len() % parts);
        let mut out = Vec::with_capacity(parts);
        let mut start = 0;
        for p in 0..parts {
            let end = (start + base + usize::from(p < extra)).min(n);
            out.push(self.rows(start..end));
            start = end;
        }
        out
    }

    /// Pad features and targets of several utterances into one batch.
    pub fn collate(items: &[(&Features, &[u32])]) -> Self {
        let dim = items.first().map_or(0, |(f, _)| f.dim);
        let max_frames = items.iter().map(|(f, _)| f.num_frames).max().unwrap_or(0);
        let max_target = items.iter().map(|(_, t)| t.len()).max().unwrap_or(0).max(1);
        let n = items.len();
        let mut features = vec![0.0f32; n * max_frames * dim];
        let mut targets = vec![0i64; n * max_target];
        for (i, (f, t)) in items.iter().enumerate() {
            assert_eq!(
                f.dim, dim,
                "feature dim {} differs from {dim} in one batch",
                f.dim
            );
            let start = i * max_frames * dim;
            features[start..start + f.data.len()].copy_from_slice(&f.data);
            for (j, &tok) in t.iter().enumerate() {
                targets[i * max_target + j] = tok as i64;
            }
        }
        Batch {
            features,
            lengths: items.iter().map(|(f, _)| f.num_frames).collect(),
            max_frames,
            dim,
            targets,
            target_lengths: items.iter().map(|(_, t)| t.len()).collect(),
            max_target,
        }
    }
}

/// Short names for files shown side by side (dev sets in the training log and
/// `metrics.jsonl`, reports in `hark compare`): the file stem less `drop_suffix`
/// (`real-dev.jsonl` → `real-dev`; `k2e2.eval.json` with `.eval` → `k2e2`), with the folder in
/// front where two files share that name (`synth-v3/dev`, `synth-k1/dev`), and the whole path
/// where even that is shared, so no file's numbers hide another's. The same file given twice
/// keeps its short name (nothing tells the two apart).
pub fn short_names(paths: &[PathBuf], drop_suffix: &str) -> Vec<String> {
    let stem = |p: &Path| {
        p.file_stem().map_or_else(
            || p.display().to_string(),
            |s| {
                let s = s.to_string_lossy();
                s.strip_suffix(drop_suffix)
                    .filter(|rest| !rest.is_empty())
                    .unwrap_or(&s)
                    .to_string()
            },
        )
    };
    let with_folder = |p: &Path| match p.parent().and_then(Path::file_name) {
        Some(dir) => format!("{}/{}", dir.to_string_lossy(), stem(p)),
        None => stem(p),
    };
    let count = |names: &[String], name: &str| names.iter().filter(|n| *n == name).count();
    let stems: Vec<String> = paths.iter().map(|p| stem(p)).collect();
    let folders: Vec<String> = paths.iter().map(|p| with_folder(p)).collect();
    paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            if count(&stems, &stems[i]) == 1 {
                stems[i].clone()
            } else if count(&folders, &folders[i]) == 1 {
                folders[i].clone()
            } else if paths.iter().filter(|q| *q == p).count() == 1 {
                p.display().to_string()
            } else {
                stems[i].clone()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_resolves_relative_paths() {
        let e = parse_line(
            r#"{"audio":"a/b.wav","text":"hi","speaker":"s1"}"#,
            Path::new("/m"),
        )
        .unwrap()
        .unwrap();
        assert_eq!(e.audio, PathBuf::from("/m/a/b.wav"));
        assert_eq!(e.speaker.as_deref(), Some("s1"));
        assert!(parse_line("  ", Path::new("/m")).unwrap().is_none());
        assert!(parse_line("{not json", Path::new("/m")).is_err());
        assert!(parse_line(r#"{"audio":"","text":"x"}"#, Path::new("/m")).is_err());
        assert!(
            parse_line(
                r#"{"audio":"x.wav","text":"x","duration":-1}"#,
                Path::new("/")
            )
            .is_err()
        );
    }

    #[test]
    fn split_keeps_every_utterance_and_trims_padding() {
        let f = |frames: usize, v: f32| Features {
            data: vec![v; frames * 2],
            num_frames: frames,
            dim: 2,
        };
        let feats = [f(3, 1.0), f(5, 2.0), f(2, 3.0)];
        let targets: [&[u32]; 3] = [&[1, 2], &[3], &[4, 5, 6]];
        let items: Vec<(&Features, &[u32])> = feats.iter().zip(targets).collect();
        let whole = Batch::collate(&items);
        let parts = whole.split(2);
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].lengths, [3, 5]);
        assert_eq!(parts[1].lengths, [2]);
        assert_eq!((parts[1].max_frames, parts[1].max_target), (2, 3));
        assert_eq!(parts[1].features, vec![3.0; 4]);
        assert_eq!(parts[1].targets, [4, 5, 6]);
        // Each part equals collating its own utterances.
        assert_eq!(parts[0].features, Batch::collate(&items[..2]).features);
        assert_eq!(parts[0].targets, Batch::collate(&items[..2]).targets);
        assert_eq!(whole.split(5).len(), 3, "never an empty part");
    }

    #[test]
    fn collate_pads() {
        let a = Features {
            data: vec![1.0; 6],
            num_frames: 3,
            dim: 2,
        };
        let b = Features {
            data: vec![2.0; 2],
            num_frames: 1,
            dim: 2,
        };
        let batch = Batch::collate(&[(&a, &[1, 2][..]), (&b, &[3][..])]);
        assert_eq!(batch.max_frames, 3);
        assert_eq!(batch.features.len(), 12);
        assert_eq!(&batch.features[6..8], &[2.0, 2.0]);
        assert_eq!(&batch.features[8..12], &[0.0; 4]);
        assert_eq!(batch.targets, vec![1, 2, 3, 0]);
    }

    fn path_list(paths: &[&str]) -> Vec<PathBuf> {
        paths.iter().map(PathBuf::from).collect()
    }

    /// Two dev sets named `dev.jsonl` in different corpora both keep a score (the second used
    /// to overwrite the first); a unique stem stays short.
    #[test]
    fn dev_sets_that_share_a_stem_are_named_by_their_folder() {
        let paths = path_list(&[
            "/c/synth-v3/dev.jsonl",
            "/c/synth-k1/dev.jsonl",
            "/c/games/real-dev.jsonl",
            "/a/x/dev.jsonl",
            "/b/x/dev.jsonl",
        ]);
        assert_eq!(
            short_names(&paths, ""),
            [
                "synth-v3/dev",
                "synth-k1/dev",
                "real-dev",
                "/a/x/dev.jsonl",
                "/b/x/dev.jsonl"
            ]
        );
    }

    /// `hark compare` drops `.eval` from `NAME.eval.json`; two reports of the same name from
    /// different runs are told apart by their folder, as dev sets are.
    #[test]
    fn reports_that_share_a_name_are_named_by_their_folder() {
        let paths = path_list(&[
            "/e/s24/k2e2.eval.json",
            "/e/s25/k2e2.eval.json",
            "/e/s25/uni.eval.json",
            "/e/.eval.json",
            "/e/s25/uni.eval.json",
        ]);
        assert_eq!(
            short_names(&paths, ".eval"),
            ["s24/k2e2", "s25/k2e2", "uni", ".eval", "uni"]
        );
    }
}
