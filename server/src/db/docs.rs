//! Stored document bytes: each document is a sequence of chunks (a snapshot and/or changes) whose
//! concatenation Automerge loads. Erased document ids are remembered so nothing re-creates them.

use peerlog_core::ids::CaseId;
use rusqlite::{Connection, OptionalExtension, params};

use super::{DbError, StepExt};

/// All chunks of a document, concatenated; `None` if nothing is stored.
pub fn load(conn: &Connection, doc: &CaseId) -> Result<Option<Vec<u8>>, DbError> {
    let mut stmt = conn
        .prepare_cached("SELECT bytes FROM doc_chunks WHERE doc = ?1 ORDER BY seq")
        .step("loading a document")?;
    let mut rows = stmt
        .query(params![doc.to_string()])
        .step("loading a document")?;
    let mut out: Option<Vec<u8>> = None;
    while let Some(row) = rows.next().step("loading a document")? {
        let bytes = row
            .get_ref(0)
            .step("loading a document")?
            .as_blob()
            .map_err(|e| DbError::Sqlite {
                step: "loading a document",
                source: e.into(),
            })?;
        out.get_or_insert_with(Vec::new).extend_from_slice(bytes);
    }
    Ok(out)
}

pub fn is_erased(conn: &Connection, doc: &CaseId) -> Result<bool, DbError> {
    conn.query_row(
        "SELECT 1 FROM erased_docs WHERE doc = ?1",
        params![doc.to_string()],
        |_| Ok(()),
    )
    .optional()
    .step("checking for an erased document")
    .map(|o| o.is_some())
}

pub fn exists(conn: &Connection, doc: &CaseId) -> Result<bool, DbError> {
    conn.query_row(
        "SELECT 1 FROM doc_chunks WHERE doc = ?1 LIMIT 1",
        params![doc.to_string()],
        |_| Ok(()),
    )
    .optional()
    .step("checking for a document")
    .map(|o| o.is_some())
}

/// Appends one chunk. Returns false (and stores nothing) if the document was erased.
pub fn append_chunk(conn: &Connection, doc: &CaseId, bytes: &[u8]) -> Result<bool, DbError> {
    if bytes.is_empty() {
        return Ok(true);
    }
    if is_erased(conn, doc)? {
        return Ok(false);
    }
    conn.prepare_cached(
        "INSERT INTO doc_chunks (doc, seq, bytes)
         VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM doc_chunks WHERE doc = ?1), ?2)",
    )
    .step("appending to a document")?
    .execute(params![doc.to_string(), bytes])
    .step("appending to a document")?;
    Ok(true)
}

/// Replaces every chunk of a document with one snapshot. Returns false if it was erased.
pub fn replace(conn: &Connection, doc: &CaseId, snapshot: &[u8]) -> Result<bool, DbError> {
    if is_erased(conn, doc)? {
        return Ok(false);
    }
    let id = doc.to_string();
    conn.execute("DELETE FROM doc_chunks WHERE doc = ?1", params![id])
        .step("compacting a document")?;
    conn.execute(
        "INSERT INTO doc_chunks (doc, seq, bytes) VALUES (?1, 1, ?2)",
        params![id, snapshot],
    )
    .step("compacting a document")?;
    Ok(true)
}

/// Deletes a document's chunks and remembers that it was erased.
pub fn erase(conn: &Connection, doc: &CaseId, now: i64) -> Result<(), DbError> {
    let id = doc.to_string();
    conn.execute("DELETE FROM doc_chunks WHERE doc = ?1", params![id])
        .step("erasing a document")?;
    conn.execute(
        "INSERT OR IGNORE INTO erased_docs (doc, erased_at) VALUES (?1, ?2)",
        params![id, now],
    )
    .step("recording an erasure")?;
    Ok(())
}

/// The organisation-wide document sequence: bumped by every stored chunk and every erasure, so a
/// reader that saw `n` knows nothing changed while it still reads `n`.
pub fn seq(conn: &Connection) -> Result<i64, DbError> {
    conn.query_row("SELECT n FROM doc_seq", [], |r| r.get(0))
        .step("reading the document sequence")
}

/// A document's version: the sequence number of its last stored chunk (`None` if it has none).
pub fn version(conn: &Connection, doc: &CaseId) -> Result<Option<i64>, DbError> {
    conn.prepare_cached("SELECT version FROM doc_versions WHERE doc = ?1")
        .step("reading a document version")?
        .query_row(params![doc.to_string()], |r| r.get(0))
        .optional()
        .step("reading a document version")
}

/// Documents whose version is above `seq` (changed since a reader saw `seq`).
pub fn changed_since(conn: &Connection, seq: i64) -> Result<Vec<CaseId>, DbError> {
    let mut stmt = conn
        .prepare_cached("SELECT doc FROM doc_versions WHERE version > ?1")
        .step("listing changed documents")?;
    let rows = stmt
        .query_map(params![seq], |r| r.get::<_, String>(0))
        .step("listing changed documents")?;
    let mut out = Vec::new();
    for row in rows {
        if let Ok(id) = row.step("listing changed documents")?.parse() {
            out.push(id);
        }
    }
    Ok(out)
}

/// Every stored document id (as stored text) with its size in bytes.
pub fn list(conn: &Connection) -> Result<Vec<(String, i64)>, DbError> {
    let mut stmt = conn
        .prepare("SELECT doc, SUM(length(bytes)) FROM doc_chunks GROUP BY doc ORDER BY doc")
        .step("listing documents")?;
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .step("listing documents")?
        .collect::<Result<_, _>>()
        .step("listing documents")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::migrations;

    #[test]
    fn versions_follow_appends_compactions_and_erasures() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrations::migrate(&mut conn).unwrap();
        let a = CaseId::from_bytes([1; 16]);
        let b = CaseId::from_bytes([2; 16]);
        assert_eq!(
            (seq(&conn).unwrap(), version(&conn, &a).unwrap()),
            (0, None)
        );
        append_chunk(&conn, &a, b"x").unwrap();
        append_chunk(&conn, &b, b"y").unwrap();
        assert_eq!(version(&conn, &a).unwrap(), Some(1));
        assert_eq!(version(&conn, &b).unwrap(), Some(2));
        let seen = seq(&conn).unwrap();
        assert!(changed_since(&conn, seen).unwrap().is_empty());
        replace(&conn, &a, b"snapshot").unwrap();
        assert_eq!(changed_since(&conn, seen).unwrap(), vec![a]);
        let seen = seq(&conn).unwrap();
        erase(&conn, &b, 5).unwrap();
        assert!(seq(&conn).unwrap() > seen, "an erasure moves the sequence");
        assert_eq!(version(&conn, &b).unwrap(), None);
    }
}
