//! The hub: a sans-IO state machine that holds documents, one automerge `sync::State` per
//! (document, connection) that has spoken about it, and decides what to send, load and persist.
//!
//! It is fed [`Input`]s and returns [`Effect`]s; the runtime (`runtime.rs`) does the IO. Each hub
//! owns a disjoint set of documents (a shard). Work per event touches only the document and the
//! connections involved: no pass over all documents or connections, except for the explicit
//! `AccessChanged` administrative event.
//!
//! Durability rule: every change a document gains is handed to storage as an [`Effect::Append`]
//! right away, and nothing is generated for that document — for any peer — until every append of
//! it is acknowledged durable ([`Input::Persisted`]). Every automerge sync message carries our
//! heads, so this is exactly "no message whose heads include an unpersisted change".

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use automerge::sync::{self, SyncDoc};
use automerge::{ActorId, Automerge, ChangeHash};
use peerlog_core::ids::CaseId;
use peerlog_core::protocol::{DocUnavailable, Ephemeral, Message, PeerId, SyncMessage};

use super::SyncError;
use super::ports::{Access, AccessPolicy, DocAppend, Principal, WriteRefused};
use super::quota::DeviceQuota;

#[cfg(test)]
mod tests;

/// A connection's id, unique for the life of the process.
pub(crate) type ConnId = u64;

/// Runs a server-side write; invoked at most once on the hub thread.
pub(crate) type UpdateFn = Box<dyn FnOnce(&mut Automerge) + Send>;
/// Told the outcome of a server-side write once it is durable (or failed).
pub(crate) type UpdateDone = Box<dyn FnOnce(Result<(), SyncError>) + Send>;

/// Why a stored document could not be loaded (no content in it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoadFailure {
    Storage,
    Corrupt,
}

/// What happens to a hub.
pub(crate) enum Input {
    Connected {
        conn: ConnId,
        principal: Arc<Principal>,
        peer_id: PeerId,
    },
    Disconnected {
        conn: ConnId,
    },
    /// A `sync` or `request` whose payload already decoded as an automerge sync message.
    Sync {
        conn: ConnId,
        doc: CaseId,
        message: sync::Message,
    },
    Ephemeral {
        conn: ConnId,
        message: Ephemeral,
    },
    Loaded {
        doc: CaseId,
        result: Result<Option<Box<Automerge>>, LoadFailure>,
    },
    /// Appends acknowledged by storage: (document, load generation, sequence number).
    Persisted {
        appends: Vec<(CaseId, u64, u64)>,
        ok: bool,
    },
    Update {
        doc: CaseId,
        run: UpdateFn,
        done: UpdateDone,
    },
    AccessChanged,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Input::Connected { .. } => "Connected",
            Input::Disconnected { .. } => "Disconnected",
            Input::Sync { .. } => "Sync",
            Input::Ephemeral { .. } => "Ephemeral",
            Input::Loaded { .. } => "Loaded",
            Input::Persisted { .. } => "Persisted",
            Input::Update { .. } => "Update",
            Input::AccessChanged => "AccessChanged",
        };
        f.write_str(name)
    }
}

/// What the hub asks the runtime to do.
#[derive(Debug)]
pub(crate) enum Effect {
    Send {
        conn: ConnId,
        message: Message,
    },
    /// Send `error` with this text, then close the connection.
    Close {
        conn: ConnId,
        reason: Cow<'static, str>,
    },
    /// A device's changes were refused at the door (counted and logged by the runtime; the
    /// connection gets its own [`Effect::Close`]).
    Refused {
        doc: CaseId,
        who: Arc<Principal>,
        code: &'static str,
    },
    Load {
        doc: CaseId,
    },
    /// Persist durably, then answer with [`Input::Persisted`] carrying `generation` and `seq`.
    Append {
        append: DocAppend,
        generation: u64,
        seq: u64,
    },
    Compact {
        doc: CaseId,
        snapshot: Vec<u8>,
    },
}

/// Settings of one hub.
#[derive(Debug, Clone)]
pub(crate) struct HubConfig {
    pub(crate) peer_id: PeerId,
    pub(crate) actor: ActorId,
    pub(crate) max_loaded_docs: usize,
    pub(crate) compact_after_appends: u32,
    /// Run the door check ([`AccessPolicy::check_write`]) on devices' changes. Off only in
    /// tests and the benchmark's comparison run.
    pub(crate) check_content: bool,
    /// Most operations one document may hold; a device change beyond it is refused.
    pub(crate) max_doc_ops: u64,
    /// Bytes of changes per device per day, shared by all shards.
    pub(crate) device_quota: Arc<DeviceQuota>,
}

struct Conn {
    principal: Arc<Principal>,
    peer_id: PeerId,
    /// Documents this connection is attached to (has a `PeerDoc` in).
    docs: HashSet<CaseId>,
}

/// One connection's view of one document.
struct PeerDoc {
    /// `None` while the document is evicted; recreated fresh on reload.
    state: Option<sync::State>,
    access: Access,
}

impl PeerDoc {
    fn state(&mut self) -> &mut sync::State {
        let read_only = self.access == Access::Read;
        self.state.get_or_insert_with(|| {
            if read_only {
                sync::State::new_read_only()
            } else {
                sync::State::new()
            }
        })
    }
}

/// Work that arrived while a document was loading.
enum Pending {
    Sync {
        conn: ConnId,
        message: sync::Message,
    },
    Update {
        run: UpdateFn,
        done: UpdateDone,
    },
}

enum Body {
    Unloaded,
    Loading(Vec<Pending>),
    Ready(Box<Live>),
}

/// A loaded document and its durability bookkeeping.
struct Live {
    am: Automerge,
    /// Distinguishes this load from earlier ones in storage acknowledgements.
    generation: u64,
    /// Heads whose changes have all been handed to storage.
    queued_heads: Vec<ChangeHash>,
    appended: u64,
    durable: u64,
    appends_since_compact: u32,
    /// Server-side writes waiting for their append to be durable.
    waiting: Vec<(u64, UpdateDone)>,
    /// Connections to generate for once everything is durable.
    dirty: HashSet<ConnId>,
    lru_tick: u64,
}

impl Live {
    fn settled(&self) -> bool {
        self.appended == self.durable
    }
}

struct Doc {
    body: Body,
    peers: HashMap<ConnId, PeerDoc>,
}

/// The sans-IO hub of one shard.
pub(crate) struct Hub {
    config: HubConfig,
    access: Arc<dyn AccessPolicy>,
    conns: HashMap<ConnId, Conn>,
    docs: HashMap<CaseId, Doc>,
    lru: BTreeMap<u64, CaseId>,
    tick: u64,
    generation: u64,
    loaded: usize,
    effects: Vec<Effect>,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("conns", &self.conns.len())
            .field("docs", &self.docs.len())
            .field("loaded", &self.loaded)
            .finish_non_exhaustive()
    }
}

impl Hub {
    pub(crate) fn new(config: HubConfig, access: Arc<dyn AccessPolicy>) -> Self {
        Self {
            config,
            access,
            conns: HashMap::new(),
            docs: HashMap::new(),
            lru: BTreeMap::new(),
            tick: 0,
            generation: 0,
            loaded: 0,
            effects: Vec::new(),
        }
    }

    /// How many documents are loaded in memory.
    pub(crate) fn loaded(&self) -> usize {
        self.loaded
    }

    /// Takes the effects produced so far.
    pub(crate) fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub(crate) fn handle(&mut self, input: Input) {
        match input {
            Input::Connected {
                conn,
                principal,
                peer_id,
            } => {
                self.conns.insert(
                    conn,
                    Conn {
                        principal,
                        peer_id,
                        docs: HashSet::new(),
                    },
                );
            }
            Input::Disconnected { conn } => self.disconnected(conn),
            Input::Sync { conn, doc, message } => self.sync(conn, doc, message),
            Input::Ephemeral { conn, message } => self.ephemeral(conn, message),
            Input::Loaded { doc, result } => self.loaded_doc(doc, result),
            Input::Persisted { appends, ok } => {
                for (doc, generation, seq) in appends {
                    self.persisted(doc, generation, seq, ok);
                }
                self.evict_if_needed();
            }
            Input::Update { doc, run, done } => self.update(doc, run, done),
            Input::AccessChanged => self.access_changed(),
        }
    }

    fn disconnected(&mut self, conn: ConnId) {
        let Some(c) = self.conns.remove(&conn) else {
            return;
        };
        for doc in c.docs {
            let Some(d) = self.docs.get_mut(&doc) else {
                continue;
            };
            d.peers.remove(&conn);
            if let Body::Ready(live) = &mut d.body {
                live.dirty.remove(&conn);
            }
            self.forget_if_idle(doc);
        }
    }

    /// Drops a document entry that is neither loaded nor attached to anyone.
    fn forget_if_idle(&mut self, doc: CaseId) {
        if let Some(d) = self.docs.get(&doc)
            && d.peers.is_empty()
            && matches!(d.body, Body::Unloaded)
        {
            self.docs.remove(&doc);
        }
    }

    fn access_of(&self, conn: ConnId, doc: &CaseId) -> Option<Access> {
        let c = self.conns.get(&conn)?;
        Some(self.access.access(&c.principal, doc))
    }

    fn sync(&mut self, conn: ConnId, doc: CaseId, message: sync::Message) {
        let Some(access) = self.access_of(conn, &doc) else {
            return;
        };
        if access == Access::None {
            self.deny(conn, doc);
            return;
        }
        let d = self.docs.entry(doc).or_insert_with(|| Doc {
            body: Body::Unloaded,
            peers: HashMap::new(),
        });
        match &mut d.body {
            Body::Unloaded => {
                d.body = Body::Loading(vec![Pending::Sync { conn, message }]);
                self.effects.push(Effect::Load { doc });
            }
            Body::Loading(queue) => queue.push(Pending::Sync { conn, message }),
            Body::Ready(_) => self.apply_sync(conn, doc, access, message),
        }
    }

    /// `doc-unavailable` for a connection that may not (or can no longer) see a document, and
    /// detaches it. Identical for unknown, foreign and missing documents.
    fn deny(&mut self, conn: ConnId, doc: CaseId) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.docs.remove(&doc);
        let message = Message::DocUnavailable(DocUnavailable {
            sender_id: self.config.peer_id.clone(),
            target_id: c.peer_id.clone(),
            document_id: doc,
        });
        self.effects.push(Effect::Send { conn, message });
        if let Some(d) = self.docs.get_mut(&doc) {
            d.peers.remove(&conn);
            if let Body::Ready(live) = &mut d.body {
                live.dirty.remove(&conn);
            }
        }
        self.forget_if_idle(doc);
    }

    /// Applies a peer's sync message to a loaded document, persists what is new, and replies
    /// (now, or once durable). Access was checked by the caller.
    fn apply_sync(&mut self, conn: ConnId, doc: CaseId, access: Access, message: sync::Message) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        let Some(d) = self.docs.get_mut(&doc) else {
            return;
        };
        let Body::Ready(live) = &mut d.body else {
            return;
        };
        c.docs.insert(doc);
        let peer = d.peers.entry(conn).or_insert(PeerDoc {
            state: None,
            access,
        });
        if peer.access != access {
            peer.access = access;
            if let Some(state) = &mut peer.state {
                state.set_read_only(access == Access::Read);
            }
        }
        let before = live.am.get_heads();
        if live.am.receive_sync_message(peer.state(), message).is_err() {
            // Changes that do not apply: a broken or hostile peer.
            self.effects.push(Effect::Close {
                conn,
                reason: Cow::Borrowed("invalid changes in sync message"),
            });
            return;
        }
        if live.am.get_heads() != before {
            let verdict = door_check(
                &self.config,
                self.access.as_ref(),
                &c.principal,
                &doc,
                &live.am,
                &before,
            );
            if let Err(refused) = verdict {
                // Nothing of the refused changes was stored or sent: put the copy back as it was.
                match live.am.fork_at(&before) {
                    Ok(mut reverted) => {
                        reverted.set_actor(self.config.actor.clone());
                        live.am = reverted;
                    }
                    Err(_) => tracing::error!(%doc, "could not revert refused changes"),
                }
                d.peers.remove(&conn);
                live.dirty.remove(&conn);
                c.docs.remove(&doc);
                self.effects.push(Effect::Refused {
                    doc,
                    who: c.principal.clone(),
                    code: refused.code,
                });
                self.effects.push(Effect::Close {
                    conn,
                    reason: Cow::Owned(format!("changes refused: {}", refused.reason)),
                });
                return;
            }
        }
        live.dirty.insert(conn);
        if live.am.get_heads() != before {
            live.dirty.extend(d.peers.keys().copied());
            let written_by = Some((*c.principal).clone());
            queue_append(live, doc, written_by, &mut self.effects);
        }
        self.touch(doc);
        self.flush(doc);
    }

    /// Generates for the dirty peers of a document if everything it holds is durable.
    fn flush(&mut self, doc: CaseId) {
        let Some(d) = self.docs.get_mut(&doc) else {
            return;
        };
        let Body::Ready(live) = &mut d.body else {
            return;
        };
        if !live.settled() || live.dirty.is_empty() {
            return;
        }
        for conn in std::mem::take(&mut live.dirty) {
            let (Some(peer), Some(c)) = (d.peers.get_mut(&conn), self.conns.get(&conn)) else {
                continue;
            };
            // At most two rounds: automerge returns None once it has nothing new to say.
            for _ in 0..2 {
                let Some(m) = live.am.generate_sync_message(peer.state()) else {
                    break;
                };
                let message = Message::Sync(SyncMessage {
                    sender_id: self.config.peer_id.clone(),
                    target_id: c.peer_id.clone(),
                    document_id: doc,
                    data: m.encode(),
                });
                self.effects.push(Effect::Send { conn, message });
            }
        }
    }

    fn ephemeral(&mut self, conn: ConnId, message: Ephemeral) {
        let doc = message.document_id;
        // Only a peer that is syncing the document, and still may, can broadcast on it.
        let attached = self.conns.get(&conn).is_some_and(|c| c.docs.contains(&doc));
        if !attached || self.access_of(conn, &doc).is_none_or(|a| a == Access::None) {
            return;
        }
        let Some(d) = self.docs.get(&doc) else {
            return;
        };
        for other in d.peers.keys().copied().filter(|p| *p != conn) {
            let Some(c) = self.conns.get(&other) else {
                continue;
            };
            if self.access.access(&c.principal, &doc) == Access::None {
                continue;
            }
            let message = Message::Ephemeral(Ephemeral {
                target_id: c.peer_id.clone(),
                ..message.clone()
            });
            self.effects.push(Effect::Send {
                conn: other,
                message,
            });
        }
    }

    fn loaded_doc(&mut self, doc: CaseId, result: Result<Option<Box<Automerge>>, LoadFailure>) {
        let Some(d) = self.docs.get_mut(&doc) else {
            return;
        };
        let Body::Loading(queue) = std::mem::replace(&mut d.body, Body::Unloaded) else {
            return;
        };
        let has_updates = queue.iter().any(|p| matches!(p, Pending::Update { .. }));
        let failure = match &result {
            Err(LoadFailure::Storage) => SyncError::Storage,
            _ => SyncError::Load,
        };
        let am = match result {
            Ok(Some(am)) => {
                let mut am = *am;
                am.set_actor(self.config.actor.clone());
                Some(am)
            }
            // Only the relay creates documents: a missing one comes to life for a server write.
            Ok(None) if has_updates => Some(Automerge::new().with_actor(self.config.actor.clone())),
            Ok(None) | Err(_) => None,
        };
        let Some(am) = am else {
            for pending in queue {
                match pending {
                    Pending::Sync { conn, .. } => self.deny(conn, doc),
                    Pending::Update { done, .. } => done(Err(failure.clone())),
                }
            }
            self.forget_if_idle(doc);
            return;
        };
        self.generation += 1;
        let heads = am.get_heads();
        let live = Live {
            am,
            generation: self.generation,
            queued_heads: heads,
            appended: 0,
            durable: 0,
            appends_since_compact: 0,
            waiting: Vec::new(),
            dirty: HashSet::new(),
            lru_tick: 0,
        };
        if let Some(d) = self.docs.get_mut(&doc) {
            d.body = Body::Ready(Box::new(live));
        }
        self.loaded += 1;
        self.touch(doc);
        for pending in queue {
            match pending {
                Pending::Sync { conn, message } => self.sync(conn, doc, message),
                Pending::Update { run, done } => self.update(doc, run, done),
            }
        }
        self.evict_if_needed();
    }

    fn update(&mut self, doc: CaseId, run: UpdateFn, done: UpdateDone) {
        let d = self.docs.entry(doc).or_insert_with(|| Doc {
            body: Body::Unloaded,
            peers: HashMap::new(),
        });
        let live = match &mut d.body {
            Body::Unloaded => {
                d.body = Body::Loading(vec![Pending::Update { run, done }]);
                self.effects.push(Effect::Load { doc });
                return;
            }
            Body::Loading(queue) => {
                queue.push(Pending::Update { run, done });
                return;
            }
            Body::Ready(live) => live,
        };
        let before = live.am.get_heads();
        let outcome = match catch_unwind(AssertUnwindSafe(|| run(&mut live.am))) {
            Ok(()) => Ok(()),
            Err(_) => Err(SyncError::UpdatePanicked),
        };
        if live.am.get_heads() == before {
            done(outcome);
            return;
        }
        // Whatever the closure committed is in the document now: persist it like any change.
        live.dirty.extend(d.peers.keys().copied());
        queue_append(live, doc, None, &mut self.effects);
        match outcome {
            Ok(()) => live.waiting.push((live.appended, done)),
            Err(e) => done(Err(e)),
        }
        self.touch(doc);
    }

    fn persisted(&mut self, doc: CaseId, generation: u64, seq: u64, ok: bool) {
        let Some(d) = self.docs.get_mut(&doc) else {
            return;
        };
        let Body::Ready(live) = &mut d.body else {
            return;
        };
        if live.generation != generation {
            return;
        }
        if !ok {
            // What we hold is ahead of storage and nobody has seen it. Drop it; the writers'
            // sync states are reset by closing them, so they resend on reconnect.
            for (_, done) in std::mem::take(&mut live.waiting) {
                done(Err(SyncError::Storage));
            }
            let conns: Vec<ConnId> = d.peers.keys().copied().collect();
            self.unload(doc);
            for conn in conns {
                self.effects.push(Effect::Close {
                    conn,
                    reason: Cow::Borrowed("relay storage failed"),
                });
            }
            return;
        }
        live.durable = live.durable.max(seq);
        let durable = live.durable;
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut live.waiting)
            .into_iter()
            .partition(|(s, _)| *s <= durable);
        live.waiting = waiting;
        for (_, done) in ready {
            done(Ok(()));
        }
        if live.settled() && live.appends_since_compact >= self.config.compact_after_appends {
            live.appends_since_compact = 0;
            self.effects.push(Effect::Compact {
                doc,
                snapshot: live.am.save(),
            });
        }
        self.flush(doc);
    }

    /// Re-evaluates every attached (document, connection) pair, then drops unattached documents
    /// from the cache. Administrative and rare, so a full pass.
    fn access_changed(&mut self) {
        let pairs: Vec<(ConnId, CaseId)> = self
            .conns
            .iter()
            .flat_map(|(conn, c)| c.docs.iter().map(move |doc| (*conn, *doc)))
            .collect();
        let mut touched = HashSet::new();
        for (conn, doc) in pairs {
            let Some(access) = self.access_of(conn, &doc) else {
                continue;
            };
            if access == Access::None {
                self.deny(conn, doc);
                continue;
            }
            let Some(d) = self.docs.get_mut(&doc) else {
                continue;
            };
            let Some(peer) = d.peers.get_mut(&conn) else {
                continue;
            };
            if peer.access != access {
                peer.access = access;
                if let Some(state) = &mut peer.state {
                    state.set_read_only(access == Access::Read);
                }
                if let Body::Ready(live) = &mut d.body {
                    live.dirty.insert(conn);
                    touched.insert(doc);
                }
            }
        }
        for doc in touched {
            self.flush(doc);
        }
        // Access changes when a case is closed, reassigned or erased; an erased case's content
        // must not linger in memory, so durable documents nobody is attached to leave the cache.
        let idle: Vec<CaseId> = self
            .docs
            .iter()
            .filter(|(_, d)| {
                d.peers.is_empty()
                    && matches!(&d.body, Body::Ready(live) if live.settled() && live.waiting.is_empty())
            })
            .map(|(doc, _)| *doc)
            .collect();
        for doc in idle {
            self.compact_before_unload(doc);
            self.unload(doc);
        }
    }

    fn touch(&mut self, doc: CaseId) {
        let Some(Doc {
            body: Body::Ready(live),
            ..
        }) = self.docs.get_mut(&doc)
        else {
            return;
        };
        self.tick += 1;
        if live.lru_tick != 0 {
            self.lru.remove(&live.lru_tick);
        }
        live.lru_tick = self.tick;
        self.lru.insert(self.tick, doc);
    }

    fn unload(&mut self, doc: CaseId) {
        let Some(d) = self.docs.get_mut(&doc) else {
            return;
        };
        if let Body::Ready(live) = std::mem::replace(&mut d.body, Body::Unloaded) {
            self.lru.remove(&live.lru_tick);
            self.loaded -= 1;
            for peer in d.peers.values_mut() {
                peer.state = None;
            }
        }
        self.forget_if_idle(doc);
    }

    /// Evicts least recently used documents whose changes are all durable until the cache fits.
    /// Documents still waiting for storage are skipped (there are few of them).
    fn evict_if_needed(&mut self) {
        if self.loaded <= self.config.max_loaded_docs {
            return;
        }
        let mut victims = Vec::new();
        let mut excess = self.loaded - self.config.max_loaded_docs;
        for doc in self.lru.values() {
            if excess == 0 {
                break;
            }
            let evictable = matches!(
                self.docs.get(doc),
                Some(Doc { body: Body::Ready(live), .. })
                    if live.settled() && live.waiting.is_empty()
            );
            if evictable {
                victims.push(*doc);
                excess -= 1;
            }
        }
        for doc in victims {
            self.compact_before_unload(doc);
            self.unload(doc);
        }
    }

    /// Stores a document that has appends since its last snapshot as one snapshot before it
    /// leaves memory: reloading a snapshot is about 2.5 times cheaper than replaying changes,
    /// and it takes a tenth of the space.
    fn compact_before_unload(&mut self, doc: CaseId) {
        if let Some(Doc {
            body: Body::Ready(live),
            ..
        }) = self.docs.get_mut(&doc)
            && live.settled()
            && live.appends_since_compact > 0
        {
            live.appends_since_compact = 0;
            self.effects.push(Effect::Compact {
                doc,
                snapshot: live.am.save(),
            });
        }
    }
}

/// Hands the document's changes since the last append to storage.
fn queue_append(
    live: &mut Live,
    doc: CaseId,
    written_by: Option<Principal>,
    effects: &mut Vec<Effect>,
) {
    let mut changes = Vec::new();
    let mut hashes = Vec::new();
    for change in live.am.get_changes(&live.queued_heads) {
        changes.extend_from_slice(change.raw_bytes());
        hashes.push(change.hash());
    }
    live.queued_heads = live.am.get_heads();
    live.appended += 1;
    live.appends_since_compact = live.appends_since_compact.saturating_add(1);
    effects.push(Effect::Append {
        append: DocAppend {
            doc,
            changes,
            written_by,
            hashes,
        },
        generation: live.generation,
        seq: live.appended,
    });
}

/// The door check and the quotas for a device's changes, applied to `am` since `before`.
fn door_check(
    config: &HubConfig,
    access: &dyn AccessPolicy,
    who: &Principal,
    doc: &CaseId,
    am: &Automerge,
    before: &[ChangeHash],
) -> Result<(), WriteRefused> {
    let ops = automerge::ReadDoc::stats(am).num_ops;
    if ops > config.max_doc_ops {
        return Err(WriteRefused {
            code: "quota",
            reason: format!(
                "the document would hold more than {} operations",
                config.max_doc_ops
            ),
        });
    }
    let changes = am.get_changes(before);
    let bytes: usize = changes.iter().map(|c| c.raw_bytes().len()).sum();
    if config.check_content {
        let refs: Vec<&automerge::Change> = changes.iter().collect();
        access.check_write(who, doc, am, &refs)?;
    }
    if !config.device_quota.charge(&who.device, bytes as u64) {
        return Err(WriteRefused {
            code: "quota",
            reason: "this device sent more changes today than the relay accepts in a day"
                .to_owned(),
        });
    }
    Ok(())
}
