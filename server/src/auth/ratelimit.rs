//! Rate limiting of failed authentication attempts, per key (`ip:…`, `device:…`): at most `max`
//! failures in a sliding one-minute window; beyond that every attempt is refused until the window
//! passes. Memory is bounded: the table is pruned, and capped.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(60);
const MAX_KEYS: usize = 100_000;

/// Failure counts per key.
#[derive(Debug)]
pub struct RateLimiter {
    max: u32,
    table: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(max_failures_per_minute: u32) -> Self {
        Self {
            max: max_failures_per_minute.max(1),
            table: Mutex::new(HashMap::new()),
        }
    }

    /// Whether every key is still below its limit.
    pub fn allowed(&self, keys: &[&str], now: Instant) -> bool {
        let Ok(table) = self.table.lock() else {
            return false;
        };
        keys.iter().all(|key| match table.get(*key) {
            Some((since, n)) => now.duration_since(*since) >= WINDOW || *n < self.max,
            None => true,
        })
    }

    /// Counts a failure against every key.
    pub fn failed(&self, keys: &[&str], now: Instant) {
        let Ok(mut table) = self.table.lock() else {
            return;
        };
        if table.len() >= MAX_KEYS {
            table.retain(|_, (since, _)| now.duration_since(*since) < WINDOW);
            if table.len() >= MAX_KEYS {
                // Still full of fresh entries (an attack from very many addresses): start over
                // rather than grow without bound.
                table.clear();
            }
        }
        for key in keys {
            let entry = table.entry((*key).to_owned()).or_insert((now, 0));
            if now.duration_since(entry.0) >= WINDOW {
                *entry = (now, 0);
            }
            entry.1 = entry.1.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_within_a_window() {
        let limiter = RateLimiter::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.allowed(&["ip:a"], t0));
            limiter.failed(&["ip:a", "device:x"], t0);
        }
        assert!(!limiter.allowed(&["ip:a"], t0));
        assert!(
            !limiter.allowed(&["ip:b", "device:x"], t0),
            "the device key is limited too"
        );
        assert!(limiter.allowed(&["ip:b"], t0));
        assert!(limiter.allowed(&["ip:a"], t0 + WINDOW), "the window passes");
    }
}
