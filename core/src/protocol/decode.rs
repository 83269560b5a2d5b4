//! Tolerant, bounded decoding of one protocol frame.
//!
//! The frame's length is checked first; every string, byte string and list is then a slice of
//! the frame (so nothing allocates more than the frame holds), lists and maps are capped at
//! [`MAX_LIST_ITEMS`] entries, and unknown values are skipped by minicbor's iterative skipper.

use minicbor::Decoder;
use minicbor::data::Type;

use super::{
    DocUnavailable, Ephemeral, ErrorMessage, Join, Leave, MAX_ERROR_BYTES, MAX_FRAME_BYTES,
    MAX_ID_BYTES, MAX_LIST_ITEMS, Message, Peer, PeerId, PeerMetadata, RemoteHeads,
    RemoteHeadsChanged, RemoteSubscriptionChange, SyncMessage,
};
use crate::ids::CaseId;

/// Why a frame is not a protocol message. Names the field, never echoes content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("frame of {len} bytes exceeds the limit of {max}")]
    TooLarge { len: usize, max: usize },
    #[error("frame is not well-formed CBOR of the expected shape")]
    Malformed,
    #[error("frame is not a CBOR map")]
    NotAMap,
    #[error("frame has bytes after the message")]
    TrailingBytes,
    #[error("a map in the frame has more than {MAX_LIST_ITEMS} entries")]
    TooManyEntries,
    #[error("a map key is not text")]
    NonTextKey,
    #[error("field `{0}` appears twice")]
    DuplicateField(&'static str),
    #[error("field `{0}` is missing")]
    MissingField(&'static str),
    #[error("field `{0}` has the wrong type")]
    WrongType(&'static str),
    #[error("field `{0}` is too long")]
    TooLong(&'static str),
    #[error("field `{0}` is empty")]
    Empty(&'static str),
    #[error("field `documentId` is not a 16-byte document id")]
    BadDocumentId,
    #[error("unknown message type")]
    UnknownType,
}

impl From<minicbor::decode::Error> for DecodeError {
    fn from(_: minicbor::decode::Error) -> Self {
        DecodeError::Malformed
    }
}

type Result<T> = std::result::Result<T, DecodeError>;

/// The fields of a message map, each read as the type its key implies.
#[derive(Default)]
struct Fields<'b> {
    ty: Option<&'b str>,
    sender_id: Option<PeerId>,
    target_id: Option<PeerId>,
    document_id: Option<CaseId>,
    data: Option<&'b [u8]>,
    supported_versions: Option<Vec<String>>,
    selected_version: Option<&'b str>,
    metadata: Option<PeerMetadata>,
    message: Option<&'b str>,
    count: Option<u64>,
    session_id: Option<&'b str>,
    add: Option<Vec<String>>,
    remove: Option<Vec<String>>,
    new_heads: Option<Vec<(String, RemoteHeads)>>,
}

pub(super) fn message(frame: &[u8]) -> Result<Message> {
    if frame.len() > MAX_FRAME_BYTES {
        return Err(DecodeError::TooLarge {
            len: frame.len(),
            max: MAX_FRAME_BYTES,
        });
    }
    let mut d = Decoder::new(frame);
    if !matches!(d.datatype()?, Type::Map | Type::MapIndef) {
        return Err(DecodeError::NotAMap);
    }
    let fields = read_fields(&mut d)?;
    if d.position() != frame.len() {
        return Err(DecodeError::TrailingBytes);
    }
    build(fields)
}

/// Iterates a map of definite or indefinite length, calling `entry` with each key; `entry` must
/// consume exactly the value.
fn for_each_entry<'b>(
    d: &mut Decoder<'b>,
    mut entry: impl FnMut(&mut Decoder<'b>, &'b str) -> Result<()>,
) -> Result<()> {
    let len = d.map()?;
    if len.is_some_and(|n| n > MAX_LIST_ITEMS as u64) {
        return Err(DecodeError::TooManyEntries);
    }
    let mut seen = 0u64;
    loop {
        match len {
            Some(n) if seen >= n => return Ok(()),
            None if d.datatype()? == Type::Break => {
                d.skip()?;
                return Ok(());
            }
            _ => {}
        }
        if seen >= MAX_LIST_ITEMS as u64 {
            return Err(DecodeError::TooManyEntries);
        }
        seen += 1;
        let key = match d.datatype()? {
            Type::String => d.str()?,
            _ => return Err(DecodeError::NonTextKey),
        };
        entry(d, key)?;
    }
}

fn read_fields<'b>(d: &mut Decoder<'b>) -> Result<Fields<'b>> {
    let mut f = Fields::default();
    for_each_entry(d, |d, key| {
        match key {
            "type" => set(
                &mut f.ty,
                "type",
                opt(d, |d| text(d, "type", MAX_ID_BYTES))?,
            ),
            "senderId" => set(
                &mut f.sender_id,
                "senderId",
                opt(d, |d| peer_id(d, "senderId"))?,
            ),
            "targetId" => set(
                &mut f.target_id,
                "targetId",
                opt(d, |d| peer_id(d, "targetId"))?,
            ),
            "documentId" => set(&mut f.document_id, "documentId", opt(d, document_id)?),
            "data" => set(&mut f.data, "data", opt(d, |d| bytes(d, "data"))?),
            "supportedProtocolVersions" => set(
                &mut f.supported_versions,
                "supportedProtocolVersions",
                opt(d, |d| strings(d, "supportedProtocolVersions"))?,
            ),
            "selectedProtocolVersion" => set(
                &mut f.selected_version,
                "selectedProtocolVersion",
                opt(d, |d| text(d, "selectedProtocolVersion", MAX_ID_BYTES))?,
            ),
            // The README's CDDL says `metadata`; every implementation sends `peerMetadata`.
            "peerMetadata" | "metadata" => set(&mut f.metadata, "peerMetadata", opt(d, metadata)?),
            "message" => set(
                &mut f.message,
                "message",
                opt(d, |d| text(d, "message", MAX_ERROR_BYTES))?,
            ),
            "count" => set(&mut f.count, "count", opt(d, |d| uint(d, "count"))?),
            "sessionId" => set(
                &mut f.session_id,
                "sessionId",
                opt(d, |d| text(d, "sessionId", MAX_ID_BYTES))?,
            ),
            "add" => set(&mut f.add, "add", opt(d, |d| strings(d, "add"))?),
            "remove" => set(&mut f.remove, "remove", opt(d, |d| strings(d, "remove"))?),
            "newHeads" => set(&mut f.new_heads, "newHeads", opt(d, new_heads)?),
            _ => {
                d.skip()?;
                Ok(())
            }
        }
    })?;
    Ok(f)
}

fn build(f: Fields<'_>) -> Result<Message> {
    let ty = f.ty.ok_or(DecodeError::MissingField("type"))?;
    let sender = |s: Option<PeerId>| s.ok_or(DecodeError::MissingField("senderId"));
    let target = |t: Option<PeerId>| t.ok_or(DecodeError::MissingField("targetId"));
    let doc = |d: Option<CaseId>| d.ok_or(DecodeError::MissingField("documentId"));
    let data = |d: Option<&[u8]>| match d {
        None => Err(DecodeError::MissingField("data")),
        Some([]) => Err(DecodeError::Empty("data")),
        Some(d) => Ok(d.to_vec()),
    };
    Ok(match ty {
        "join" => Message::Join(Join {
            sender_id: sender(f.sender_id)?,
            supported_protocol_versions: f.supported_versions.unwrap_or_default(),
            peer_metadata: f.metadata,
        }),
        "peer" => Message::Peer(Peer {
            sender_id: sender(f.sender_id)?,
            target_id: target(f.target_id)?,
            selected_protocol_version: f
                .selected_version
                .ok_or(DecodeError::MissingField("selectedProtocolVersion"))?
                .to_owned(),
            peer_metadata: f.metadata,
        }),
        "error" => Message::Error(ErrorMessage {
            message: f.message.unwrap_or_default().to_owned(),
            sender_id: f.sender_id,
            target_id: f.target_id,
        }),
        "sync" | "request" => {
            let m = SyncMessage {
                sender_id: sender(f.sender_id)?,
                target_id: target(f.target_id)?,
                document_id: doc(f.document_id)?,
                data: data(f.data)?,
            };
            if ty == "sync" {
                Message::Sync(m)
            } else {
                Message::Request(m)
            }
        }
        "doc-unavailable" => Message::DocUnavailable(DocUnavailable {
            sender_id: sender(f.sender_id)?,
            target_id: target(f.target_id)?,
            document_id: doc(f.document_id)?,
        }),
        "ephemeral" => Message::Ephemeral(Ephemeral {
            sender_id: sender(f.sender_id)?,
            target_id: target(f.target_id)?,
            document_id: doc(f.document_id)?,
            count: f.count.ok_or(DecodeError::MissingField("count"))?,
            session_id: f
                .session_id
                .ok_or(DecodeError::MissingField("sessionId"))?
                .to_owned(),
            data: data(f.data)?,
        }),
        "remote-subscription-change" => {
            Message::RemoteSubscriptionChange(RemoteSubscriptionChange {
                sender_id: sender(f.sender_id)?,
                target_id: target(f.target_id)?,
                add: f.add.unwrap_or_default(),
                remove: f.remove.unwrap_or_default(),
            })
        }
        "remote-heads-changed" => Message::RemoteHeadsChanged(RemoteHeadsChanged {
            sender_id: sender(f.sender_id)?,
            target_id: target(f.target_id)?,
            document_id: doc(f.document_id)?,
            new_heads: f.new_heads.unwrap_or_default(),
        }),
        "leave" => Message::Leave(Leave {
            sender_id: sender(f.sender_id)?,
        }),
        _ => return Err(DecodeError::UnknownType),
    })
}

fn set<T>(slot: &mut Option<T>, name: &'static str, value: Option<T>) -> Result<()> {
    if let Some(v) = value {
        if slot.is_some() {
            return Err(DecodeError::DuplicateField(name));
        }
        *slot = Some(v);
    }
    Ok(())
}

/// `undefined` and `null` mean "absent" (cbor-x writes JS `undefined` as CBOR undefined).
fn opt<'b, T>(
    d: &mut Decoder<'b>,
    read: impl FnOnce(&mut Decoder<'b>) -> Result<T>,
) -> Result<Option<T>> {
    match d.datatype()? {
        Type::Undefined => {
            d.undefined()?;
            Ok(None)
        }
        Type::Null => {
            d.null()?;
            Ok(None)
        }
        _ => read(d).map(Some),
    }
}

fn text<'b>(d: &mut Decoder<'b>, field: &'static str, max: usize) -> Result<&'b str> {
    if d.datatype()? != Type::String {
        return Err(DecodeError::WrongType(field));
    }
    let s = d.str()?;
    if s.len() > max {
        return Err(DecodeError::TooLong(field));
    }
    Ok(s)
}

fn peer_id(d: &mut Decoder<'_>, field: &'static str) -> Result<PeerId> {
    let s = text(d, field, MAX_ID_BYTES)?;
    PeerId::new(s).map_err(|_| DecodeError::Empty(field))
}

/// A byte string; also accepted inside tag 64 (a typed-array tag some encoders add).
fn bytes<'b>(d: &mut Decoder<'b>, field: &'static str) -> Result<&'b [u8]> {
    if d.datatype()? == Type::Tag && d.tag()?.as_u64() != 64 {
        return Err(DecodeError::WrongType(field));
    }
    if d.datatype()? != Type::Bytes {
        return Err(DecodeError::WrongType(field));
    }
    Ok(d.bytes()?)
}

/// bs58check text (what everyone sends) or 16 raw bytes (samod accepts these too).
fn document_id(d: &mut Decoder<'_>) -> Result<CaseId> {
    match d.datatype()? {
        Type::String => {
            let s = d.str()?;
            s.parse().map_err(|_| DecodeError::BadDocumentId)
        }
        Type::Bytes => {
            let b: [u8; 16] = d
                .bytes()?
                .try_into()
                .map_err(|_| DecodeError::BadDocumentId)?;
            Ok(CaseId::from_bytes(b))
        }
        _ => Err(DecodeError::WrongType("documentId")),
    }
}

/// An unsigned integer; JS numbers may arrive as floats, accepted when exactly integral.
fn uint(d: &mut Decoder<'_>, field: &'static str) -> Result<u64> {
    const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;
    match d.datatype()? {
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => Ok(d.u64()?),
        Type::F32 | Type::F64 => {
            let f = d.f64()?;
            if f.is_finite() && f >= 0.0 && f.fract() == 0.0 && f <= MAX_SAFE_INTEGER {
                Ok(f as u64)
            } else {
                Err(DecodeError::WrongType(field))
            }
        }
        _ => Err(DecodeError::WrongType(field)),
    }
}

fn boolean(d: &mut Decoder<'_>, field: &'static str) -> Result<bool> {
    if d.datatype()? != Type::Bool {
        return Err(DecodeError::WrongType(field));
    }
    Ok(d.bool()?)
}

/// An array of strings, definite or indefinite, at most [`MAX_LIST_ITEMS`] long.
fn strings(d: &mut Decoder<'_>, field: &'static str) -> Result<Vec<String>> {
    if !matches!(d.datatype()?, Type::Array | Type::ArrayIndef) {
        return Err(DecodeError::WrongType(field));
    }
    let len = d.array()?;
    let mut out = Vec::new();
    loop {
        match len {
            Some(n) if out.len() as u64 >= n => return Ok(out),
            None if d.datatype()? == Type::Break => {
                d.skip()?;
                return Ok(out);
            }
            _ => {}
        }
        if out.len() >= MAX_LIST_ITEMS {
            return Err(DecodeError::TooLong(field));
        }
        out.push(text(d, field, MAX_ID_BYTES)?.to_owned());
    }
}

fn metadata(d: &mut Decoder<'_>) -> Result<PeerMetadata> {
    if !matches!(d.datatype()?, Type::Map | Type::MapIndef) {
        return Err(DecodeError::WrongType("peerMetadata"));
    }
    let mut storage: Option<String> = None;
    let mut ephemeral: Option<bool> = None;
    for_each_entry(d, |d, key| match key {
        "storageId" => set(
            &mut storage,
            "storageId",
            opt(d, |d| text(d, "storageId", MAX_ID_BYTES).map(str::to_owned))?,
        ),
        "isEphemeral" => set(
            &mut ephemeral,
            "isEphemeral",
            opt(d, |d| boolean(d, "isEphemeral"))?,
        ),
        _ => Ok(d.skip()?),
    })?;
    Ok(PeerMetadata {
        storage_id: storage,
        // Absent means the JS default for a repo without storage.
        is_ephemeral: ephemeral.unwrap_or(true),
    })
}

fn new_heads(d: &mut Decoder<'_>) -> Result<Vec<(String, RemoteHeads)>> {
    if !matches!(d.datatype()?, Type::Map | Type::MapIndef) {
        return Err(DecodeError::WrongType("newHeads"));
    }
    let mut out = Vec::new();
    for_each_entry(d, |d, storage| {
        if storage.len() > MAX_ID_BYTES {
            return Err(DecodeError::TooLong("newHeads"));
        }
        if !matches!(d.datatype()?, Type::Map | Type::MapIndef) {
            return Err(DecodeError::WrongType("newHeads"));
        }
        let mut heads: Option<Vec<String>> = None;
        let mut timestamp: Option<u64> = None;
        for_each_entry(d, |d, key| match key {
            "heads" => set(&mut heads, "heads", opt(d, |d| strings(d, "heads"))?),
            "timestamp" => set(
                &mut timestamp,
                "timestamp",
                opt(d, |d| uint(d, "timestamp"))?,
            ),
            _ => Ok(d.skip()?),
        })?;
        out.push((
            storage.to_owned(),
            RemoteHeads {
                heads: heads.unwrap_or_default(),
                timestamp: timestamp.unwrap_or_default(),
            },
        ));
        Ok(())
    })?;
    Ok(out)
}
