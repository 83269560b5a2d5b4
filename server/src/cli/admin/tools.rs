//! `peerlog backup`, `restore`, `check`, `erase-case`.

use std::path::Path;

use serde_json::json;

use super::{AdminError, Output, apply_if_no_server, open};
use crate::clock::now_ms;
use crate::datadir;
use crate::db::Db;
use crate::maintenance;

pub(super) fn backup(dir: &Path, file: &Path) -> Result<Output, AdminError> {
    let db = open(dir)?;
    maintenance::backup(&db, file)?;
    Ok(Output::new(
        json!({"backup": file.display().to_string()}),
        format!("backup written to {}", file.display()),
    ))
}

pub(super) fn restore(dir: &Path, file: &Path) -> Result<Output, AdminError> {
    let dir = datadir::ensure(dir)?;
    let _lock = datadir::try_lock(&dir)?;
    let db = Db::open_in(&dir)?;
    maintenance::restore(&db, file)?;
    Ok(Output::new(
        json!({"restored": file.display().to_string()}),
        format!("restored from {}", file.display()),
    ))
}

pub(super) fn check(dir: &Path) -> Result<(Output, bool), AdminError> {
    let db = open(dir)?;
    let report = maintenance::check(&db)?;
    let mut text = format!(
        "integrity: {}\ndocuments: {} ({} case, {} directory)",
        report.integrity, report.documents, report.case_documents, report.directory_documents
    );
    for p in &report.problems {
        text.push_str(&format!("\nproblem: {} {}: {}", p.kind, p.doc, p.problem));
    }
    let ok = report.ok();
    text.push_str(if ok { "\nok" } else { "\nPROBLEMS FOUND" });
    let mut json = serde_json::to_value(&report).unwrap_or_default();
    json["ok"] = json!(ok);
    Ok((Output::new(json, text), ok))
}

pub(super) fn erase_case(dir: &Path, id: &str) -> Result<Output, AdminError> {
    let db = open(dir)?;
    let id = id
        .trim()
        .parse()
        .map_err(|_| AdminError::Usage("not a case id"))?;
    let report = maintenance::erase_case(&db, &id, now_ms())?;
    let by_cli = apply_if_no_server(dir, &db)?;
    Ok(Output::new(
        serde_json::to_value(&report).unwrap_or_default(),
        format!(
            "case {id} erased; directories {}",
            if by_cli {
                "updated"
            } else {
                "are updated by the running server within a second"
            }
        ),
    ))
}
