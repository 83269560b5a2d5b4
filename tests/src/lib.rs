//! Shared helpers for Peerlog's cross-crate integration tests.

pub mod relay_harness;
