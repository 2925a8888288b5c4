//! Compressed audio (FLAC, MP3, Ogg Vorbis, and WAV in A-law, µ-law or ADPCM) through
//! symphonia; PCM and float WAV go through [`super::wav`], which streams them from disk.

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

/// Read any supported audio file as 16 kHz mono: WAV by its header (hound, or symphonia for the
/// codecs hound refuses), others by symphonia.
pub fn read_any(path: &Path) -> Result<Waveform> {
    if !is_named_wav(path) {
        return wav::to_16k(decode(path)?, path);
    }
    wav::read(path).or_else(|refusal| wav::to_16k(coded_wav(path, refusal)?, path))
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
        if !is_named_wav(path) {
            return Ok(Self::Whole(Some(read_any(path)?)));
        }
        match wav::WavStream::open(path) {
            Ok(stream) => Ok(Self::Wav(Box::new(stream))),
            Err(refusal) => {
                let wave = wav::to_16k(coded_wav(path, refusal)?, path)?;
                Ok(Self::Whole(Some(wave)))
            }
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

/// Any supported audio file at its own sample rate, downmixed to mono (what `listen --input`
/// feeds through its streaming resampler).
pub fn read_native_any(path: &Path) -> Result<Waveform> {
    if !is_named_wav(path) {
        return decode(path);
    }
    wav::read_native(path).or_else(|refusal| coded_wav(path, refusal))
}

fn is_named_wav(path: &Path) -> bool {
    path.extension()
        .is_none_or(|e| e.eq_ignore_ascii_case("wav") || e.eq_ignore_ascii_case("wave"))
}

/// After hound refused the WAV file `path` with `refusal`: the file decoded through symphonia
/// at its own rate when its header names a codec symphonia reads (A-law, µ-law, ADPCM), else
/// `refusal`. The file is read whole, so that a G.711 `fmt ` chunk without its extension size
/// can be completed first. Only refused files are sniffed: PCM WAV is opened once.
fn coded_wav(path: &Path, refusal: Error) -> Result<Waveform> {
    if !wav::is_coded(path) {
        return Err(refusal);
    }
    let mut bytes = std::fs::read(path).map_err(|e| Error::audio(path, AudioError::Io(e)))?;
    wav::complete_g711_fmt(&mut bytes);
    decode_bytes(bytes, path)
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A mono WAV file of one byte per sample in the codec of `tag` (6: A-law, 7: µ-law).
    fn g711_wav(tag: u16, codes: &[u8], rate: u32) -> Vec<u8> {
        let mut fmt = Vec::new();
        fmt.extend(tag.to_le_bytes());
        fmt.extend(1u16.to_le_bytes()); // channels
        fmt.extend(rate.to_le_bytes());
        fmt.extend(rate.to_le_bytes()); // bytes per second
        fmt.extend(1u16.to_le_bytes()); // block align
        fmt.extend(8u16.to_le_bytes()); // bits per sample
        fmt.extend(0u16.to_le_bytes()); // no extension
        let mut out = b"RIFF".to_vec();
        out.extend(((4 + 8 + fmt.len() + 8 + 4 + 8 + codes.len()) as u32).to_le_bytes());
        out.extend(b"WAVEfmt ");
        out.extend((fmt.len() as u32).to_le_bytes());
        out.extend(&fmt);
        out.extend(b"fact");
        out.extend(4u32.to_le_bytes());
        out.extend((codes.len() as u32).to_le_bytes());
        out.extend(b"data");
        out.extend((codes.len() as u32).to_le_bytes());
        out.extend(codes);
        out
    }

    #[test]
    fn telephone_wav_in_a_law_and_mu_law_is_decoded() {
        let dir = tempfile::tempdir().unwrap();
        // G.711's extreme codes: µ-law 0x80 / 0x00 are ±32124, A-law 0xAA / 0x2A are ±32256
        // (of 32768), so each file is a square wave at about ±0.98.
        for (tag, pos, neg, peak) in [(7u16, 0x80u8, 0x00u8, 32124.0), (6, 0xAA, 0x2A, 32256.0)] {
            let codes: Vec<u8> = (0..800)
                .map(|i| if i % 2 == 0 { pos } else { neg })
                .collect();
            let path = dir.path().join(format!("tag{tag}.wav"));
            std::fs::write(&path, g711_wav(tag, &codes, 8000)).unwrap();
            assert!(wav::is_coded(&path));
            let native = read_native_any(&path).unwrap();
            assert_eq!(native.sample_rate(), 8000);
            assert_eq!(native.samples().len(), 800);
            let expected = peak / 32768.0;
            for (i, &v) in native.samples().iter().enumerate() {
                let want = if i % 2 == 0 { expected } else { -expected };
                assert!(
                    (v - want).abs() < 1e-3,
                    "tag {tag}, sample {i}: {v} against {want}"
                );
            }
            let at_16k = read_any(&path).unwrap();
            assert_eq!(at_16k.sample_rate(), crate::audio::SAMPLE_RATE);
            assert!((at_16k.samples().len() as i64 - 1600).abs() <= 2);
            let blocks = AudioBlocks::open(&path).unwrap();
            assert!(matches!(blocks, AudioBlocks::Whole(_)));
        }
    }

    #[test]
    fn pcm_wav_still_goes_through_the_wav_reader() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let sample = root.join("audio/samples/clean_flite_rms_fox.wav");
        assert!(!wav::is_coded(&sample));
        assert!(matches!(
            AudioBlocks::open(&sample).unwrap(),
            AudioBlocks::Wav(_)
        ));
        // A missing file is not "coded": the WAV reader names what is wrong.
        assert!(!wav::is_coded(&root.join("no-such-file.wav")));
    }
}
