//! HTTP plumbing shared by every route: [`router`] assembles the relay's router (health,
//! `/metrics`, `/sync`, the API and the dashboard) and serves it with graceful shutdown,
//! `headers` adds the security headers to every response, [`error`] turns every failure into
//! the stable `{code, message}` body, [`tls`] loads the certificate for direct HTTPS/WSS and
//! [`metrics`] keeps the relay's counters for the Prometheus endpoint.

pub mod error;
pub(crate) mod headers;
pub mod metrics;
pub mod router;
pub mod tls;
