//! SIGINT/SIGTERM/SIGHUP handling: the signal sets a flag; long loops check it between units of
//! work, write what they finished, and exit with [`EXIT_CODE`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::{Context, Result};

/// Shared "a signal came" flag.
pub type Flag = Arc<AtomicBool>;

/// Exit status after an interruption (128 + SIGINT, the shell convention for Ctrl-C).
pub const EXIT_CODE: u8 = 130;

/// Install the handler (once per process) and return its flag.
pub fn flag() -> Result<Flag> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    ctrlc::set_handler(move || set.store(true, Ordering::SeqCst))
        .context("cannot install the signal handler")?;
    Ok(flag)
}

pub fn raised(flag: &Flag) -> bool {
    flag.load(Ordering::SeqCst)
}
