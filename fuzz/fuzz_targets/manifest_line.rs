//! `cargo fuzz run manifest_line`: see fuzz/README.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = hark::fuzzing::manifest_line(data);
});
