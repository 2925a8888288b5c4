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
        &RecognizerConfig { beam: 1 },
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
        let max = streamed
            .iter()
            .zip(&whole)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
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
