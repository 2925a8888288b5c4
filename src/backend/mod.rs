//! Device selection at run time. The default build has burn's pure-Rust `flex` CPU backend;
//! the `tch` feature adds LibTorch (CPU and CUDA), whose code lives in [`tch`] only.

#[cfg(feature = "tch")]
mod tch;

use burn::prelude::Device;

use crate::error::{Error, Result};

/// Devices a user can ask for with `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceSpec {
    /// burn's pure-Rust CPU backend (default).
    Cpu,
    /// LibTorch on the CPU (`tch` feature).
    Libtorch,
    /// LibTorch on CUDA GPU `n` (`tch` feature).
    Cuda(usize),
}

impl std::str::FromStr for DeviceSpec {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "cpu" | "flex" => Ok(DeviceSpec::Cpu),
            "libtorch" | "libtorch-cpu" | "tch" => Ok(DeviceSpec::Libtorch),
            "cuda" => Ok(DeviceSpec::Cuda(0)),
            other => match other.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(n)) => Ok(DeviceSpec::Cuda(n)),
                _ => Err(Error::Device(format!(
                    "unknown device '{other}' (expected cpu, libtorch or cuda:N)"
                ))),
            },
        }
    }
}

impl std::fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceSpec::Cpu => write!(f, "cpu"),
            DeviceSpec::Libtorch => write!(f, "libtorch"),
            DeviceSpec::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

/// Use at most `n` threads for tensor work: burn's CPU backend (rayon's global pool) and,
/// with the `tch` feature, LibTorch's intra-op pool. Call once, before any tensor work.
pub fn set_threads(n: usize) -> Result<()> {
    if n == 0 {
        return Err(Error::Config("--threads must be at least 1".into()));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(|e| Error::Config(format!("cannot set {n} threads: {e}")))?;
    #[cfg(feature = "tch")]
    tch::set_threads(n);
    Ok(())
}

impl DeviceSpec {
    /// The burn device (without autodiff).
    pub fn device(self) -> Result<Device> {
        match self {
            DeviceSpec::Cpu => Ok(Device::flex()),
            #[cfg(feature = "tch")]
            DeviceSpec::Libtorch => Ok(tch::cpu()),
            #[cfg(feature = "tch")]
            DeviceSpec::Cuda(n) => tch::cuda(n),
            #[cfg(not(feature = "tch"))]
            DeviceSpec::Libtorch | DeviceSpec::Cuda(_) => Err(Error::Device(format!(
                "'{self}' needs LibTorch: rebuild with `cargo build --release --features tch` \
                 (see scripts/setup-libtorch.sh)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_names() {
        assert_eq!("cpu".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cpu);
        assert_eq!("cuda:1".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cuda(1));
        assert_eq!(
            "LibTorch".parse::<DeviceSpec>().unwrap(),
            DeviceSpec::Libtorch
        );
        assert!("gpu9".parse::<DeviceSpec>().is_err());
        assert!("cuda:x".parse::<DeviceSpec>().is_err());
    }
}
