//! `uketsuke run`: the daemon. One task per channel (IMAP intake, the SMTP outbox worker),
//! the scheduler for held cases, and a watcher that reports stalled channels; graceful
//! shutdown on SIGTERM or Ctrl-C, done once: stop taking new mail, finish the transaction in
//! hand, leave the rest for the next start. SIGHUP reloads the rules (customers, profile,
//! understanding, templates) without a restart (docs/POLICY.md section 8).

use crate::act::compose::Templates;
use crate::act::scheduler::{self, Clock};
use crate::config::{Config, Overrides};
use crate::decide::Calendars;
use crate::http::page::Pages;
use crate::record::{AnyStore, Store, StoreLocation};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::{Notify, watch};
use tracing::{error, info, warn};

/// Counters exported at `GET /metrics`.
#[derive(Default)]
pub struct Metrics {
    /// Reports recorded, by channel and action.
    pub received: std::sync::Mutex<std::collections::BTreeMap<(String, String), u64>>,
    pub sent: std::sync::atomic::AtomicU64,
    pub send_failures: std::sync::atomic::AtomicU64,
    /// 1 while the IMAP session is up.
    pub imap_connected: std::sync::atomic::AtomicU64,
}

impl Metrics {
    pub fn count_report(&self, channel: &str, action: &str) {
        let mut map = self.received.lock().unwrap_or_else(|p| p.into_inner());
        // "followup:dispatch" counts as a follow-up.
        let action = action.split(':').next().unwrap_or(action);
        *map.entry((channel.to_string(), action.to_string())).or_default() += 1;
    }
}

/// The rules the daemon works by: the configuration, the calendars of its profile, the message
/// templates and the intake page. Replaced whole on reload, never changed in place, so each
/// report is decided, recorded and answered by one consistent set.
pub struct Rules {
    pub config: Config,
    pub calendars: Calendars,
    pub templates: Templates,
    pub pages: Pages,
    pub loaded_at: DateTime<Utc>,
}

impl Rules {
    /// Builds the rules from a loaded configuration: every template is read and rendered once
    /// against sample cases, so a broken one is refused here, not in a customer's inbox.
    pub fn new(config: Config, loaded_at: DateTime<Utc>) -> Result<Rules, Vec<String>> {
        let (templates, mut problems) = match &config.templates_dir {
            Some(dir) => match Templates::from_dir(dir) {
                Ok(t) => {
                    let problems = t.check(&config, dir);
                    (Some(t), problems)
                }
                Err(problems) => (None, problems),
            },
            None => (Some(Templates::embedded()), Vec::new()),
        };
        let pages =
            Pages::load(config.templates_dir.as_deref()).map_err(|e| problems.push(format!("the intake page: {e}")));
        match (templates, pages) {
            (Some(templates), Ok(pages)) if problems.is_empty() => {
                Ok(Rules { calendars: Calendars::new(&config.policy), config, templates, pages, loaded_at })
            }
            _ => Err(problems),
        }
    }
}

/// The settings that are read only at start: the channels, the store, OAuth2 accounts and the
/// outbox. A reload keeps the running ones and says which it did not apply.
const RESTART_ONLY: [&str; 6] = ["[imap]", "[smtp]", "[http]", "[store]", "[oauth.*]", "[outbox]"];

fn restart_only(config: &Config) -> [String; 6] {
    [
        format!("{:?}", config.imap),
        format!("{:?}", config.smtp),
        format!("{:?}", config.http),
        format!("{:?}", config.store),
        format!("{:?}", config.oauth),
        format!("{:?}", config.outbox),
    ]
}

/// What every task of the daemon shares.
pub struct Daemon {
    rules: RwLock<Arc<Rules>>,
    /// The main configuration file and command-line overrides, to read again on reload.
    config_path: Option<PathBuf>,
    overrides: Overrides,
    pub store: StoreLocation,
    /// This process, as the store knows it: the holder of its leases and outbox claims.
    pub instance: crate::record::Instance,
    pub clock: Arc<dyn Clock>,
    /// Woken when something was enqueued, so acknowledgments leave at once.
    pub outbox_wake: Notify,
    pub shutdown: watch::Receiver<bool>,
    pub metrics: Metrics,
    /// The access tokens of the `[oauth.*]` accounts, shared by the channels that use them.
    pub tokens: Vec<Arc<crate::oauth::TokenSource>>,
}

impl Daemon {
    /// The rules in force now. Hold the `Arc` for the length of one piece of work (a batch, a
    /// message to send) so that a reload in between cannot mix two sets.
    pub fn rules(&self) -> Arc<Rules> {
        self.rules.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Reads and validates the configuration again and puts it in force; on any problem the
    /// running rules stay and every problem is returned, with its file and line. The settings
    /// read only at start keep their running values; the second value names those the new
    /// files change, which take effect at the next restart.
    pub fn reload(&self, now: DateTime<Utc>) -> Result<(Arc<Rules>, Vec<&'static str>), Vec<String>> {
        let mut config = Config::load(self.config_path.as_deref(), &self.overrides)
            .map_err(|problems| problems.iter().map(|p| p.to_string()).collect::<Vec<_>>())?;
        let running = self.rules();
        let (old, new) = (restart_only(&running.config), restart_only(&config));
        let not_applied: Vec<&'static str> = RESTART_ONLY
            .iter()
            .zip(old.iter().zip(new.iter()))
            .filter(|(_, (o, n))| o != n)
            .map(|(name, _)| *name)
            .collect();
        let was = &running.config;
        config.imap = was.imap.clone();
        config.smtp = was.smtp.clone();
        config.http = was.http.clone();
        config.store = was.store.clone();
        config.oauth = was.oauth.clone();
        config.outbox = was.outbox.clone();
        let rules = Arc::new(Rules::new(config, now)?);
        *self.rules.write().unwrap_or_else(|p| p.into_inner()) = rules.clone();
        Ok((rules, not_applied))
    }

    /// How long an instance may go unheard before its leases and claims are taken over.
    pub fn dead_after(&self) -> std::time::Duration {
        self.rules().config.store.lease
    }

    pub fn token_source(&self, account: &str) -> Result<Arc<crate::oauth::TokenSource>, String> {
        self.tokens
            .iter()
            .find(|t| t.account.name == account)
            .cloned()
            .ok_or_else(|| format!("no [oauth.{account}] account is configured"))
    }
}

/// Runs until SIGTERM or Ctrl-C. `config` was loaded from `config_path` (the embedded
/// defaults when `None`) with `overrides`; SIGHUP loads it again from there.
pub async fn run(
    config: Config,
    config_path: Option<PathBuf>,
    overrides: Overrides,
    store_location: StoreLocation,
    clock: Arc<dyn Clock>,
) -> Result<(), String> {
    let loaded_at = clock.now();
    let main_file = config.path.clone();
    let rules = Rules::new(config, loaded_at).map_err(|p| p.join("\n"))?;
    // Open once here so schema problems stop the start, with a clear message.
    let mut store = tokio::task::block_in_place(|| store_location.open()).map_err(|e| e.to_string())?;
    record_load(&mut store, loaded_at, &main_file, &[]);
    let (stop_tx, stop_rx) = watch::channel(false);
    let tokens = crate::oauth::tokens::sources(&rules.config, &store_location)?;
    let daemon = Arc::new(Daemon {
        tokens,
        rules: RwLock::new(Arc::new(rules)),
        config_path,
        overrides,
        store: store_location,
        instance: crate::record::Instance::this_process(Utc::now()),
        clock,
        outbox_wake: Notify::new(),
        shutdown: stop_rx,
        metrics: Metrics::default(),
    });
    // This instance is known to the store before it claims anything; what a dead instance on
    // this machine held is free at once.
    let ttl = daemon.rules().config.store.lease;
    tokio::task::block_in_place(|| {
        crate::lease::forget_dead_neighbours(&mut store, &daemon.instance, ttl);
        store.heartbeat(&daemon.instance)
    })
    .map_err(|e| e.to_string())?;
    info!(instance = %daemon.instance.id, store = %daemon.store, "this instance is registered in the store");
    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(crate::lease::heartbeat(
        daemon.store.clone(),
        daemon.instance.clone(),
        ttl,
        daemon.shutdown.clone(),
    )));
    let started = daemon.rules();
    if started.config.imap.is_empty() {
        warn!("IMAP intake is off ([imap] enabled = false): only `uketsuke ingest` records mail");
    }
    for imap in started.config.imap.clone() {
        tasks.push(tokio::spawn(crate::channels::imap::run(daemon.clone(), imap)));
    }
    match started.config.smtp.clone() {
        Some(smtp) => tasks.push(tokio::spawn(crate::channels::smtp::run(daemon.clone(), smtp))),
        None => warn!("sending is off ([smtp] enabled = false): acknowledgments wait in the outbox"),
    }
    if let Some(http) = started.config.http.clone() {
        let listener = tokio::net::TcpListener::bind(http.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}; change [http] listen or stop what uses it", http.listen))?;
        info!(listen = %http.listen, "HTTP listener up: /form, /v1/reports, /healthz, /metrics");
        tasks.push(tokio::spawn(crate::http::serve(daemon.clone(), http, listener)));
    }
    tasks.push(tokio::spawn(release_held(daemon.clone())));
    tasks.push(tokio::spawn(watch_health(daemon.clone())));
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    info!(policy = %started.config.policy.name, "uketsuke is running");
    drop(started);

    let mut watchdog = watchdog_interval();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|e| format!("cannot watch SIGHUP: {e}"))?;
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = hangup.recv() => reload(&daemon, &mut store),
            _ = tokio::signal::ctrl_c() => break,
            _ = async { match watchdog.as_mut() { Some(w) => { w.tick().await; } None => std::future::pending::<()>().await } } => {
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
            }
        }
    }
    info!("stopping: finishing the work in hand");
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    let _ = stop_tx.send(true);
    // One deadline for all of them: a store that no longer answers (a network partition)
    // keeps a task inside a call, and the daemon must still stop when told.
    let deadline = tokio::time::Instant::now() + STOP_WITHIN;
    let mut stuck = 0;
    for task in tasks {
        if tokio::time::timeout_at(deadline, task).await.is_err() {
            stuck += 1;
        }
    }
    if stuck > 0 {
        warn!(
            tasks = stuck,
            "stopping without them: {stuck} task(s) did not stop within {} s (waiting on a store or server that does not answer?); work they had not recorded is done again by the next instance",
            STOP_WITHIN.as_secs()
        );
    }
    info!("stopped");
    Ok(())
}

/// How long a stop waits for the work in hand to finish.
pub const STOP_WITHIN: Duration = Duration::from_secs(30);

/// SIGHUP: the rules read again. A refused reload keeps the running rules and logs every
/// problem with its file and line; either way the store remembers it for `uketsuke status`.
fn reload(daemon: &Daemon, store: &mut AnyStore) {
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Reloading]);
    let now = daemon.clock.now();
    let main_file = daemon.rules().config.path.clone();
    match daemon.reload(now) {
        Ok((rules, not_applied)) => {
            info!(
                policy = %rules.config.policy.name,
                customers = rules.config.customers.list.len(),
                "configuration reloaded from {}",
                main_file.display()
            );
            if !not_applied.is_empty() {
                warn!(
                    "the reloaded files change {}: those take effect at the next restart; the running values stay until then",
                    not_applied.join(", ")
                );
            }
            tokio::task::block_in_place(|| record_load(store, now, &main_file, &[]));
        }
        Err(problems) => {
            for p in &problems {
                error!("configuration reload refused: {p}");
            }
            error!(
                problems = problems.len(),
                "configuration reload refused: the configuration loaded at {} stays in force; fix the files and send SIGHUP again",
                daemon.rules().loaded_at.to_rfc3339()
            );
            tokio::task::block_in_place(|| record_load(store, now, &main_file, &problems));
        }
    }
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
}

/// Remembers a configuration load (no problems) or a refused reload in the store.
fn record_load(store: &mut AnyStore, at: DateTime<Utc>, path: &Path, problems: &[String]) {
    if let Err(e) = store.record_config_load(at, path, problems) {
        warn!("cannot record the configuration load in the store: {e}");
    }
}

fn watchdog_interval() -> Option<tokio::time::Interval> {
    sd_notify::watchdog_enabled().filter(|d| !d.is_zero()).map(|d| tokio::time::interval(d / 2))
}

/// The scheduler: hands held cases to the team when support opens. It runs on one instance
/// at a time, the holder of the `scheduler` lease; its first tick catches up on releases that
/// came due while no instance ran.
async fn release_held(daemon: Arc<Daemon>) {
    let mut store = match tokio::task::block_in_place(|| daemon.store.open()) {
        Ok(s) => s,
        Err(e) => {
            error!("scheduler cannot open the store: {e}");
            return;
        }
    };
    let ttl = daemon.rules().config.store.lease;
    loop {
        let Some(holding) =
            crate::lease::hold(&mut store, &daemon.store, "scheduler", &daemon.instance, ttl, &daemon.shutdown).await
        else {
            return;
        };
        let mut stop = holding.stop.clone();
        let mut first = true;
        while !*stop.borrow() {
            let now = daemon.clock.now();
            let rules = daemon.rules();
            match tokio::task::block_in_place(|| scheduler::tick_fenced(&mut store, &rules.config, now, &holding.fence))
            {
                Ok(released) => {
                    if first && !released.is_empty() {
                        info!(
                            released = released.len(),
                            "caught up on held cases released while no instance ran the scheduler"
                        );
                    }
                    for number in &released {
                        info!(case = %number, "held case released to the team");
                    }
                    if !released.is_empty() {
                        daemon.outbox_wake.notify_one();
                    }
                }
                Err(e) if e.is_lease_lost() => {
                    warn!("the scheduler lease passed to another instance: {e}");
                    break;
                }
                Err(e) => error!("releasing held cases failed: {e}"),
            }
            first = false;
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = stop.changed() => {}
            }
        }
        if *daemon.shutdown.borrow() {
            holding.release(&daemon.store).await;
            return;
        }
        // Lost: stand by and ask again.
        drop(holding);
    }
}

/// Reports, once per change, a channel that has not succeeded for too long and an outbox
/// that is falling behind.
async fn watch_health(daemon: Arc<Daemon>) {
    let mut shutdown = daemon.shutdown.clone();
    let started = Utc::now();
    let mut last: Vec<String> = Vec::new();
    while !*shutdown.borrow() {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(15)) => {}
            _ = shutdown.changed() => break,
        }
        let Ok(mut store) = tokio::task::block_in_place(|| daemon.store.open()) else { continue };
        let Ok(status) = tokio::task::block_in_place(|| store.status()) else { continue };
        let rules = daemon.rules();
        let problems = problems(&rules.config, &status, daemon.clock.now(), started);
        for p in problems.iter().filter(|p| !last.contains(p)) {
            error!("{p}");
        }
        if rules.config.alerts.auth_notice {
            for account in crate::oauth::health::accounts(&rules.config, &status, Utc::now()) {
                for p in account.problems().into_iter().filter(|p| !last.contains(p)) {
                    notify_oncall(&daemon, &account.account, &p).await;
                }
            }
        }
        for p in last.iter().filter(|p| !problems.contains(p)) {
            info!("recovered: {p}");
        }
        last = problems;
    }
}

/// Mails on-call about an OAuth2 account problem; when the account is the one sending mail,
/// the log line is all there can be.
async fn notify_oncall(daemon: &Daemon, account: &str, problem: &str) {
    let rules = daemon.rules();
    let sent = match crate::act::compose::compose_auth_notice(&rules.templates, &rules.config, account, problem) {
        Ok(message) => crate::channels::smtp::send_now(daemon, &message).await,
        Err(e) => Err(e),
    };
    match sent {
        Ok(()) => info!(account, to = %rules.config.mail.oncall_address, "on-call notified about the OAuth2 account"),
        Err(e) => error!(account, "could not mail on-call about the OAuth2 account: {e}"),
    }
}

/// The states a channel records while it cannot do its work (see `set_channel` in the IMAP
/// and SMTP channels).
const DOWN_STATES: [&str; 3] = ["down", "failing", "needs re-authorization"];

/// What is wrong with one channel: down (and for longer than `down_after`, so that a
/// server restart the channel rides out on its next try does not flap health), or without a
/// success for longer than `stalled` while it has work (`waiting`).
fn channel_problem(
    name: &str,
    channel: Option<&crate::record::ChannelStatus>,
    waiting: bool,
    now: chrono::DateTime<Utc>,
    started: chrono::DateTime<Utc>,
    stalled: chrono::Duration,
    down_after: chrono::Duration,
) -> Option<String> {
    // Within the grace, the stall alarm below still speaks for a channel without success.
    if let Some(c) = channel.filter(|c| DOWN_STATES.contains(&c.state.as_str()))
        && now - c.since >= down_after
    {
        let why = c.last_error.clone().unwrap_or_else(|| "no answer".into());
        return Some(format!("{name} is {} since {} (last error: {why})", c.state, c.since.to_rfc3339()));
    }
    let since = channel.and_then(|c| c.last_success).unwrap_or(started);
    if now - since > stalled && waiting {
        let why = channel.and_then(|c| c.last_error.clone()).unwrap_or_else(|| "no attempt yet".into());
        return Some(format!("{name} has not succeeded since {} (last error: {why})", since.to_rfc3339()));
    }
    None
}

/// What is wrong, in sentences an operator can act on.
pub fn problems(
    config: &Config,
    status: &crate::record::StoreStatus,
    now: chrono::DateTime<Utc>,
    started: chrono::DateTime<Utc>,
) -> Vec<String> {
    let stalled = chrono::Duration::from_std(config.alerts.stalled_after).unwrap_or(chrono::Duration::minutes(10));
    let down_after = chrono::Duration::from_std(config.alerts.down_after).unwrap_or(chrono::Duration::seconds(30));
    let late = chrono::Duration::from_std(config.alerts.outbox_late_after).unwrap_or(chrono::Duration::minutes(15));
    let mut out = Vec::new();
    let names = config.imap.iter().map(|i| i.channel.as_str()).chain(config.smtp.as_ref().map(|_| "smtp"));
    for name in names {
        let channel = status.channels.iter().find(|c| c.name == name);
        let waiting = !(name == "smtp" && status.outbox_pending == 0);
        out.extend(channel_problem(name, channel, waiting, now, started, stalled, down_after));
    }
    if let Some(oldest) = status.oldest_pending
        && now - oldest > late
    {
        // No count in the sentence: it is logged once while the condition lasts.
        out.push(format!("the outbox is falling behind: entries have waited longer than {} s", late.num_seconds()));
    }
    if status.outbox_parked > 0 {
        out.push(
            "outbox entries are parked after permanent failures: see `uketsuke status` and `uketsuke cases show`"
                .to_string(),
        );
    }
    for account in crate::oauth::health::accounts(config, status, now) {
        out.extend(account.problems());
    }
    if status.quarantined > 0 {
        out.push(
            "messages could not be understood and are quarantined: `uketsuke cases list --state quarantined`"
                .to_string(),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::ChannelStatus;
    use chrono::{Duration as Span, TimeZone};

    fn channel(state: &str, down_for: i64, now: chrono::DateTime<Utc>) -> ChannelStatus {
        ChannelStatus {
            name: "imap".into(),
            state: state.into(),
            since: now - Span::seconds(down_for),
            last_success: Some(now - Span::seconds(down_for + 1)),
            last_error: Some("connection refused".into()),
            updated_at: now,
        }
    }

    #[test]
    fn a_channel_down_past_the_grace_is_a_problem_at_once_not_after_the_stall_alarm() {
        let now = Utc.with_ymd_and_hms(2026, 12, 7, 2, 0, 0).unwrap();
        let (stalled, grace) = (Span::seconds(600), Span::seconds(30));
        let check = |c: &ChannelStatus| channel_problem("imap", Some(c), true, now, now, stalled, grace);
        // A restart the channel rides out: no flapping.
        assert_eq!(check(&channel("down", 10, now)), None);
        let down = check(&channel("down", 31, now)).expect("down past the grace");
        assert!(down.starts_with("imap is down since") && down.contains("connection refused"), "{down}");
        assert!(check(&channel("needs re-authorization", 31, now)).is_some());
        assert!(check(&channel("failing", 31, now)).is_some());
        // Up again: nothing, however long it was down before.
        let up = ChannelStatus { last_success: Some(now), ..channel("connected", 3_600, now) };
        assert_eq!(check(&up), None);
        // With no grace, down is said at once.
        let zero = channel_problem("imap", Some(&channel("down", 0, now)), true, now, now, stalled, Span::zero());
        assert!(zero.is_some_and(|p| p.starts_with("imap is down")));
        // Never succeeded and stalled: the old alarm still speaks.
        let never = ChannelStatus { last_success: None, ..channel("connecting", 0, now) };
        let started = now - Span::seconds(601);
        assert!(
            channel_problem("imap", Some(&never), true, now, started, stalled, grace)
                .is_some_and(|p| p.contains("has not succeeded"))
        );
        // SMTP with nothing to send is not stalled.
        assert_eq!(channel_problem("smtp", Some(&never), false, now, started, stalled, grace), None);
    }
}
