//! The automerge-repo WebSocket protocol, version "1": its messages as Rust types, and their CBOR
//! encoding. Pure: bytes in, messages out (and back); the relay and the phone's sync client drive
//! it.
//!
//! One WebSocket binary frame carries exactly one message, a CBOR map with text keys and a `type`
//! field (see `research/sync-protocol.md` §3–§6). [`Message::decode`] accepts what the stock JS
//! client writes (cbor-x: 16-bit map headers, `undefined` for absent fields, floats for integers,
//! unknown keys, `documentId` as a bs58check string or as 16 raw bytes) and rejects everything else
//! with a [`DecodeError`]: it never panics, and allocates no more than the frame's own size (the
//! frame is bounded by [`MAX_FRAME_BYTES`] before anything is read). [`Message::encode`] writes
//! minimal CBOR, which the JS client and samod both read.
//!
//! The CBOR crate is `minicbor`: a small, maintained, non-allocating pull decoder that reports
//! definite/indefinite lengths instead of trusting them, skips unknown values iteratively (no
//! recursion on hostile nesting), and is what samod's own codec uses. Encoding the handful of
//! shapes we send is done by hand (`encode.rs`): a few header bytes, minimal, infallible.

use std::fmt;

use crate::ids::CaseId;

mod decode;
mod encode;
#[cfg(test)]
mod tests;

pub use decode::DecodeError;

/// The only protocol version there is; sent in `join.supportedProtocolVersions` and
/// `peer.selectedProtocolVersion` (a string, not a number).
pub const PROTOCOL_VERSION: &str = "1";

/// The decoder's hard upper bound on one frame. Servers should configure their WebSocket layer to
/// a limit at or below this (the relay's default is lower).
pub const MAX_FRAME_BYTES: usize = 64 * 1024 * 1024;

/// Longest peer id, storage id, session id or protocol version string accepted.
pub const MAX_ID_BYTES: usize = 256;

/// Longest `error.message` accepted.
pub const MAX_ERROR_BYTES: usize = 4096;

/// Most entries accepted in any list or map inside a message (versions, storage ids, heads).
pub const MAX_LIST_ITEMS: usize = 256;

/// A peer's self-chosen id. Nothing in the protocol authenticates it; the relay binds it to the
/// authenticated device.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId(String);

/// Why a string is not a usable peer id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a peer id must be 1 to {MAX_ID_BYTES} bytes")]
pub struct BadPeerId;

impl PeerId {
    pub fn new(id: impl Into<String>) -> Result<Self, BadPeerId> {
        let id = id.into();
        if id.is_empty() || id.len() > MAX_ID_BYTES {
            return Err(BadPeerId);
        }
        Ok(Self(id))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for PeerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PeerId({:?})", self.0)
    }
}

impl std::str::FromStr for PeerId {
    type Err = BadPeerId;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// What a peer says about its storage in `join` and `peer`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerMetadata {
    /// Present when the peer has a persistent store (then it may persist sync states with us).
    pub storage_id: Option<String>,
    /// `true`: the peer will not come back with the same store.
    pub is_ephemeral: bool,
}

/// Client → server, first message: who I am and which protocol versions I speak.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Join {
    pub sender_id: PeerId,
    /// Empty when the field was absent.
    pub supported_protocol_versions: Vec<String>,
    pub peer_metadata: Option<PeerMetadata>,
}

impl Join {
    /// Whether the joining peer speaks [`PROTOCOL_VERSION`].
    pub fn supports_v1(&self) -> bool {
        self.supported_protocol_versions
            .iter()
            .any(|v| v == PROTOCOL_VERSION)
    }
}

/// Server → client reply to `join`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub sender_id: PeerId,
    pub target_id: PeerId,
    pub selected_protocol_version: String,
    pub peer_metadata: Option<PeerMetadata>,
}

/// A protocol error; the sender closes the connection after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorMessage {
    pub message: String,
    pub sender_id: Option<PeerId>,
    pub target_id: Option<PeerId>,
}

/// `sync` and `request`: one automerge sync message for one document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncMessage {
    pub sender_id: PeerId,
    pub target_id: PeerId,
    pub document_id: CaseId,
    /// An encoded `automerge::sync::Message`; never empty on the wire.
    pub data: Vec<u8>,
}

/// "I don't have this document (or you may not see it)".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocUnavailable {
    pub sender_id: PeerId,
    pub target_id: PeerId,
    pub document_id: CaseId,
}

/// A fire-and-forget per-document message (presence and the like), relayed to the document's
/// other peers; `count` increases per (`sender_id`, `session_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ephemeral {
    pub sender_id: PeerId,
    pub target_id: PeerId,
    pub document_id: CaseId,
    pub count: u64,
    pub session_id: String,
    pub data: Vec<u8>,
}

/// Remote-heads gossip: which storage ids the sender wants head updates for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSubscriptionChange {
    pub sender_id: PeerId,
    pub target_id: PeerId,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

/// The heads one storage has of a document, as seen at `timestamp` (ms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteHeads {
    /// bs58check change hashes.
    pub heads: Vec<String>,
    pub timestamp: u64,
}

/// Remote-heads gossip: a third party's heads of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteHeadsChanged {
    pub sender_id: PeerId,
    pub target_id: PeerId,
    pub document_id: CaseId,
    /// (storage id, heads), in wire order.
    pub new_heads: Vec<(String, RemoteHeads)>,
}

/// Advisory "I am disconnecting" (never sent by the WebSocket adapters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leave {
    pub sender_id: PeerId,
}

/// One protocol message, as carried by one binary WebSocket frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Join(Join),
    Peer(Peer),
    Error(ErrorMessage),
    Sync(SyncMessage),
    Request(SyncMessage),
    DocUnavailable(DocUnavailable),
    Ephemeral(Ephemeral),
    RemoteSubscriptionChange(RemoteSubscriptionChange),
    RemoteHeadsChanged(RemoteHeadsChanged),
    Leave(Leave),
}

impl Message {
    /// Decodes one frame. See the module docs for what is tolerated.
    pub fn decode(frame: &[u8]) -> Result<Self, DecodeError> {
        decode::message(frame)
    }

    /// Encodes as minimal CBOR.
    pub fn encode(&self) -> Vec<u8> {
        encode::message(self)
    }

    /// The wire name of this message's `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Message::Join(_) => "join",
            Message::Peer(_) => "peer",
            Message::Error(_) => "error",
            Message::Sync(_) => "sync",
            Message::Request(_) => "request",
            Message::DocUnavailable(_) => "doc-unavailable",
            Message::Ephemeral(_) => "ephemeral",
            Message::RemoteSubscriptionChange(_) => "remote-subscription-change",
            Message::RemoteHeadsChanged(_) => "remote-heads-changed",
            Message::Leave(_) => "leave",
        }
    }

    /// The claimed sender, if the message carries one.
    pub fn sender_id(&self) -> Option<&PeerId> {
        match self {
            Message::Join(m) => Some(&m.sender_id),
            Message::Peer(m) => Some(&m.sender_id),
            Message::Error(m) => m.sender_id.as_ref(),
            Message::Sync(m) | Message::Request(m) => Some(&m.sender_id),
            Message::DocUnavailable(m) => Some(&m.sender_id),
            Message::Ephemeral(m) => Some(&m.sender_id),
            Message::RemoteSubscriptionChange(m) => Some(&m.sender_id),
            Message::RemoteHeadsChanged(m) => Some(&m.sender_id),
            Message::Leave(m) => Some(&m.sender_id),
        }
    }

    /// The addressed peer, if the message carries one.
    pub fn target_id(&self) -> Option<&PeerId> {
        match self {
            Message::Join(_) | Message::Leave(_) => None,
            Message::Peer(m) => Some(&m.target_id),
            Message::Error(m) => m.target_id.as_ref(),
            Message::Sync(m) | Message::Request(m) => Some(&m.target_id),
            Message::DocUnavailable(m) => Some(&m.target_id),
            Message::Ephemeral(m) => Some(&m.target_id),
            Message::RemoteSubscriptionChange(m) => Some(&m.target_id),
            Message::RemoteHeadsChanged(m) => Some(&m.target_id),
        }
    }

    /// The document the message is about, if any.
    pub fn document_id(&self) -> Option<&CaseId> {
        match self {
            Message::Sync(m) | Message::Request(m) => Some(&m.document_id),
            Message::DocUnavailable(m) => Some(&m.document_id),
            Message::Ephemeral(m) => Some(&m.document_id),
            Message::RemoteHeadsChanged(m) => Some(&m.document_id),
            _ => None,
        }
    }
}
