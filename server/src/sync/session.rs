//! One connection's protocol state machine, sans IO: handshake, identity checks, limits.
//!
//! Fed each incoming frame (and the time), it answers with a [`Step`]: reply on this connection,
//! hand a document message to the hub, ignore, or close with an `error`. The socket driver
//! (`socket.rs`) does the IO; tests drive it directly.

use std::collections::HashSet;
use std::time::Instant;

use automerge::sync;
use peerlog_core::ids::CaseId;
use peerlog_core::protocol::{
    Ephemeral, ErrorMessage, Message, PROTOCOL_VERSION, Peer, PeerId, PeerMetadata,
};

#[cfg(test)]
mod tests;

/// A frame as the WebSocket layer delivered it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Frame<'a> {
    Binary(&'a [u8]),
    Text,
    /// The WebSocket layer refused a message above its size limit.
    TooLarge,
}

/// What to do with one incoming frame.
#[derive(Debug)]
pub(crate) enum Step {
    Reply(Message),
    Sync {
        doc: CaseId,
        message: sync::Message,
    },
    Ephemeral(Ephemeral),
    Ignore,
    /// Send this `error` (if any) and close.
    Close(Option<Message>),
}

/// Limits one connection must respect.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    pub(crate) max_frame_bytes: usize,
    pub(crate) messages_per_sec: u32,
    pub(crate) burst: u32,
    pub(crate) max_docs: usize,
}

/// A token bucket: `burst` tokens, refilled at `rate` per second.
#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
    rate: f64,
    burst: f64,
}

impl Bucket {
    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The protocol state of one authenticated connection.
#[derive(Debug)]
pub(crate) struct Session {
    expected_peer: PeerId,
    server_peer: PeerId,
    storage_id: String,
    joined: bool,
    docs: HashSet<CaseId>,
    limits: Limits,
    bucket: Bucket,
}

impl Session {
    /// `expected_peer` is the peer id bound to the authenticated device.
    pub(crate) fn new(
        expected_peer: PeerId,
        server_peer: PeerId,
        storage_id: String,
        limits: Limits,
        now: Instant,
    ) -> Self {
        let bucket = Bucket {
            tokens: f64::from(limits.burst),
            last: now,
            rate: f64::from(limits.messages_per_sec),
            burst: f64::from(limits.burst),
        };
        Self {
            expected_peer,
            server_peer,
            storage_id,
            joined: false,
            docs: HashSet::new(),
            limits,
            bucket,
        }
    }

    pub(crate) fn joined(&self) -> bool {
        self.joined
    }

    fn error(&self, text: &str) -> Step {
        Step::Close(Some(Message::Error(ErrorMessage {
            message: text.to_owned(),
            sender_id: Some(self.server_peer.clone()),
            target_id: self.joined.then(|| self.expected_peer.clone()),
        })))
    }

    pub(crate) fn on_frame(&mut self, frame: Frame<'_>, now: Instant) -> Step {
        if !self.bucket.take(now) {
            return self.error("message rate limit exceeded");
        }
        let bytes = match frame {
            Frame::Text => return self.error("text frames are not supported; send binary CBOR"),
            Frame::TooLarge => return self.error("message too large"),
            Frame::Binary(b) if b.len() > self.limits.max_frame_bytes => {
                return self.error("message too large");
            }
            Frame::Binary(b) => b,
        };
        let Ok(message) = Message::decode(bytes) else {
            return self.error("malformed message");
        };
        if !self.joined {
            return self.handshake(message);
        }
        match &message {
            Message::Join(_) | Message::Peer(_) => {
                return self.error("unexpected handshake message");
            }
            // A peer that reports an error is done with us.
            Message::Error(_) => return Step::Close(None),
            _ => {}
        }
        if message.sender_id() != Some(&self.expected_peer) {
            return self.error("peer ID mismatch");
        }
        if let Some(target) = message.target_id()
            && target != &self.server_peer
        {
            return self.error("target peer ID mismatch");
        }
        match message {
            Message::Sync(m) | Message::Request(m) => {
                if !self.docs.contains(&m.document_id) {
                    if self.docs.len() >= self.limits.max_docs {
                        return self.error("too many documents on one connection");
                    }
                    self.docs.insert(m.document_id);
                }
                match sync::Message::decode(&m.data) {
                    Ok(message) => Step::Sync {
                        doc: m.document_id,
                        message,
                    },
                    Err(_) => self.error("malformed sync message"),
                }
            }
            Message::Ephemeral(m) => Step::Ephemeral(m),
            // Gossip we do not take part in, and advisory messages.
            Message::DocUnavailable(_)
            | Message::RemoteSubscriptionChange(_)
            | Message::RemoteHeadsChanged(_)
            | Message::Leave(_) => Step::Ignore,
            Message::Join(_) | Message::Peer(_) | Message::Error(_) => Step::Ignore,
        }
    }

    fn handshake(&mut self, message: Message) -> Step {
        let Message::Join(join) = message else {
            return self.error("expected a join message");
        };
        if !join.supports_v1() {
            return self.error("unsupported protocol version");
        }
        if join.sender_id != self.expected_peer {
            return self.error("peer ID does not match the authenticated device");
        }
        self.joined = true;
        Step::Reply(Message::Peer(Peer {
            sender_id: self.server_peer.clone(),
            target_id: self.expected_peer.clone(),
            selected_protocol_version: PROTOCOL_VERSION.to_owned(),
            peer_metadata: Some(PeerMetadata {
                storage_id: Some(self.storage_id.clone()),
                is_ephemeral: false,
            }),
        }))
    }
}
