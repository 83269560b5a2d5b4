//! [`AppState`]: what every HTTP handler and background task shares.

use std::sync::Arc;

use crate::auth::ratelimit::RateLimiter;
use crate::cases::access::CachedAccess;
use crate::cases::engine::CaseEngine;
use crate::config::Config;
use crate::db::Db;
use crate::web::metrics::Metrics;

/// Shared relay state (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub db: Arc<Db>,
    pub access: Arc<CachedAccess>,
    pub engine: Arc<dyn CaseEngine>,
    pub metrics: Arc<Metrics>,
    pub config: Arc<Config>,
    pub limiter: Arc<RateLimiter>,
    /// Failed dashboard sign-ins per client address (wider than the per-account budget in
    /// `limiter`, so colleagues behind one office address are not locked out by one typo-prone
    /// user, while one address still cannot try passwords without bound).
    pub address_limiter: Arc<RateLimiter>,
    /// The dashboard's cache of case projections.
    pub projections: Arc<crate::dashboard::projection::Projections>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(
        db: Arc<Db>,
        access: Arc<CachedAccess>,
        engine: Arc<dyn CaseEngine>,
        metrics: Arc<Metrics>,
        config: Config,
    ) -> Self {
        let limiter = Arc::new(RateLimiter::new(config.auth_failures_per_minute));
        let address_limiter = Arc::new(RateLimiter::new(
            config.auth_failures_per_minute.saturating_mul(6),
        ));
        Self {
            db,
            access,
            engine,
            metrics,
            config: Arc::new(config),
            limiter,
            address_limiter,
            projections: Arc::new(crate::dashboard::projection::Projections::default()),
        }
    }
}
