//! Releasing held cases at their `release_at`, with an injectable clock so tests never wait
//! for a real morning. Each tick is one store transaction; on start-up the first tick catches
//! up on everything whose time passed while uketsuke was down.

use crate::config::Config;
use crate::record::{self, Store};
use chrono::{DateTime, Duration, Utc};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};

/// Where time comes from.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
    /// Waits until `t` (or until `stop` is set, checked at least once a second).
    fn sleep_until(&self, t: DateTime<Utc>, stop: &AtomicBool);
}

/// The real clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    fn sleep_until(&self, t: DateTime<Utc>, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            let left = t - Utc::now();
            if left <= Duration::zero() {
                return;
            }
            let step = left.min(Duration::seconds(1)).to_std().unwrap_or_default();
            std::thread::sleep(step);
        }
    }
}

/// A clock that moves only when told to: `advance` wakes whoever sleeps on it.
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
    moved: Condvar,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock { now: Mutex::new(start), moved: Condvar::new() }
    }

    pub fn set(&self, t: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|p| p.into_inner()) = t;
        self.moved.notify_all();
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sleep_until(&self, t: DateTime<Utc>, stop: &AtomicBool) {
        let mut now = self.now.lock().unwrap_or_else(|p| p.into_inner());
        while *now < t && !stop.load(Ordering::Relaxed) {
            now =
                self.moved.wait_timeout(now, std::time::Duration::from_millis(50)).unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}

/// One tick: releases every held case due at `now`. Returns the case numbers released.
pub fn tick(store: &mut impl Store, config: &Config, now: DateTime<Utc>) -> record::Result<Vec<String>> {
    store.write(|tx| record::release_due(tx, config, now))
}

/// A tick of the daemon's scheduler, which runs under the `scheduler` lease: refused, with
/// nothing released, once the lease is no longer this instance's.
pub fn tick_fenced(
    store: &mut impl Store,
    config: &Config,
    now: DateTime<Utc>,
    fence: &crate::lease::Fence,
) -> record::Result<Vec<String>> {
    store.write(|tx| {
        fence.check(tx)?;
        record::release_due(tx, config, now)
    })
}

/// Runs until `stop` is set: a tick, then sleep until the next release or a minute, whichever
/// is sooner. `on_release` hears of every case released.
pub fn run(
    store: &mut impl Store,
    config: &Config,
    clock: &dyn Clock,
    stop: &AtomicBool,
    mut on_release: impl FnMut(&str),
) -> record::Result<()> {
    while !stop.load(Ordering::Relaxed) {
        let now = clock.now();
        for number in tick(store, config, now)? {
            on_release(&number);
        }
        let next = store.next_release()?.map_or(now + Duration::minutes(1), |t| t.min(now + Duration::minutes(1)));
        clock.sleep_until(next.max(now + Duration::milliseconds(1)), stop);
    }
    Ok(())
}

/// A clock read from a file holding an RFC 3339 time, for tests of the running daemon that
/// must move time forward (a hold released on Monday morning) without waiting; the real clock
/// when the file is missing or unreadable. Selected with `uketsuke run --clock-file`.
pub struct FileClock {
    path: std::path::PathBuf,
}

impl FileClock {
    pub fn new(path: std::path::PathBuf) -> FileClock {
        FileClock { path }
    }
}

impl Clock for FileClock {
    fn now(&self) -> DateTime<Utc> {
        std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(Utc::now)
    }

    fn sleep_until(&self, t: DateTime<Utc>, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) && self.now() < t {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}
