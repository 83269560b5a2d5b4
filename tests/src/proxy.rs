//! A real TCP proxy on 127.0.0.1 between devices and the relay that can cut a sync connection
//! after a chosen number of bytes (counted over both directions, so a cut lands anywhere: in the
//! HTTP upgrade, mid-frame, between the frames of a batch), or stall it there and report that
//! the point was reached (so the test can SIGKILL the relay at a byte-exact moment). It can be
//! re-targeted when a restarted relay comes up on a new port.
//!
//! Only WebSocket sync connections (`GET /sync…`) take the planned interruptions; HTTP calls
//! (tokens, enrolment) pass untouched.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// The longest a stalled connection waits for the test to act before it is closed anyway.
const STALL_BOUND: Duration = Duration::from_secs(10);
/// The longest the proxy waits for a new connection's first bytes.
const FIRST_BYTES_WAIT: Duration = Duration::from_secs(10);

/// What happens to the next sync connection.
#[derive(Debug)]
pub enum Interruption {
    /// Both sockets are closed once `after` bytes have crossed (the rest of the chunk that
    /// crosses the mark is dropped).
    Cut { after: usize },
    /// Once `after` bytes have crossed nothing more is forwarded, and `reached` fires; the
    /// connection is closed when the relay's side ends (or after a bound).
    Stall {
        after: usize,
        reached: oneshot::Sender<()>,
    },
}

#[derive(Debug, Default)]
struct Shared {
    target: Mutex<Option<SocketAddr>>,
    plans: Mutex<VecDeque<Interruption>>,
    sync_connections: AtomicUsize,
    interrupted: AtomicUsize,
}

/// The proxy; stops accepting when dropped.
#[derive(Debug)]
pub struct CutProxy {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for CutProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl CutProxy {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let shared = Arc::new(Shared::default());
        *lock(&shared.target) = Some(target);
        let accepting = shared.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(serve(client, accepting.clone()));
            }
        });
        Self { addr, shared, task }
    }

    /// The base URL devices use to reach the relay through the proxy.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// New connections go to `to` from now on (a restarted relay).
    pub fn retarget(&self, to: SocketAddr) {
        *lock(&self.shared.target) = Some(to);
    }

    /// The next sync connection meets `interruption` (queued after any still pending).
    pub fn plan(&self, interruption: Interruption) {
        lock(&self.shared.plans).push_back(interruption);
    }

    /// Drops plans no connection took.
    pub fn clear_plans(&self) {
        lock(&self.shared.plans).clear();
    }

    /// Sync connections seen so far.
    pub fn sync_connections(&self) -> usize {
        self.shared.sync_connections.load(Ordering::Relaxed)
    }

    /// Sync connections actually cut or stalled (the mark was reached).
    pub fn interrupted(&self) -> usize {
        self.shared.interrupted.load(Ordering::Relaxed)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

async fn serve(mut client: TcpStream, shared: Arc<Shared>) {
    let mut first = vec![0u8; 8192];
    let n = match tokio::time::timeout(FIRST_BYTES_WAIT, client.read(&mut first)).await {
        Ok(Ok(n)) if n > 0 => n,
        _ => return,
    };
    first.truncate(n);
    let plan = if first.starts_with(b"GET /sync") {
        shared.sync_connections.fetch_add(1, Ordering::Relaxed);
        lock(&shared.plans).pop_front()
    } else {
        None
    };
    let Some(target) = *lock(&shared.target) else {
        return;
    };
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let (budget, reached) = match plan {
        None => (usize::MAX, None),
        Some(Interruption::Cut { after }) => (after, None),
        Some(Interruption::Stall { after, reached }) => (after, Some(reached)),
    };
    let hit = pump(client, server, first, budget, reached).await;
    if hit {
        shared.interrupted.fetch_add(1, Ordering::Relaxed);
    }
}

/// Forwards both ways until a side closes or `budget` bytes have crossed. Returns whether the
/// budget was reached. Returning drops (closes) both sockets.
async fn pump(
    mut client: TcpStream,
    mut server: TcpStream,
    first: Vec<u8>,
    budget: usize,
    reached: Option<oneshot::Sender<()>>,
) -> bool {
    let mut left = budget;
    let take = first.len().min(left);
    if server.write_all(&first[..take]).await.is_err() {
        return false;
    }
    left -= take;
    let (mut up, mut down) = (vec![0u8; 16 * 1024], vec![0u8; 16 * 1024]);
    while left > 0 {
        let (n, from_client) = tokio::select! {
            r = client.read(&mut up) => (r.unwrap_or(0), true),
            r = server.read(&mut down) => (r.unwrap_or(0), false),
        };
        if n == 0 {
            return false;
        }
        let allowed = n.min(left);
        let written = if from_client {
            server.write_all(&up[..allowed]).await
        } else {
            client.write_all(&down[..allowed]).await
        };
        if written.is_err() {
            return false;
        }
        left -= allowed;
    }
    if let Some(reached) = reached {
        // Stalled: tell the test, then hold both sockets until the relay's side ends.
        let _ = reached.send(());
        let _ = tokio::time::timeout(STALL_BOUND, async {
            while matches!(server.read(&mut down).await, Ok(n) if n > 0) {}
        })
        .await;
    }
    true
}
