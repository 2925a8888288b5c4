//! Embeds models/default (with its lm.bin and words.bin) when present, and adds an rpath to LibTorch for `--features tch`.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(hark_embedded_model)");
    println!("cargo::rustc-check-cfg=cfg(hark_embedded_lm)");
    println!("cargo::rustc-check-cfg=cfg(hark_embedded_words)");
    println!("cargo::rerun-if-changed=models/default/lm.bin");
    println!("cargo::rerun-if-changed=models/default/words.bin");
    println!("cargo::rerun-if-changed=models/default/config.json");
    println!("cargo::rerun-if-changed=models/default/model.bpk");
    let dir = std::path::Path::new("models/default");
    if dir.join("config.json").is_file() && dir.join("model.bpk").is_file() {
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
    }
}
