//! The `peerlog` command line (clap): `serve`, `admin …`, `backup`, `restore`, `check`,
//! `erase-case`. `main.rs` parses it and dispatches.
//!
//! The command line's area: this file declares the commands and their arguments; [`admin`]
//! carries out `peerlog admin …` (teams, users, devices, cases, tools) against the data
//! directory, with or without a running server.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub mod admin;

/// Peerlog relay: sync hub, access control and storage for peer recovery services.
#[derive(Debug, Parser)]
#[command(name = "peerlog", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data directory is (for every command but `serve`, which also reads its config).
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Data directory [env: PEERLOG_DATA] [default: ./peerlog-data]
    #[arg(long, global = true)]
    pub data: Option<PathBuf>,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

impl DataArgs {
    /// The data directory: the flag, else `PEERLOG_DATA`, else `./peerlog-data`.
    pub fn dir(&self) -> PathBuf {
        self.data
            .clone()
            .or_else(|| {
                std::env::var_os("PEERLOG_DATA")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| PathBuf::from("./peerlog-data"))
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the relay.
    Serve(ServeArgs),
    /// Manage teams, users, enrolment codes, cases and devices (works while the server runs).
    Admin {
        #[command(flatten)]
        data: DataArgs,
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Copy the database to FILE with SQLite's online backup (safe while the server runs).
    Backup {
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Replace the database with the backup in FILE (stop the server first).
    Restore {
        file: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Check database integrity and that every stored document loads.
    Check {
        #[command(flatten)]
        data: DataArgs,
    },
    /// Erase a case: its document, history, queued edits and access-log entries.
    EraseCase {
        /// The case id.
        id: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on [env: PEERLOG_LISTEN] [default: 127.0.0.1:8080]
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Data directory [env: PEERLOG_DATA] [default: ./peerlog-data]
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// TOML config file.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Seed a demo organisation (once) and print an enrolment code for a demo device.
    #[arg(long)]
    pub demo: bool,
    /// PEM certificate chain, to serve HTTPS/WSS directly [env: PEERLOG_TLS_CERT]
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key, to serve HTTPS/WSS directly [env: PEERLOG_TLS_KEY]
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create the database and organisation without starting the server (as the first `serve`
    /// does) and print the one-time admin set-up code.
    Init {
        /// The organisation's name.
        #[arg(long, default_value = "Peerlog")]
        org_name: String,
    },
    /// Teams.
    Team {
        #[command(subcommand)]
        command: TeamCommand,
    },
    /// Users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Create a one-time enrolment code for a user's device.
    EnrolCode {
        /// The user (id or name).
        #[arg(long)]
        user: String,
        /// Minutes the code stays valid.
        #[arg(long, default_value_t = 15)]
        minutes: u32,
    },
    /// Cases.
    Case {
        #[command(subcommand)]
        command: CaseCommand,
    },
    /// Devices.
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// The access log of one case (who read or wrote it, when).
    AccessLog {
        /// The case id.
        #[arg(long)]
        case: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Add a team.
    Add { name: String },
    /// List teams.
    List,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user.
    Add {
        /// A unique login name (not shown to devices).
        name: String,
        /// prw, coordinator or admin.
        #[arg(long)]
        role: String,
        /// Team (id or name); repeat for several.
        #[arg(long)]
        team: Vec<String>,
    },
    /// Add an existing user to a team.
    Join {
        /// The user (id or name).
        user: String,
        /// The team (id or name).
        #[arg(long)]
        team: String,
    },
    /// List users.
    List,
    /// Clear a coordinator's or admin's dashboard password and TOTP and sign them out everywhere,
    /// so they can set up their sign-in again at /setup with a new one-time code (`enrol-code`).
    ResetLogin {
        /// The user (id or name).
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// Open a case: the relay creates its document and assigns it to a PRW.
    Open {
        /// The PRW (id or name).
        #[arg(long)]
        prw: String,
        /// The service user's alias (a nickname they chose; never a real name).
        #[arg(long)]
        alias: String,
        /// The team (id or name); defaults to the PRW's only team.
        #[arg(long)]
        team: Option<String>,
        #[arg(long)]
        birth_year: Option<i32>,
        /// Comma-separated interests.
        #[arg(long, value_delimiter = ',')]
        interests: Vec<String>,
        /// Comma-separated shared background.
        #[arg(long, value_delimiter = ',')]
        background: Vec<String>,
        /// Start date (YYYY-MM-DD); default today.
        #[arg(long)]
        start: Option<String>,
        /// Planned end (YYYY-MM-DD); default two years after the start.
        #[arg(long)]
        end: Option<String>,
    },
    /// Assign a case to another PRW of its team.
    Reassign {
        id: String,
        #[arg(long)]
        prw: String,
    },
    /// Close a case.
    Close {
        id: String,
        #[arg(long)]
        reason: String,
    },
    /// List cases (ids, teams, PRWs, status; no content).
    List,
}

#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// List devices.
    List,
    /// Revoke a device (lost phone): it gets a wipe order on its next token request and its
    /// open connections close.
    Revoke { id: String },
}
