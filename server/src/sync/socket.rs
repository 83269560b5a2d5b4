//! The WebSocket driver of one connection (frames in → session → hub; hub → frames out;
//! keep-alive pings), and a minimal `GET /sync` router used by tests and tools.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use peerlog_core::protocol::{ErrorMessage, Message, PeerId};
use tokio::sync::{Notify, Semaphore, mpsc};

use super::hub::Input;
use super::metrics::Metrics;
use super::ports::Principal;
use super::runtime::{ConnHandle, Outbound, ShardMsg};
use super::session::{Frame, Limits, Session, Step};
use super::{Inner, SyncService};

/// How long one outgoing frame may take before the peer counts as gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a refused peer gets to acknowledge our close.
const CLOSE_LINGER: Duration = Duration::from_secs(2);

/// Maps a bearer token to a principal, for [`router`]. The relay's real authentication replaces
/// this; tests pass a small table.
pub type TokenAuth = Arc<dyn Fn(&str) -> Option<Principal> + Send + Sync>;

#[derive(Clone)]
struct RouterState {
    service: SyncService,
    auth: TokenAuth,
}

/// A router with only `GET /sync`: the token comes from `Authorization: Bearer` or `?token=`
/// (stock JS clients cannot set headers); no or unknown token → 401 before the upgrade.
pub fn router(service: SyncService, auth: TokenAuth) -> Router {
    Router::new()
        .route("/sync", get(sync_route))
        .with_state(RouterState { service, auth })
}

async fn sync_route(
    State(state): State<RouterState>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let token = bearer.or(query.get("token").map(String::as_str));
    match token.and_then(|t| (state.auth)(t)) {
        Some(principal) => state.service.upgrade(ws, principal),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// Why the connection loop ended.
enum End {
    /// The peer closed or vanished.
    Gone,
    /// We close; send this `error` first if given.
    Refuse(Option<Message>),
}

pub(super) async fn serve(inner: Arc<Inner>, mut socket: WebSocket, principal: Principal) {
    let config = &inner.config;
    let metrics = inner.metrics.clone();
    let conn = inner.next_conn();
    let Ok(expected) = PeerId::new(principal.peer_id()) else {
        let _ = socket.send(WsMessage::Close(None)).await;
        return;
    };
    let device = principal.device.clone();
    let principal = Arc::new(principal);
    let kill = Arc::new(Notify::new());
    inner.register(&device, conn, kill.clone());
    Metrics::inc(&metrics.connections_open);
    Metrics::inc(&metrics.connections_total);

    let (out_tx, mut out_rx) = mpsc::channel(config.outbox_capacity.max(1));
    for shard in inner.shards.all() {
        let _ = shard.send(ShardMsg::Connect {
            conn,
            principal: principal.clone(),
            peer_id: expected.clone(),
            handle: ConnHandle {
                outbox: out_tx.clone(),
                kill: kill.clone(),
            },
        });
    }
    drop(out_tx);
    let permits = Arc::new(Semaphore::new(config.inbound_in_flight.max(1)));
    let mut session = Session::new(
        expected,
        inner.server_peer.clone(),
        config.storage_id.clone(),
        Limits {
            max_frame_bytes: config.max_frame_bytes,
            messages_per_sec: config.max_messages_per_sec,
            burst: config.message_burst,
            max_docs: config.max_docs_per_connection,
        },
        Instant::now(),
    );
    let ping_every = config.ping_interval.max(Duration::from_millis(100));
    let mut ping = tokio::time::interval(ping_every);
    ping.tick().await;
    let mut last_heard = Instant::now();

    let end = loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(incoming) = incoming else { break End::Gone };
                last_heard = Instant::now();
                let owned;
                let frame = match incoming {
                    Ok(WsMessage::Binary(bytes)) => {
                        Metrics::inc(&metrics.messages_in);
                        Metrics::add(&metrics.bytes_in, bytes.len() as u64);
                        owned = bytes;
                        Frame::Binary(&owned)
                    }
                    Ok(WsMessage::Text(_)) => Frame::Text,
                    Ok(WsMessage::Ping(_) | WsMessage::Pong(_)) => continue,
                    Ok(WsMessage::Close(_)) => break End::Gone,
                    // The WebSocket layer refuses oversized or broken frames.
                    Err(_) => Frame::TooLarge,
                };
                match session.on_frame(frame, Instant::now()) {
                    Step::Reply(m) => {
                        if !send(&mut socket, &m, &metrics).await {
                            break End::Gone;
                        }
                    }
                    Step::Sync { doc, message } => {
                        let Ok(permit) = permits.clone().acquire_owned().await else { break End::Gone };
                        let input = Input::Sync { conn, doc, message };
                        if inner.shards.for_doc(&doc).send(ShardMsg::Input(input, Some(permit))).is_err() {
                            break End::Gone;
                        }
                    }
                    Step::Ephemeral(message) => {
                        let Ok(permit) = permits.clone().acquire_owned().await else { break End::Gone };
                        let shard = inner.shards.for_doc(&message.document_id);
                        let input = Input::Ephemeral { conn, message };
                        if shard.send(ShardMsg::Input(input, Some(permit))).is_err() {
                            break End::Gone;
                        }
                    }
                    Step::Ignore => {}
                    Step::Close(error) => break End::Refuse(error),
                }
            }
            out = out_rx.recv() => match out {
                Some(Outbound::Message(m)) => {
                    if !send(&mut socket, &m, &metrics).await {
                        break End::Gone;
                    }
                }
                Some(Outbound::Close(reason)) => break End::Refuse(Some(error(&inner, &reason, &session, &principal))),
                None => break End::Gone,
            },
            _ = ping.tick() => {
                if last_heard.elapsed() > ping_every * 2 {
                    break End::Gone;
                }
                let ping = socket.send(WsMessage::Ping(Default::default()));
                if !matches!(tokio::time::timeout(SEND_TIMEOUT, ping).await, Ok(Ok(()))) {
                    break End::Gone;
                }
            }
            _ = kill.notified() => break End::Refuse(None),
        }
    };

    if let End::Refuse(error) = end {
        Metrics::inc(&metrics.connections_refused);
        if let Some(m) = &error {
            Metrics::inc(&metrics.protocol_errors);
            tracing::info!(conn, reason = error_text(m), "closing a sync connection");
            let _ = send(&mut socket, m, &metrics).await;
        }
        let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(WsMessage::Close(None))).await;
        // Finish the closing handshake, discarding what the peer still sends, so that the
        // `error` is not lost to a TCP reset caused by unread input.
        let _ = tokio::time::timeout(CLOSE_LINGER, async {
            while let Some(Ok(frame)) = socket.recv().await {
                if matches!(frame, WsMessage::Close(_)) {
                    break;
                }
            }
        })
        .await;
    }
    for shard in inner.shards.all() {
        let _ = shard.send(ShardMsg::Input(Input::Disconnected { conn }, None));
    }
    inner.unregister(&device, conn);
    Metrics::dec(&metrics.connections_open);
}

fn error(inner: &Inner, reason: &str, session: &Session, principal: &Principal) -> Message {
    Message::Error(ErrorMessage {
        message: reason.to_owned(),
        sender_id: Some(inner.server_peer.clone()),
        target_id: session
            .joined()
            .then(|| PeerId::new(principal.peer_id()).ok())
            .flatten(),
    })
}

fn error_text(m: &Message) -> &str {
    match m {
        Message::Error(e) => &e.message,
        _ => "",
    }
}

/// Sends one message; false if the peer is gone or too slow.
async fn send(socket: &mut WebSocket, m: &Message, metrics: &Metrics) -> bool {
    let bytes = m.encode();
    Metrics::inc(&metrics.messages_out);
    Metrics::add(&metrics.bytes_out, bytes.len() as u64);
    let sent = socket.send(WsMessage::Binary(bytes.into()));
    matches!(tokio::time::timeout(SEND_TIMEOUT, sent).await, Ok(Ok(())))
}
