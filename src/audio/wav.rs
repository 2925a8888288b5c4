//! WAV reading and writing through hound.
//!
//! Reads every PCM layout hound understands (8/16/24/32-bit integer, 32-bit float,
//! `WAVE_FORMAT_EXTENSIBLE`, any channel count and sample rate), downmixes to mono and resamples
//! to [`SAMPLE_RATE`]. Every failure is an [`AudioError`] naming the file.

use std::fs::File;
use std::io::{BufReader, Cursor, ErrorKind, Read, Seek};
use std::path::{Path, PathBuf};

use super::stream::StreamResampler;
use super::{SAMPLE_RATE, Waveform, resample::resample};
use crate::error::{AudioError, Error, Result};

/// Highest sample rate accepted; anything above is treated as a corrupt header.
pub const MAX_SAMPLE_RATE: u32 = 768_000;
/// Highest channel count accepted.
pub const MAX_CHANNELS: u16 = 64;

/// Read a WAV file and return 16 kHz mono audio.
pub fn read(path: &Path) -> Result<Waveform> {
    WavStream::open(path)?.read_to_end()
}

/// Decode WAV bytes held in memory; `name` is used in error messages.
pub fn read_bytes(bytes: &[u8], name: &Path) -> Result<Waveform> {
    WavStream::new(Cursor::new(bytes), bytes.len() as u64, name)?.read_to_end()
}

/// Read a WAV file at its own rate, downmixed to mono, without resampling.
pub fn read_native(path: &Path) -> Result<Waveform> {
    let (file, len) = open_with_len(path)?;
    let mut stream = WavStream::new_native(BufReader::new(file), len, path)?;
    let rate = stream.spec.sample_rate;
    let samples = stream.collect_samples()?;
    Waveform::new(samples, rate).ok_or_else(|| Error::audio(path, AudioError::Empty))
}

/// Native frames read per block by [`WavStream::read_to_end`].
const BLOCK_FRAMES: usize = 1 << 16;

/// A WAV file read a block at a time, coming out as 16 kHz mono: memory stays bounded by the
/// block size whatever the file's length. A file streamed to the end gives exactly the samples
/// [`read`] gives.
pub struct WavStream<R: Read + Seek = BufReader<File>> {
    path: PathBuf,
    reader: hound::WavReader<Overlay<R>>,
    spec: hound::WavSpec,
    resampler: Option<StreamResampler>,
    /// Interleaved samples the header promises, and those read so far.
    total: u64,
    read: u64,
    finished: bool,
}

impl WavStream {
    /// Open a WAV file and check its header; no samples are read yet.
    pub fn open(path: &Path) -> Result<Self> {
        let (file, len) = open_with_len(path)?;
        Self::new(BufReader::new(file), len, path)
    }
}

impl<R: Read + Seek> WavStream<R> {
    /// Read a WAV from `reader` holding `byte_len` bytes; `path` names it in errors.
    pub fn new(reader: R, byte_len: u64, path: &Path) -> Result<Self> {
        let mut stream = Self::new_native(reader, byte_len, path)?;
        let rate = stream.spec.sample_rate;
        if rate != SAMPLE_RATE {
            let resampler = StreamResampler::new(rate).map_err(|kind| Error::audio(path, kind))?;
            stream.resampler = Some(resampler);
        }
        Ok(stream)
    }

    fn new_native(reader: R, byte_len: u64, path: &Path) -> Result<Self> {
        let reader = open_reader(reader, byte_len, path)?;
        let spec = reader.spec();
        Ok(Self {
            path: path.to_path_buf(),
            total: reader.len() as u64,
            reader,
            spec,
            resampler: None,
            read: 0,
            finished: false,
        })
    }

    /// Duration in seconds according to the header.
    pub fn duration_s(&self) -> f64 {
        self.total as f64 / self.spec.channels as f64 / self.spec.sample_rate as f64
    }

    /// The file's own sample rate.
    pub fn native_rate(&self) -> u32 {
        self.spec.sample_rate
    }

    /// The next block of 16 kHz mono samples (at most about `frames` native frames' worth);
    /// `None` after the end. An error (truncation, NaN) leaves the blocks already returned valid.
    pub fn next_block(&mut self, frames: usize) -> Result<Option<Vec<f32>>> {
        if self.finished {
            return Ok(None);
        }
        let mono = self.next_native(frames.max(1))?;
        let at_end = self.read >= self.total;
        let mut out = match self.resampler.as_mut() {
            Some(r) => r.push(&mono),
            None => mono,
        };
        if at_end {
            self.finished = true;
            if self.read < self.spec.channels as u64 {
                return Err(Error::audio(&self.path, AudioError::Empty));
            }
            if let Some(r) = self.resampler.as_mut() {
                out.extend(r.finish());
            }
        }
        Ok(Some(out))
    }

    /// Everything left, as one waveform.
    pub fn read_to_end(mut self) -> Result<Waveform> {
        let mut samples = Vec::new();
        while let Some(block) = self.next_block(BLOCK_FRAMES)? {
            samples.extend(block);
        }
        Waveform::new(samples, SAMPLE_RATE)
            .ok_or_else(|| Error::audio(&self.path, AudioError::Empty))
    }

    fn collect_samples(&mut self) -> Result<Vec<f32>> {
        let mut samples = Vec::new();
        while self.read < self.total {
            samples.extend(self.next_native(BLOCK_FRAMES)?);
        }
        if samples.is_empty() {
            return Err(Error::audio(&self.path, AudioError::Empty));
        }
        Ok(samples)
    }

    /// Up to `frames` native frames, checked and downmixed.
    fn next_native(&mut self, frames: usize) -> Result<Vec<f32>> {
        let channels = self.spec.channels as usize;
        let want = (frames * channels).min((self.total - self.read) as usize);
        let start = self.read;
        let interleaved = read_samples(
            &mut self.reader,
            self.spec,
            want,
            &self.path,
            start,
            self.total,
        )?;
        self.read += interleaved.len() as u64;
        if let Some((i, value)) = super::first_bad_sample(&interleaved) {
            let index = start as usize + i;
            return Err(Error::audio(
                &self.path,
                AudioError::bad_sample(index, value),
            ));
        }
        Ok(downmix(&interleaved, channels))
    }
}

fn open_with_len(path: &Path) -> Result<(File, u64)> {
    let file = open(path)?;
    let len = file
        .metadata()
        .map_err(|e| Error::audio(path, AudioError::Io(e)))?
        .len();
    Ok((file, len))
}

fn open(path: &Path) -> Result<File> {
    if path.is_dir() {
        return Err(Error::audio(path, AudioError::IsDirectory));
    }
    File::open(path).map_err(|e| {
        let kind = match e.kind() {
            ErrorKind::NotFound => AudioError::NotFound,
            ErrorKind::PermissionDenied => AudioError::PermissionDenied,
            _ => AudioError::Io(e),
        };
        Error::audio(path, kind)
    })
}

/// Resample decoded audio to [`SAMPLE_RATE`] (no-op when it is already there).
pub(crate) fn to_16k(native: Waveform, path: &Path) -> Result<Waveform> {
    let rate = native.sample_rate();
    if rate == SAMPLE_RATE {
        return Ok(native);
    }
    let samples =
        resample(native.samples(), rate, SAMPLE_RATE).map_err(|kind| Error::audio(path, kind))?;
    Waveform::new(samples, SAMPLE_RATE)
        .ok_or_else(|| resample_error(path, rate, "resampler produced non-finite samples".into()))
}

fn resample_error(path: &Path, from: u32, message: String) -> Error {
    Error::audio(path, AudioError::Resample { from, message })
}

fn map_hound(path: &Path, err: hound::Error) -> Error {
    let kind = match err {
        // The file is already open: a read failure here means the header is cut short.
        hound::Error::IoError(e) => {
            AudioError::InvalidHeader(format!("file ends inside the header ({e})"))
        }
        hound::Error::FormatError(msg) if msg.contains("RIFF") || msg.contains("WAVE") => {
            AudioError::NotWav(msg.to_string())
        }
        hound::Error::FormatError(msg) => AudioError::InvalidHeader(msg.to_string()),
        hound::Error::Unsupported => {
            AudioError::UnsupportedEncoding("compressed or unknown format tag".into())
        }
        hound::Error::TooWide | hound::Error::InvalidSampleFormat => {
            AudioError::UnsupportedEncoding("sample width/format combination".into())
        }
        hound::Error::UnfinishedSample => {
            AudioError::InvalidHeader("sample count not a multiple of channels".into())
        }
    };
    Error::audio(path, kind)
}

/// Format tags of the WAV codecs that [`super::decode`] hands to symphonia instead of hound:
/// Microsoft ADPCM, A-law, µ-law (G.711, telephone audio) and IMA ADPCM.
const SYMPHONIA_CODECS: [u16; 4] = [0x0002, 0x0006, 0x0007, 0x0011];

/// Whether `path` is a WAV file in one of the codecs symphonia decodes for hark (A-law, µ-law,
/// ADPCM: [`SYMPHONIA_CODECS`]). A file that cannot be read answers false, so that the WAV
/// reader reports what is wrong with it.
pub fn is_coded(path: &Path) -> bool {
    let Ok(file) = File::open(path) else {
        return false;
    };
    let mut head = Vec::with_capacity(4096);
    if file.take(4096).read_to_end(&mut head).is_err() {
        return false;
    }
    sniff_format_tag(&head).is_some_and(|tag| SYMPHONIA_CODECS.contains(&tag))
}

/// The `fmt ` chunk's format tag, found by walking the RIFF chunks in the first bytes.
fn sniff_format_tag(head: &[u8]) -> Option<u16> {
    let pos = fmt_chunk(head)?;
    let tag = head.get(pos..pos + 2)?;
    Some(u16::from_le_bytes([tag[0], tag[1]]))
}

/// Set the `fmt ` chunk's redundant byte-rate field to block align × sample rate, the value
/// hound insists on. Some writers get it wrong (flite 2.2 with `duration_stretch` doubles it);
/// nothing else depends on it.
fn repair_byte_rate(head: &mut [u8]) {
    let Some(pos) = fmt_chunk(head) else { return };
    let Some(fmt) = head.get_mut(pos..pos + 14) else {
        return;
    };
    let rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
    let align = u16::from_le_bytes([fmt[12], fmt[13]]) as u32;
    if let Some(bytes_per_s) = rate.checked_mul(align) {
        fmt[8..12].copy_from_slice(&bytes_per_s.to_le_bytes());
    }
}

/// Give an A-law or µ-law file's 16-byte `fmt ` chunk the two-byte extension size (0) that the
/// format requires of every non-PCM codec and symphonia insists on; many telephony writers leave
/// it out. The RIFF size grows with it. Other files are left as they are.
pub(super) fn complete_g711_fmt(bytes: &mut Vec<u8>) {
    let Some(pos) = fmt_chunk(bytes) else { return };
    let (Some(tag), Some(size)) = (bytes.get(pos..pos + 2), bytes.get(pos - 4..pos)) else {
        return;
    };
    let tag = u16::from_le_bytes([tag[0], tag[1]]);
    let size = u32::from_le_bytes([size[0], size[1], size[2], size[3]]);
    if !matches!(tag, 0x0006 | 0x0007) || size != 16 || bytes.len() < pos + 16 {
        return;
    }
    bytes[pos - 4..pos].copy_from_slice(&18u32.to_le_bytes());
    bytes.splice(pos + 16..pos + 16, [0u8, 0u8]);
    let riff = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
    bytes[4..8].copy_from_slice(&riff.saturating_add(2).to_le_bytes());
}

/// Offset of the `fmt ` chunk's body in `head`.
fn fmt_chunk(head: &[u8]) -> Option<usize> {
    if head.len() < 12 || &head[0..4] != b"RIFF" || &head[8..12] != b"WAVE" {
        return None;
    }
    let mut pos = 12usize;
    while pos + 8 <= head.len() {
        let id = &head[pos..pos + 4];
        let size = u32::from_le_bytes(head[pos + 4..pos + 8].try_into().ok()?) as usize;
        if id == b"fmt " {
            return Some(pos + 8);
        }
        pos = pos.checked_add(8 + size + (size & 1))?;
    }
    None
}

fn codec_name(tag: u16) -> Option<&'static str> {
    Some(match tag {
        0x0001 | 0x0003 | 0xFFFE => return None,
        0x0002 => "Microsoft ADPCM",
        0x0006 => "A-law",
        0x0007 => "mu-law",
        0x0011 => "IMA ADPCM",
        0x0031 => "GSM 6.10",
        0x0055 => "MP3",
        _ => "unknown codec",
    })
}

/// Check the header and open hound on it; nothing past the header is read.
fn open_reader<R: Read + Seek>(
    mut reader: R,
    byte_len: u64,
    path: &Path,
) -> Result<hound::WavReader<Overlay<R>>> {
    if byte_len == 0 {
        return Err(Error::audio(
            path,
            AudioError::NotWav("empty file (0 bytes)".into()),
        ));
    }
    let mut head = Vec::with_capacity(4096);
    (&mut reader)
        .take(4096)
        .read_to_end(&mut head)
        .map_err(|e| Error::audio(path, AudioError::Io(e)))?;
    reader
        .seek(std::io::SeekFrom::Start(0))
        .map_err(|e| Error::audio(path, AudioError::Io(e)))?;
    if let Some(tag) = sniff_format_tag(&head)
        && let Some(name) = codec_name(tag)
    {
        return Err(Error::audio(
            path,
            AudioError::UnsupportedEncoding(format!("{name} (format tag 0x{tag:04x})")),
        ));
    }
    repair_byte_rate(&mut head);
    let reader = hound::WavReader::new(Overlay {
        head,
        inner: reader,
        pos: 0,
    })
    .map_err(|e| map_hound(path, e))?;
    let spec = reader.spec();
    let header_err = |msg: String| Error::audio(path, AudioError::InvalidHeader(msg));
    if spec.channels == 0 || spec.channels > MAX_CHANNELS {
        return Err(header_err(format!("{} channels", spec.channels)));
    }
    if spec.sample_rate < 1000 || spec.sample_rate > MAX_SAMPLE_RATE {
        return Err(header_err(format!("sample rate {} Hz", spec.sample_rate)));
    }
    let bytes_per_sample = spec.bits_per_sample.div_ceil(8) as u64;
    let expected = reader.len() as u64 * bytes_per_sample;
    // The data chunk cannot be larger than the file: catches truncated files and lying headers
    // before anything is allocated from the header's numbers.
    if expected > byte_len {
        return Err(Error::audio(
            path,
            AudioError::Truncated {
                expected,
                available: byte_len,
            },
        ));
    }
    Ok(reader)
}

/// A reader whose first bytes come from `head` (a possibly repaired copy) instead of `inner`.
struct Overlay<R> {
    head: Vec<u8>,
    inner: R,
    pos: u64,
}

impl<R: Read + Seek> Read for Overlay<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = if let Some(rest) = self.head.get(self.pos as usize..).filter(|r| !r.is_empty()) {
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.inner.seek(std::io::SeekFrom::Current(n as i64))?;
            n
        } else {
            self.inner.read(buf)?
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for Overlay<R> {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        self.pos = self.inner.seek(to)?;
        Ok(self.pos)
    }
}

/// Read `want` interleaved samples as `f32`; a short read means the data chunk is cut short.
fn read_samples<R: Read>(
    reader: &mut hound::WavReader<R>,
    spec: hound::WavSpec,
    want: usize,
    path: &Path,
    start: u64,
    total: u64,
) -> Result<Vec<f32>> {
    let bytes_per_sample = spec.bits_per_sample.div_ceil(8) as u64;
    let truncated = |got: usize| {
        Error::audio(
            path,
            AudioError::Truncated {
                expected: total * bytes_per_sample,
                available: (start + got as u64) * bytes_per_sample,
            },
        )
    };
    let mut out = Vec::with_capacity(want);
    match spec.sample_format {
        hound::SampleFormat::Float => {
            if spec.bits_per_sample != 32 {
                return Err(Error::audio(
                    path,
                    AudioError::UnsupportedEncoding(format!("{}-bit float", spec.bits_per_sample)),
                ));
            }
            for s in reader.samples::<f32>().take(want) {
                out.push(s.map_err(|_| truncated(out.len()))?);
            }
        }
        hound::SampleFormat::Int => {
            let bits = spec.bits_per_sample;
            if !(8..=32).contains(&bits) {
                return Err(Error::audio(
                    path,
                    AudioError::UnsupportedEncoding(format!("{bits}-bit integer PCM")),
                ));
            }
            let scale = 1.0 / (1u64 << (bits - 1)) as f32;
            for s in reader.samples::<i32>().take(want) {
                let v = s.map_err(|_| truncated(out.len()))?;
                out.push(v as f32 * scale);
            }
        }
    }
    if out.len() < want {
        return Err(truncated(out.len()));
    }
    Ok(out)
}

fn downmix(interleaved: &[f32], channels: usize) -> Vec<f32> {
    if channels == 1 {
        return interleaved.to_vec();
    }
    let inv = 1.0 / channels as f32;
    interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() * inv)
        .collect()
}

/// Write mono audio as 16-bit PCM.
pub fn write(path: &Path, wave: &Waveform) -> Result<()> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: wave.sample_rate(),
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let io_err = |e: hound::Error| match e {
        hound::Error::IoError(io) => Error::io(path, io),
        other => Error::io(path, std::io::Error::other(other.to_string())),
    };
    let mut writer = hound::WavWriter::create(path, spec).map_err(io_err)?;
    for &s in wave.samples() {
        let v = (s.clamp(-1.0, 1.0) * 32767.0).round() as i16;
        writer.write_sample(v).map_err(io_err)?;
    }
    writer.finalize().map_err(io_err)
}
