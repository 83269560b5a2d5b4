//! The Peerlog relay: sync hub, identity and access control, storage, admin CLI and HTTP API.
//!
//! Code map: `app` (router, serving), `tls` (direct HTTPS/WSS), `headers` (security headers),
//! `auth` (enrolment, challenges, tokens, the `Principal` extractor; dashboard passwords and TOTP), `access` (the access rules and their cache), `db` (SQLite: schema, migrations,
//! repositories), `docstore` (the sync engine's document storage), `directory` (per-user
//! directory documents), `casework` (open/close/reassign), `upkeep` and `watch` (keeping
//! documents in step with the database), `maintenance` (backup, restore, check, erase),
//! `admin` (CLI commands), `serve` (start-up), `demo`, `error`, `metrics`, `hub` (the seam to
//! the sync engine in `sync`).

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
