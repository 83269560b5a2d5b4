//! Shared helpers for Peerlog's cross-crate integration tests.

pub mod device;
pub mod proxy;
pub mod relay_harness;
pub mod relay_process;
