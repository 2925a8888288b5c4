//! Writing results: transcripts as plain text, JSON lines, SRT or WebVTT subtitles, and
//! feature matrices as CSV or NumPy `.npy` (format 1.0).
//!
//! Writers take any [`Write`]; their only failure is the writer's own, returned as it came.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use hark::features::Features;
use hark::recognizer::{Transcript, Word, millisecond};

/// How a transcript is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TranscriptFormat {
    /// The text on one line, `path: text` when several files are transcribed.
    Text,
    /// One JSON object per file: path, text, times, completeness and words.
    Json,
    /// SubRip subtitles: numbered cues, `00:00:01,250` times.
    Srt,
    /// WebVTT subtitles: a `WEBVTT` header, `00:00:01.250` times.
    Vtt,
}

/// How a file's transcription went, for the JSON line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    /// Wall-clock seconds spent on the file.
    pub processing_s: f64,
    /// False when the file ended in an error or a signal stopped it: the words are those
    /// before that point.
    pub complete: bool,
}

/// Words per subtitle cue.
pub const CUE_WORDS: usize = 7;

#[derive(Serialize)]
struct JsonLine<'a> {
    path: String,
    text: &'a str,
    #[serde(serialize_with = "millisecond")]
    duration_s: f64,
    #[serde(serialize_with = "millisecond")]
    processing_s: f64,
    complete: bool,
    words: &'a [Word],
}

/// Write one file's transcript. `many` (several files in one run) prefixes plain text with the
/// file's path.
pub fn write_transcript(
    out: &mut impl Write,
    format: TranscriptFormat,
    path: &Path,
    t: &Transcript,
    outcome: Outcome,
    many: bool,
) -> io::Result<()> {
    match format {
        TranscriptFormat::Text if many => writeln!(out, "{}: {}", path.display(), t.text),
        TranscriptFormat::Text => writeln!(out, "{}", t.text),
        TranscriptFormat::Json => {
            let line = JsonLine {
                path: path.display().to_string(),
                text: &t.text,
                duration_s: t.duration_s,
                processing_s: outcome.processing_s,
                complete: outcome.complete,
                words: &t.words,
            };
            writeln!(out, "{}", serde_json::to_string(&line)?)
        }
        TranscriptFormat::Srt => write_cues(out, &t.words, false),
        TranscriptFormat::Vtt => write_cues(out, &t.words, true),
    }
}

/// Subtitle cues of [`CUE_WORDS`] words each, from the first word's start to the last's end.
fn write_cues(out: &mut impl Write, words: &[Word], vtt: bool) -> io::Result<()> {
    if vtt {
        writeln!(out, "WEBVTT\n")?;
    }
    for (i, cue) in words.chunks(CUE_WORDS).enumerate() {
        let (Some(first), Some(last)) = (cue.first(), cue.last()) else {
            continue;
        };
        let text: Vec<&str> = cue.iter().map(|w| w.word.as_str()).collect();
        if !vtt {
            writeln!(out, "{}", i + 1)?;
        }
        writeln!(
            out,
            "{} --> {}\n{}\n",
            timestamp(first.start, vtt),
            timestamp(last.end, vtt),
            text.join(" ")
        )?;
    }
    Ok(())
}

/// A subtitle time, `HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (WebVTT), rounded to the
/// millisecond. Negative or non-finite times are written as zero.
pub fn timestamp(seconds: f64, vtt: bool) -> String {
    let ms = (seconds * 1000.0).round() as u64;
    let sep = if vtt { '.' } else { ',' };
    format!(
        "{:02}:{:02}:{:02}{sep}{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// Features as CSV: one line per frame, values separated by commas.
pub fn features_csv(feats: &Features) -> String {
    let mut text = String::new();
    for t in 0..feats.num_frames {
        let row: Vec<String> = feats.frame(t).iter().map(|v| format!("{v}")).collect();
        text.push_str(&row.join(","));
        text.push('\n');
    }
    text
}

/// Features as a NumPy `.npy` file of shape `[frames, dim]`.
pub fn features_npy(feats: &Features) -> Vec<u8> {
    npy_bytes(&feats.data, feats.num_frames, feats.dim)
}

/// A little-endian `f32` NumPy `.npy` (format 1.0) of shape `[rows, cols]`, C order: the magic
/// string, version 1.0, the header length, then the header dictionary padded with spaces and
/// ended by a newline so that the data starts at a multiple of 64 bytes.
pub fn npy_bytes(data: &[f32], rows: usize, cols: usize) -> Vec<u8> {
    let mut header =
        format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}");
    let unpadded = NPY_PREAMBLE + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(NPY_PREAMBLE + header.len() + 4 * data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    // Two usize numbers keep the header far below the u16 limit of format 1.0.
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Magic string (6 bytes), version (2) and header length (2).
const NPY_PREAMBLE: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    fn word(w: &str, start: f64, end: f64) -> Word {
        Word {
            word: w.to_string(),
            start,
            end,
            confidence: 0.9,
        }
    }

    fn transcript(words: Vec<Word>, duration_s: f64) -> Transcript {
        Transcript {
            text: hark::recognizer::text_of(&words),
            duration_s,
            words,
        }
    }

    fn written(format: TranscriptFormat, t: &Transcript, many: bool) -> String {
        let mut out = Vec::new();
        let outcome = Outcome {
            processing_s: 0.123_456_7,
            complete: true,
        };
        write_transcript(&mut out, format, Path::new("a/b.wav"), t, outcome, many).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn timestamps_round_to_the_millisecond_and_count_hours() {
        assert_eq!(timestamp(0.0, false), "00:00:00,000");
        assert_eq!(timestamp(1.2345, false), "00:00:01,235");
        assert_eq!(timestamp(1.2344, true), "00:00:01.234");
        assert_eq!(timestamp(59.9996, true), "00:01:00.000");
        assert_eq!(timestamp(3_725.5, false), "01:02:05,500");
        assert_eq!(timestamp(36_000.0, true), "10:00:00.000");
        assert_eq!(timestamp(-1.0, false), "00:00:00,000");
        assert_eq!(timestamp(f64::NAN, true), "00:00:00.000");
    }

    #[test]
    fn subtitles_group_seven_words_per_cue() {
        let words: Vec<Word> = (0..9)
            .map(|i| word(&format!("w{i}"), i as f64, i as f64 + 0.5))
            .collect();
        let t = transcript(words, 10.0);
        assert_eq!(
            written(TranscriptFormat::Srt, &t, false),
            "1\n00:00:00,000 --> 00:00:06,500\nw0 w1 w2 w3 w4 w5 w6\n\n\
             2\n00:00:07,000 --> 00:00:08,500\nw7 w8\n\n"
        );
        assert_eq!(
            written(TranscriptFormat::Vtt, &t, false),
            "WEBVTT\n\n\
             00:00:00.000 --> 00:00:06.500\nw0 w1 w2 w3 w4 w5 w6\n\n\
             00:00:07.000 --> 00:00:08.500\nw7 w8\n\n"
        );
    }

    #[test]
    fn an_empty_transcript_writes_an_empty_line_or_no_cues() {
        let t = transcript(Vec::new(), 2.0);
        assert_eq!(written(TranscriptFormat::Text, &t, false), "\n");
        assert_eq!(written(TranscriptFormat::Text, &t, true), "a/b.wav: \n");
        assert_eq!(written(TranscriptFormat::Srt, &t, false), "");
        assert_eq!(written(TranscriptFormat::Vtt, &t, false), "WEBVTT\n\n");
        let json: serde_json::Value =
            serde_json::from_str(&written(TranscriptFormat::Json, &t, false)).unwrap();
        assert_eq!(json["text"], "");
        assert_eq!(json["words"], serde_json::json!([]));
    }

    #[test]
    fn text_names_the_file_only_when_there_are_several() {
        let t = transcript(vec![word("hello", 0.1, 0.4), word("there", 0.5, 0.9)], 1.0);
        assert_eq!(written(TranscriptFormat::Text, &t, false), "hello there\n");
        assert_eq!(
            written(TranscriptFormat::Text, &t, true),
            "a/b.wav: hello there\n"
        );
    }

    #[test]
    fn a_json_line_has_every_field_with_times_to_the_millisecond() {
        let t = transcript(vec![word("hi", 0.100_000_4, 0.399_999_9)], 1.234_49);
        let line = written(TranscriptFormat::Json, &t, true);
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "complete",
                "duration_s",
                "path",
                "processing_s",
                "text",
                "words"
            ]
        );
        assert_eq!(v["path"], "a/b.wav");
        assert_eq!(v["text"], "hi");
        assert_eq!(v["duration_s"], 1.234);
        assert_eq!(v["processing_s"], 0.123);
        assert_eq!(v["complete"], true);
        assert_eq!(v["words"][0]["word"], "hi");
        assert_eq!(v["words"][0]["start"], 0.1);
        assert_eq!(v["words"][0]["end"], 0.4);
        // Field order as written: path first, words last.
        assert!(line.starts_with("{\"path\":\"a/b.wav\",\"text\":\"hi\",\"duration_s\":1.234,"));
    }

    #[test]
    fn npy_has_the_format_1_0_header_and_little_endian_data() {
        for (rows, cols) in [(0, 0), (3, 2), (1234, 39), (1, 1_000_000)] {
            let data: Vec<f32> = (0..rows * cols).map(|i| i as f32 * 0.5).collect();
            let bytes = npy_bytes(&data, rows, cols);
            assert_eq!(&bytes[..6], b"\x93NUMPY");
            assert_eq!(&bytes[6..8], &[1, 0]);
            let len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
            assert_eq!((10 + len) % 64, 0, "data aligned to 64 bytes");
            let header = std::str::from_utf8(&bytes[10..10 + len]).unwrap();
            assert!(header.ends_with('\n'));
            assert_eq!(
                header.trim_end(),
                format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rows}, {cols}), }}")
            );
            let body = &bytes[10 + len..];
            assert_eq!(body.len(), 4 * data.len());
            for (chunk, v) in body.chunks_exact(4).zip(&data) {
                assert_eq!(f32::from_le_bytes(chunk.try_into().unwrap()), *v);
            }
        }
    }

    #[test]
    fn features_csv_has_one_line_per_frame() {
        let feats = Features {
            data: vec![1.0, -0.5, 2.25, 0.0],
            num_frames: 2,
            dim: 2,
        };
        assert_eq!(features_csv(&feats), "1,-0.5\n2.25,0\n");
        assert_eq!(features_npy(&feats), npy_bytes(&feats.data, 2, 2));
    }
}
