//! The Peerlog relay: sync hub, identity and access control, storage, admin CLI and HTTP API.

pub mod sync;
