//! Speech corpora: synthesise one with offline TTS engines ([`synth`]), make fixed noisy
//! copies for evaluation ([`mix`]), and import the layouts users already have ([`import`]).
//!
//! Every command writes JSONL manifests in the format of [`crate::data::Manifest`].

pub mod games;
pub mod import;
pub mod kokoro;
pub mod mix;
pub(crate) mod prompts;
pub mod synth;
pub mod voices;

use serde::{Deserialize, Serialize};

/// The three parts of a corpus. Speakers (voices) never cross splits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Dev,
    Test,
}

impl Split {
    pub const ALL: [Split; 3] = [Split::Train, Split::Dev, Split::Test];

    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Dev => "dev",
            Split::Test => "test",
        }
    }
}
