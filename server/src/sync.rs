//! The sync engine: automerge-repo protocol v1 over WebSocket, as a hub on the bare automerge crate.

pub mod ports;
