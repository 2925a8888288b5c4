//! Long recordings: windows cut at quiet points, words kept once, timestamps on the
//! recording's clock; WAV streamed block by block gives the same audio as reading it whole.

use std::path::PathBuf;

use hark::audio::{SAMPLE_RATE, Waveform, wav};
use hark::longform::{ChunkConfig, transcribe_chunked};
use hark::model_dir::ModelSource;
use hark::recognizer::{Recognizer, RecognizerConfig, Transcript};

fn sample(name: &str) -> Waveform {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("audio/samples")
        .join(name);
    wav::read(&p).unwrap()
}

/// The built-in acoustic model without its language model: these tests are about where windows
/// are cut and which words are kept, and an LM would read each window's words with different
/// left context, mixing its effect into the comparison with the whole-file transcript.
fn recognizer() -> Recognizer {
    let device = burn::prelude::Device::flex();
    let mut loaded = ModelSource::BUILT_IN.load(&device).unwrap();
    assert!(
        loaded.lm.is_some(),
        "the built-in model ships a language model"
    );
    // Windowing is judged on the acoustic model and the beam alone, without the LMs.
    loaded.lm = None;
    loaded.guides = Default::default();
    Recognizer::new(loaded, device, &RecognizerConfig::with_beam(4)).unwrap()
}

/// Room tone: deterministic noise at about −50 dBFS, as between utterances in a recording.
fn room_tone(n: usize, seed: &mut u32) -> impl Iterator<Item = f32> + '_ {
    (0..n).map(move |_| {
        *seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        (*seed >> 8) as f32 / (1u32 << 24) as f32 * 0.011 - 0.0055
    })
}

/// Utterances laid end to end with gaps of room tone; returns the audio and each start (s).
fn concatenate(parts: &[(&Waveform, f64)]) -> (Waveform, Vec<f64>) {
    let mut samples = Vec::new();
    let mut starts = Vec::new();
    let mut seed = 7u32;
    for (wave, gap) in parts {
        samples.extend(room_tone((gap * SAMPLE_RATE as f64) as usize, &mut seed));
        starts.push(samples.len() as f64 / SAMPLE_RATE as f64);
        samples.extend_from_slice(wave.samples());
    }
    samples.extend(room_tone(SAMPLE_RATE as usize / 2, &mut seed));
    (Waveform::new(samples, SAMPLE_RATE).unwrap(), starts)
}

/// Every utterance's words appear once, on the recording's clock. The model reads a word a
/// little differently with different context (its features are normalised per window), so
/// spellings are compared loosely and positions strictly:
/// - no word is lost: every expected word overlaps a recognised word in time;
/// - none is repeated: recognised words are in time order and no two overlap by half;
/// - each utterance's first word starts where it should, within `tolerance_s`;
/// - the letters agree with `whole`, the same recording decoded in one piece (CER ≤ 25%; the
///   one-piece decode of one utterance scores 0). The pieces' own transcripts are not the
///   reference for the letters: an utterance decoded alone and the same utterance inside a
///   recording are normalised over different audio, and how much that changes a reading is the
///   acoustic model's property, not the windowing's.
fn assert_shifted(
    long: &Transcript,
    pieces: &[(&Transcript, f64)],
    tolerance_s: f64,
    whole: &Transcript,
) {
    let expected: Vec<(f64, f64)> = pieces
        .iter()
        .flat_map(|(t, at)| t.words.iter().map(move |w| (w.start + at, w.end + at)))
        .collect();
    let overlap = |a: (f64, f64), b: (f64, f64)| (a.1.min(b.1) - a.0.max(b.0)).max(0.0);
    let spans: Vec<(f64, f64)> = long.words.iter().map(|w| (w.start, w.end)).collect();
    for e in &expected {
        assert!(
            spans.iter().any(|&s| overlap(s, *e) > 0.0),
            "nothing recognised at {e:?}: {:?}",
            long.words
        );
    }
    for pair in spans.windows(2) {
        let shorter = (pair[0].1 - pair[0].0).min(pair[1].1 - pair[1].0);
        assert!(pair[0].0 <= pair[1].0, "out of order: {pair:?}");
        assert!(
            overlap(pair[0], pair[1]) <= shorter / 2.0,
            "repeated: {pair:?} in {:?}",
            long.words
                .iter()
                .map(|w| (&w.word, w.start))
                .collect::<Vec<_>>()
        );
    }
    for (t, at) in pieces {
        let want = t.words[0].start + at;
        let first = spans
            .iter()
            .find(|s| s.1 > *at)
            .unwrap_or_else(|| panic!("no word after {at}"));
        assert!(
            (first.0 - want).abs() <= tolerance_s,
            "utterance at {at:.2} s: first word at {:.2} s, expected {want:.2} s",
            first.0
        );
    }
    let cer = hark::eval::char_errors(&whole.text, &long.text).rate();
    assert!(
        cer <= 25.0,
        "CER {cer:.1}%: '{}' against '{}'",
        long.text,
        whole.text
    );
}

#[test]
fn words_and_times_survive_windowing() {
    let rec = recognizer();
    let fox = sample("clean_flite_rms_fox.wav");
    let lights = sample("clean_festival_ked_lights.wav");
    let fox_t = rec.transcribe(&fox);
    let lights_t = rec.transcribe(&lights);
    assert!(fox_t.words.len() >= 3 && lights_t.words.len() >= 3);
    // Decoding the same speech in one piece: the check passes with at most one model step (30
    // ms) to forgive. Not zero: `concatenate` adds 0.5 s of room tone after it, which moves the
    // per-utterance normalisation a little, and with it where CTC emits a word's first letter
    // (the 2x256 model moves the fox's first word from 0.12 to 0.15 s).
    let (joined, at) = concatenate(&[(&fox, 0.0)]);
    let whole = rec.transcribe(&joined);
    assert_shifted(
        &whole,
        &[(&fox_t, at[0])],
        rec.frame_seconds() + 1e-9,
        &fox_t,
    );
    let parts = [
        (&fox, 0.7),
        (&lights, 2.1),
        (&fox, 1.3),
        (&lights, 0.9),
        (&fox, 2.6),
    ];
    let (long, starts) = concatenate(&parts);
    assert!(long.duration_s() > 20.0, "{}", long.duration_s());
    // Windows of 6 s: several cuts, each in one of the gaps.
    let cfg = ChunkConfig {
        window_s: 6.0,
        context_s: 1.0,
        search_s: 2.5,
    };
    let t = transcribe_chunked(&rec, &long, cfg).unwrap();
    let pieces: Vec<(&Transcript, f64)> = [&fox_t, &lights_t, &fox_t, &lights_t, &fox_t]
        .into_iter()
        .zip(starts)
        .collect();
    assert_shifted(&t, &pieces, 0.1, &rec.transcribe(&long));
    assert!((t.duration_s - long.duration_s()).abs() < 1e-9);
    // A recording shorter than one window is recognised in one piece, exactly as before.
    let one = transcribe_chunked(&rec, &fox, ChunkConfig::default()).unwrap();
    assert_eq!(one, fox_t);
}

#[test]
fn cuts_inside_words_neither_lose_nor_repeat_them() {
    let rec = recognizer();
    let fox = sample("clean_flite_rms_fox.wav");
    let fox_t = rec.transcribe(&fox);
    // No quiet-point search and no gaps: windows end wherever the clock says, inside words.
    let parts = [(&fox, 0.0), (&fox, 0.0), (&fox, 0.0), (&fox, 0.0)];
    let (long, starts) = concatenate(&parts);
    let cfg = ChunkConfig {
        window_s: fox.duration_s() * 0.8,
        context_s: 1.5,
        search_s: 0.0,
    };
    let t = transcribe_chunked(&rec, &long, cfg).unwrap();
    let pieces: Vec<(&Transcript, f64)> = starts.iter().map(|&s| (&fox_t, s)).collect();
    assert_shifted(&t, &pieces, 0.15, &rec.transcribe(&long));
}

#[test]
fn streamed_wav_blocks_equal_the_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    // 44.1 kHz stereo: the resampler and the downmix both run block by block.
    let path = dir.path().join("long.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(&path, spec).unwrap();
    for i in 0..44_100 * 7 + 17 {
        let v = ((i as f32 * 0.031).sin() * 9000.0) as i16;
        w.write_sample(v).unwrap();
        w.write_sample(v / 2).unwrap();
    }
    w.finalize().unwrap();
    let whole = wav::read(&path).unwrap();
    let mut stream = wav::WavStream::open(&path).unwrap();
    assert!((stream.duration_s() - 7.0).abs() < 0.01);
    let mut streamed = Vec::new();
    while let Some(block) = stream.next_block(5000).unwrap() {
        streamed.extend(block);
    }
    assert_eq!(streamed.len(), whole.len());
    assert_eq!(streamed, whole.samples());
}
