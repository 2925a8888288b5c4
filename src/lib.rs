//! hark: a speech recogniser for noisy audio.
//!
//! Audio ([`audio`]) becomes MFCC [`features`], a recurrent CTC [`model`] turns them into
//! per-frame scores, and a [`ctc`] decoder into text. [`recognizer::Recognizer`] is the one
//! inference path; [`train`] makes models, [`eval`] scores them.

pub mod audio;
pub mod augment;
pub mod backend;
pub mod confidence;
pub mod corpus;
pub mod ctc;
pub mod data;
pub mod error;
pub mod eval;
pub mod features;
#[doc(hidden)]
pub mod fuzzing;
pub mod live;
pub mod lm;
pub mod longform;
pub mod model;
pub mod model_dir;
pub mod noise;
pub mod plot;
pub mod recognizer;
#[cfg(test)]
mod test_support;
pub mod text;
pub mod train;

pub use error::{Error, Result};
