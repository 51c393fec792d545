//! Leases: with several instances on one store, each mailbox is watched by exactly one of
//! them, and the scheduler runs on exactly one, without a coordinator to install.
//!
//! A lease is a row in the store: its holder, its expiry and a term. The holder renews it
//! every third of its time to live; when the holder dies or is cut off, the lease runs out
//! and the next instance to ask takes it with the term raised by one. Every write made under
//! a lease checks the term in the same transaction ([`Fence`]), so an instance that was
//! paused past its lease and wakes up writes nothing. And an instance that cannot renew
//! (its database connection is gone) stops acting on its own clock, before the lease it
//! last renewed can have run out for the others.
//!
//! An instance that died on this machine (its process is gone) gives up its leases and
//! outbox claims at once when the next instance here starts, so a restart does not wait
//! out the time to live.

use crate::record::{AnyStore, Instance, Lease, Store, StoreLocation, Tx};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tracing::{info, warn};

/// A lease held: its term fences every write made under it.
#[derive(Debug, Clone)]
pub struct Fence {
    pub name: String,
    pub holder: String,
    pub term: i64,
}

impl Fence {
    /// Refuses the transaction unless this lease is still ours under this term.
    pub fn check(&self, tx: &mut dyn Tx) -> crate::record::Result<()> {
        tx.check_lease(&self.name, &self.holder, self.term)
    }
}

/// What the holder should do about a lease it is trying to keep.
pub struct Holding {
    pub fence: Fence,
    /// Becomes true when the lease is lost (taken over, not renewed in time) or the daemon
    /// stops: the work done under it must stop.
    pub stop: watch::Receiver<bool>,
    /// True once the lease was lost (as opposed to the daemon stopping).
    lost: watch::Receiver<bool>,
    renewer: tokio::task::JoinHandle<()>,
}

impl Holding {
    pub fn lost(&self) -> bool {
        *self.lost.borrow()
    }

    /// Ends the holding: stops renewing and gives the lease up, so another instance can
    /// take it at once (a clean shutdown).
    pub async fn release(self, location: &StoreLocation) {
        self.renewer.abort();
        let fence = self.fence.clone();
        let location = location.clone();
        let _ = tokio::task::block_in_place(move || {
            location.open().and_then(|mut s| s.release_lease(&fence.name, &fence.holder, fence.term))
        });
    }
}

impl Drop for Holding {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// How often an instance that does not hold a lease asks for it.
pub fn poll_interval(ttl: Duration) -> Duration {
    (ttl / 5).clamp(Duration::from_millis(200), Duration::from_secs(1))
}

/// Waits until this instance holds lease `name` (or `shutdown`), then keeps renewing it in
/// the background. `None` when the daemon stopped first.
pub async fn hold(
    store: &mut AnyStore,
    location: &StoreLocation,
    name: &str,
    instance: &Instance,
    ttl: Duration,
    shutdown: &watch::Receiver<bool>,
) -> Option<Holding> {
    let mut shutdown = shutdown.clone();
    let mut told: Option<String> = None;
    loop {
        if *shutdown.borrow() {
            return None;
        }
        let asked = Instant::now();
        match tokio::task::block_in_place(|| store.acquire_lease(name, &instance.id, ttl)) {
            Ok(Some(lease)) => {
                info!(lease = name, term = lease.term, "this instance holds the lease");
                return Some(start_renewing(location, lease, asked, ttl, shutdown.clone()));
            }
            Ok(None) => {
                let holder = tokio::task::block_in_place(|| store.leases())
                    .ok()
                    .and_then(|all| all.into_iter().find(|l| l.name == name));
                if let Some(held) = &holder
                    && told.as_deref() != Some(held.holder.as_str())
                {
                    info!(lease = name, holder = %held.holder, since = %held.since.to_rfc3339(), "another instance holds the lease; standing by");
                    told = Some(held.holder.clone());
                }
            }
            Err(e) => warn!(lease = name, "cannot ask for the lease, will retry: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(poll_interval(ttl)) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// The local deadline of a lease renewed at `asked`: the store's expiry is at least `ttl`
/// after `asked`, and this stays a fifth of it short of that.
fn deadline(asked: Instant, ttl: Duration) -> Instant {
    asked + ttl - ttl / 5
}

fn start_renewing(
    location: &StoreLocation,
    lease: Lease,
    asked: Instant,
    ttl: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> Holding {
    let fence = Fence { name: lease.name.clone(), holder: lease.holder.clone(), term: lease.term };
    let (stop_tx, stop) = watch::channel(false);
    let (lost_tx, lost) = watch::channel(false);
    let location = location.clone();
    let renewed = fence.clone();
    let renewer = tokio::spawn(async move {
        let fence = renewed;
        let mut valid_until = deadline(asked, ttl);
        let mut store: Option<AnyStore> = None;
        loop {
            let wake = (Instant::now() + ttl / 3).min(valid_until);
            tokio::select! {
                _ = tokio::time::sleep_until(wake.into()) => {}
                _ = shutdown.changed() => {
                    if *shutdown.borrow() {
                        let _ = stop_tx.send(true);
                        return;
                    }
                }
            }
            let asked = Instant::now();
            if asked >= valid_until {
                warn!(lease = %fence.name, term = fence.term, "the lease could not be renewed in time; stopping the work under it");
                let _ = lost_tx.send(true);
                let _ = stop_tx.send(true);
                return;
            }
            // The renewal runs on a thread of its own and is waited for only until the local
            // deadline: a store that stops answering (a network partition that drops nothing
            // but answers nothing) must not keep this instance acting past its lease.
            let (job_location, job_fence, mut job_store) = (location.clone(), fence.clone(), store.take());
            let job = tokio::task::spawn_blocking(move || {
                let s = match job_store.as_mut() {
                    Some(s) => s,
                    None => match job_location.open() {
                        Ok(s) => job_store.insert(s),
                        Err(e) => return (Err(e), None),
                    },
                };
                (s.acquire_lease(&job_fence.name, &job_fence.holder, ttl), job_store)
            });
            let outcome = match tokio::time::timeout_at(valid_until.into(), job).await {
                Ok(Ok((outcome, kept))) => {
                    store = kept;
                    outcome
                }
                Ok(Err(e)) => Err(crate::record::StoreError::new(format!("the renewal stopped: {e}"))),
                Err(_) => {
                    warn!(lease = %fence.name, term = fence.term, "the store did not answer the renewal before the lease would run out; stopping the work under it");
                    let _ = lost_tx.send(true);
                    let _ = stop_tx.send(true);
                    return;
                }
            };
            match outcome {
                Ok(Some(lease)) if lease.term == fence.term => valid_until = deadline(asked, ttl),
                Ok(_) => {
                    warn!(lease = %fence.name, term = fence.term, "the lease passed to another instance; stopping the work under it");
                    let _ = lost_tx.send(true);
                    let _ = stop_tx.send(true);
                    return;
                }
                Err(e) => {
                    warn!(lease = %fence.name, "renewing the lease failed, will retry until it runs out: {e}");
                    store = None;
                }
            }
        }
    });
    Holding { fence, stop, lost, renewer }
}

/// Tells the store this instance is alive, every third of the lease time, until shutdown.
/// Outbox entries claimed by an instance not heard from for a lease time are taken over.
pub async fn heartbeat(
    location: StoreLocation,
    instance: Instance,
    ttl: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut store: Option<AnyStore> = None;
    let mut failing = false;
    while !*shutdown.borrow() {
        let result = tokio::task::block_in_place(|| {
            if store.is_none() {
                store = Some(location.open()?);
            }
            store.as_mut().expect("opened above").heartbeat(&instance)
        });
        match result {
            Ok(()) if failing => {
                info!("the store hears this instance again");
                failing = false;
            }
            Ok(()) => {}
            Err(e) => {
                if !failing {
                    warn!("cannot tell the store this instance is alive, will retry: {e}");
                }
                failing = true;
                store = None;
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(ttl / 3) => {}
            _ = shutdown.changed() => {}
        }
    }
}

/// Frees the leases and outbox claims of instances that ran on this machine and whose
/// process is gone (killed, crashed), so this one need not wait out their time.
pub fn forget_dead_neighbours(store: &mut AnyStore, me: &Instance, within: Duration) {
    let Ok(instances) = store.instances(Duration::from_secs(86_400).max(within)) else { return };
    for other in instances.iter().filter(|i| i.host == me.host && i.id != me.id) {
        let alive = libc::pid_t::try_from(other.pid).is_ok_and(|pid| {
            // SAFETY: signal 0 only asks whether the process exists.
            let rc = unsafe { libc::kill(pid, 0) };
            rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
        });
        if !alive {
            match store.forget_instance(&other.id) {
                Ok(()) => {
                    info!(instance = %other.id, "an earlier instance on this machine is gone; its leases and claims are free")
                }
                Err(e) => warn!(instance = %other.id, "cannot free the leases of a gone instance: {e}"),
            }
        }
    }
}
