//! The mail channels: IMAP intake ([`imap`]) and SMTP sending of the outbox ([`smtp`]), over
//! TLS verified by default ([`tls`]). Each runs as a task of the daemon, reconnecting with
//! capped exponential backoff and jitter, and logging each change of state once.

pub mod imap;
pub mod smtp;
pub mod stream;
pub mod tls;

use std::time::Duration;

/// Capped exponential backoff with jitter, so many daemons do not reconnect in step.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    attempt: u32,
    seed: u64,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Backoff {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(7);
        Backoff { first, max, attempt: 0, seed: seed | 1 }
    }

    /// The next wait: first, 2x, 4x ... up to max, each between half and all of it.
    pub fn next_delay(&mut self) -> Duration {
        let full = self.first.saturating_mul(1u32 << self.attempt.min(20)).min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        self.seed ^= self.seed << 13;
        self.seed ^= self.seed >> 7;
        self.seed ^= self.seed << 17;
        let fraction = 0.5 + (self.seed % 1000) as f64 / 2000.0;
        full.mul_f64(fraction)
    }

    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

/// Remembers the last state logged, so a flapping channel logs each change once, not once
/// per retry.
#[derive(Debug, Default)]
pub struct StateLog {
    last: Option<String>,
}

impl StateLog {
    /// True when `state` differs from the last one seen.
    pub fn changed(&mut self, state: &str) -> bool {
        if self.last.as_deref() == Some(state) {
            return false;
        }
        self.last = Some(state.to_string());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_the_cap_with_jitter() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
        let delays: Vec<Duration> = (0..12).map(|_| b.next_delay()).collect();
        assert!(delays[0] >= Duration::from_millis(500) && delays[0] <= Duration::from_secs(1));
        assert!(delays[3] >= Duration::from_secs(4) && delays[3] <= Duration::from_secs(8));
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(60)));
        assert!(delays[11] >= Duration::from_secs(30));
        b.reset();
        assert!(b.next_delay() <= Duration::from_secs(1));
    }

    #[test]
    fn state_log_reports_changes_once() {
        let mut log = StateLog::default();
        assert!(log.changed("down"));
        assert!(!log.changed("down"));
        assert!(log.changed("up"));
    }
}
