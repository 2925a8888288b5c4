//! A unidirectional model run as a stream (features chunk by chunk, recurrent state carried
//! across chunks) gives the same scores as the model run on the whole utterance.

use burn::tensor::Device;

use crate::common::sample;
use hark::audio::wav;
use hark::features::{GlobalCmvn, Mfcc, MfccConfig, StreamingFeatures};
use hark::model::{AcousticModelConfig, CellKind};
use hark::recognizer::{Recognizer, RecognizerConfig};
use hark::text::Vocab;

fn speech() -> Vec<f32> {
    wav::read(&sample("clean_festival_ked_lights.wav"))
        .unwrap()
        .into_samples()
}

fn streaming_recognizer(cell: CellKind) -> Recognizer {
    let raw = MfccConfig {
        cmvn: false,
        ..Default::default()
    };
    let stats = GlobalCmvn::measure(&[Mfcc::new(raw.clone()).unwrap().compute_samples(&speech())]);
    let features = MfccConfig {
        global_cmvn: stats,
        ..raw
    };
    random_recognizer(features, false, cell)
}

/// The built-in streaming model (with its speech head and LMs) behind a beam of `beam`.
fn built_in_streaming(beam: usize) -> Recognizer {
    use hark::model_dir::{BuiltIn, ModelSource};
    let device = Device::default();
    let loaded = ModelSource::Embedded(BuiltIn::Streaming)
        .load(&device)
        .unwrap();
    Recognizer::new(loaded, device, &RecognizerConfig::with_beam(beam)).unwrap()
}

/// A randomly initialised small model behind a greedy recogniser.
fn random_recognizer(features: MfccConfig, bidirectional: bool, cell: CellKind) -> Recognizer {
    let vocab = Vocab::english();
    let device = Device::default();
    let model = AcousticModelConfig::new(features.dim(), vocab.size())
        .with_bidirectional(bidirectional)
        .with_cell(cell)
        .with_hidden(32)
        .init(&device);
    Recognizer::from_model(
        model,
        features,
        vocab,
        device,
        &RecognizerConfig::with_beam(1),
    )
    .unwrap()
}

#[test]
fn chunked_state_carrying_equals_whole_utterance() {
    for cell in [CellKind::Gru, CellKind::Lstm] {
        let rec = streaming_recognizer(cell);
        assert!(rec.can_stream());
        let samples = speech();
        let whole_feats = rec.mfcc().compute_samples(&samples);
        let (whole, frames) = rec.log_probs(&[&whole_feats]).pop().unwrap();

        // Stream: 50 ms audio blocks, features as they become final, the model on every whole
        // model step, the last step zero-padded as the offline forward pads it.
        let mut stream = StreamingFeatures::new(rec.mfcc()).unwrap();
        let dim = whole_feats.dim;
        let stack = rec.stack();
        let mut pending: Vec<f32> = Vec::new();
        let mut state = None;
        let mut streamed = Vec::new();
        let mut run = |pending: &mut Vec<f32>, state: &mut Option<_>, all: bool| {
            let mut n = pending.len() / dim;
            if all && !n.is_multiple_of(stack) {
                pending.extend(std::iter::repeat_n(0.0, (stack - n % stack) * dim));
                n = pending.len() / dim;
            }
            let take = n / stack * stack;
            if take == 0 {
                return;
            }
            let f = hark::features::Features {
                data: pending.drain(..take * dim).collect(),
                num_frames: take,
                dim,
            };
            let (lp, s) = rec.stream_log_probs(&f, state.take());
            *state = Some(s);
            streamed.extend(lp);
        };
        for block in samples.chunks(800) {
            pending.extend(stream.push(block).data);
            run(&mut pending, &mut state, false);
        }
        pending.extend(stream.finish().data);
        run(&mut pending, &mut state, true);

        assert_eq!(
            streamed.len(),
            whole.len(),
            "{cell:?}: {frames} frames offline"
        );
        let max = crate::common::max_abs_diff(&streamed, &whole);
        assert!(max < 1e-4, "{cell:?}: max difference {max}");
    }
}

#[test]
fn live_recognizer_streams_a_unidirectional_model() {
    let rec = streaming_recognizer(CellKind::Gru);
    let live = hark::live::LiveRecognizer::new(&rec, Default::default());
    assert!(live.is_streaming());
    let bidirectional = random_recognizer(MfccConfig::default(), true, CellKind::Gru);
    assert!(!hark::live::LiveRecognizer::new(&bidirectional, Default::default()).is_streaming());
}

/// The built-in streaming model's speech head hears the speech of a real sample laid between
/// gaps, with crowd noise at 10 dB over all of it, and not the crowd after it; and `listen`'s
/// recogniser ends the utterance on it before the stream ends, not at the flush.
#[test]
fn the_built_in_speech_head_ends_an_utterance_in_crowd_noise() {
    use hark::live::speech_head::{frames_of, training_stream};
    use hark::live::{EndpointConfig, Event, LiveRecognizer};

    let rec = built_in_streaming(4);
    let head = rec
        .speech_head()
        .expect("the streaming model ships a speech head");
    let bank = hark::noise::NoiseBank::open(&crate::common::root().join("audio/noise")).unwrap();
    let crowd = bank.load("crowd").unwrap();
    let mut rng = hark::augment::rng(5);
    let stream = training_stream(&speech(), 8000, 40000, Some((&crowd, 10.0)), &mut rng).unwrap();

    let (inputs, labels) = frames_of(&rec, &stream);
    let probs = head.probs(&inputs);
    let mean = |pick: &dyn Fn(usize) -> bool| {
        let v: Vec<f32> = (0..probs.len())
            .filter(|&t| pick(t))
            .map(|t| probs[t])
            .collect();
        v.iter().sum::<f32>() / v.len() as f32
    };
    let speech_end = labels.iter().rposition(|&l| l).unwrap();
    let during = mean(&|t| labels[t]);
    // From 0.3 s after the speech to the end: 2.2 s of crowd alone.
    let after = mean(&|t| t > speech_end + 10);
    assert!(during > 0.7, "P(speech) during speech {during}");
    assert!(after < 0.3, "P(speech) in the crowd after it {after}");

    // Live, in 50 ms blocks: the final comes while the crowd goes on.
    let end_s = stream.speech.end as f64 / 16000.0;
    // Finals with the time they came, and partials that came after the first final.
    let run_with = |cfg: EndpointConfig| {
        let mut live = LiveRecognizer::new(&rec, cfg);
        let (mut finals, mut late_partials) = (Vec::new(), Vec::new());
        for (i, block) in stream.samples.chunks(800).enumerate() {
            for e in live.push(block) {
                match e {
                    Event::Final { text, .. } => finals.push(((i + 1) as f64 * 0.05, text)),
                    Event::Partial { text, .. } if !finals.is_empty() => late_partials.push(text),
                    Event::Partial { .. } => {}
                }
            }
        }
        let rest = live.finish();
        assert!(
            rest.is_empty(),
            "nothing left for the flush: {rest:?} after {finals:?}"
        );
        (finals, late_partials)
    };
    let (finals, late_partials) = run_with(EndpointConfig::default());
    // In the crowd after the final the head hears no speech, so partials hold back whatever
    // the model reads there.
    assert!(
        late_partials.is_empty(),
        "{late_partials:?} after {finals:?}"
    );
    assert_eq!(finals.len(), 1, "{finals:?}");
    let (at, text) = &finals[0];
    assert!(!text.is_empty());
    // Within the head's end time plus 0.5 s (its moving average's lag and the 50 ms decode
    // steps), long before the stream's end.
    let bound = end_s + head.end_seconds() + 0.5;
    assert!(
        *at < bound,
        "final at {at} s, speech ended at {end_s} s, bound {bound} s"
    );
    // The head's own end time decides by default; `--speech-end` (here 0.1 s) overrides it.
    assert!(head.end_seconds() > 0.1);
    let (quick, _) = run_with(EndpointConfig {
        head_silence_s: Some(0.1),
        ..EndpointConfig::default()
    });
    assert!(
        quick.first().is_some_and(|(t, _)| t < at),
        "with a 0.1 s speech end {quick:?}, with the head's {} s {finals:?}",
        head.end_seconds()
    );
}

/// A live partial's finished words (all but its last) are the final's: `listen` shows the words
/// the beam has settled and the one being spoken, never a word a later frame can replace. Two
/// real samples (TTS voices) with a second of silence between them, in crowd noise at 10 dB.
#[test]
fn partials_never_revise_a_finished_word() {
    use hark::live::{Event, LiveRecognizer};

    let rec = built_in_streaming(16);
    let mut samples = speech();
    samples.extend(std::iter::repeat_n(0.0, 16_000));
    samples.extend(
        wav::read(&sample("noisy_flite_rms_fox_crowd_snr10.wav"))
            .unwrap()
            .into_samples(),
    );
    samples.extend(std::iter::repeat_n(0.0, 16_000));
    let mut live = LiveRecognizer::new(&rec, Default::default());
    let (mut partials, mut finals, mut checked) = (Vec::new(), 0, 0);
    let mut check = |partials: &mut Vec<String>, text: &str| {
        let final_words: Vec<&str> = text.split_whitespace().collect();
        for p in partials.drain(..) {
            let words: Vec<&str> = p.split_whitespace().collect();
            for (k, w) in words.iter().enumerate().take(words.len().saturating_sub(1)) {
                assert_eq!(
                    final_words.get(k),
                    Some(w),
                    "partial {p:?} revised by final {text:?}"
                );
                checked += 1;
            }
        }
    };
    let blocks: Vec<&[f32]> = samples.chunks(800).collect();
    for block in blocks {
        for e in live.push(block) {
            match e {
                Event::Partial { text, .. } => partials.push(text),
                Event::Final { text, .. } => {
                    finals += 1;
                    check(&mut partials, &text);
                }
            }
        }
    }
    for e in live.finish() {
        if let Event::Final { text, .. } = e {
            finals += 1;
            check(&mut partials, &text);
        }
    }
    assert!(finals >= 2, "{finals} finals");
    assert!(
        checked >= 5,
        "only {checked} finished partial words to check"
    );
}
