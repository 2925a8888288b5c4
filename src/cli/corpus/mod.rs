//! `hark corpus`: build, mix and import speech corpora, one file per subcommand.

mod import;
mod mix;
mod synth;

use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct CorpusArgs {
    #[command(subcommand)]
    command: CorpusCommand,
}

#[derive(Subcommand, Debug)]
enum CorpusCommand {
    /// Synthesise a multi-speaker corpus with espeak-ng, flite, festival (and piper).
    Synth(synth::SynthArgs),
    /// Make a fixed noisy copy of a manifest: every utterance x noise x SNR (active speech).
    Mix(mix::MixArgs),
    /// Make a babble-noise clip from several talkers of a corpus.
    Babble(mix::BabbleArgs),
    /// Import LibriSpeech, Common Voice, a Kaldi data dir or a folder of x.wav + x.txt.
    Import(import::ImportArgs),
}

pub fn corpus(args: CorpusArgs) -> Result<ExitCode> {
    match args.command {
        CorpusCommand::Synth(a) => synth::synth(a),
        CorpusCommand::Mix(a) => mix::mix(a),
        CorpusCommand::Import(a) => import::import(a),
        CorpusCommand::Babble(a) => mix::babble(a),
    }
}
