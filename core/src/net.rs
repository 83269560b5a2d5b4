//! The phone's thin network driver around the sans-IO [`SyncClient`]: enrolment and tokens over
//! HTTP (JSON, `ureq` on a blocking thread), one sync session over a WebSocket
//! (`tokio-tungstenite`; `wss://` with rustls on the ring provider and the webpki roots or the
//! organisation's own CA ([`Trust`]), plain `ws://` for loopback), and the pure reconnect policy ([`backoff`]).
//!
//! This is the one module of `core` that does network IO; everything it decides is left to the
//! state machine in [`crate::client`]. It never reads the wall clock: `now` comes in as an
//! argument (the only timers are the session's quiet period and overall bound).
//!
//! The device key (Ed25519, PKCS#8) and the enrolment are kept as sealed secrets in the device's
//! store. A revoked device is told to wipe itself: every call that meets that order returns
//! [`NetError::Wiped`], after which the app drops its store and calls [`wipe`] on the file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::{SinkExt as _, StreamExt as _};
use rand::RngCore;
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::client::{ClientError, ClientEvent, SyncClient};
use crate::crypto::{CryptoError, DeviceKey};
use crate::ids::{CaseId, DeviceId, UserId};
use crate::local::{LocalCases, LocalError};
use crate::model::UnixMillis;
use crate::protocol::{Message, PeerId};
use crate::store::{Store, StoreError};

#[cfg(test)]
mod tests;
mod trust;

pub use trust::Trust;

/// Name of the sealed secret holding the device's Ed25519 key (PKCS#8).
const DEVICE_KEY_SECRET: &str = "device-key";
/// Name of the sealed secret holding the enrolment (JSON).
const ENROLMENT_SECRET: &str = "enrolment";
/// What the device signs to get a token: `prefix \n deviceId \n challenge`.
const TOKEN_SIGNING_PREFIX: &str = "peerlog-token-v1";
/// A cached token is not used in its last minute.
const TOKEN_MARGIN_MS: i64 = 60_000;
/// Largest JSON body accepted from the relay's HTTP API.
const MAX_HTTP_BODY: u64 = 64 * 1024;

/// Why a network step failed. Carries relay error codes and sizes, never case content, codes,
/// tokens or keys.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// The relay revoked this device and ordered a wipe: delete the store and its key now
    /// (drop the store, then [`wipe`]).
    #[error("this device was revoked; its data must be wiped")]
    Wiped,
    /// The store holds no enrolment (or no device key).
    #[error("this device is not enrolled")]
    NotEnrolled,
    /// The relay URL is not `http://` or `https://`.
    #[error("the relay address must start with http:// or https://")]
    BadUrl,
    /// The relay answered an HTTP call with an error (its stable `code`).
    #[error("the relay refused the request: HTTP {status} ({code})")]
    Refused { status: u16, code: String },
    /// The relay's answer did not have the expected shape.
    #[error("the relay's answer is malformed: {0}")]
    BadResponse(&'static str),
    /// HTTP could not reach the relay (no signal, DNS, TLS, timeout).
    #[error("the relay could not be reached over HTTP")]
    Http(#[source] Box<ureq::Error>),
    /// The WebSocket could not be opened, or failed mid-session.
    #[error("the sync connection failed")]
    WebSocket(#[source] Box<tokio_tungstenite::tungstenite::Error>),
    /// The relay refused the sync connection's token twice in a row.
    #[error("the relay refused the sync token")]
    Unauthorized,
    /// The relay closed the sync connection before the session finished.
    #[error("the relay closed the sync connection")]
    Closed,
    /// The session did not become quiet within its overall bound.
    #[error("the sync session timed out")]
    Timeout,
    /// The relay sent a frame that is not a protocol message.
    #[error("the relay sent an undecodable frame")]
    BadFrame,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Local(#[from] LocalError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a blocking network task failed")]
    Task,
    /// The organisation's CA certificate given to [`Trust::own_ca_pem`] is not usable.
    #[error("the CA certificate is not a usable PEM certificate")]
    BadCertificate,
}

/// What enrolment bound to this device; kept (sealed) in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub device_id: DeviceId,
    /// The peer id the relay bound to this device (the `senderId` it must use).
    pub peer_id: PeerId,
    pub user_id: UserId,
    /// `prw`, `coordinator` or `admin`.
    pub role: String,
    /// The user's directory document.
    pub directory_doc_id: CaseId,
}

impl Enrolment {
    fn to_json(&self) -> Value {
        json!({
            "deviceId": self.device_id.as_str(),
            "peerId": self.peer_id.as_str(),
            "userId": self.user_id.as_str(),
            "role": self.role,
            "directoryDocId": self.directory_doc_id.to_string(),
        })
    }

    fn from_json(v: &Value) -> Result<Self, NetError> {
        let field = |name: &'static str| {
            v.get(name)
                .and_then(Value::as_str)
                .ok_or(NetError::BadResponse(name))
        };
        Ok(Self {
            device_id: field("deviceId")?
                .parse()
                .map_err(|_| NetError::BadResponse("deviceId"))?,
            peer_id: PeerId::new(field("peerId")?).map_err(|_| NetError::BadResponse("peerId"))?,
            user_id: field("userId")?
                .parse()
                .map_err(|_| NetError::BadResponse("userId"))?,
            role: field("role").unwrap_or("prw").to_owned(),
            directory_doc_id: field("directoryDocId")?
                .parse()
                .map_err(|_| NetError::BadResponse("directoryDocId"))?,
        })
    }
}

/// The enrolment kept in a store, if the device is enrolled.
pub fn load_enrolment<S: Store>(store: &S) -> Result<Option<Enrolment>, NetError> {
    match store.get_secret(ENROLMENT_SECRET)? {
        None => Ok(None),
        Some(bytes) => {
            let v: Value = serde_json::from_slice(&bytes)
                .map_err(|_| NetError::BadResponse("stored enrolment"))?;
            Enrolment::from_json(&v).map(Some)
        }
    }
}

/// Opens an enrolled device's cases: the store's enrolment gives the device id and the
/// directory document.
pub fn open_cases<S: Store>(
    store: S,
    rng: &mut dyn RngCore,
) -> Result<(LocalCases<S>, Enrolment), NetError> {
    let enrolment = load_enrolment(&store)?.ok_or(NetError::NotEnrolled)?;
    let mut cases = LocalCases::open(store, enrolment.device_id.clone(), rng)?;
    cases.set_directory_id(enrolment.directory_doc_id)?;
    Ok((cases, enrolment))
}

/// Enrols this device with a one-time code: generates its Ed25519 key, registers the public key
/// with the relay, and keeps key and enrolment sealed in `store`. `relay_url` is the relay's base
/// address (`https://relay.example.org`, or `http://127.0.0.1:port` on loopback).
pub async fn enrol<S: Store>(
    store: &mut S,
    relay_url: &str,
    code: &str,
    device_name: &str,
) -> Result<Enrolment, NetError> {
    enrol_trusting(store, relay_url, code, device_name, &Trust::default()).await
}

/// [`enrol`] with a chosen TLS trust (an organisation's own CA).
pub async fn enrol_trusting<S: Store>(
    store: &mut S,
    relay_url: &str,
    code: &str,
    device_name: &str,
    trust: &Trust,
) -> Result<Enrolment, NetError> {
    let base = base_url(relay_url)?;
    let pkcs8 = DeviceKey::generate_pkcs8()?;
    let key = DeviceKey::from_pkcs8(&pkcs8)?;
    let body = json!({
        "code": code,
        "publicKey": BASE64.encode(key.public_key()),
        "deviceName": device_name,
    });
    let answer = post_json(agent(trust), format!("{base}/api/v1/enrol"), body).await?;
    let enrolment = Enrolment::from_json(&answer)?;
    store.put_secret(DEVICE_KEY_SECRET, &pkcs8)?;
    store.put_secret(ENROLMENT_SECRET, enrolment.to_json().to_string().as_bytes())?;
    Ok(enrolment)
}

/// Deletes a device's SQLite store file and its `-wal`, `-shm` and `-journal` companions (after a
/// wipe order or the lost-phone policy). Drop the store first. Files already gone are fine.
pub fn wipe(path: &Path) -> std::io::Result<()> {
    let mut names = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        names.push(name.into());
    }
    for name in names {
        match std::fs::remove_file(&name) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// First delay of [`backoff`].
pub const BACKOFF_BASE: Duration = Duration::from_millis(500);
/// Longest delay of [`backoff`].
pub const BACKOFF_CAP: Duration = Duration::from_secs(5 * 60);

/// How long to wait before reconnect attempt `attempt` (0 = the first retry): exponential with
/// full jitter, uniform in `[0, min(cap, base · 2^attempt)]`, so many phones regaining signal at
/// once do not reconnect in lockstep.
pub fn backoff(attempt: u32, rng: &mut dyn RngCore) -> Duration {
    RetryPolicy::default().delay(attempt, rng)
}

/// How [`Syncer::sync_retrying`] retries a sync that failed for a passing reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least one is made).
    pub max_attempts: u32,
    /// First delay ceiling; doubles per attempt.
    pub base: Duration,
    /// Largest delay ceiling.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base: BACKOFF_BASE,
            cap: BACKOFF_CAP,
        }
    }
}

impl RetryPolicy {
    /// The delay before retry `attempt` (0 = the first retry): uniform in
    /// `[0, min(cap, base · 2^attempt)]` (exponential backoff with full jitter).
    pub fn delay(&self, attempt: u32, rng: &mut dyn RngCore) -> Duration {
        let ceiling = u64::try_from(self.ceiling(attempt).as_millis()).unwrap_or(u64::MAX - 1);
        Duration::from_millis(rng.next_u64() % (ceiling + 1))
    }

    /// The largest delay ceiling before retry `attempt`: `min(cap, base · 2^attempt)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let doubled = 1u32
            .checked_shl(attempt)
            .and_then(|factor| self.base.checked_mul(factor));
        doubled.map_or(self.cap, |d| d.min(self.cap))
    }

    /// The longest [`Syncer::sync_retrying`] can spend waiting between attempts in all: the sum
    /// of the ceilings of its `max_attempts - 1` delays. With each session bounded by
    /// [`SyncOptions::timeout`], a whole retry loop takes at most
    /// `max_attempts · timeout + max_total_delay()`.
    pub fn max_total_delay(&self) -> Duration {
        let waits = self.max_attempts.saturating_sub(1);
        let mut total = Duration::ZERO;
        for attempt in 0..waits {
            let ceiling = self.ceiling(attempt);
            if ceiling >= self.cap {
                // Every later wait is capped too.
                return total.saturating_add(self.cap.saturating_mul(waits - attempt));
            }
            total = total.saturating_add(ceiling);
        }
        total
    }
}

impl NetError {
    /// Whether trying again later may succeed: no signal, a cut connection, a relay restarting.
    /// A wipe order, a refusal, a bad configuration or a local storage failure will not go away
    /// by retrying.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Http(_) | Self::WebSocket(_) | Self::Closed | Self::Timeout | Self::Task => true,
            // The relay answers 429 (rate limit) and 5xx (a restart, an overload) for a while.
            Self::Refused { status, .. } => *status == 429 || *status >= 500,
            Self::Wiped
            | Self::NotEnrolled
            | Self::BadUrl
            | Self::BadResponse(_)
            | Self::Unauthorized
            | Self::BadFrame
            | Self::BadCertificate
            | Self::Crypto(_)
            | Self::Client(_)
            | Self::Local(_)
            | Self::Store(_) => false,
        }
    }
}

/// Timing of one sync session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncOptions {
    /// The session ends after this long without frames once every offer was answered.
    pub quiet: Duration,
    /// How long to wait for an answer to an offer before giving up on it.
    pub answer_wait: Duration,
    /// Overall bound on a session (connect included).
    pub timeout: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            quiet: Duration::from_millis(300),
            answer_wait: Duration::from_secs(3),
            timeout: Duration::from_secs(60),
        }
    }
}

/// What one sync session did. Byte counts are WebSocket message payloads (protocol frames),
/// without WebSocket, TLS and TCP framing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub sent_frames: usize,
    pub received_frames: usize,
    pub bytes_sent: usize,
    pub bytes_received: usize,
    /// Times the device waited for the relay after sending (handshake included).
    pub round_trips: usize,
    /// Local changes the relay confirmed in this session.
    pub confirmed: usize,
    /// Local changes still not confirmed after it.
    pub pending_after: u64,
    /// What the client reported (cases changed, removed, unavailable…).
    pub events: Vec<ClientEvent>,
}

type Ws = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

/// One enrolled device's connection to its relay: tokens and sync sessions.
#[derive(Debug)]
pub struct Syncer {
    base: String,
    enrolment: Enrolment,
    client: SyncClient,
    token: Option<(String, UnixMillis)>,
    options: SyncOptions,
    trust: Trust,
}

impl Syncer {
    pub fn new(relay_url: &str, enrolment: Enrolment) -> Result<Self, NetError> {
        let client = SyncClient::new(
            enrolment.peer_id.clone(),
            enrolment.device_id.as_str().to_owned(),
        );
        Ok(Self {
            base: base_url(relay_url)?,
            enrolment,
            client,
            token: None,
            options: SyncOptions::default(),
            trust: Trust::default(),
        })
    }

    pub fn with_options(mut self, options: SyncOptions) -> Self {
        self.options = options;
        self
    }

    /// Uses `trust` for HTTPS and WSS (an organisation's own CA) instead of the public roots.
    pub fn with_trust(mut self, trust: Trust) -> Self {
        self.trust = trust;
        self
    }

    pub fn enrolment(&self) -> &Enrolment {
        &self.enrolment
    }

    /// The sync client (for `want` and `local_change` between sessions).
    pub fn client_mut(&mut self) -> &mut SyncClient {
        &mut self.client
    }

    /// A fresh access token: asks for a challenge, signs it with the device key from `store`.
    /// A revoked device gets [`NetError::Wiped`].
    pub async fn token<S: Store>(
        &mut self,
        store: &S,
        now: UnixMillis,
    ) -> Result<String, NetError> {
        self.token = None;
        let pkcs8 = store
            .get_secret(DEVICE_KEY_SECRET)?
            .ok_or(NetError::NotEnrolled)?;
        let key = DeviceKey::from_pkcs8(&pkcs8)?;
        let device = self.enrolment.device_id.as_str().to_owned();
        let http = agent(&self.trust);
        let answer = post_json(
            http.clone(),
            format!("{}/api/v1/token/challenge", self.base),
            json!({ "deviceId": device }),
        )
        .await?;
        let challenge = answer
            .get("challenge")
            .and_then(Value::as_str)
            .ok_or(NetError::BadResponse("challenge"))?
            .to_owned();
        let message = format!("{TOKEN_SIGNING_PREFIX}\n{device}\n{challenge}");
        let signature = key.sign(message.as_bytes());
        let answer = post_json(
            http,
            format!("{}/api/v1/token", self.base),
            json!({
                "deviceId": device,
                "challenge": challenge,
                "signature": BASE64.encode(signature),
            }),
        )
        .await?;
        let token = answer
            .get("token")
            .and_then(Value::as_str)
            .ok_or(NetError::BadResponse("token"))?
            .to_owned();
        let expires = answer
            .get("expiresAt")
            .and_then(Value::as_i64)
            .unwrap_or(now);
        self.token = Some((token.clone(), expires));
        Ok(token)
    }

    /// One sync session: connects (reusing a token still valid at `now`), runs the client until
    /// every offer was answered and the line stayed quiet, then disconnects, keeping each case's
    /// sync state for next time, and records a successful sync at `now`. On failure the sync
    /// states are kept too (they only remember what both sides certainly had), so the next
    /// session resumes.
    pub async fn sync_once<S: Store>(
        &mut self,
        cases: &mut LocalCases<S>,
        now: UnixMillis,
    ) -> Result<SyncReport, NetError> {
        let deadline = Instant::now() + self.options.timeout;
        let mut ws = match self.connect(cases, now, deadline).await {
            Ok(ws) => ws,
            Err(NetError::Unauthorized) => {
                // Tokens die at once on revocation: a fresh one tells us why.
                self.token = None;
                self.connect(cases, now, deadline).await?
            }
            Err(e) => return Err(e),
        };
        let mut report = SyncReport::default();
        let result = self.session(&mut ws, cases, deadline, &mut report).await;
        let _ = tokio::time::timeout(Duration::from_millis(200), ws.close(None)).await;
        let saved = self.client.disconnect(cases);
        result?;
        saved?;
        cases.record_sync(now)?;
        report.pending_after = cases.pending_count()?;
        Ok(report)
    }

    /// [`Self::sync_once`], retried with exponential backoff and jitter while it fails for a
    /// passing reason ([`NetError::is_retryable`]), at most `policy.max_attempts` times. `now` is
    /// asked for the time before each attempt. Returns the first success, the first error that
    /// retrying cannot mend ([`NetError::Wiped`], a refused token, a local failure…), or the
    /// last error. Bounded in time by [`RetryPolicy::max_total_delay`] plus the sessions'
    /// own bound ([`SyncOptions::timeout`] each).
    pub async fn sync_retrying<S: Store>(
        &mut self,
        cases: &mut LocalCases<S>,
        now: impl Fn() -> UnixMillis,
        policy: RetryPolicy,
        rng: &mut dyn RngCore,
    ) -> Result<SyncReport, NetError> {
        self.sync_retrying_with(cases, now, policy, rng, tokio::time::sleep)
            .await
    }

    /// [`Self::sync_retrying`] with the wait between attempts supplied by the caller (a test's
    /// recorder, an app's cancellable timer): `sleep(delay)` is awaited before each retry.
    pub async fn sync_retrying_with<S: Store, W: Future<Output = ()>>(
        &mut self,
        cases: &mut LocalCases<S>,
        now: impl Fn() -> UnixMillis,
        policy: RetryPolicy,
        rng: &mut dyn RngCore,
        mut sleep: impl FnMut(Duration) -> W,
    ) -> Result<SyncReport, NetError> {
        let mut attempt = 0;
        loop {
            match self.sync_once(cases, now()).await {
                Err(e) if e.is_retryable() && attempt + 1 < policy.max_attempts => {
                    sleep(policy.delay(attempt, rng)).await;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    async fn connect<S: Store>(
        &mut self,
        cases: &LocalCases<S>,
        now: UnixMillis,
        deadline: Instant,
    ) -> Result<Ws, NetError> {
        let token = match &self.token {
            Some((token, expires)) if *expires - TOKEN_MARGIN_MS > now => token.clone(),
            _ => self.token(cases.store(), now).await?,
        };
        let (scheme, rest) = if let Some(rest) = self.base.strip_prefix("https://") {
            ("wss", rest)
        } else if let Some(rest) = self.base.strip_prefix("http://") {
            ("ws", rest)
        } else {
            return Err(NetError::BadUrl);
        };
        let url = format!("{scheme}://{rest}/sync?token={}", percent_encode(&token));
        let connector = if scheme == "wss" {
            Connector::Rustls(Arc::new(self.trust.rustls_config()?))
        } else {
            Connector::Plain
        };
        let connecting =
            tokio_tungstenite::connect_async_tls_with_config(url, None, false, Some(connector));
        match tokio::time::timeout_at(deadline, connecting).await {
            Err(_) => Err(NetError::Timeout),
            Ok(Ok((ws, _))) => Ok(ws),
            Ok(Err(tokio_tungstenite::tungstenite::Error::Http(response)))
                if response.status().as_u16() == 401 =>
            {
                Err(NetError::Unauthorized)
            }
            Ok(Err(e)) => Err(NetError::WebSocket(Box::new(e))),
        }
    }

    async fn session<S: Store>(
        &mut self,
        ws: &mut Ws,
        cases: &mut LocalCases<S>,
        deadline: Instant,
        report: &mut SyncReport,
    ) -> Result<(), NetError> {
        // Cases offered whose answer has not come yet.
        let mut awaiting: BTreeSet<CaseId> = BTreeSet::new();
        // The heads the relay last announced per case (as encoded), to see when a message of
        // ours only says "I have what you have", which the relay does not answer.
        let mut relay_heads: BTreeMap<CaseId, Vec<u8>> = BTreeMap::new();
        let join = self.client.connect();
        send(ws, &join, report).await?;
        let mut sent_since_receive = true;
        let mut last_activity = Instant::now();
        loop {
            let idle = if !self.client.is_ready() {
                self.options.timeout
            } else if awaiting.is_empty() {
                self.options.quiet
            } else {
                self.options.answer_wait
            };
            let wake = (last_activity + idle).min(deadline);
            let frame = match tokio::time::timeout_at(wake, ws.next()).await {
                Err(_) if Instant::now() >= deadline => return Err(NetError::Timeout),
                Err(_) if self.client.is_ready() => return Ok(()),
                Err(_) => return Err(NetError::Timeout),
                Ok(None) | Ok(Some(Ok(WsMessage::Close(_)))) => return Err(NetError::Closed),
                Ok(Some(Err(e))) => return Err(NetError::WebSocket(Box::new(e))),
                Ok(Some(Ok(WsMessage::Binary(bytes)))) => bytes,
                Ok(Some(Ok(_))) => continue,
            };
            last_activity = Instant::now();
            report.received_frames += 1;
            report.bytes_received += frame.len();
            if std::mem::take(&mut sent_since_receive) {
                report.round_trips += 1;
            }
            let message = Message::decode(&frame).map_err(|_| NetError::BadFrame)?;
            match &message {
                Message::Sync(m) | Message::Request(m) => {
                    awaiting.remove(&m.document_id);
                    if let Some(heads) = announced_heads(&m.data) {
                        relay_heads.insert(m.document_id, heads.to_vec());
                    }
                }
                Message::DocUnavailable(m) => {
                    awaiting.remove(&m.document_id);
                }
                _ => {}
            }
            let out = self.client.handle(message, cases)?;
            for event in out.events {
                if let ClientEvent::Confirmed { count, .. } = event {
                    report.confirmed += count;
                }
                report.events.push(event);
            }
            for message in out.send {
                if let Message::Sync(m) | Message::Request(m) = &message {
                    // Same heads on both sides: nothing to send or fetch, so no answer comes;
                    // waiting `answer_wait` for one would only delay the end of the session.
                    let in_step = match (announced_heads(&m.data), relay_heads.get(&m.document_id))
                    {
                        (Some(ours), Some(theirs)) => ours == theirs.as_slice(),
                        _ => false,
                    };
                    if in_step {
                        awaiting.remove(&m.document_id);
                    } else {
                        awaiting.insert(m.document_id);
                    }
                }
                send(ws, &message, report).await?;
                sent_since_receive = true;
            }
        }
    }
}

async fn send(ws: &mut Ws, message: &Message, report: &mut SyncReport) -> Result<(), NetError> {
    let bytes = message.encode();
    report.sent_frames += 1;
    report.bytes_sent += bytes.len();
    ws.send(WsMessage::Binary(bytes.into()))
        .await
        .map_err(|e| NetError::WebSocket(Box::new(e)))
}

/// The heads an automerge sync message announces, as encoded (a LEB128 count, then the sorted
/// 32-byte hashes), read without decoding the rest (changes it may carry). `None` if the bytes
/// are not a sync message of a known version.
fn announced_heads(data: &[u8]) -> Option<&[u8]> {
    const SYNC_V1: u8 = 0x42;
    const SYNC_V2: u8 = 0x43;
    let (&kind, rest) = data.split_first()?;
    if kind != SYNC_V1 && kind != SYNC_V2 {
        return None;
    }
    let mut count: u64 = 0;
    let mut len = 0;
    loop {
        let byte = *rest.get(len)?;
        count |= u64::from(byte & 0x7f).checked_shl(7 * len as u32)?;
        len += 1;
        if byte & 0x80 == 0 {
            break;
        }
        if len >= 10 {
            return None;
        }
    }
    let end = usize::try_from(count)
        .ok()?
        .checked_mul(32)?
        .checked_add(len)?;
    rest.get(..end)
}

fn base_url(relay_url: &str) -> Result<String, NetError> {
    let trimmed = relay_url.trim_end_matches('/');
    if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
        Ok(trimmed.to_owned())
    } else {
        Err(NetError::BadUrl)
    }
}

/// Everything but RFC 3986's unreserved characters is escaped.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn percent_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string()
}

fn agent(trust: &Trust) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(trust.ureq_roots())
                .build(),
        )
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build();
    ureq::Agent::new_with_config(config)
}

/// POSTs JSON on a blocking thread; a 2xx answer's JSON body, or the relay's error code.
async fn post_json(agent: ureq::Agent, url: String, body: Value) -> Result<Value, NetError> {
    tokio::task::spawn_blocking(move || {
        let mut response = agent
            .post(&url)
            .send_json(&body)
            .map_err(|e| NetError::Http(Box::new(e)))?;
        let status = response.status().as_u16();
        let answer: Value = response
            .body_mut()
            .with_config()
            .limit(MAX_HTTP_BODY)
            .read_json()
            .unwrap_or(Value::Null);
        interpret(status, answer)
    })
    .await
    .map_err(|_| NetError::Task)?
}

/// A relay answer: the body on success, [`NetError::Wiped`] on a wipe order, else the code.
fn interpret(status: u16, answer: Value) -> Result<Value, NetError> {
    if (200..300).contains(&status) {
        return Ok(answer);
    }
    if answer.get("wipe").and_then(Value::as_bool) == Some(true)
        || answer.get("code").and_then(Value::as_str) == Some("device_revoked")
    {
        return Err(NetError::Wiped);
    }
    let code = answer
        .get("code")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .chars()
        .take(64)
        .collect();
    Err(NetError::Refused { status, code })
}
