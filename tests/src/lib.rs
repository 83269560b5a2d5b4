//! Shared helpers for Peerlog's cross-crate integration tests.

pub mod device;
pub mod relay_harness;
