//! `cargo fuzz run model_files`: see fuzz/README.md.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = hark::fuzzing::model_files(data);
});
