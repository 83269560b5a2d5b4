//! Service tests through the public API with real threads: server writes are durable before they
//! are reported, commits are grouped, and a panicking update harms nothing.

use std::sync::Arc;
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ROOT, ReadDoc};

use super::testkit::{MemStorage, TableAccess, case, shared};
use super::*;

fn service(storage: Arc<MemStorage>) -> SyncService {
    let access: Arc<TableAccess> = shared();
    SyncService::new(
        storage,
        access,
        SyncConfig {
            shards: 2,
            ..SyncConfig::default()
        },
    )
}

fn put_title(am: &mut Automerge, title: &str) {
    am.transact::<_, _, automerge::AutomergeError>(|tx| {
        tx.put(ROOT, "title", title)?;
        Ok(())
    })
    .unwrap();
}

#[tokio::test]
async fn update_doc_reports_only_after_the_commit_returned() {
    let storage: Arc<MemStorage> = shared();
    let sync = service(storage.clone());
    storage.hold();
    let task = tokio::spawn({
        let sync = sync.clone();
        async move {
            sync.update_doc(case(1), |am| put_title(am, "new case"))
                .await
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!task.is_finished(), "reported before storage returned");
    storage.release();
    task.await.unwrap().unwrap();
    let stored = Automerge::load(&storage.get(&case(1)).unwrap()).unwrap();
    let (title, _) = stored.get(ROOT, "title").unwrap().unwrap();
    assert_eq!(title.into_string().unwrap(), "new case");
    assert!(sync.metrics().commits >= 1);
}

#[tokio::test]
async fn writes_that_arrive_during_a_commit_share_the_next_one() {
    let storage: Arc<MemStorage> = shared();
    let sync = service(storage.clone());
    storage.hold();
    let first = tokio::spawn({
        let sync = sync.clone();
        async move { sync.update_doc(case(1), |am| put_title(am, "1")).await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let rest: Vec<_> = (2..=6)
        .map(|n| {
            let sync = sync.clone();
            tokio::spawn(async move { sync.update_doc(case(n), |am| put_title(am, "n")).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    storage.release();
    first.await.unwrap().unwrap();
    for t in rest {
        t.await.unwrap().unwrap();
    }
    let log = storage.log.lock().unwrap().clone();
    assert_eq!(log, vec!["append:1", "append:5"], "one commit for the five");
}

#[tokio::test]
async fn a_panicking_update_is_an_error_and_the_engine_carries_on() {
    let storage: Arc<MemStorage> = shared();
    let sync = service(storage.clone());
    let r = sync
        .update_doc(case(1), |_am| -> () { panic!("bug in a relay edit") })
        .await;
    assert_eq!(r, Err(SyncError::UpdatePanicked));
    let n = sync
        .update_doc(case(1), |am| {
            put_title(am, "fine");
            7
        })
        .await;
    assert_eq!(n, Ok(7));
}

#[tokio::test]
async fn an_update_that_changes_nothing_writes_nothing() {
    let storage: Arc<MemStorage> = shared();
    let sync = service(storage.clone());
    sync.update_doc(case(1), |am| put_title(am, "x"))
        .await
        .unwrap();
    sync.update_doc(case(1), |_| ()).await.unwrap();
    assert_eq!(storage.log.lock().unwrap().len(), 1);
}
