//! Minimal CBOR for the messages we send: text-keyed maps of strings, byte strings, unsigned
//! integers, booleans and arrays. Written by hand because it is a few header bytes and cannot fail.

use super::{Message, PeerMetadata, RemoteHeads};
use crate::ids::CaseId;

const MAJOR_UNSIGNED: u8 = 0;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;
const FALSE: u8 = 0xf4;
const TRUE: u8 = 0xf5;

struct Out(Vec<u8>);

impl Out {
    fn head(&mut self, major: u8, n: u64) {
        let m = major << 5;
        match n {
            0..=23 => self.0.push(m | n as u8),
            24..=0xff => self.0.extend_from_slice(&[m | 24, n as u8]),
            0x100..=0xffff => {
                self.0.push(m | 25);
                self.0.extend_from_slice(&(n as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                self.0.push(m | 26);
                self.0.extend_from_slice(&(n as u32).to_be_bytes());
            }
            _ => {
                self.0.push(m | 27);
                self.0.extend_from_slice(&n.to_be_bytes());
            }
        }
    }

    fn map(&mut self, entries: usize) {
        self.head(MAJOR_MAP, entries as u64);
    }

    fn array(&mut self, items: usize) {
        self.head(MAJOR_ARRAY, items as u64);
    }

    fn text(&mut self, s: &str) {
        self.head(MAJOR_TEXT, s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    fn bytes(&mut self, b: &[u8]) {
        self.head(MAJOR_BYTES, b.len() as u64);
        self.0.extend_from_slice(b);
    }

    fn uint(&mut self, n: u64) {
        self.head(MAJOR_UNSIGNED, n);
    }

    fn bool(&mut self, b: bool) {
        self.0.push(if b { TRUE } else { FALSE });
    }

    fn key_text(&mut self, key: &str, value: &str) {
        self.text(key);
        self.text(value);
    }

    fn doc_id(&mut self, id: &CaseId) {
        self.text("documentId");
        self.text(&id.to_string());
    }

    fn metadata(&mut self, meta: &PeerMetadata) {
        self.text("peerMetadata");
        self.map(1 + usize::from(meta.storage_id.is_some()));
        if let Some(storage) = &meta.storage_id {
            self.key_text("storageId", storage);
        }
        self.text("isEphemeral");
        self.bool(meta.is_ephemeral);
    }

    fn strings(&mut self, items: &[String]) {
        self.array(items.len());
        for s in items {
            self.text(s);
        }
    }

    fn remote_heads(&mut self, heads: &RemoteHeads) {
        self.map(2);
        self.text("heads");
        self.strings(&heads.heads);
        self.text("timestamp");
        self.uint(heads.timestamp);
    }
}

pub(super) fn message(message: &Message) -> Vec<u8> {
    let mut o = Out(Vec::with_capacity(64 + payload_len(message)));
    let ty = message.type_name();
    match message {
        Message::Join(m) => {
            o.map(3 + usize::from(m.peer_metadata.is_some()));
            o.key_text("type", ty);
            o.key_text("senderId", m.sender_id.as_str());
            o.text("supportedProtocolVersions");
            o.strings(&m.supported_protocol_versions);
            if let Some(meta) = &m.peer_metadata {
                o.metadata(meta);
            }
        }
        Message::Peer(m) => {
            o.map(4 + usize::from(m.peer_metadata.is_some()));
            o.key_text("type", ty);
            o.key_text("senderId", m.sender_id.as_str());
            o.key_text("targetId", m.target_id.as_str());
            o.key_text("selectedProtocolVersion", &m.selected_protocol_version);
            if let Some(meta) = &m.peer_metadata {
                o.metadata(meta);
            }
        }
        Message::Error(m) => {
            o.map(2 + usize::from(m.sender_id.is_some()) + usize::from(m.target_id.is_some()));
            o.key_text("type", ty);
            o.key_text("message", &m.message);
            if let Some(sender) = &m.sender_id {
                o.key_text("senderId", sender.as_str());
            }
            if let Some(target) = &m.target_id {
                o.key_text("targetId", target.as_str());
            }
        }
        Message::Sync(m) | Message::Request(m) => {
            o.map(5);
            o.key_text("type", ty);
            o.key_text("senderId", m.sender_id.as_str());
            o.key_text("targetId", m.target_id.as_str());
            o.doc_id(&m.document_id);
            o.text("data");
            o.bytes(&m.data);
        }
        Message::DocUnavailable(m) => {
            o.map(4);
            o.key_text("type", ty);
            o.key_text("senderId", m.sender_id.as_str());
            o.key_text("targetId", m.target_id.as_str());
            o.doc_id(&m.document_id);
        }
        Message::Ephemeral(m) => {
            o.map(7);
            o.key_text("type", ty);
            o.key_text("senderId", m.sender_id.as_str());
            o.key_text("targetId", m.target_id.as_str());
            o.doc_id(&m.document_id);
            o.text("count");
            o.uint(m.count);
            o.key_text("sessionId", &m.session_id);
            o.text("data");
            o.bytes(&m.data);
        }
        Message::RemoteSubscriptionChange(m) => {
            o.map(5);
            o.key_text("type", ty);
            o.key_text("senderId", m.sender_id.as_str());
            o.key_text("targetId", m.target_id.as_str());
            o.text("add");
            o.strings(&m.add);
            o.text("remove");
            o.strings(&m.remove);
        }
        Message::RemoteHeadsChanged(m) => {
            o.map(5);
            o.key_text("type", ty);
            o.key_text("senderId", m.sender_id.as_str());
            o.key_text("targetId", m.target_id.as_str());
            o.doc_id(&m.document_id);
            o.text("newHeads");
            o.map(m.new_heads.len());
            for (storage, heads) in &m.new_heads {
                o.text(storage);
                o.remote_heads(heads);
            }
        }
        Message::Leave(m) => {
            o.map(2);
            o.key_text("type", ty);
            o.key_text("senderId", m.sender_id.as_str());
        }
    }
    o.0
}

fn payload_len(message: &Message) -> usize {
    match message {
        Message::Sync(m) | Message::Request(m) => m.data.len(),
        Message::Ephemeral(m) => m.data.len(),
        _ => 0,
    }
}
