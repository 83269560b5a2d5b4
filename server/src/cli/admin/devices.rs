//! `peerlog admin device list|revoke`.

use serde_json::json;

use super::{AdminError, Output};
use crate::cli::DeviceCommand;
use crate::db::Db;
use crate::db::identity::{self, role_code};

pub(super) fn run(db: &Db, command: DeviceCommand, now: i64) -> Result<Output, AdminError> {
    match command {
        DeviceCommand::List => {
            let devices = db.read(|tx| identity::list_devices(tx))?;
            let text = devices
                .iter()
                .map(|d| {
                    format!(
                        "{}\t{}\t{}\t{}\t{}",
                        d.id,
                        d.user,
                        role_code(d.role),
                        d.status.code(),
                        d.last_seen
                            .map_or_else(|| "never".to_owned(), |t| t.to_string())
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            let json = devices
                .iter()
                .map(|d| {
                    json!({
                        "deviceId": d.id.as_str(), "userId": d.user.as_str(), "role": role_code(d.role),
                        "name": d.name, "status": d.status.code(), "enrolledAt": d.enrolled_at,
                        "lastSeen": d.last_seen,
                    })
                })
                .collect();
            Ok(Output::new(serde_json::Value::Array(json), text))
        }
        DeviceCommand::Revoke { id } => {
            let id = id
                .trim()
                .parse()
                .map_err(|_| AdminError::Usage("not a device id"))?;
            let known = db.write(|tx| identity::revoke_device(tx, &id, now))?;
            if !known {
                return Err(AdminError::NotFound("device"));
            }
            Ok(Output::new(
                json!({"deviceId": id.as_str(), "status": "revoked"}),
                format!(
                    "device {id} revoked: its next token request gets a wipe order; a running server closes its connections within a second"
                ),
            ))
        }
    }
}
