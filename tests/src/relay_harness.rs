//! A relay sync engine on 127.0.0.1 with in-memory storage, a grant table and a token table, plus
//! a raw protocol client, for the interop and hostile-input tests.
//!
//! Authentication here is a shim ([`Relay::token_auth`]): a token maps straight to a principal.
//! The relay's real authentication replaces it by swapping that one function.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use automerge::sync::{self, SyncDoc};
use automerge::{Automerge, ChangeHash};
use futures_util::{SinkExt, StreamExt};
use peerlog_core::ids::CaseId;
use peerlog_core::protocol::{Join, Message, PeerId, PeerMetadata, SyncMessage};
use peerlog_server::sync::ports::{
    Access, AccessPolicy, DocAppend, DocStorage, Principal, Role, StorageError, WriteRefused,
};
use peerlog_server::sync::{SyncConfig, SyncService, TokenAuth, router};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Documents as concatenated chunks in memory.
#[derive(Debug, Default)]
pub struct MemDocStorage {
    docs: Mutex<HashMap<CaseId, Vec<u8>>>,
}

impl MemDocStorage {
    /// The stored document, parsed.
    pub fn doc(&self, id: &CaseId) -> Option<Automerge> {
        let docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        docs.get(id)
            .map(|b| Automerge::load(b).expect("stored bytes load"))
    }
}

impl DocStorage for MemDocStorage {
    fn load(&self, doc: &CaseId) -> Result<Option<Vec<u8>>, StorageError> {
        Ok(self
            .docs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(doc)
            .cloned())
    }

    fn append(&self, batch: &[DocAppend]) -> Result<(), StorageError> {
        let mut docs = self.docs.lock().unwrap_or_else(|p| p.into_inner());
        for a in batch {
            docs.entry(a.doc).or_default().extend_from_slice(&a.changes);
        }
        Ok(())
    }

    fn compact(&self, doc: &CaseId, snapshot: &[u8]) -> Result<(), StorageError> {
        self.docs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(*doc, snapshot.to_vec());
        Ok(())
    }
}

/// Access by (device, document); anything not granted is `None`.
#[derive(Debug, Default)]
pub struct GrantTable {
    grants: Mutex<HashMap<(String, CaseId), Access>>,
}

impl GrantTable {
    pub fn grant(&self, who: &Principal, doc: CaseId, access: Access) {
        self.grants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((who.device.to_string(), doc), access);
    }
}

impl AccessPolicy for GrantTable {
    fn access(&self, who: &Principal, doc: &CaseId) -> Access {
        self.grants
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(who.device.to_string(), *doc))
            .copied()
            .unwrap_or(Access::None)
    }

    /// This harness serves generic documents, not case documents: every write that access
    /// allows is kept. The case schema's door check is tested against the real relay
    /// (`tests/hostile_content.rs`).
    fn check_write(
        &self,
        _who: &Principal,
        _doc: &CaseId,
        _am: &automerge::Automerge,
        _changes: &[&automerge::Change],
    ) -> Result<(), WriteRefused> {
        Ok(())
    }
}

/// A running relay sync endpoint.
#[derive(Debug)]
pub struct Relay {
    pub addr: SocketAddr,
    pub service: SyncService,
    pub storage: Arc<MemDocStorage>,
    pub grants: Arc<GrantTable>,
    pub storage_id: String,
    tokens: Arc<Mutex<HashMap<String, Principal>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A principal for tests.
pub fn principal(user: &str, role: Role, device: &str) -> Principal {
    Principal {
        user: user.parse().expect("user id"),
        role,
        device: device.parse().expect("device id"),
    }
}

impl Relay {
    /// Starts the engine and `GET /sync` on 127.0.0.1 with a port chosen by the OS.
    pub async fn start(config: SyncConfig) -> Self {
        let storage = Arc::new(MemDocStorage::default());
        let grants = Arc::new(GrantTable::default());
        let storage_id = config.storage_id.clone();
        let service = SyncService::new(storage.clone(), grants.clone(), config);
        let tokens = Arc::new(Mutex::new(HashMap::new()));
        let app = router(service.clone(), Self::token_auth(tokens.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            service,
            storage,
            grants,
            storage_id,
            tokens,
            server,
        }
    }

    /// The authentication shim: a token is a key into a table of principals.
    pub fn token_auth(tokens: Arc<Mutex<HashMap<String, Principal>>>) -> TokenAuth {
        Arc::new(move |token: &str| {
            tokens
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(token)
                .cloned()
        })
    }

    /// Issues a token for a principal.
    pub fn token_for(&self, who: &Principal) -> String {
        let token = format!("tok-{}", who.device);
        self.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(token.clone(), who.clone());
        token
    }

    pub fn url(&self) -> String {
        format!("ws://{}/sync", self.addr)
    }

    pub fn url_with_token(&self, token: &str) -> String {
        format!("ws://{}/sync?token={token}", self.addr)
    }

    /// Creates (or edits) a document as the relay.
    pub async fn write(&self, doc: CaseId, f: impl FnOnce(&mut Automerge) + Send + 'static) {
        self.service.update_doc(doc, f).await.expect("relay write");
    }

    /// Creates a minimal case document as the relay: its id, a title and an empty contacts map.
    pub async fn seed_case(&self, id: CaseId, title: &'static str) {
        self.write(id, move |am| {
            use automerge::transaction::Transactable as _;
            am.transact::<_, _, automerge::AutomergeError>(|tx| {
                tx.put(automerge::ROOT, "caseId", id.to_string())?;
                tx.put(automerge::ROOT, "title", title)?;
                tx.put_object(automerge::ROOT, "contacts", automerge::ObjType::Map)?;
                Ok(())
            })
            .expect("seed");
        })
        .await;
    }
}

/// Why a raw client's exchange ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    Message(Message),
    /// The server closed the connection (after an optional error message).
    Closed,
    TimedOut,
}

/// A protocol client speaking raw frames, for hostile and protocol-level tests.
#[derive(Debug)]
pub struct RawClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub peer_id: PeerId,
    pub server: PeerId,
}

impl RawClient {
    /// Opens the WebSocket (no handshake yet).
    pub async fn connect(url: &str, peer_id: &str) -> Result<Self, String> {
        let (ws, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Self {
            ws,
            peer_id: PeerId::new(peer_id).expect("peer id"),
            server: PeerId::new("peerlog-relay").expect("peer id"),
        })
    }

    /// Connects and completes the `join`/`peer` handshake.
    pub async fn joined(url: &str, peer_id: &str) -> Self {
        let mut c = Self::connect(url, peer_id).await.expect("connect");
        c.send(&Message::Join(Join {
            sender_id: c.peer_id.clone(),
            supported_protocol_versions: vec!["1".into()],
            peer_metadata: Some(PeerMetadata {
                storage_id: None,
                is_ephemeral: true,
            }),
        }))
        .await;
        match c.recv().await {
            Received::Message(Message::Peer(p)) => c.server = p.sender_id,
            other => panic!("expected peer, got {other:?}"),
        }
        c
    }

    pub async fn send(&mut self, m: &Message) {
        let _ = self.ws.send(WsMessage::Binary(m.encode().into())).await;
    }

    pub async fn send_raw(&mut self, frame: WsMessage) {
        let _ = self.ws.send(frame).await;
    }

    /// The next protocol message (pings are answered and skipped).
    pub async fn recv(&mut self) -> Received {
        self.recv_within(Duration::from_secs(5)).await
    }

    pub async fn recv_within(&mut self, wait: Duration) -> Received {
        loop {
            match tokio::time::timeout(wait, self.ws.next()).await {
                Err(_) => return Received::TimedOut,
                Ok(None) | Ok(Some(Err(_))) => return Received::Closed,
                Ok(Some(Ok(WsMessage::Binary(b)))) => {
                    return Received::Message(Message::decode(&b).expect("relay sends valid CBOR"));
                }
                Ok(Some(Ok(WsMessage::Close(_)))) => return Received::Closed,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// Reads until the server closes; returns the `error` text it sent first, if any.
    pub async fn expect_error_and_close(&mut self) -> Option<String> {
        let mut error = None;
        loop {
            match self.recv().await {
                Received::Message(Message::Error(e)) => error = Some(e.message),
                Received::Message(_) => continue,
                Received::Closed => return error,
                Received::TimedOut => panic!("the relay did not close the connection"),
            }
        }
    }

    /// A `sync` (or `request`) frame for a document, from this client to the relay.
    pub fn sync_message(&self, doc: CaseId, data: Vec<u8>, request: bool) -> Message {
        let m = SyncMessage {
            sender_id: self.peer_id.clone(),
            target_id: self.server.clone(),
            document_id: doc,
            data,
        };
        if request {
            Message::Request(m)
        } else {
            Message::Sync(m)
        }
    }

    /// Runs the automerge sync protocol for one document until the relay goes quiet. Returns
    /// `false` if the relay said `doc-unavailable`.
    pub async fn sync_doc(
        &mut self,
        doc: CaseId,
        am: &mut Automerge,
        state: &mut sync::State,
    ) -> bool {
        let first = am.is_empty();
        if let Some(m) = am.generate_sync_message(state) {
            let msg = self.sync_message(doc, m.encode(), first);
            self.send(&msg).await;
        }
        loop {
            match self.recv_within(Duration::from_millis(700)).await {
                Received::Message(Message::Sync(m)) if m.document_id == doc => {
                    let decoded = sync::Message::decode(&m.data).expect("sync payload");
                    am.receive_sync_message(state, decoded).expect("apply");
                    if let Some(reply) = am.generate_sync_message(state) {
                        let msg = self.sync_message(doc, reply.encode(), false);
                        self.send(&msg).await;
                    }
                }
                Received::Message(Message::DocUnavailable(m)) if m.document_id == doc => {
                    return false;
                }
                Received::Message(_) => {}
                Received::TimedOut => return true,
                Received::Closed => panic!("the relay closed a well-behaved connection"),
            }
        }
    }
}

/// The heads a relay-side read sees for a document.
pub async fn relay_heads(relay: &Relay, doc: CaseId) -> Vec<ChangeHash> {
    relay
        .service
        .update_doc(doc, |am| am.get_heads())
        .await
        .expect("relay read")
}
