//! Compressed audio (FLAC, MP3, Ogg Vorbis) through symphonia; WAV goes through [`super::wav`].

use std::fs::File;
use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::DecoderOptions;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::{Waveform, wav};
use crate::error::{AudioError, Error, Result};

/// Read any supported audio file as 16 kHz mono: WAV by its header, others by symphonia.
pub fn read_any(path: &Path) -> Result<Waveform> {
    if is_wav(path) {
        return wav::read(path);
    }
    let native = decode(path)?;
    wav::to_16k(native, path)
}

/// Audio from any supported file, a block at a time: WAV is streamed from disk; compressed
/// formats are decoded whole first (their files are small for their length).
pub enum AudioBlocks {
    Wav(Box<wav::WavStream>),
    Whole(Option<Waveform>),
}

impl AudioBlocks {
    /// Open `path` (checking its header) without reading the audio.
    pub fn open(path: &Path) -> Result<Self> {
        if is_wav(path) {
            Ok(Self::Wav(Box::new(wav::WavStream::open(path)?)))
        } else {
            Ok(Self::Whole(Some(read_any(path)?)))
        }
    }

    /// The next block of 16 kHz samples (about `frames` long for WAV), `None` at the end.
    pub fn next_block(&mut self, frames: usize) -> Result<Option<Vec<f32>>> {
        match self {
            Self::Wav(w) => w.next_block(frames),
            Self::Whole(w) => Ok(w.take().map(Waveform::into_samples)),
        }
    }
}

fn is_wav(path: &Path) -> bool {
    path.extension()
        .is_none_or(|e| e.eq_ignore_ascii_case("wav") || e.eq_ignore_ascii_case("wave"))
}

fn bad(path: &Path, what: String) -> Error {
    Error::audio(path, AudioError::InvalidHeader(what))
}

/// Decode a compressed file at its own rate, downmixed to mono.
fn decode(path: &Path) -> Result<Waveform> {
    if path.is_dir() {
        return Err(Error::audio(path, AudioError::IsDirectory));
    }
    let file = File::open(path).map_err(|e| {
        Error::audio(
            path,
            match e.kind() {
                std::io::ErrorKind::NotFound => AudioError::NotFound,
                std::io::ErrorKind::PermissionDenied => AudioError::PermissionDenied,
                _ => AudioError::Io(e),
            },
        )
    })?;
    decode_source(Box::new(file), path)
}

/// Decode compressed audio held in memory (an MP3 clip inside a game archive, say) at its own
/// rate, downmixed to mono. `name` is what errors name, and its extension is the format hint.
pub fn decode_bytes(bytes: Vec<u8>, name: &Path) -> Result<Waveform> {
    decode_source(Box::new(std::io::Cursor::new(bytes)), name)
}

fn decode_source(
    source: Box<dyn symphonia::core::io::MediaSource>,
    path: &Path,
) -> Result<Waveform> {
    let stream = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            stream,
            &FormatOptions::default(),
            &MetadataOptions::default(),
        )
        .map_err(|e| Error::audio(path, AudioError::NotWav(format!("unrecognised audio: {e}"))))?;
    let mut format = probed.format;
    let track = format
        .default_track()
        .ok_or_else(|| bad(path, "no audio track".into()))?;
    let track_id = track.id;
    let rate = track
        .codec_params
        .sample_rate
        .filter(|r| (1000..=wav::MAX_SAMPLE_RATE).contains(r))
        .ok_or_else(|| bad(path, "missing or absurd sample rate".into()))?;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| Error::audio(path, AudioError::UnsupportedEncoding(e.to_string())))?;
    let mut mono = Vec::new();
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                break;
            }
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(bad(path, format!("cannot read packet: {e}"))),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(d) => d,
            // A damaged frame: skip it, as players do.
            Err(SymphoniaError::DecodeError(_)) => continue,
            Err(e) => return Err(bad(path, format!("cannot decode: {e}"))),
        };
        let spec = *decoded.spec();
        let channels = spec.channels.count().max(1);
        let mut buf = SampleBuffer::<f32>::new(decoded.capacity() as u64, spec);
        buf.copy_interleaved_ref(decoded);
        mono.extend(
            buf.samples()
                .chunks_exact(channels)
                .map(|f| f.iter().sum::<f32>() / channels as f32),
        );
    }
    if mono.is_empty() {
        return Err(Error::audio(path, AudioError::Empty));
    }
    if let Some((index, value)) = super::first_bad_sample(&mono) {
        return Err(Error::audio(path, AudioError::bad_sample(index, value)));
    }
    Waveform::new(mono, rate).ok_or_else(|| Error::audio(path, AudioError::Empty))
}
