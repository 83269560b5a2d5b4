//! The IO around the hubs: one thread per hub shard, a pool of loader threads, and one storage
//! writer thread that group-commits appends from all shards.
//!
//! Connections talk to a shard through an unbounded channel, but each connection may have only a
//! few messages in flight (a semaphore permit travels with each message), so a fast sender waits
//! instead of queueing without bound. The hub never blocks: outgoing messages go to bounded
//! per-connection outboxes with `try_send`; a connection whose outbox is full is dropped as too
//! slow.

use std::collections::HashMap;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use automerge::Automerge;
use peerlog_core::ids::CaseId;
use peerlog_core::protocol::{Message, PeerId};
use tokio::sync::{Notify, OwnedSemaphorePermit, mpsc};

use super::hub::{ConnId, Effect, Hub, HubConfig, Input, LoadFailure};
use super::metrics::Metrics;
use super::ports::{AccessPolicy, DocAppend, DocStorage, Principal};

/// What a connection's socket task receives from the hubs.
#[derive(Debug)]
pub(crate) enum Outbound {
    Message(Message),
    /// Send `error` with this text and close.
    Close(std::borrow::Cow<'static, str>),
}

/// How a hub reaches one connection.
#[derive(Debug, Clone)]
pub(crate) struct ConnHandle {
    pub(crate) outbox: mpsc::Sender<Outbound>,
    pub(crate) kill: Arc<Notify>,
}

/// A message to a shard thread.
pub(crate) enum ShardMsg {
    Connect {
        conn: ConnId,
        principal: Arc<Principal>,
        peer_id: PeerId,
        handle: ConnHandle,
    },
    Input(Input, Option<OwnedSemaphorePermit>),
}

/// Handles to the running shards.
#[derive(Debug)]
pub(crate) struct Shards {
    senders: Vec<mpsc::UnboundedSender<ShardMsg>>,
}

impl Shards {
    pub(crate) fn for_doc(&self, doc: &CaseId) -> &mpsc::UnboundedSender<ShardMsg> {
        let b = doc.as_bytes();
        let key = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        &self.senders[(key % self.senders.len() as u64) as usize]
    }

    pub(crate) fn all(&self) -> &[mpsc::UnboundedSender<ShardMsg>] {
        &self.senders
    }
}

struct LoadJob {
    doc: CaseId,
    reply: mpsc::UnboundedSender<ShardMsg>,
}

enum WriteJob {
    Append {
        append: DocAppend,
        generation: u64,
        seq: u64,
        shard: usize,
        reply: mpsc::UnboundedSender<ShardMsg>,
    },
    Compact {
        doc: CaseId,
        snapshot: Vec<u8>,
    },
}

/// Settings the runtime needs.
#[derive(Debug, Clone)]
pub(crate) struct RuntimeConfig {
    pub(crate) hub: HubConfig,
    pub(crate) shards: usize,
    pub(crate) load_threads: usize,
    pub(crate) max_commit_batch: usize,
}

/// Starts the threads. They stop when every [`Shards`] sender is dropped.
pub(crate) fn start(
    storage: Arc<dyn DocStorage>,
    access: Arc<dyn AccessPolicy>,
    config: RuntimeConfig,
    metrics: Arc<Metrics>,
) -> Shards {
    let (write_tx, write_rx) = std_mpsc::channel::<WriteJob>();
    let (load_tx, load_rx) = std_mpsc::channel::<LoadJob>();
    {
        let storage = storage.clone();
        let metrics = metrics.clone();
        let max = config.max_commit_batch.max(1);
        spawn("peerlog-sync-writer", move || {
            writer(storage.as_ref(), write_rx, max, &metrics)
        });
    }
    let load_rx = Arc::new(Mutex::new(load_rx));
    for i in 0..config.load_threads.max(1) {
        let storage = storage.clone();
        let metrics = metrics.clone();
        let rx = load_rx.clone();
        spawn(&format!("peerlog-sync-load-{i}"), move || {
            loader(storage.as_ref(), &rx, &metrics)
        });
    }
    let shards = config.shards.max(1);
    let per_shard = config.hub.max_loaded_docs.div_ceil(shards).max(1);
    let mut senders = Vec::with_capacity(shards);
    for i in 0..shards {
        let (tx, rx) = mpsc::unbounded_channel();
        let hub = Hub::new(
            HubConfig {
                max_loaded_docs: per_shard,
                ..config.hub.clone()
            },
            access.clone(),
        );
        let driver = ShardDriver {
            index: i,
            hub,
            conns: HashMap::new(),
            me: tx.downgrade(),
            load_tx: load_tx.clone(),
            write_tx: write_tx.clone(),
            metrics: metrics.clone(),
            loaded: 0,
        };
        spawn(&format!("peerlog-sync-hub-{i}"), move || driver.run(rx));
        senders.push(tx);
    }
    Shards { senders }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) {
    if let Err(e) = std::thread::Builder::new().name(name.to_owned()).spawn(f) {
        tracing::error!(error = %e, thread = name, "could not start a sync thread");
    }
}

struct ShardDriver {
    index: usize,
    hub: Hub,
    conns: HashMap<ConnId, ConnHandle>,
    me: mpsc::WeakUnboundedSender<ShardMsg>,
    load_tx: std_mpsc::Sender<LoadJob>,
    write_tx: std_mpsc::Sender<WriteJob>,
    metrics: Arc<Metrics>,
    loaded: usize,
}

impl ShardDriver {
    fn run(mut self, mut rx: mpsc::UnboundedReceiver<ShardMsg>) {
        while let Some(msg) = rx.blocking_recv() {
            match msg {
                ShardMsg::Connect {
                    conn,
                    principal,
                    peer_id,
                    handle,
                } => {
                    self.conns.insert(conn, handle);
                    self.hub.handle(Input::Connected {
                        conn,
                        principal,
                        peer_id,
                    });
                }
                ShardMsg::Input(input, permit) => {
                    if let Input::Disconnected { conn } = &input {
                        self.conns.remove(conn);
                    }
                    self.hub.handle(input);
                    drop(permit);
                }
            }
            for effect in self.hub.take_effects() {
                self.execute(effect);
            }
            let loaded = self.hub.loaded();
            if loaded != self.loaded {
                if loaded > self.loaded {
                    Metrics::add(&self.metrics.docs_loaded, (loaded - self.loaded) as u64);
                } else {
                    self.metrics.docs_loaded.fetch_sub(
                        (self.loaded - loaded) as u64,
                        std::sync::atomic::Ordering::Relaxed,
                    );
                    Metrics::add(&self.metrics.doc_evictions, (self.loaded - loaded) as u64);
                }
                self.loaded = loaded;
            }
        }
    }

    fn execute(&mut self, effect: Effect) {
        match effect {
            Effect::Send { conn, message } => {
                if matches!(message, Message::DocUnavailable(_)) {
                    Metrics::inc(&self.metrics.doc_unavailable_sent);
                }
                self.deliver(conn, Outbound::Message(message));
            }
            Effect::Close { conn, reason } => self.deliver(conn, Outbound::Close(reason)),
            Effect::Refused { doc, who, code } => {
                Metrics::inc(&self.metrics.changes_refused);
                tracing::warn!(%doc, device = %who.device, code, "refused a device's changes");
            }
            Effect::Load { doc } => {
                if let Some(reply) = self.me.upgrade() {
                    let _ = self.load_tx.send(LoadJob { doc, reply });
                }
            }
            Effect::Append {
                append,
                generation,
                seq,
            } => {
                if let Some(reply) = self.me.upgrade() {
                    let _ = self.write_tx.send(WriteJob::Append {
                        append,
                        generation,
                        seq,
                        shard: self.index,
                        reply,
                    });
                }
            }
            Effect::Compact { doc, snapshot } => {
                let _ = self.write_tx.send(WriteJob::Compact { doc, snapshot });
            }
        }
    }

    fn deliver(&self, conn: ConnId, out: Outbound) {
        let Some(handle) = self.conns.get(&conn) else {
            return;
        };
        match handle.outbox.try_send(out) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::info!(conn, "closing a connection that does not read its messages");
                handle.kill.notify_one();
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}

fn loader(storage: &dyn DocStorage, rx: &Mutex<std_mpsc::Receiver<LoadJob>>, metrics: &Metrics) {
    loop {
        let job = {
            let guard = rx.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            guard.recv()
        };
        let Ok(job) = job else {
            return;
        };
        let started = Instant::now();
        let result = match storage.load(&job.doc) {
            Ok(None) => Ok(None),
            Ok(Some(bytes)) => Automerge::load(&bytes)
                .map(|am| Some(Box::new(am)))
                .map_err(|_| {
                    tracing::error!("a stored document could not be parsed");
                    LoadFailure::Corrupt
                }),
            Err(e) => {
                tracing::error!(error = %e, "loading a document failed");
                Metrics::inc(&metrics.storage_failures);
                Err(LoadFailure::Storage)
            }
        };
        Metrics::inc(&metrics.doc_loads);
        Metrics::add(
            &metrics.load_micros_total,
            started.elapsed().as_micros() as u64,
        );
        let _ = job.reply.send(ShardMsg::Input(
            Input::Loaded {
                doc: job.doc,
                result,
            },
            None,
        ));
    }
}

/// Group commit: takes whatever accumulated while the previous commit ran, writes it in one
/// durable transaction, then acknowledges every append to its shard.
fn writer(
    storage: &dyn DocStorage,
    rx: std_mpsc::Receiver<WriteJob>,
    max_batch: usize,
    metrics: &Metrics,
) {
    let mut batch = Batch::default();
    while let Ok(first) = rx.recv() {
        let mut jobs = vec![first];
        while jobs.len() < max_batch {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        for job in jobs {
            match job {
                WriteJob::Append {
                    append,
                    generation,
                    seq,
                    shard,
                    reply,
                } => {
                    batch.acks.push((shard, reply, append.doc, generation, seq));
                    batch.appends.push(append);
                }
                WriteJob::Compact { doc, snapshot } => {
                    // Earlier appends first: the snapshot includes them.
                    batch.commit(storage, metrics);
                    if let Err(e) = storage.compact(&doc, &snapshot) {
                        tracing::warn!(error = %e, "compacting a document failed; its changes stay");
                        Metrics::inc(&metrics.storage_failures);
                    }
                }
            }
        }
        batch.commit(storage, metrics);
    }
}

type Ack = (usize, mpsc::UnboundedSender<ShardMsg>, CaseId, u64, u64);

#[derive(Default)]
struct Batch {
    appends: Vec<DocAppend>,
    acks: Vec<Ack>,
}

impl Batch {
    fn commit(&mut self, storage: &dyn DocStorage, metrics: &Metrics) {
        if self.appends.is_empty() {
            return;
        }
        let started = Instant::now();
        let result = storage.append(&self.appends);
        metrics.record_commit(self.appends.len(), started.elapsed().as_micros() as u64);
        let ok = match result {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, appends = self.appends.len(), "group commit failed");
                Metrics::inc(&metrics.storage_failures);
                false
            }
        };
        self.appends.clear();
        let mut per_shard: HashMap<usize, (mpsc::UnboundedSender<ShardMsg>, Vec<_>)> =
            HashMap::new();
        for (shard, reply, doc, generation, seq) in self.acks.drain(..) {
            per_shard
                .entry(shard)
                .or_insert_with(|| (reply, Vec::new()))
                .1
                .push((doc, generation, seq));
        }
        for (_, (reply, appends)) in per_shard {
            let _ = reply.send(ShardMsg::Input(Input::Persisted { appends, ok }, None));
        }
    }
}
