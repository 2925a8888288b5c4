//! The WAV format matrix: every PCM layout hound writes decodes to the same 16 kHz mono audio,
//! and every bad input gets its own typed error naming the file.

use std::path::Path;

use crate::common::{file, minimal_header, spec, tone, write_wav};
use hark::audio::wav;
use hark::error::{AudioError, Error};

/// Amplitude of the best-fitting 440 Hz sinusoid at 16 kHz and the RMS of what remains,
/// over samples 200..7800.
fn fit_440(y: &[f32]) -> (f32, f32) {
    let w = 2.0 * std::f32::consts::PI * 440.0 / 16_000.0;
    let range = 200..7800;
    let n = range.len() as f32;
    let a: f32 = range
        .clone()
        .map(|i| y[i] * (w * i as f32).sin())
        .sum::<f32>()
        * 2.0
        / n;
    let b: f32 = range
        .clone()
        .map(|i| y[i] * (w * i as f32).cos())
        .sum::<f32>()
        * 2.0
        / n;
    let residual = range
        .map(|i| (y[i] - a * (w * i as f32).sin() - b * (w * i as f32).cos()).powi(2))
        .sum::<f32>()
        / n;
    ((a * a + b * b).sqrt(), residual.sqrt())
}

#[test]
fn every_pcm_layout_decodes_to_the_same_audio() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (1, 16_000, 16, false),
        (1, 16_000, 8, false),
        (1, 16_000, 24, false),
        (1, 16_000, 32, false),
        (1, 16_000, 32, true),
        (2, 16_000, 16, false),
        (6, 16_000, 16, false),
        (1, 8_000, 16, false),
        (1, 22_050, 16, false),
        (2, 44_100, 24, false),
        (1, 48_000, 32, true),
    ];
    for (channels, rate, bits, float) in cases {
        let path = dir
            .path()
            .join(format!("t_{channels}_{rate}_{bits}_{float}.wav"));
        write_wav(&path, spec(channels, rate, bits, float), &tone(rate, 0.5));
        let w = wav::read(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(w.sample_rate(), 16_000);
        assert!(
            (w.len() as i64 - 8000).abs() <= 2,
            "{path:?}: {} samples",
            w.len()
        );
        // Fit a 440 Hz sinusoid of free phase (resampling may delay by a fraction of a
        // sample): amplitude 0.5 must be kept, and the residual is quantisation noise only.
        let (amplitude, residual) = fit_440(w.samples());
        assert!(
            (amplitude - 0.5).abs() < 0.005,
            "{path:?}: amplitude {amplitude}"
        );
        let tol = if bits == 8 { 0.005 } else { 0.002 };
        assert!(residual < tol, "{path:?}: residual rms {residual}");
    }
}

/// WAVE_FORMAT_EXTENSIBLE: hound writes it for > 2 channels or > 16 bits; check the tag.
#[test]
fn extensible_format_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ext.wav");
    write_wav(&path, spec(4, 16_000, 24, false), &tone(16_000, 0.2));
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(u16::from_le_bytes([bytes[20], bytes[21]]), 0xFFFE);
    assert!(wav::read(&path).is_ok());
}

fn kind(result: hark::Result<hark::audio::Waveform>, path: &Path) -> AudioError {
    match result {
        Err(Error::Audio { path: p, kind }) => {
            assert_eq!(p, path, "error must name the file");
            kind
        }
        other => panic!("expected an audio error for {path:?}, got {other:?}"),
    }
}

#[test]
fn bad_inputs_get_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let missing = d.join("missing.wav");
    assert!(matches!(
        kind(wav::read(&missing), &missing),
        AudioError::NotFound
    ));

    assert!(matches!(kind(wav::read(d), d), AudioError::IsDirectory));

    let p = file(d, "empty.wav", b"");
    assert!(matches!(kind(wav::read(&p), &p), AudioError::NotWav(_)));

    // A header and nothing else (the data chunk header itself is cut off).
    let p = file(
        d,
        "header_only.wav",
        &minimal_header(1, 1, 16_000, 16, 3200)[..36],
    );
    assert!(matches!(
        kind(wav::read(&p), &p),
        AudioError::InvalidHeader(_)
    ));

    let p = file(
        d,
        "text.wav",
        b"this is not a wav file at all, just some text",
    );
    assert!(matches!(kind(wav::read(&p), &p), AudioError::NotWav(_)));

    // mu-law (format tag 7): not hound's, so the WAV reader refuses it; the front door
    // (`read_any`, what every command uses) decodes it through symphonia. Code 0x00 is
    // -32124/32768 in G.711 mu-law.
    let mut mulaw = minimal_header(7, 1, 8000, 8, 100);
    mulaw.extend(vec![0u8; 100]);
    let p = file(d, "mulaw.wav", &mulaw);
    assert!(matches!(
        kind(wav::read(&p), &p),
        AudioError::UnsupportedEncoding(_)
    ));
    let decoded = hark::audio::read_any(&p).expect("mu-law WAV decodes");
    assert!((decoded.samples().len() as i64 - 200).abs() <= 2);
    let mid = decoded.samples()[100];
    assert!((mid + 32124.0 / 32768.0).abs() < 0.02, "{mid}");

    // IMA ADPCM (format tag 0x11)
    let mut adpcm = minimal_header(0x11, 1, 8000, 4, 100);
    adpcm.extend(vec![0u8; 100]);
    let p = file(d, "adpcm.wav", &adpcm);
    assert!(matches!(
        kind(wav::read(&p), &p),
        AudioError::UnsupportedEncoding(_)
    ));

    // Header promises 32000 bytes, file holds 1000.
    let mut trunc = minimal_header(1, 1, 16_000, 16, 32_000);
    trunc.extend(vec![0u8; 1000]);
    let p = file(d, "truncated.wav", &trunc);
    assert!(matches!(
        kind(wav::read(&p), &p),
        AudioError::Truncated { .. }
    ));

    // A lying data size must not allocate gigabytes: 0x7FFFFFF0 bytes promised, 64 present.
    let mut huge = minimal_header(1, 1, 16_000, 16, 0x7FFF_FFF0);
    huge.extend(vec![0u8; 64]);
    let p = file(d, "huge.wav", &huge);
    assert!(matches!(
        kind(wav::read(&p), &p),
        AudioError::Truncated { .. }
    ));

    // 0xFFFFFFFF (as streaming writers leave it) is not a whole number of 16-bit samples.
    let mut ffff = minimal_header(1, 1, 16_000, 16, 0);
    let n = ffff.len();
    ffff[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
    ffff.extend(vec![0u8; 64]);
    let p = file(d, "ffffffff.wav", &ffff);
    assert!(matches!(
        kind(wav::read(&p), &p),
        AudioError::InvalidHeader(_)
    ));

    // Zero samples.
    let p = file(d, "zero.wav", &minimal_header(1, 1, 16_000, 16, 0));
    assert!(matches!(kind(wav::read(&p), &p), AudioError::Empty));

    // Zero channels and absurd sample rates.
    let mut zc = minimal_header(1, 0, 16_000, 16, 4);
    zc.extend([0u8; 4]);
    let p = file(d, "zero_channels.wav", &zc);
    assert!(matches!(
        kind(wav::read(&p), &p),
        AudioError::InvalidHeader(_)
    ));
    let mut zr = minimal_header(1, 1, 0, 16, 4);
    zr.extend([0u8; 4]);
    let p = file(d, "zero_rate.wav", &zr);
    assert!(matches!(
        kind(wav::read(&p), &p),
        AudioError::InvalidHeader(_)
    ));
    let mut big_rate = minimal_header(1, 1, 50_000_000, 16, 4);
    big_rate.extend([0u8; 4]);
    let p = file(d, "absurd_rate.wav", &big_rate);
    assert!(matches!(
        kind(wav::read(&p), &p),
        AudioError::InvalidHeader(_)
    ));

    // NaN and infinity in float data.
    for (name, bad) in [("nan.wav", f32::NAN), ("inf.wav", f32::INFINITY)] {
        let p = d.join(name);
        let mut samples = tone(16_000, 0.1);
        samples[17] = bad;
        write_wav(&p, spec(1, 16_000, 32, true), &samples);
        match kind(wav::read(&p), &p) {
            AudioError::NonFinite { index, .. } => assert_eq!(index, 17),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_permission_denied() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("locked.wav");
    write_wav(&p, spec(1, 16_000, 16, false), &tone(16_000, 0.1));
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::File::open(&p).is_ok() {
        // Running as root: permissions are not enforced, nothing to test.
        eprintln!(
            "skipping unreadable_file_is_permission_denied: running as root, mode 000 does not stop reads"
        );
        return;
    }
    assert!(matches!(
        kind(wav::read(&p), &p),
        AudioError::PermissionDenied
    ));
}

#[test]
fn write_then_read_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("rt.wav");
    let w = hark::audio::Waveform::new(tone(16_000, 0.25), 16_000).unwrap();
    wav::write(&p, &w).unwrap();
    let back = wav::read(&p).unwrap();
    assert_eq!(back.len(), w.len());
    let err = crate::common::max_abs_diff(back.samples(), w.samples());
    assert!(err < 1e-4, "max error {err}");
}

#[test]
fn a_wrong_byte_rate_field_is_ignored() {
    // flite 2.2 writes 32000 bytes/s for 8 kHz 16-bit mono when asked for a duration stretch.
    let dir = tempfile::tempdir().unwrap();
    let samples: Vec<i16> = (0..800)
        .map(|i| ((i as f32 * 0.3).sin() * 8000.0) as i16)
        .collect();
    let mut bytes = minimal_header(1, 1, 8000, 16, (samples.len() * 2) as u32);
    bytes[28..32].copy_from_slice(&32000u32.to_le_bytes());
    for s in &samples {
        bytes.extend(s.to_le_bytes());
    }
    let path = file(dir.path(), "flite.wav", &bytes);
    let wave = wav::read_native(&path).expect("readable despite the byte-rate field");
    assert_eq!(wave.sample_rate(), 8000);
    assert_eq!(wave.len(), 800);
    assert!((wave.samples()[10] - samples[10] as f32 / 32768.0).abs() < 1e-6);
}
