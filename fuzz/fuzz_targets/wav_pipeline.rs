//! `cargo fuzz run wav_pipeline`: see fuzz/README.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = hark::fuzzing::wav_pipeline(data);
});
