//! Relay configuration: defaults, then a TOML file (`--config`), then the environment
//! (`PEERLOG_LISTEN`, `PEERLOG_DATA`), then command-line flags — later layers win.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why the configuration could not be assembled.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading the config file failed")]
    Read(#[source] std::io::Error),
    #[error("the config file is not valid: {0}")]
    Parse(String),
    #[error("{var} is not a valid {what}")]
    Env {
        var: &'static str,
        what: &'static str,
    },
    #[error("--tls-cert and --tls-key go together")]
    TlsHalf,
}

/// Every setting of `peerlog serve`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Data directory (the SQLite file lives inside).
    pub data: PathBuf,
    /// PEM certificate chain for HTTPS/WSS (with `tls-key`) [env: PEERLOG_TLS_CERT].
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS/WSS (with `tls-cert`).
    pub tls_key: Option<PathBuf>,
    /// Access token lifetime in seconds.
    pub token_ttl_secs: u64,
    /// Enrolment code lifetime in seconds.
    pub enrolment_code_ttl_secs: u64,
    /// Challenge lifetime in seconds.
    pub challenge_ttl_secs: u64,
    /// Failed authentication attempts allowed per client address (and per device) per minute.
    pub auth_failures_per_minute: u32,
    /// Use the last `X-Forwarded-For` hop as the client address (only behind your own proxy).
    pub trust_forwarded_for: bool,
    /// Documents the sync engine keeps in memory.
    pub max_loaded_docs: usize,
    /// Largest WebSocket message accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Most operations one case document may hold; a device change beyond it is refused. A
    /// two-year case with 700 contacts holds about 1/200 of the default (BENCHMARKS.md).
    pub max_doc_ops: u64,
    /// Bytes of changes one device may send per UTC day; beyond it its changes are refused until
    /// the next day. A PRW's busy week is a few hundred kilobytes.
    pub max_device_bytes_per_day: u64,
    /// Check every device change against the case schema before keeping it (the door check).
    /// Only for measuring what the check costs: never turn it off on a relay in use.
    pub door_check: bool,
    /// Organisation name used when the data directory is first initialised.
    pub org_name: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data: PathBuf::from("./peerlog-data"),
            tls_cert: None,
            tls_key: None,
            token_ttl_secs: 3600,
            enrolment_code_ttl_secs: 15 * 60,
            challenge_ttl_secs: 120,
            auth_failures_per_minute: 10,
            trust_forwarded_for: false,
            max_loaded_docs: 10_000,
            max_frame_bytes: 8 * 1024 * 1024,
            max_doc_ops: 2_000_000,
            max_device_bytes_per_day: 64 * 1024 * 1024,
            door_check: true,
            org_name: "Peerlog".to_owned(),
        }
    }
}

/// Values given on the command line (each overrides everything else).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<SocketAddr>,
    pub data: Option<PathBuf>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

impl Config {
    /// Assembles the configuration from its layers. `env` looks up an environment variable.
    pub fn resolve(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
        flags: Overrides,
    ) -> Result<Self, ConfigError> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(ConfigError::Read)?;
                toml::from_str(&text).map_err(|e| ConfigError::Parse(e.message().to_owned()))?
            }
            None => Config::default(),
        };
        if let Some(listen) = env("PEERLOG_LISTEN") {
            config.listen = listen.parse().map_err(|_| ConfigError::Env {
                var: "PEERLOG_LISTEN",
                what: "socket address",
            })?;
        }
        if let Some(data) = env("PEERLOG_DATA").filter(|d| !d.is_empty()) {
            config.data = PathBuf::from(data);
        }
        let env_path = |var| env(var).filter(|p| !p.is_empty()).map(PathBuf::from);
        if let (Some(cert), Some(key)) = (env_path("PEERLOG_TLS_CERT"), env_path("PEERLOG_TLS_KEY"))
        {
            config.tls_cert = Some(cert);
            config.tls_key = Some(key);
        } else if env_path("PEERLOG_TLS_CERT").is_some() || env_path("PEERLOG_TLS_KEY").is_some() {
            return Err(ConfigError::TlsHalf);
        }
        if let Some(listen) = flags.listen {
            config.listen = listen;
        }
        if let Some(data) = flags.data {
            config.data = data;
        }
        if flags.tls_cert.is_some() || flags.tls_key.is_some() {
            config.tls_cert = flags.tls_cert;
            config.tls_key = flags.tls_key;
        }
        if config.tls_cert.is_some() != config.tls_key.is_some() {
            return Err(ConfigError::TlsHalf);
        }
        Ok(config)
    }

    pub fn token_ttl_ms(&self) -> i64 {
        secs_to_ms(self.token_ttl_secs)
    }

    pub fn challenge_ttl_ms(&self) -> i64 {
        secs_to_ms(self.challenge_ttl_secs)
    }

    pub fn enrolment_code_ttl_ms(&self) -> i64 {
        secs_to_ms(self.enrolment_code_ttl_secs)
    }
}

fn secs_to_ms(secs: u64) -> i64 {
    i64::try_from(secs.saturating_mul(1000)).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("peerlog.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:9000\"\ndata = \"/srv/a\"\ntoken-ttl-secs = 600\n",
        )
        .unwrap();
        let none = |_: &str| None;
        let c = Config::resolve(Some(&file), none, Overrides::default()).unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.token_ttl_secs, 600);

        let env = |k: &str| (k == "PEERLOG_DATA").then(|| "/srv/b".to_owned());
        let c = Config::resolve(Some(&file), env, Overrides::default()).unwrap();
        assert_eq!(c.data, PathBuf::from("/srv/b"));

        let flags = Overrides {
            data: Some("/srv/c".into()),
            ..Overrides::default()
        };
        let c = Config::resolve(Some(&file), env, flags).unwrap();
        assert_eq!(c.data, PathBuf::from("/srv/c"));

        let c = Config::resolve(None, none, Overrides::default()).unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
    }

    #[test]
    fn bad_input_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "no-such-setting = 1\n").unwrap();
        assert!(matches!(
            Config::resolve(Some(&file), |_| None, Overrides::default()),
            Err(ConfigError::Parse(_))
        ));
        let env = |k: &str| (k == "PEERLOG_LISTEN").then(|| "nonsense".to_owned());
        assert!(matches!(
            Config::resolve(None, env, Overrides::default()),
            Err(ConfigError::Env { .. })
        ));
        let half = Overrides {
            tls_cert: Some("c.pem".into()),
            ..Overrides::default()
        };
        assert!(matches!(
            Config::resolve(None, |_| None, half),
            Err(ConfigError::TlsHalf)
        ));
        let half_env = |k: &str| (k == "PEERLOG_TLS_KEY").then(|| "k.pem".to_owned());
        assert!(matches!(
            Config::resolve(None, half_env, Overrides::default()),
            Err(ConfigError::TlsHalf)
        ));
    }

    #[test]
    fn tls_comes_from_the_environment_unless_flags_say_otherwise() {
        let env = |k: &str| match k {
            "PEERLOG_TLS_CERT" => Some("/etc/env-cert.pem".to_owned()),
            "PEERLOG_TLS_KEY" => Some("/etc/env-key.pem".to_owned()),
            _ => None,
        };
        let c = Config::resolve(None, env, Overrides::default()).unwrap();
        assert_eq!(c.tls_cert, Some(PathBuf::from("/etc/env-cert.pem")));
        assert_eq!(c.tls_key, Some(PathBuf::from("/etc/env-key.pem")));
        let flags = Overrides {
            tls_cert: Some("flag-cert.pem".into()),
            tls_key: Some("flag-key.pem".into()),
            ..Overrides::default()
        };
        let c = Config::resolve(None, env, flags).unwrap();
        assert_eq!(c.tls_cert, Some(PathBuf::from("flag-cert.pem")));
    }
}
