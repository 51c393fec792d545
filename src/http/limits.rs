//! Per-address and per-customer submission rates: a sliding hour per key, in memory.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Default)]
pub struct RateLimits {
    seen: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimits {
    /// Counts one submission for every key, or, if any key is over `limit` an hour, none and
    /// returns how many seconds until it may try again.
    pub fn admit(&self, keys: &[(String, u32)], now: Instant) -> Result<(), u64> {
        let hour = Duration::from_secs(3600);
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let mut wait = 0u64;
        for (key, limit) in keys {
            let times = seen.entry(key.clone()).or_default();
            while times.front().is_some_and(|t| now.duration_since(*t) >= hour) {
                times.pop_front();
            }
            if times.len() >= *limit as usize {
                let oldest = times.front().copied().unwrap_or(now);
                wait = wait.max((hour - now.duration_since(oldest)).as_secs().max(1));
            }
        }
        if wait > 0 {
            return Err(wait);
        }
        for (key, _) in keys {
            seen.entry(key.clone()).or_default().push_back(now);
        }
        // Keep memory bounded: forget keys idle for an hour.
        if seen.len() > 100_000 {
            seen.retain(|_, times| times.back().is_some_and(|t| now.duration_since(*t) < hour));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_with_retry_after() {
        let limits = RateLimits::default();
        let start = Instant::now();
        let keys = vec![("ip:1".to_string(), 2), ("customer:A".to_string(), 3)];
        assert!(limits.admit(&keys, start).is_ok());
        assert!(limits.admit(&keys, start).is_ok());
        let wait = limits.admit(&keys, start + Duration::from_secs(10)).unwrap_err();
        assert!((3500..=3600).contains(&wait), "{wait}");
        // Another address for the same customer: one more fits, then the customer is full.
        assert!(limits.admit(&[("ip:2".into(), 2), ("customer:A".into(), 3)], start).is_ok());
        assert!(limits.admit(&[("ip:3".into(), 2), ("customer:A".into(), 3)], start).is_err());
        assert!(limits.admit(&keys, start + Duration::from_secs(3601)).is_ok());
    }
}
