//! Training learns: a tiny model overfits two real TTS utterances to their exact transcripts,
//! and the saved model directory loads back and recognises them through the CLI's path.

use crate::common::fixtures;
use hark::backend::DeviceSpec;
use hark::model::CellKind;
use hark::model_dir::ModelSource;
use hark::recognizer::{Recognizer, RecognizerConfig};
use hark::train::{TrainOptions, TrainingConfig, run};

#[test]
fn each_epoch_can_be_kept_as_a_model_directory() {
    let out = tempfile::tempdir().unwrap();
    let mut cfg = TrainingConfig::english()
        .with_batch_size(2)
        .with_epochs(3)
        .without_augmentation();
    cfg.model.hidden = 16;
    cfg.model.layers = 1;
    let opts = TrainOptions {
        keep_epochs: true,
        ..TrainOptions::new(fixtures().join("overfit.jsonl"), out.path())
    };
    run(&cfg, &opts, |_| {}).unwrap();
    let device = DeviceSpec::Cpu.device().unwrap();
    let checksums: Vec<String> = (1..=3)
        .map(|k| {
            let dir = out.path().join(format!("epoch-{k}"));
            let loaded = ModelSource::Dir(dir).load(&device).unwrap();
            loaded.config.weights.sha256
        })
        .collect();
    // One step per epoch: each epoch's weights are its own.
    assert!(checksums[0] != checksums[1] && checksums[1] != checksums[2]);
    assert!(!out.path().join("epoch-4").exists());
}

#[test]
fn tiny_model_overfits_two_utterances() {
    let out = tempfile::tempdir().unwrap();
    let mut cfg = TrainingConfig::english()
        .with_batch_size(2)
        .with_epochs(400)
        .with_max_steps(250)
        .with_learning_rate(1e-2)
        .with_warmup_steps(10)
        .with_weight_decay(0.0)
        .without_augmentation();
    cfg.model.hidden = 64;
    cfg.model.layers = 1;
    cfg.model.cell = CellKind::Gru;
    cfg.model.dropout = 0.0;
    let opts = TrainOptions::new(fixtures().join("overfit.jsonl"), out.path());
    let report = run(&cfg, &opts, |_| {}).unwrap();
    assert_eq!(report.train_utterances, 2);
    assert!(report.final_loss < 0.1, "loss {}", report.final_loss);

    let device = DeviceSpec::Cpu.device().unwrap();
    let loaded = ModelSource::Dir(out.path().to_path_buf())
        .load(&device)
        .unwrap();
    let rec = Recognizer::new(loaded, device, &RecognizerConfig::with_beam(4)).unwrap();
    for (file, text) in [
        ("overfit-1.wav", "open the door"),
        ("overfit-2.wav", "seven green apples"),
    ] {
        let wave = hark::audio::wav::read(&fixtures().join(file)).unwrap();
        let t = rec.transcribe(&wave);
        assert_eq!(t.text, text);
        assert_eq!(t.words.len(), text.split(' ').count());
        for w in &t.words {
            assert!(w.start < w.end && w.end <= t.duration_s + 1e-9, "{w:?}");
            assert!((0.0..=1.0).contains(&w.confidence));
        }
    }

    // Fine-tuning starts from the trained weights: its first step's loss is the trained
    // model's, not a random one's (about 3 per target symbol at random).
    let start = |init_from: Option<ModelSource>| {
        let again = tempfile::tempdir().unwrap();
        let mut one_step = cfg.clone().with_max_steps(1).with_learning_rate(1e-9);
        one_step.warmup_steps = 0;
        let opts = TrainOptions {
            out_dir: again.path().to_path_buf(),
            init_from,
            ..opts.clone()
        };
        run(&one_step, &opts, |_| {}).map(|r| r.final_loss)
    };
    let tuned = start(Some(ModelSource::Dir(out.path().to_path_buf()))).unwrap();
    let random = start(None).unwrap();
    assert!(
        tuned < 0.2 && random > 1.0,
        "fine-tuned {tuned}, random {random}"
    );

    // A wider model starts from them too: the weights are transplanted with the new units'
    // outgoing weights at zero, so its first loss is the trained model's.
    let reshaped = |hidden: usize, layers: usize, steps: usize| {
        let mut wider = cfg.clone().with_max_steps(steps).with_learning_rate(1e-9);
        wider.warmup_steps = 0;
        wider.model.hidden = hidden;
        wider.model.layers = layers;
        let elsewhere = tempfile::tempdir().unwrap();
        run(
            &wider,
            &TrainOptions {
                out_dir: elsewhere.path().to_path_buf(),
                init_from: Some(ModelSource::Dir(out.path().to_path_buf())),
                ..opts.clone()
            },
            |_| {},
        )
        .map(|r| r.final_loss)
    };
    let widened = |hidden: usize| reshaped(hidden, 1, 1);
    let wide = widened(96).unwrap();
    assert!(
        (wide - tuned).abs() < 1e-3,
        "widened to 96 units: first loss {wide}, the trained 64-unit model's {tuned}"
    );
    // A narrower one cannot: its weights have no place for every trained unit.
    let refused = widened(32);
    assert!(
        refused.is_err_and(|e| e.to_string().contains("only widening")),
        "a 32-unit run started from a 64-unit model"
    );
    // A deeper one starts near them (its new top layer passes its input up, see
    // hark::model::transplant), far below a random start, and keeps training: three steps,
    // each with its own backward pass through the transplanted weights.
    let deep = reshaped(64, 2, 3).unwrap();
    assert!(
        deep < 0.5 * random,
        "deepened to 2 layers: loss {deep}, the trained model's {tuned}, random {random}"
    );
}
