//! `cargo bench --bench listen -- stream`: utterances laid end to end in ONE stream, as a
//! microphone hears them, with gaps of 0.5–2 s (seeded) and the bench noise over the whole
//! stream, fed at real-time pace to one [`LiveRecognizer`].
//!
//! Each final is given to the utterance its time span overlaps most; a final that overlaps
//! none is spurious (read into the noise between utterances). Reported:
//! - utterances with exactly one final, with none, and split over several;
//! - end of speech → the utterance's last final (wall time; the stream time of the speech end
//!   is when it was delivered);
//! - WER of the finals (spurious finals' words count as insertions) against offline
//!   `transcribe` of each utterance's stretch of the same noisy stream (from the middle of the
//!   gap before it to the middle of the gap after);
//! - partial revisions: of the words a partial had finished (every word but its last), how many
//!   the final of that segment shows differently;
//! - CPU while listening.
//!
//! `HARK_BENCH_VERBOSE=1` also lists each utterance not given exactly one final, with its finals'
//! spans, the rule that ended each and their text.
//!
//! `HARK_BENCH_SAVE_STREAM=DIR` writes the stream as a 16-bit WAV (`DIR/stream.wav`), feeds what
//! the file holds, and writes the bench's finals (`DIR/finals.jsonl`), to compare with
//! `hark listen --input DIR/stream.wav --format json` on the same audio.

use hark::audio::SAMPLE_RATE;
use hark::audio::wav;
use hark::live::{EndRule, Event, LiveRecognizer};
use hark::recognizer::Recognizer;

use super::capture;
use super::words_of as words;
use super::{bench_noise, latency_summary, quiet, speech_span, utterance_files};

const TAIL_S: f64 = 2.0;

/// One utterance inside the stream, in samples.
struct Placed {
    text: Option<String>,
    /// Where its clip starts and ends in the stream.
    clip: (usize, usize),
    /// Where its speech (frames within 40 dB of its loudest) starts and ends.
    speech: (usize, usize),
}

/// The stream and where each utterance sits in it.
fn build() -> (Vec<f32>, Vec<Placed>) {
    let mut seed = 11u64;
    let mut gap_seed = 29u64;
    let mut stream = Vec::new();
    let mut placed = Vec::new();
    for (path, text) in utterance_files() {
        let clip = wav::read(&path).expect("utterance").into_samples();
        let (speech_start, speech_end) = speech_span(&clip);
        gap_seed = gap_seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let gap_s = 0.5 + 1.5 * (gap_seed >> 40) as f64 / (1u64 << 24) as f64;
        stream.extend(quiet((gap_s * SAMPLE_RATE as f64) as usize, &mut seed));
        let at = stream.len();
        placed.push(Placed {
            text,
            clip: (at, at + clip.len()),
            speech: (at + speech_start, at + speech_end),
        });
        stream.extend(clip);
    }
    stream.extend(quiet((TAIL_S * SAMPLE_RATE as f64) as usize, &mut seed));
    if let Some((noise, snr)) = bench_noise() {
        stream = noise.mix_active(&stream, snr, &mut hark::augment::rng(5));
    }
    (stream, placed)
}

/// Write the bench's finals into `dir/finals.jsonl` (beside the `stream.wav` it was fed), to
/// compare with `hark listen --input dir/stream.wav --format json`.
fn save_finals(dir: &std::path::Path, events: &[(f64, Event)]) {
    let finals: String = events
        .iter()
        .filter(|(_, e)| matches!(e, Event::Final { .. }))
        .map(|(_, e)| serde_json::to_string(e).expect("event JSON") + "\n")
        .collect();
    std::fs::write(dir.join("finals.jsonl"), finals).expect("finals.jsonl");
}

pub fn run(rec: &Recognizer) {
    let (mut stream, placed) = build();
    assert!(!placed.is_empty(), "no utterances");
    let save_dir = std::env::var("HARK_BENCH_SAVE_STREAM").ok();
    if let Some(dir) = &save_dir {
        // Fed as `hark listen --input` will read it: through the 16-bit file.
        let dir = std::path::Path::new(dir);
        std::fs::create_dir_all(dir).expect("stream folder");
        let wave = hark::audio::Waveform::new(stream, SAMPLE_RATE).expect("finite stream");
        wav::write(&dir.join("stream.wav"), &wave).expect("stream.wav");
        stream = wav::read(&dir.join("stream.wav"))
            .expect("stream.wav")
            .into_samples();
    }
    let cfg = super::bench_endpoint();
    let feed = capture::Feed::from_env();
    let super::Fed {
        events,
        end_rules,
        cpu,
        wall,
    } = match feed {
        None => super::feed_realtime(&mut LiveRecognizer::new(rec, cfg.clone()), &stream, true),
        Some(feed) => {
            let scratch = tempfile::tempdir().expect("scratch folder");
            capture::run(&stream, feed, scratch.path())
        }
    };
    let secs = |n: usize| n as f64 / SAMPLE_RATE as f64;
    if let Some(dir) = &save_dir {
        save_finals(std::path::Path::new(dir), &events);
    }

    // Finals to utterances, and the revision count per segment.
    let mut assigned: Vec<Vec<(f64, String)>> = vec![Vec::new(); placed.len()];
    // With HARK_BENCH_VERBOSE: each utterance's finals as (span, rule that ended it, text).
    let mut detail: Vec<Vec<String>> = vec![Vec::new(); placed.len()];
    let mut final_index = 0;
    let (mut spurious, mut spurious_words) = (0, 0);
    let (mut revised, mut finished_words) = (0, 0);
    let mut segment_start = 0;
    for (fi, (t, e)) in events.iter().enumerate() {
        let Event::Final {
            text, start, end, ..
        } = e
        else {
            continue;
        };
        let final_words = words(e);
        let rule = end_rules.get(final_index).copied();
        final_index += 1;
        for (_, p) in &events[segment_start..fi] {
            let partial = words(p);
            for (k, w) in partial
                .iter()
                .enumerate()
                .take(partial.len().saturating_sub(1))
            {
                finished_words += 1;
                if final_words.get(k) != Some(w) {
                    revised += 1;
                }
            }
        }
        segment_start = fi + 1;
        if final_words.is_empty() {
            continue;
        }
        let overlap = |p: &Placed| (end.min(secs(p.clip.1)) - start.max(secs(p.clip.0))).max(0.0);
        let best =
            (0..placed.len()).max_by(|&a, &b| overlap(&placed[a]).total_cmp(&overlap(&placed[b])));
        match best.filter(|&u| overlap(&placed[u]) > 0.0) {
            Some(u) => {
                assigned[u].push((*t, text.clone()));
                detail[u].push(format!("{start:.2}-{end:.2} {rule:?}: {text}"));
            }
            None => {
                spurious += 1;
                spurious_words += final_words.len();
            }
        }
    }

    if std::env::var_os("HARK_BENCH_VERBOSE").is_some() {
        for (u, p) in placed
            .iter()
            .enumerate()
            .filter(|(u, _)| detail[*u].len() != 1)
        {
            println!(
                "    utterance {u} (speech {:.2}-{:.2}): {} finals",
                secs(p.speech.0),
                secs(p.speech.1),
                detail[u].len()
            );
            for line in &detail[u] {
                println!("      {line}");
            }
        }
    }
    let (mut one, mut none, mut split) = (0, 0, 0);
    let mut latency = Vec::new();
    let (mut live_errors, mut offline_errors, mut reference_words) = (0, 0, 0);
    for (u, p) in placed.iter().enumerate() {
        match assigned[u].len() {
            0 => none += 1,
            1 => one += 1,
            _ => split += 1,
        }
        if let Some((t, _)) = assigned[u].last() {
            latency.push(t - secs(p.speech.1));
        }
        let Some(reference) = &p.text else { continue };
        let heard: Vec<&str> = assigned[u].iter().map(|(_, t)| t.as_str()).collect();
        let e = hark::eval::word_errors(reference, &heard.join(" "));
        live_errors += e.errors();
        reference_words += e.reference;
        let from = if u == 0 {
            0
        } else {
            (placed[u - 1].clip.1 + p.clip.0) / 2
        };
        let to = match placed.get(u + 1) {
            Some(next) => (p.clip.1 + next.clip.0) / 2,
            None => stream.len(),
        };
        let wave =
            hark::audio::Waveform::new(stream[from..to].to_vec(), SAMPLE_RATE).expect("finite");
        offline_errors += hark::eval::word_errors(reference, &rec.transcribe(&wave).text).errors();
    }

    println!(
        "listen stream ({} utterances in one {:.1} s stream, gaps 0.5-2 s, {}, noise {}, trailing silence {} s, speech share {}, speech head {})",
        placed.len(),
        secs(stream.len()),
        match feed {
            None if super::fast_pace() =>
                "fast pace (events timed by the audio delivered), in process",
            None => "real-time pace, in process",
            Some(capture::Feed::Cli) => "real-time pace through `hark listen --input --realtime`",
            Some(capture::Feed::Alsa) =>
                "real-time pace through `hark listen` capturing from an ALSA file device",
        },
        std::env::var("HARK_BENCH_NOISE")
            .map(|n| format!(
                "{n} at {} dB",
                std::env::var("HARK_BENCH_SNR").unwrap_or("10".into())
            ))
            .unwrap_or("none".into()),
        cfg.max_trailing_silence_s,
        cfg.max_trailing_speech_fraction,
        match rec.speech_head() {
            Some(head) => format!(
                "on, speech end {} s{}",
                cfg.head_end_s(head),
                cfg.sentence_end_s
                    .map(|s| format!(
                        ", sentence end {s} s at p(</s>) >= {}",
                        cfg.sentence_end_prob
                    ))
                    .unwrap_or_default()
            ),
            None => "off".into(),
        }
    );
    println!(
        "  finals: exactly one for {one} utterances, none for {none}, several for {split}; {spurious} spurious finals ({spurious_words} words) between utterances"
    );
    let count = |rule: EndRule| end_rules.iter().filter(|&&r| r == rule).count();
    if feed.is_some() {
        println!("  finals ended by: not reported by `hark listen`");
    } else {
        println!(
            "  finals ended by: speech head {}, sentence end {}, energy {}, model silence {}, length {}, end of stream {}",
            count(EndRule::Head),
            count(EndRule::Sentence),
            count(EndRule::Energy),
            count(EndRule::ModelSilence),
            count(EndRule::Length),
            count(EndRule::Flush)
        );
    }
    println!(
        "  end of speech -> last final: {}  ({} utterances)",
        latency_summary(&mut latency),
        latency.len()
    );
    if reference_words > 0 {
        println!(
            "  WER of the finals {:.1}% (spurious words as insertions) vs offline `transcribe` of each utterance's stretch {:.1}%",
            100.0 * (live_errors + spurious_words) as f64 / reference_words as f64,
            100.0 * offline_errors as f64 / reference_words as f64
        );
    }
    println!(
        "  partials: {revised} of {finished_words} finished words ({:.1}%) differ in the final",
        100.0 * revised as f64 / finished_words.max(1) as f64
    );
    println!(
        "  CPU while listening: {:.1}% of one core ({cpu:.2} s CPU over {wall:.1} s)",
        100.0 * cpu / wall
    );
}
