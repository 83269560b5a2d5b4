//! The relay binary (`peerlog serve`) as a separate process on 127.0.0.1 with a port chosen at
//! run time, for tests that SIGKILL it and restart it on the same data directory; the admin CLI
//! run in-process against a data directory; and read-only looks at what the relay has on disk.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use automerge::{Automerge, ChangeHash};
use clap::Parser as _;
use peerlog_core::ids::CaseId;
use rusqlite::{Connection, OpenFlags};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a relay may take to print its listening address.
const START_WAIT: Duration = Duration::from_secs(30);

/// Runs `peerlog admin <args> --json --data <data>` (the CLI's own code, in this process) and
/// returns its JSON output. Works whether or not a relay is serving that directory.
pub async fn admin(data: &Path, args: &[&str]) -> Value {
    let mut argv: Vec<String> = vec!["peerlog".into(), "admin".into()];
    argv.extend(args.iter().map(|a| (*a).to_owned()));
    argv.extend(["--json".into(), "--data".into()]);
    argv.push(data.display().to_string());
    tokio::task::spawn_blocking(move || {
        let cli = peerlog_server::cli::Cli::try_parse_from(&argv).expect("cli parses");
        let mut out = Vec::new();
        peerlog_server::cli::admin::run(cli.command, &mut out).expect("admin command");
        serde_json::from_slice(&out).expect("json output")
    })
    .await
    .expect("admin task")
}

/// A relay process serving `data`. Dropping it kills it (SIGKILL).
#[derive(Debug)]
pub struct RelayProcess {
    pub addr: SocketAddr,
    pub data: PathBuf,
    child: Child,
}

impl RelayProcess {
    /// Starts `exe serve --listen 127.0.0.1:0 --data <data>` and waits for the address it
    /// prints. `log` receives the relay's log (stderr).
    pub async fn start(exe: &Path, data: &Path, log: &Path) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("relay log file");
        let mut child = Command::new(exe)
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .env("PEERLOG_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("the relay binary starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let banner = tokio::time::timeout(START_WAIT, async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("peerlog relay listening on http://") {
                    return url.trim().parse::<SocketAddr>().ok();
                }
            }
            None
        })
        .await;
        let Ok(Some(addr)) = banner else {
            let _ = child.start_kill();
            panic!("the relay did not print its address within {START_WAIT:?}");
        };
        // Keep reading stdout so that the relay never blocks on (or fails writing to) a full or
        // closed pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self {
            addr,
            data: data.to_path_buf(),
            child,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The process id (for a SIGKILL from elsewhere).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// SIGKILL, and waits until the process is gone (its locks and sockets released).
    pub async fn kill(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}

/// The bytes a relay's database holds for a document, read from outside the relay process on a
/// read-only connection (the relay may be running or dead).
pub fn stored_bytes(data: &Path, id: &CaseId) -> Option<Vec<u8>> {
    let conn = Connection::open_with_flags(
        data.join(peerlog_server::db::DB_FILE),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("the relay database opens read-only");
    conn.busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    peerlog_server::db::docs::load(&conn, id).expect("the stored document reads")
}

/// What a relay's database holds for a document (see [`stored_bytes`]).
pub fn stored_doc(data: &Path, id: &CaseId) -> Option<Automerge> {
    stored_bytes(data, id).map(|b| Automerge::load(&b).expect("the stored document loads"))
}

/// Repeated looks at a relay's stored documents that parse only what was appended since the
/// last look (the relay appends changes; after a compaction, or anything else that is not an
/// append, the document is parsed again whole). Every look reads the database afresh.
#[derive(Debug)]
pub struct StoredDocs {
    data: PathBuf,
    cache: HashMap<CaseId, (Vec<u8>, Automerge)>,
}

impl StoredDocs {
    pub fn new(data: &Path) -> Self {
        Self {
            data: data.to_path_buf(),
            cache: HashMap::new(),
        }
    }

    /// The document as the database holds it now.
    pub fn doc(&mut self, id: &CaseId) -> Option<&Automerge> {
        let Some(bytes) = stored_bytes(&self.data, id) else {
            self.cache.remove(id);
            return None;
        };
        let appended = match self.cache.get_mut(id) {
            Some((seen, doc)) if bytes.starts_with(seen) => {
                let ok = doc.load_incremental(&bytes[seen.len()..]).is_ok();
                *seen = bytes.clone();
                ok
            }
            _ => false,
        };
        if !appended {
            let doc = Automerge::load(&bytes).expect("the stored document loads");
            self.cache.insert(*id, (bytes, doc));
        }
        self.cache.get(id).map(|(_, doc)| doc)
    }
}

/// The sorted heads of a document on the relay's disk (empty if it has none).
pub fn stored_heads(data: &Path, id: &CaseId) -> Vec<ChangeHash> {
    let mut heads = stored_doc(data, id)
        .map(|d| d.get_heads())
        .unwrap_or_default();
    heads.sort();
    heads
}
