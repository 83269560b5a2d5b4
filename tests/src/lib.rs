//! Shared helpers for Peerlog's cross-crate integration tests.
