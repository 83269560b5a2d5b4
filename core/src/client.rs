//! The phone's sync client as a state machine: protocol messages and local edits in, messages to
//! send and events out. No sockets, no clock; a thin async driver feeds it (and tests feed it a
//! simulated relay).
//!
//! One session = one connection: [`SyncClient::connect`] yields the `join`; after the relay's
//! `peer` the client offers every case it holds (and asks for the ones it was told exist but does
//! not hold yet), then answers the relay's sync messages until both sides are quiet. A local
//! change is counted as synced only when the relay's heads contain it ([`LocalCases::confirm`]):
//! the relay persists before it sends heads. Sync states are kept per case across sessions so a
//! reconnect with nothing new costs one small round trip.

use std::collections::{BTreeMap, BTreeSet};

use automerge::sync;

use crate::ids::CaseId;
use crate::local::{LocalCases, LocalError};
use crate::protocol::{
    DocUnavailable, Join, Message, PROTOCOL_VERSION, PeerId, PeerMetadata, SyncMessage,
};
use crate::store::Store;

/// Why a session failed. Never carries case content.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the relay sent {0} before the handshake finished")]
    NotJoined(&'static str),
    #[error("the relay answered the handshake twice or out of turn")]
    UnexpectedPeer,
    #[error("the relay selected an unsupported protocol version")]
    UnsupportedVersion,
    #[error("a message was addressed to another peer")]
    WrongTarget,
    #[error("the relay sent a sync message that does not decode")]
    BadSyncMessage,
    #[error("the relay reported an error and closes the connection")]
    RelayError,
    /// The relay's door check refused this device's changes (the reason names a rule or a
    /// schema field, never content). They stay in the store, unconfirmed; retrying will not help.
    #[error("the relay refused this device's changes: {reason}")]
    ChangesRefused { reason: String },
    #[error(transparent)]
    Local(#[from] LocalError),
}

/// How the relay's `error` message starts when its door check refused this device's changes.
pub const CHANGES_REFUSED: &str = "changes refused: ";

/// Something the app may want to react to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// The handshake finished.
    Ready,
    /// New changes from the relay were merged into a case (`new` of them).
    CaseChanged { case: CaseId, new: usize },
    /// The relay confirmed `count` local changes of a case.
    Confirmed { case: CaseId, count: usize },
    /// The relay does not have this case or this device may not see it.
    Unavailable { case: CaseId },
    /// The user's directory changed (cases added, removed, settings).
    DirectoryChanged,
    /// A case is no longer listed for this user (reassigned away, closed away, erased) and
    /// holds changes the relay does not have yet: it stays on the device, sealed (no new edits,
    /// not in the case list), until they have reached the relay.
    HandingOver { case: CaseId, pending: usize },
    /// A case is gone from this device with its history: no longer listed and nothing left to
    /// hand over (`dropped == 0`), or refused by the relay while it still held `dropped`
    /// unsynced changes (the case was erased, or the handover period ran out).
    CaseRemoved { case: CaseId, dropped: usize },
}

/// What a step of the state machine produced.
#[derive(Debug, Default)]
pub struct Output {
    pub send: Vec<Message>,
    pub events: Vec<ClientEvent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Disconnected,
    Joining,
    Ready,
}

/// The sync client of one device.
#[derive(Debug)]
pub struct SyncClient {
    me: PeerId,
    storage_id: String,
    phase: Phase,
    relay: Option<PeerId>,
    /// Sync states of the cases spoken about in this session.
    states: BTreeMap<CaseId, sync::State>,
    /// Cases the device should hold but has not received yet (from its directory).
    wanted: BTreeSet<CaseId>,
    unavailable: BTreeSet<CaseId>,
}

impl SyncClient {
    /// `me` is the peer id the relay bound to this device at enrolment; `storage_id` names this
    /// device's store (it lets the relay keep sync state for us).
    pub fn new(me: PeerId, storage_id: String) -> Self {
        Self {
            me,
            storage_id,
            phase: Phase::Disconnected,
            relay: None,
            states: BTreeMap::new(),
            wanted: BTreeSet::new(),
            unavailable: BTreeSet::new(),
        }
    }

    /// Starts a session on a freshly opened connection: the `join` to send.
    pub fn connect(&mut self) -> Message {
        self.phase = Phase::Joining;
        self.relay = None;
        self.states.clear();
        self.unavailable.clear();
        Message::Join(Join {
            sender_id: self.me.clone(),
            supported_protocol_versions: vec![PROTOCOL_VERSION.to_owned()],
            peer_metadata: Some(PeerMetadata {
                storage_id: Some(self.storage_id.clone()),
                is_ephemeral: false,
            }),
        })
    }

    /// Ends a session (connection closed or cut): keeps each case's sync state for next time.
    pub fn disconnect<S: Store>(&mut self, cases: &mut LocalCases<S>) -> Result<(), ClientError> {
        for (case, state) in std::mem::take(&mut self.states) {
            if cases.doc(&case).is_some() || cases.directory_id() == Some(case) {
                cases.save_sync_state(&case, &state)?;
            }
        }
        self.phase = Phase::Disconnected;
        self.relay = None;
        Ok(())
    }

    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// Asks for a case this device should hold (listed in its directory) but does not.
    pub fn want<S: Store>(
        &mut self,
        case: CaseId,
        cases: &mut LocalCases<S>,
    ) -> Result<Output, ClientError> {
        self.wanted.insert(case);
        let mut out = Output::default();
        if self.is_ready() && cases.doc(&case).is_none() {
            self.offer(case, cases, &mut out)?;
        }
        Ok(out)
    }

    /// Cases asked for that the relay said it does not have (or this device may not see).
    pub fn unavailable(&self) -> impl Iterator<Item = &CaseId> {
        self.unavailable.iter()
    }

    /// After a local edit of `case`: the messages that carry it to the relay.
    pub fn local_change<S: Store>(
        &mut self,
        case: CaseId,
        cases: &mut LocalCases<S>,
    ) -> Result<Output, ClientError> {
        let mut out = Output::default();
        if self.is_ready() {
            self.offer(case, cases, &mut out)?;
        }
        Ok(out)
    }

    /// Handles one message from the relay.
    pub fn handle<S: Store>(
        &mut self,
        message: Message,
        cases: &mut LocalCases<S>,
    ) -> Result<Output, ClientError> {
        let mut out = Output::default();
        match message {
            Message::Peer(peer) => {
                if self.phase != Phase::Joining {
                    return Err(ClientError::UnexpectedPeer);
                }
                if peer.selected_protocol_version != PROTOCOL_VERSION {
                    return Err(ClientError::UnsupportedVersion);
                }
                if peer.target_id != self.me {
                    return Err(ClientError::WrongTarget);
                }
                self.relay = Some(peer.sender_id);
                self.phase = Phase::Ready;
                out.events.push(ClientEvent::Ready);
                let mut all: BTreeSet<CaseId> = cases.case_ids().into_iter().collect();
                all.extend(self.wanted.iter().copied());
                all.extend(cases.directory_id());
                for case in all {
                    self.offer(case, cases, &mut out)?;
                }
            }
            Message::Sync(msg) | Message::Request(msg) => {
                self.check_ready("sync")?;
                if msg.target_id != self.me {
                    return Err(ClientError::WrongTarget);
                }
                self.receive(msg, cases, &mut out)?;
            }
            Message::DocUnavailable(DocUnavailable {
                document_id,
                target_id,
                ..
            }) => {
                self.check_ready("doc-unavailable")?;
                if target_id != self.me {
                    return Err(ClientError::WrongTarget);
                }
                self.unavailable.insert(document_id);
                self.states.remove(&document_id);
                out.events
                    .push(ClientEvent::Unavailable { case: document_id });
                if cases.is_handing_over(&document_id) {
                    // The relay no longer takes this case (erased, or the handover period is
                    // over): erasure wins, and the app is told what was dropped.
                    let dropped = cases.pending_for(&document_id)?;
                    self.remove(document_id, dropped, cases, &mut out)?;
                }
            }
            Message::Error(e) => {
                return Err(match e.message.strip_prefix(CHANGES_REFUSED) {
                    Some(reason) => ClientError::ChangesRefused {
                        reason: reason.chars().take(200).collect(),
                    },
                    None => ClientError::RelayError,
                });
            }
            // Relayed presence, heads gossip and advisory messages mean nothing to this client.
            Message::Ephemeral(_)
            | Message::RemoteSubscriptionChange(_)
            | Message::RemoteHeadsChanged(_)
            | Message::Leave(_)
            | Message::Join(_) => {}
        }
        Ok(out)
    }

    fn check_ready(&self, what: &'static str) -> Result<(), ClientError> {
        if self.phase == Phase::Ready {
            Ok(())
        } else {
            Err(ClientError::NotJoined(what))
        }
    }

    fn state<S: Store>(
        &mut self,
        case: CaseId,
        cases: &LocalCases<S>,
    ) -> Result<&mut sync::State, ClientError> {
        Ok(match self.states.entry(case) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => e.insert(cases.sync_state(&case)?),
        })
    }

    /// Sends whatever the relay should hear about `case` now: a `sync` for a held case, a
    /// `request` for a wanted one.
    fn offer<S: Store>(
        &mut self,
        case: CaseId,
        cases: &mut LocalCases<S>,
        out: &mut Output,
    ) -> Result<(), ClientError> {
        let Some(relay) = self.relay.clone() else {
            return Ok(());
        };
        let held = cases.doc(&case).is_some();
        let state = self.state(case, cases)?;
        if let Some(message) = cases.generate_sync_message(&case, state) {
            let msg = SyncMessage {
                sender_id: self.me.clone(),
                target_id: relay,
                document_id: case,
                data: message.encode(),
            };
            out.send.push(if held {
                Message::Sync(msg)
            } else {
                Message::Request(msg)
            });
        }
        Ok(())
    }

    /// Removes a case and its history from the device and says so.
    fn remove<S: Store>(
        &mut self,
        case: CaseId,
        dropped: usize,
        cases: &mut LocalCases<S>,
        out: &mut Output,
    ) -> Result<(), ClientError> {
        cases.remove_case(&case)?;
        self.states.remove(&case);
        out.events.push(ClientEvent::CaseRemoved { case, dropped });
        Ok(())
    }

    /// Makes the held cases match the directory: asks for newly listed cases; removes cases no
    /// longer listed (with their history) once they hold nothing the relay lacks.
    fn follow_directory<S: Store>(
        &mut self,
        cases: &mut LocalCases<S>,
        out: &mut Output,
    ) -> Result<(), ClientError> {
        let Some(directory) = cases.directory() else {
            return Ok(());
        };
        for case in cases.case_ids() {
            if !directory.cases.contains_key(&case) {
                // Unsynced words survive a directory change: a case with pending changes is
                // kept until the relay has them (the relay accepts them for a grace period).
                let pending = cases.pending_for(&case)?;
                if pending == 0 {
                    self.remove(case, 0, cases, out)?;
                } else {
                    out.events.push(ClientEvent::HandingOver { case, pending });
                    self.offer(case, cases, out)?;
                }
            }
        }
        for case in directory.cases.keys() {
            if cases.doc(case).is_none() && !cases.is_quarantined(case) && self.wanted.insert(*case)
            {
                self.offer(*case, cases, out)?;
            }
        }
        Ok(())
    }

    fn receive<S: Store>(
        &mut self,
        msg: SyncMessage,
        cases: &mut LocalCases<S>,
        out: &mut Output,
    ) -> Result<(), ClientError> {
        let case = msg.document_id;
        let message = sync::Message::decode(&msg.data).map_err(|_| ClientError::BadSyncMessage)?;
        let state = self.state(case, cases)?;
        let new = cases.receive_sync_message(&case, state, message)?;
        if cases.directory_id() == Some(case) {
            if new > 0 {
                out.events.push(ClientEvent::DirectoryChanged);
                self.follow_directory(cases, out)?;
            }
            return self.offer(case, cases, out);
        }
        if new > 0 {
            self.wanted.remove(&case);
            self.unavailable.remove(&case);
            out.events.push(ClientEvent::CaseChanged { case, new });
        }
        if cases.doc(&case).is_some() {
            let relay_heads = self.states.get(&case).and_then(|s| s.their_heads.clone());
            if let Some(heads) = relay_heads {
                let count = cases.confirm(&case, &heads)?;
                if count > 0 {
                    out.events.push(ClientEvent::Confirmed { case, count });
                }
                if cases.is_handing_over(&case) && cases.pending_for(&case)? == 0 {
                    // Everything it held has reached the relay: the handover is done.
                    self.remove(case, 0, cases, out)?;
                    return Ok(());
                }
            }
        }
        self.offer(case, cases, out)
    }
}

#[cfg(test)]
mod tests;
