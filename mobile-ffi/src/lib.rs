//! UniFFI bindings of peerlog-core (coming with the mobile-ffi issue).
