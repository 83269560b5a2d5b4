//! The relay's case domain: who may see and write which case, and keeping every document in step
//! with the database.
//!
//! [`access`] holds the rule set ([`access::AccessSnapshot::decide`], a pure function: a PRW
//! writes their own cases, a coordinator reads their teams' cases and writes none, an admin sees
//! no case content) and its cache, which is the sync engine's `AccessPolicy`. [`directory`]
//! writes each user's directory document; [`casework`] opens, closes and reassigns cases;
//! [`upkeep`] applies queued relay-side edits and refreshes directories; [`watch`] notices
//! database changes (the CLI's included) and runs upkeep on a running server. [`storage`] is the
//! sync engine's `DocStorage` on SQLite (one transaction per group commit). [`engine`] is the seam
//! through which all of this writes documents: the live sync engine, or an offline one that writes
//! straight to storage for the CLI and tests.

pub mod access;
pub mod casework;
pub mod directory;
pub mod engine;
pub mod storage;
pub mod upkeep;
pub mod watch;
