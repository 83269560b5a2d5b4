//! The Peerlog relay: sync hub, identity and access control, storage, dashboard, admin CLI and
//! HTTP API.
//!
//! Code map, one module per area (ARCHITECTURE.md has the paragraph for each):
//! - start-up at the root: `serve` (start, first-start set-up, wiring, serving), `config`,
//!   `datadir`, `clock`, `ids`, `state` (`AppState`, shared by every handler);
//! - `sync`: the automerge-repo sync engine (sessions, the hub, the group-commit writer), whose
//!   only seam to the rest is `sync::ports`;
//! - `cases`: the case domain — the access rules (`cases::access`, `decide`), directory
//!   documents, opening/closing/reassigning, relay-side edits (`upkeep`), change watching, the
//!   document storage binding, and `cases::engine`, the seam through which they write documents;
//! - `auth`: enrolment codes, challenges, tokens, the `Principal` extractor, dashboard passwords
//!   and TOTP;
//! - `db`: SQLite (one writer, a reader pool, migrations, tables);
//! - `web`: HTTP plumbing (router, security headers, errors, TLS, metrics);
//! - `dashboard`: the coordinators' HTML pages and JSON API;
//! - `maintenance`: backup, restore, check, erase;
//! - `cli`: the command line, with `cli::admin` for `peerlog admin …`;
//! - `demo`: the `--demo` organisation and `demo::generator`, the generated organisations of the
//!   benchmarks and report tests.

pub mod auth;
pub mod cases;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dashboard;
pub mod datadir;
pub mod db;
pub mod demo;
pub mod ids;
pub mod maintenance;
pub mod serve;
pub mod state;
pub mod sync;
pub mod web;
