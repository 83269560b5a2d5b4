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
