//! LibTorch devices and threads. (LibTorch's recurrence kernel is in
//! `model::recurrence::tch`, beside the other kernels.)
//! burn 0.22 marks its LibTorch constructors deprecated (burn-tch is on its way out upstream);
//! hark still offers them because LibTorch is the fast CPU/CUDA path today.
#![allow(deprecated)]

use burn::prelude::Device;

use crate::error::{Error, Result};

/// LibTorch on the CPU.
pub fn cpu() -> Device {
    Device::libtorch()
}

/// LibTorch on CUDA device `index`, if this LibTorch has CUDA and the GPU exists.
pub fn cuda(index: usize) -> Result<Device> {
    if !::tch::Cuda::is_available() {
        return Err(Error::Device(format!(
            "cuda:{index} requested but LibTorch reports no usable CUDA device"
        )));
    }
    let count = ::tch::Cuda::device_count() as usize;
    if index >= count {
        return Err(Error::Device(format!(
            "cuda:{index} requested but only {count} CUDA device(s) exist"
        )));
    }
    Ok(Device::libtorch_cuda(index))
}

/// LibTorch intra-op and inter-op threads.
pub fn set_threads(n: usize) {
    let n = i32::try_from(n).unwrap_or(i32::MAX);
    ::tch::set_num_threads(n);
    ::tch::set_num_interop_threads(n);
}
