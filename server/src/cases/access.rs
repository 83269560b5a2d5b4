//! Access control: [`AccessSnapshot::decide`] is the whole rule set, a pure function over an
//! in-memory copy of the identity and case tables; [`CachedAccess`] is the engine's
//! [`AccessPolicy`], holding the current snapshot (replaced when the database changes) and
//! queueing coordinator reads for the access log.
//!
//! The rules (DESIGN.md "The wire", "Access control"):
//! - a PRW reads and writes the cases assigned to them. A **closed** case stays writable for the
//!   PRW for the lost-phone wipe period (`lostPhone.wipeAfterDays`, default 30 days) after it
//!   closed, so contacts logged offline before the phone learnt of the closing still arrive
//!   (nothing written offline is lost; core refuses *new* edits of a closed case on the phone).
//!   After that period a phone that has not synced has destroyed its keys, and the PRW keeps
//!   read access only. A PRW loses all access to a case reassigned to someone else, except that
//!   their devices may still sync it for the same grace period after the reassignment (the
//!   handover rule: changes made while it was theirs reach the relay, logged as handover
//!   writes; the case is not in their directory);
//! - a coordinator reads the cases of their teams (any status) and writes none;
//! - an admin sees no case content;
//! - each user's devices read that user's directory document; nobody writes it but the relay;
//! - a revoked or unknown device, a device used under another user's id, an unknown or foreign
//!   document id: `None`, which the engine answers exactly like a missing document.
//!
//! The role in the [`Principal`] is not trusted: the role stored for the device's user decides.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, RwLock};

use automerge::{Automerge, Change};
use peerlog_core::document::schema::check::check_device_changes;
use peerlog_core::ids::{CaseId, DeviceId, TeamId, UserId};
use peerlog_core::model::CaseStatus;
use rusqlite::Connection;

use crate::db::cases::{self, CaseRow};
use crate::db::identity::{self, DeviceStatus};
use crate::db::{Db, DbError, access_log, org};
use crate::sync::ports::{Access, AccessPolicy, Principal, Role, WriteRefused};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// One coordinator read is logged at most once per device and case in this window.
const READ_LOG_WINDOW_MS: i64 = 15 * 60 * 1000;

/// Reads waiting to be written to the access log, at most this many.
const READ_LOG_CAP: usize = 100_000;

/// What access control knows about a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserGrant {
    pub role: Role,
    pub teams: HashSet<TeamId>,
    pub directory: CaseId,
}

/// An in-memory copy of everything access decisions need.
#[derive(Debug, Clone, Default)]
pub struct AccessSnapshot {
    users: HashMap<UserId, UserGrant>,
    devices: HashMap<DeviceId, (UserId, DeviceStatus)>,
    cases: HashMap<CaseId, CaseRow>,
    directories: HashMap<CaseId, UserId>,
    /// (case, former PRW) → when the case was handed over to someone else.
    handovers: HashMap<(CaseId, UserId), i64>,
    /// How long after closing a case its PRW may still write to it, and after a reassignment
    /// the former PRW (DESIGN.md "Handover rule"): the lost-phone wipe period, after which a
    /// phone that has not synced has destroyed its keys anyway.
    write_grace_ms: i64,
}

impl AccessSnapshot {
    /// Reads the snapshot from the database (one read transaction).
    pub fn load(conn: &Connection) -> Result<Self, DbError> {
        let grace_days = org::get(conn)?
            .map(|o| o.settings.lost_phone.wipe_after_days)
            .unwrap_or(org::LostPhone::default().wipe_after_days);
        let mut snap = Self {
            write_grace_ms: i64::from(grace_days) * DAY_MS,
            ..Self::default()
        };
        for user in identity::list_users(conn)? {
            snap.directories.insert(user.directory_doc, user.id.clone());
            snap.users.insert(
                user.id,
                UserGrant {
                    role: user.role,
                    teams: user.teams.into_iter().collect(),
                    directory: user.directory_doc,
                },
            );
        }
        for device in identity::list_devices(conn)? {
            snap.devices.insert(device.id, (device.user, device.status));
        }
        for case in cases::list(conn)? {
            snap.cases.insert(case.id, case);
        }
        for (case, former, at) in cases::handovers(conn)? {
            snap.handovers.insert((case, former), at);
        }
        Ok(snap)
    }

    /// The access rule (see the module documentation).
    pub fn decide(&self, who: &Principal, doc: &CaseId, now: i64) -> Access {
        let Some((owner, status)) = self.devices.get(&who.device) else {
            return Access::None;
        };
        if *status != DeviceStatus::Active || *owner != who.user {
            return Access::None;
        }
        let Some(user) = self.users.get(owner) else {
            return Access::None;
        };
        if let Some(dir_owner) = self.directories.get(doc) {
            return if dir_owner == owner {
                Access::Read
            } else {
                Access::None
            };
        }
        let Some(case) = self.cases.get(doc) else {
            return Access::None;
        };
        match self.case_access(owner, user, case, now) {
            Access::None if self.handing_over(owner, user, case, now) => Access::ReadWrite,
            access => access,
        }
    }

    /// A PRW whose case was reassigned to someone else within the grace period: their devices
    /// may still sync it, so that changes made while it was theirs reach the relay. The case is
    /// not in their directory (their phone holds it sealed until it has handed over).
    fn handing_over(&self, id: &UserId, user: &UserGrant, case: &CaseRow, now: i64) -> bool {
        user.role == Role::Prw
            && case.prw != *id
            && self
                .handovers
                .get(&(case.id, id.clone()))
                .is_some_and(|at| now.saturating_sub(*at) <= self.write_grace_ms)
    }

    /// Whether `who` writes `doc` only under the handover rule (a reassigned case's former PRW).
    pub fn is_handover_write(&self, who: &Principal, doc: &CaseId, now: i64) -> bool {
        let (Some(user), Some(case)) = (self.users.get(&who.user), self.cases.get(doc)) else {
            return false;
        };
        self.case_access(&who.user, user, case, now) == Access::None
            && self.handing_over(&who.user, user, case, now)
    }

    /// What `user` may do with one case.
    fn case_access(&self, id: &UserId, user: &UserGrant, case: &CaseRow, now: i64) -> Access {
        match user.role {
            Role::Prw if case.prw == *id => {
                let grace_over = case.status == CaseStatus::Closed
                    && case
                        .closed_at
                        .is_some_and(|at| now.saturating_sub(at) > self.write_grace_ms);
                if grace_over {
                    Access::Read
                } else {
                    Access::ReadWrite
                }
            }
            Role::Coordinator if user.teams.contains(&case.team) => Access::Read,
            Role::Prw | Role::Coordinator | Role::Admin => Access::None,
        }
    }

    pub fn user(&self, id: &UserId) -> Option<&UserGrant> {
        self.users.get(id)
    }

    pub fn users(&self) -> impl Iterator<Item = (&UserId, &UserGrant)> {
        self.users.iter()
    }

    pub fn is_case(&self, doc: &CaseId) -> bool {
        self.cases.contains_key(doc)
    }

    /// The cases a user may see, with what they may do, ordered by case id.
    pub fn visible_cases(&self, user: &UserId, now: i64) -> Vec<(&CaseRow, Access)> {
        let Some(grant) = self.users.get(user) else {
            return Vec::new();
        };
        let mut out: Vec<(&CaseRow, Access)> = self
            .cases
            .values()
            .filter_map(|case| {
                let access = self.case_access(user, grant, case, now);
                (access != Access::None).then_some((case, access))
            })
            .collect();
        out.sort_by_key(|(case, _)| case.id);
        out
    }

    /// Devices that are revoked.
    pub fn revoked_devices(&self) -> HashSet<DeviceId> {
        self.devices
            .iter()
            .filter(|(_, (_, s))| *s == DeviceStatus::Revoked)
            .map(|(id, _)| id.clone())
            .collect()
    }
}

#[derive(Debug, Default)]
struct ReadLog {
    last: HashMap<(DeviceId, CaseId), i64>,
    pending: Vec<(Principal, CaseId, i64, access_log::Action)>,
    dropped: u64,
}

/// The engine's access policy: the current snapshot, swapped whole on reload.
pub struct CachedAccess {
    snapshot: RwLock<Arc<AccessSnapshot>>,
    reads: Mutex<ReadLog>,
    clock: fn() -> i64,
}

impl std::fmt::Debug for CachedAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedAccess").finish_non_exhaustive()
    }
}

impl CachedAccess {
    pub fn new(snapshot: AccessSnapshot, clock: fn() -> i64) -> Self {
        Self {
            snapshot: RwLock::new(Arc::new(snapshot)),
            reads: Mutex::new(ReadLog::default()),
            clock,
        }
    }

    /// Loads the first snapshot from the database.
    pub fn load(db: &Db, clock: fn() -> i64) -> Result<Self, DbError> {
        Ok(Self::new(db.read(|tx| AccessSnapshot::load(tx))?, clock))
    }

    pub fn snapshot(&self) -> Arc<AccessSnapshot> {
        match self.snapshot.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Replaces the snapshot; returns the previous one.
    pub fn replace(&self, next: AccessSnapshot) -> Arc<AccessSnapshot> {
        let next = Arc::new(next);
        match self.snapshot.write() {
            Ok(mut guard) => std::mem::replace(&mut *guard, next),
            Err(poisoned) => std::mem::replace(&mut *poisoned.into_inner(), next),
        }
    }

    /// Reloads from the database; returns the previous snapshot.
    pub fn reload(&self, db: &Db) -> Result<Arc<AccessSnapshot>, DbError> {
        let next = db.read(|tx| AccessSnapshot::load(tx))?;
        Ok(self.replace(next))
    }

    fn note_read(&self, who: Principal, doc: CaseId, now: i64) {
        let Ok(mut log) = self.reads.lock() else {
            return;
        };
        let key = (who.device.clone(), doc);
        if log
            .last
            .get(&key)
            .is_some_and(|at| now.saturating_sub(*at) < READ_LOG_WINDOW_MS)
        {
            return;
        }
        if log.pending.len() >= READ_LOG_CAP {
            log.dropped += 1;
            return;
        }
        log.last.insert(key, now);
        log.pending.push((who, doc, now, access_log::Action::Read));
    }

    /// Queues an access-log row for a device write the door check refused, or one it let in
    /// under the handover rule (written with the reads, by the watch loop).
    fn note_write(&self, who: &Principal, doc: CaseId, now: i64, action: access_log::Action) {
        let Ok(mut log) = self.reads.lock() else {
            return;
        };
        if log.pending.len() >= READ_LOG_CAP {
            log.dropped += 1;
            return;
        }
        log.pending.push((who.clone(), doc, now, action));
    }

    /// Writes queued coordinator reads to the access log (one transaction). Returns how many.
    pub fn flush_reads(&self, db: &Db) -> Result<usize, DbError> {
        let (pending, dropped) = {
            let Ok(mut log) = self.reads.lock() else {
                return Ok(0);
            };
            let now = (self.clock)();
            log.last
                .retain(|_, at| now.saturating_sub(*at) < READ_LOG_WINDOW_MS);
            (
                std::mem::take(&mut log.pending),
                std::mem::take(&mut log.dropped),
            )
        };
        if dropped > 0 {
            tracing::warn!(dropped, "access log read entries dropped (queue full)");
        }
        if pending.is_empty() {
            return Ok(0);
        }
        let n = pending.len();
        db.write(|tx| {
            for (who, doc, at, action) in &pending {
                access_log::append(tx, *at, Some(who), doc, *action)?;
            }
            Ok::<_, DbError>(())
        })?;
        Ok(n)
    }
}

impl AccessPolicy for CachedAccess {
    fn access(&self, who: &Principal, doc: &CaseId) -> Access {
        let now = (self.clock)();
        let snap = self.snapshot();
        let access = snap.decide(who, doc, now);
        if access == Access::Read
            && snap.is_case(doc)
            && let Some(grant) = snap.user(&who.user)
            && grant.role == Role::Coordinator
        {
            let logged = Principal {
                role: grant.role,
                ..who.clone()
            };
            self.note_read(logged, *doc, now);
        }
        access
    }

    /// Case documents take the case schema's door check; nothing else is writable by a device
    /// (directories are read-only, and access already said so).
    fn check_write(
        &self,
        who: &Principal,
        doc: &CaseId,
        am: &Automerge,
        changes: &[&Change],
    ) -> Result<(), WriteRefused> {
        let snap = self.snapshot();
        let now = (self.clock)();
        let verdict = if snap.is_case(doc) {
            check_device_changes(am, changes)
                .map(|_| ())
                .map_err(|refusal| WriteRefused {
                    code: refusal.code(),
                    reason: refusal.to_string(),
                })
        } else {
            Err(WriteRefused {
                code: "read-only",
                reason: "this document is written by the relay only".to_owned(),
            })
        };
        match verdict {
            Err(_) => self.note_write(who, *doc, now, access_log::Action::WriteRefused),
            Ok(()) if snap.is_handover_write(who, doc, now) => {
                self.note_write(who, *doc, now, access_log::Action::HandoverWrite)
            }
            Ok(()) => {}
        }
        verdict
    }
}
