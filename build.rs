//! Embeds models/default (with its lm.bin and words.bin) and models/streaming when present, and
//! for `--features tch` adds an rpath to LibTorch and keeps a CUDA LibTorch's libtorch_cuda
//! linked.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(hark_embedded_model)");
    println!("cargo::rustc-check-cfg=cfg(hark_embedded_lm)");
    println!("cargo::rustc-check-cfg=cfg(hark_embedded_words)");
    println!("cargo::rustc-check-cfg=cfg(hark_embedded_streaming)");
    println!("cargo::rerun-if-changed=models/default/lm.bin");
    println!("cargo::rerun-if-changed=models/default/words.bin");
    println!("cargo::rerun-if-changed=models/default/config.json");
    println!("cargo::rerun-if-changed=models/default/model.bpk");
    // A path that does not exist would rerun this script (and rebuild the crate) every time.
    let streaming = Path::new("models/streaming");
    if streaming.is_dir() {
        for file in ["config.json", "model.bpk", "lm.bin", "words.bin"] {
            if streaming.join(file).is_file() {
                println!("cargo::rerun-if-changed=models/streaming/{file}");
            }
        }
    } else {
        println!("cargo::rerun-if-changed=models");
    }
    let dir = Path::new("models/default");
    let has_model =
        |dir: &Path| dir.join("config.json").is_file() && dir.join("model.bpk").is_file();
    if has_model(dir) {
        if has_model(Path::new("models/streaming")) {
            shares_lm_files("models/streaming", "models/default");
            println!("cargo::rustc-cfg=hark_embedded_streaming");
        }
        println!("cargo::rustc-cfg=hark_embedded_model");
        if dir.join("lm.bin").is_file() {
            println!("cargo::rustc-cfg=hark_embedded_lm");
        }
        if dir.join("words.bin").is_file() {
            println!("cargo::rustc-cfg=hark_embedded_words");
        }
    }
    println!("cargo::rerun-if-env-changed=LIBTORCH");
    if std::env::var_os("CARGO_FEATURE_TCH").is_some()
        && let Some(libtorch) = std::env::var_os("LIBTORCH")
    {
        let lib = std::path::Path::new(&libtorch).join("lib");
        println!("cargo::rustc-link-arg=-Wl,-rpath,{}", lib.display());
        // No Rust code calls into libtorch_cuda.so, so the linker's --as-needed would drop it,
        // and without its static initialisers LibTorch reports no CUDA device. Keep it.
        if lib.join("libtorch_cuda.so").is_file() {
            println!("cargo::rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
        }
    }
}

/// The streaming model is embedded without LM files of its own: it must name the default's.
fn shares_lm_files(streaming: &str, default: &str) {
    for file in ["lm.bin", "words.bin"] {
        let read = |dir: &str| std::fs::read(Path::new(dir).join(file)).ok();
        if read(streaming) != read(default) {
            panic!(
                "{streaming}/{file} differs from {default}/{file}: the built-in streaming model \
                 must use the default model's language models"
            );
        }
    }
}
