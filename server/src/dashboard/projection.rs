//! The dashboard's cache of case projections: each case document read into core's typed `Case`
//! once, and read again only when its stored version moves (every stored chunk bumps it, see
//! migration 3). The team overview then costs a version lookup per case plus pure insight
//! computation, instead of loading every document on every page view.
//!
//! Who, where and what state come from the relay's case table, not from the document: a case's
//! `team`, `prw` and `status` in a projection are the table's (the document's copies are for the
//! phone's offline display; the door check keeps devices from writing them, and a disagreement
//! is logged). A document that no longer reads is left out, never served from an older copy.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use automerge::ActorId;
use peerlog_core::CaseDoc;
use peerlog_core::ids::CaseId;
use peerlog_core::model::Case;

use crate::db::cases::{self, CaseRow};
use crate::db::{Db, DbError, docs};

/// Why a projection could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Db(#[from] DbError),
}

/// Cases the cache holds at most; beyond that the whole cache starts over (a relay serving
/// more cases than this to one dashboard is far beyond the organisations it is built for).
const MAX_CACHED: usize = 50_000;

/// Case projections by id, with the document version each was read at.
#[derive(Debug, Default)]
pub struct Projections {
    cache: Mutex<Fresh>,
}

impl Projections {
    /// The current projection of each case in `ids` that has a readable stored document, in the
    /// order given. Documents changed since they were cached are read again.
    pub fn get_many(&self, db: &Db, ids: &[CaseId]) -> Result<Vec<Arc<Case>>, ProjectionError> {
        let cached: HashMap<CaseId, (i64, Arc<Case>)> = {
            let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            ids.iter()
                .filter_map(|id| cache.get(id).map(|entry| (*id, entry.clone())))
                .collect()
        };
        // Versions and the bytes of stale documents come from one read transaction, so a
        // version always matches the bytes read with it.
        let (versions, stale, rows) = db.read(|tx| {
            let mut versions = HashMap::with_capacity(ids.len());
            let mut stale = Vec::new();
            let mut rows = HashMap::with_capacity(ids.len());
            for id in ids {
                let Some(version) = docs::version(tx, id)? else {
                    continue;
                };
                let Some(row) = cases::get(tx, id)? else {
                    continue;
                };
                rows.insert(*id, row);
                versions.insert(*id, version);
                if cached.get(id).is_none_or(|(v, _)| *v != version)
                    && let Some(bytes) = docs::load(tx, id)?
                {
                    stale.push((*id, version, bytes));
                }
            }
            Ok::<_, DbError>((versions, stale, rows))
        })?;
        let stale_ids: std::collections::HashSet<CaseId> =
            stale.iter().map(|(id, _, _)| *id).collect();
        let fresh = read_all(stale);
        if !fresh.is_empty() {
            let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
            if cache.len() + fresh.len() > MAX_CACHED {
                cache.clear();
            }
            for (id, entry) in &fresh {
                cache.insert(*id, entry.clone());
            }
        }
        Ok(ids
            .iter()
            .filter(|id| versions.contains_key(id))
            .filter_map(|id| {
                let case = match fresh.get(id) {
                    Some((_, case)) => case,
                    // Stale and unreadable now: not the older copy.
                    None if stale_ids.contains(id) => return None,
                    None => &cached.get(id)?.1,
                };
                Some(as_the_table_says(
                    case,
                    rows.get(id)?,
                    fresh.contains_key(id),
                ))
            })
            .collect())
    }

    /// How many cases are cached (for tests and metrics).
    pub fn len(&self) -> usize {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The projection with the case table's team, PRW and status; `log` a disagreement (once, when
/// the document was read).
fn as_the_table_says(case: &Arc<Case>, row: &CaseRow, log: bool) -> Arc<Case> {
    if case.team == row.team && case.prw == row.prw && case.status == row.status {
        return case.clone();
    }
    if log {
        tracing::warn!(
            case = %row.id,
            "a case document's team, PRW or status disagrees with the case table; the table counts"
        );
    }
    Arc::new(Case {
        team: row.team.clone(),
        prw: row.prw.clone(),
        status: row.status,
        ..(**case).clone()
    })
}

/// Documents read per thread before a second thread is worth starting.
const PER_THREAD: usize = 8;

type Fresh = HashMap<CaseId, (i64, Arc<Case>)>;

/// Reads stale documents into projections, on as many threads as there are cores when there are
/// many (the first overview after a restart reads every case).
fn read_all(stale: Vec<(CaseId, i64, Vec<u8>)>) -> Fresh {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(stale.len().div_ceil(PER_THREAD))
        .max(1);
    if threads == 1 {
        return read_some(stale);
    }
    let mut parts: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, doc) in stale.into_iter().enumerate() {
        parts[i % threads].push(doc);
    }
    std::thread::scope(|scope| {
        let workers: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(move || read_some(part)))
            .collect();
        let mut fresh = Fresh::new();
        for worker in workers {
            // A worker that panicked read nothing usable; its cases are read on the next view.
            fresh.extend(worker.join().unwrap_or_default());
        }
        fresh
    })
}

fn read_some(stale: Vec<(CaseId, i64, Vec<u8>)>) -> Fresh {
    let mut fresh = Fresh::with_capacity(stale.len());
    for (id, version, bytes) in stale {
        // One damaged document must not take the whole overview down: it is left out (and
        // logged by id) while every other case shows.
        match CaseDoc::load(id, &bytes, ActorId::random()).and_then(|doc| doc.read()) {
            Ok(case) => {
                fresh.insert(id, (version, Arc::new(case)));
            }
            Err(e) => tracing::error!(
                case = %id,
                error = %e,
                "a stored case document does not read; left out of the dashboard"
            ),
        }
    }
    fresh
}

/// Reads every case into the cache in the background, so the first coordinator to open the
/// overview after a restart does not wait for all documents to load.
pub fn warm_up(db: Arc<Db>, projections: Arc<Projections>) {
    let ids: Vec<CaseId> = match db.read(|tx| crate::db::cases::list(tx)) {
        Ok(rows) => rows.into_iter().map(|r| r.id).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "listing cases to warm the dashboard cache failed");
            return;
        }
    };
    tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        match projections.get_many(&db, &ids) {
            Ok(cases) => tracing::info!(
                cases = cases.len(),
                ms = started.elapsed().as_millis() as u64,
                "dashboard cache warm"
            ),
            Err(e) => tracing::warn!(error = %e, "warming the dashboard cache failed"),
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use peerlog_core::EditCtx;
    use peerlog_core::document::NewContact;
    use peerlog_core::model::{ContactMode, Initiator};

    use crate::cases::casework::{self, OpenCase, relay_device};
    use crate::config::Config;
    use crate::db::identity;
    use crate::sync::ports::Role;

    #[test]
    fn reads_documents_once_and_again_after_they_change() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_in(dir.path()).unwrap();
        let now = 1_780_000_000_000;
        crate::serve::initialise(&db, &Config::default(), now).unwrap();
        db.write(|tx| {
            let team = identity::add_team(tx, "Nord", now)?;
            identity::add_user(tx, "ola", Role::Prw, &[team.id], now)
        })
        .unwrap();
        let id = casework::open_case(
            &db,
            OpenCase {
                prw: "ola".into(),
                alias: "Fjellrev".into(),
                ..OpenCase::default()
            },
            now,
        )
        .unwrap();
        let missing = CaseId::from_bytes([9; 16]);
        let projections = Projections::default();

        let first = projections.get_many(&db, &[id, missing]).unwrap();
        assert_eq!(first.len(), 1, "a case without a document is left out");
        assert!(first[0].contacts.is_empty());
        let again = projections.get_many(&db, &[id]).unwrap();
        assert!(
            Arc::ptr_eq(&first[0], &again[0]),
            "unchanged: served from the cache"
        );

        let bytes = db.read(|tx| docs::load(tx, &id)).unwrap().unwrap();
        let mut doc = CaseDoc::load(id, &bytes, ActorId::random()).unwrap();
        let before = doc.heads();
        let device = relay_device();
        let mut rng = rand::rng();
        doc.log_contact(
            &mut EditCtx {
                now,
                device: &device,
                rng: &mut rng,
            },
            &NewContact {
                at: now - 60_000,
                tz_offset_min: 60,
                minutes: 30,
                mode: ContactMode::Phone,
                initiated_by: Initiator::Prw,
                topics: vec![],
                support_types: vec![],
                note: String::new(),
                flag_for_guidance: false,
            },
        )
        .unwrap();
        let (changes, _) = doc.changes_since(&before);
        db.write(|tx| docs::append_chunk(tx, &id, &changes))
            .unwrap();

        let after = projections.get_many(&db, &[id]).unwrap();
        assert_eq!(after[0].contacts.len(), 1, "the new contact is seen");
        assert_eq!(projections.len(), 1);

        // A damaged document is left out; the others still show.
        let damaged = CaseId::from_bytes([7; 16]);
        db.write(|tx| docs::append_chunk(tx, &damaged, b"not an automerge document"))
            .unwrap();
        let shown = projections.get_many(&db, &[damaged, id]).unwrap();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].id, id);
    }

    #[test]
    fn many_documents_are_read_on_several_threads_and_all_arrive() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open_in(dir.path()).unwrap();
        let now = 1_780_000_000_000;
        crate::serve::initialise(&db, &Config::default(), now).unwrap();
        db.write(|tx| {
            let team = identity::add_team(tx, "Nord", now)?;
            identity::add_user(tx, "ola", Role::Prw, &[team.id], now)
        })
        .unwrap();
        let ids: Vec<CaseId> = (0..3 * PER_THREAD)
            .map(|i| {
                let req = OpenCase {
                    prw: "ola".into(),
                    alias: format!("case {i}"),
                    ..OpenCase::default()
                };
                casework::open_case(&db, req, now).unwrap()
            })
            .collect();
        let cases = Projections::default().get_many(&db, &ids).unwrap();
        let read: Vec<CaseId> = cases.iter().map(|c| c.id).collect();
        assert_eq!(read, ids, "every case, in the order asked");
    }
}
