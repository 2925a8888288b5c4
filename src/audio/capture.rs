//! Microphone capture through cpal.
//!
//! The device is opened at its own default input configuration (any sample format, rate and
//! channel count). The callback downmixes to mono `f32` into one buffer per callback and hands
//! it over a bounded channel with `try_send`; when the consumer falls behind, the chunk is
//! dropped and counted (never blocking, never panicking in the audio thread).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, I24, Sample, SampleFormat, U24};
use serde::Serialize;

use crate::error::{Error, Result};

/// Length of one queued block of audio.
pub const BLOCK_SECONDS: f32 = 0.05;
/// Blocks the callback may queue before the consumer must catch up: 30 s of audio.
pub const QUEUE_BLOCKS: usize = 600;

/// An input device and its default configuration.
#[derive(Debug, Clone, Serialize)]
pub struct InputDevice {
    pub id: String,
    pub description: String,
    pub is_default: bool,
    pub sample_rate: u32,
    pub channels: u16,
    pub sample_format: String,
}

/// Route alsa-lib's diagnostics on this thread into a buffer instead of stderr while the
/// guard lives, so a missing device gives hark's one error line and nothing else.
#[cfg(target_os = "linux")]
fn quiet_alsa() -> impl Sized {
    alsa::Output::local_error_handler().ok()
}

#[cfg(not(target_os = "linux"))]
fn quiet_alsa() -> impl Sized {}

/// List the input devices of the default host.
pub fn list_input_devices() -> Result<Vec<InputDevice>> {
    let _quiet = quiet_alsa();
    let host = cpal::default_host();
    let default_id = host.default_input_device().and_then(|d| d.id().ok());
    let devices = host
        .input_devices()
        .map_err(|e| Error::Device(format!("cannot enumerate input devices: {e}")))?;
    let mut out = Vec::new();
    for device in devices {
        let Ok(config) = device.default_input_config() else {
            continue;
        };
        let id = device.id().ok();
        out.push(InputDevice {
            id: id.as_ref().map_or_else(|| "?".into(), |i| i.to_string()),
            description: device
                .description()
                .map_or_else(|_| String::new(), |d| d.to_string()),
            is_default: id.is_some() && id == default_id,
            sample_rate: config.sample_rate(),
            channels: config.channels(),
            sample_format: config.sample_format().to_string(),
        });
    }
    Ok(out)
}

/// A running capture. Dropping it stops the stream.
pub struct Capture {
    _stream: cpal::Stream,
    /// Mono chunks at [`Capture::sample_rate`].
    pub chunks: Receiver<Vec<f32>>,
    pub sample_rate: u32,
    pub device: String,
    overflows: Arc<AtomicU64>,
    failed: Arc<AtomicBool>,
}

impl Capture {
    /// Open `device` (a cpal device id such as `alsa:default`, or `None` for the default input)
    /// and start capturing.
    pub fn start(device: Option<&str>) -> Result<Self> {
        let _quiet = quiet_alsa();
        let host = cpal::default_host();
        let dev = match device {
            None => host
                .default_input_device()
                .ok_or_else(|| Error::Device("no input device found".into()))?,
            Some(name) => {
                let id: cpal::DeviceId = name
                    .parse()
                    .map_err(|e| Error::Device(format!("bad device id '{name}': {e}")))?;
                host.device_by_id(&id).ok_or_else(|| {
                    Error::Device(format!(
                        "input device '{name}' not found (see `hark devices`)"
                    ))
                })?
            }
        };
        let name = dev.id().map_or_else(|_| "?".to_string(), |i| i.to_string());
        let config = dev
            .default_input_config()
            .map_err(|e| Error::Device(format!("{name}: no usable input configuration: {e}")))?;
        let channels = config.channels() as usize;
        let format = config.sample_format();
        let (tx, rx) = sync_channel(QUEUE_BLOCKS);
        let block = ((config.sample_rate() as f32 * BLOCK_SECONDS) as usize).max(1);
        let mut pending: Vec<f32> = Vec::with_capacity(2 * block);
        let overflows = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicBool::new(false));
        let (ov, fail) = (overflows.clone(), failed.clone());
        let stream = dev
            .build_input_stream_raw(
                config.config(),
                format,
                move |data: &cpal::Data, _: &cpal::InputCallbackInfo| {
                    append_mono(data, channels, &mut pending);
                    while pending.len() >= block {
                        let rest = pending.split_off(block);
                        send(&tx, std::mem::replace(&mut pending, rest), &ov);
                    }
                },
                move |_err| fail.store(true, Ordering::Relaxed),
                None,
            )
            .map_err(|e| Error::Device(format!("{name}: cannot open input stream: {e}")))?;
        stream
            .play()
            .map_err(|e| Error::Device(format!("{name}: cannot start input stream: {e}")))?;
        Ok(Self {
            _stream: stream,
            chunks: rx,
            sample_rate: config.sample_rate(),
            device: name,
            overflows,
            failed,
        })
    }

    /// Chunks dropped because the consumer was too slow.
    pub fn overflows(&self) -> u64 {
        self.overflows.load(Ordering::Relaxed)
    }

    /// Whether the stream reported an error (device gone, xrun storm, ...).
    pub fn failed(&self) -> bool {
        self.failed.load(Ordering::Relaxed)
    }
}

fn send(tx: &SyncSender<Vec<f32>>, chunk: Vec<f32>, overflows: &AtomicU64) {
    match tx.try_send(chunk) {
        Ok(()) | Err(TrySendError::Disconnected(_)) => {}
        Err(TrySendError::Full(_)) => {
            overflows.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn downmix<T>(src: &[T], channels: usize, out: &mut Vec<f32>)
where
    T: Sample,
    f32: FromSample<T>,
{
    let channels = channels.max(1);
    let inv = 1.0 / channels as f32;
    out.extend(
        src.chunks_exact(channels)
            .map(|frame| frame.iter().map(|s| f32::from_sample(*s)).sum::<f32>() * inv),
    );
}

/// Append one callback's interleaved samples to `out` as mono `f32`. Formats hark cannot read
/// are skipped rather than panicking in the audio thread.
fn append_mono(data: &cpal::Data, channels: usize, out: &mut Vec<f32>) {
    fn go<T>(slice: Option<&[T]>, channels: usize, out: &mut Vec<f32>)
    where
        T: Sample,
        f32: FromSample<T>,
    {
        if let Some(s) = slice {
            downmix(s, channels, out);
        }
    }
    match data.sample_format() {
        SampleFormat::I8 => go(data.as_slice::<i8>(), channels, out),
        SampleFormat::I16 => go(data.as_slice::<i16>(), channels, out),
        SampleFormat::I24 => go(data.as_slice::<I24>(), channels, out),
        SampleFormat::I32 => go(data.as_slice::<i32>(), channels, out),
        SampleFormat::I64 => go(data.as_slice::<i64>(), channels, out),
        SampleFormat::U8 => go(data.as_slice::<u8>(), channels, out),
        SampleFormat::U16 => go(data.as_slice::<u16>(), channels, out),
        SampleFormat::U24 => go(data.as_slice::<U24>(), channels, out),
        SampleFormat::U32 => go(data.as_slice::<u32>(), channels, out),
        SampleFormat::U64 => go(data.as_slice::<u64>(), channels, out),
        SampleFormat::F32 => go(data.as_slice::<f32>(), channels, out),
        SampleFormat::F64 => go(data.as_slice::<f64>(), channels, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downmix_averages_channels_and_scales_integers() {
        let stereo: [i16; 4] = [16384, -16384, 32767, 32767];
        let mut m = Vec::new();
        downmix(&stereo, 2, &mut m);
        assert_eq!(m.len(), 2);
        assert!(m[0].abs() < 1e-6);
        assert!((m[1] - 1.0).abs() < 1e-3);
        let u: [u8; 2] = [128, 255];
        let mut m = Vec::new();
        downmix(&u, 1, &mut m);
        assert!(m[0].abs() < 1e-6 && m[1] > 0.99);
    }

    #[test]
    fn full_queue_counts_overflow_instead_of_blocking() {
        let (tx, _rx) = sync_channel(1);
        let ov = AtomicU64::new(0);
        send(&tx, vec![0.0], &ov);
        send(&tx, vec![0.0], &ov);
        send(&tx, vec![0.0], &ov);
        assert_eq!(ov.load(Ordering::Relaxed), 2);
    }
}
