//! hark's integration tests, one crate: each module is one area, and `common` holds the
//! helpers they share. Tests that need something from the system (TTS engines, the game
//! packages, an ALSA device) say so and announce it when they skip; tests that need LibTorch
//! are in `tch_backend`, built with `--features tch`.

mod common;

mod cli;
mod corpus;
mod data_parallel;
mod eval_report;
mod fuzz_regressions;
mod golden;
mod hardening;
mod listen;
mod longform;
mod robust_training;
mod streaming;
#[cfg(feature = "tch")]
mod tch_backend;
mod training;
mod wav_formats;
