//! Write quotas: how much one document may hold and how much one device may send in a day, so
//! that a device (hostile or broken) cannot grow the relay's memory and disk without end.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use peerlog_core::ids::DeviceId;

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// Bytes of new changes per device per UTC day, shared by every hub shard.
#[derive(Debug)]
pub(crate) struct DeviceQuota {
    max_bytes_per_day: u64,
    /// Device → (day number, bytes so far). Only today's entries are kept.
    used: Mutex<(u64, HashMap<DeviceId, u64>)>,
    clock: fn() -> u64,
}

fn wall_clock_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl DeviceQuota {
    pub(crate) fn new(max_bytes_per_day: u64) -> Self {
        Self::with_clock(max_bytes_per_day, wall_clock_ms)
    }

    pub(crate) fn with_clock(max_bytes_per_day: u64, clock: fn() -> u64) -> Self {
        Self {
            max_bytes_per_day,
            used: Mutex::new((0, HashMap::new())),
            clock,
        }
    }

    /// Counts `bytes` for `device` today; `false` (and nothing counted) if that would exceed the
    /// day's quota.
    pub(crate) fn charge(&self, device: &DeviceId, bytes: u64) -> bool {
        let today = (self.clock)() / DAY_MS;
        let mut guard = self
            .used
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let (day, used) = &mut *guard;
        if *day != today {
            *day = today;
            used.clear();
        }
        let so_far = used.get(device).copied().unwrap_or(0);
        let total = so_far.saturating_add(bytes);
        if total > self.max_bytes_per_day {
            return false;
        }
        used.insert(device.clone(), total);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_is_refused_past_its_daily_bytes_and_starts_again_the_next_day() {
        static NOW: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(5 * DAY_MS);
        let quota = DeviceQuota::with_clock(100, || NOW.load(std::sync::atomic::Ordering::Relaxed));
        let phone: DeviceId = "phone-1".parse().unwrap();
        let tablet: DeviceId = "tablet-1".parse().unwrap();
        assert!(quota.charge(&phone, 60));
        assert!(!quota.charge(&phone, 41), "over the quota");
        assert!(quota.charge(&phone, 40), "a refused charge counts nothing");
        assert!(quota.charge(&tablet, 100), "devices are counted apart");
        NOW.store(6 * DAY_MS, std::sync::atomic::Ordering::Relaxed);
        assert!(quota.charge(&phone, 100));
    }
}
