//! The data directory: created private to the relay's user, holding the database and the lock
//! file a running server holds (so the CLI knows whether a server will apply its changes, and a
//! restore or a second server cannot run underneath a live one).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

/// The lock file's name.
pub const LOCK_FILE: &str = "peerlog.lock";

/// Why the data directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error("creating the data directory failed")]
    Create(#[source] std::io::Error),
    #[error("opening the lock file failed")]
    Lock(#[source] std::io::Error),
    #[error("a peerlog server is already running on this data directory")]
    InUse,
}

/// Creates the data directory (mode 0700 on Unix) if needed.
pub fn ensure(path: &Path) -> Result<PathBuf, DataDirError> {
    std::fs::create_dir_all(path).map_err(DataDirError::Create)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
            .map_err(DataDirError::Create)?;
    }
    Ok(path.to_owned())
}

/// An exclusive hold on the data directory, released on drop.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

/// Takes the exclusive lock, or reports that a server holds it.
pub fn try_lock(path: &Path) -> Result<DirLock, DataDirError> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path.join(LOCK_FILE))
        .map_err(DataDirError::Lock)?;
    match file.try_lock() {
        Ok(()) => Ok(DirLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(DataDirError::InUse),
        Err(std::fs::TryLockError::Error(e)) => Err(DataDirError::Lock(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_is_exclusive_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = try_lock(dir.path()).unwrap();
        assert!(matches!(try_lock(dir.path()), Err(DataDirError::InUse)));
        drop(first);
        assert!(try_lock(dir.path()).is_ok());
    }
}
