//! `uketsuke run`: the daemon. One task per channel (IMAP intake, the SMTP outbox worker),
//! the scheduler for held cases, and a watcher that reports stalled channels; graceful
//! shutdown on SIGTERM or Ctrl-C, done once: stop taking new mail, finish the transaction in
//! hand, leave the rest for the next start.

use crate::act::compose::Templates;
use crate::act::scheduler::{self, Clock};
use crate::config::Config;
use crate::decide::Calendars;
use crate::record::SqliteStore;
use chrono::Utc;
use std::path::PathBuf;
use std::sync::Arc;
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

/// What every task of the daemon shares.
pub struct Daemon {
    pub config: Config,
    pub calendars: Calendars,
    pub templates: Templates,
    pub store_path: PathBuf,
    pub clock: Arc<dyn Clock>,
    /// Woken when something was enqueued, so acknowledgments leave at once.
    pub outbox_wake: Notify,
    pub shutdown: watch::Receiver<bool>,
    pub metrics: Metrics,
    /// The access tokens of the `[oauth.*]` accounts, shared by the channels that use them.
    pub tokens: Vec<Arc<crate::oauth::TokenSource>>,
}

impl Daemon {
    pub fn token_source(&self, account: &str) -> Result<Arc<crate::oauth::TokenSource>, String> {
        self.tokens
            .iter()
            .find(|t| t.account.name == account)
            .cloned()
            .ok_or_else(|| format!("no [oauth.{account}] account is configured"))
    }
}

/// Runs until SIGTERM or Ctrl-C.
pub async fn run(config: Config, store_path: PathBuf, clock: Arc<dyn Clock>) -> Result<(), String> {
    let templates = match &config.templates_dir {
        Some(dir) => Templates::from_dir(dir).map_err(|p| p.join("\n"))?,
        None => Templates::embedded(),
    };
    // Open once here so schema problems stop the start, with a clear message.
    let mut store = SqliteStore::open(&store_path).map_err(|e| e.to_string())?;
    let (stop_tx, stop_rx) = watch::channel(false);
    let tokens = crate::oauth::tokens::sources(&config, &store_path)?;
    let daemon = Arc::new(Daemon {
        tokens,
        calendars: Calendars::new(&config.policy),
        config,
        templates,
        store_path,
        clock,
        outbox_wake: Notify::new(),
        shutdown: stop_rx,
        metrics: Metrics::default(),
    });
    // Catch up on releases that came due while uketsuke was down, before anything else.
    let now = daemon.clock.now();
    let released =
        tokio::task::block_in_place(|| scheduler::tick(&mut store, &daemon.config, now)).map_err(|e| e.to_string())?;
    if !released.is_empty() {
        info!(released = released.len(), "caught up on held cases released while uketsuke was down");
    }
    let mut tasks = Vec::new();
    match daemon.config.imap.clone() {
        Some(imap) => tasks.push(tokio::spawn(crate::channels::imap::run(daemon.clone(), imap))),
        None => warn!("IMAP intake is off ([imap] enabled = false): only `uketsuke ingest` records mail"),
    }
    match daemon.config.smtp.clone() {
        Some(smtp) => tasks.push(tokio::spawn(crate::channels::smtp::run(daemon.clone(), smtp))),
        None => warn!("sending is off ([smtp] enabled = false): acknowledgments wait in the outbox"),
    }
    if let Some(http) = daemon.config.http.clone() {
        let listener = tokio::net::TcpListener::bind(http.listen)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}; change [http] listen or stop what uses it", http.listen))?;
        info!(listen = %http.listen, "HTTP listener up: /form, /v1/reports, /healthz, /metrics");
        tasks.push(tokio::spawn(crate::http::serve(daemon.clone(), http, listener)));
    }
    tasks.push(tokio::spawn(release_held(daemon.clone())));
    tasks.push(tokio::spawn(watch_health(daemon.clone())));
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    info!(policy = %daemon.config.policy.name, "uketsuke is running");

    let mut watchdog = watchdog_interval();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot watch SIGTERM: {e}"))?;
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
            _ = async { match watchdog.as_mut() { Some(w) => { w.tick().await; } None => std::future::pending::<()>().await } } => {
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
            }
        }
    }
    info!("stopping: finishing the work in hand");
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    let _ = stop_tx.send(true);
    for task in tasks {
        if tokio::time::timeout(Duration::from_secs(30), task).await.is_err() {
            warn!("a task did not stop within 30 s");
        }
    }
    info!("stopped");
    Ok(())
}

fn watchdog_interval() -> Option<tokio::time::Interval> {
    sd_notify::watchdog_enabled().filter(|d| !d.is_zero()).map(|d| tokio::time::interval(d / 2))
}

/// The scheduler: hands held cases to the team when support opens.
async fn release_held(daemon: Arc<Daemon>) {
    let mut shutdown = daemon.shutdown.clone();
    let mut store = match SqliteStore::open(&daemon.store_path) {
        Ok(s) => s,
        Err(e) => {
            error!("scheduler cannot open the store: {e}");
            return;
        }
    };
    while !*shutdown.borrow() {
        let now = daemon.clock.now();
        match tokio::task::block_in_place(|| scheduler::tick(&mut store, &daemon.config, now)) {
            Ok(released) => {
                for number in &released {
                    info!(case = %number, "held case released to the team");
                }
                if !released.is_empty() {
                    daemon.outbox_wake.notify_one();
                }
            }
            Err(e) => error!("releasing held cases failed: {e}"),
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = shutdown.changed() => {}
        }
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
        let Ok(store) = SqliteStore::open(&daemon.store_path) else { continue };
        let Ok(status) = tokio::task::block_in_place(|| store.status()) else { continue };
        let problems = problems(&daemon.config, &status, daemon.clock.now(), started);
        for p in problems.iter().filter(|p| !last.contains(p)) {
            error!("{p}");
        }
        if daemon.config.alerts.auth_notice {
            for account in crate::oauth::health::accounts(&daemon.config, &status, Utc::now()) {
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
    let sent = match crate::act::compose::compose_auth_notice(&daemon.templates, &daemon.config, account, problem) {
        Ok(message) => crate::channels::smtp::send_now(daemon, &message).await,
        Err(e) => Err(e),
    };
    match sent {
        Ok(()) => info!(account, to = %daemon.config.mail.oncall_address, "on-call notified about the OAuth2 account"),
        Err(e) => error!(account, "could not mail on-call about the OAuth2 account: {e}"),
    }
}

/// What is wrong, in sentences an operator can act on.
pub fn problems(
    config: &Config,
    status: &crate::record::StoreStatus,
    now: chrono::DateTime<Utc>,
    started: chrono::DateTime<Utc>,
) -> Vec<String> {
    let stalled = chrono::Duration::from_std(config.alerts.stalled_after).unwrap_or(chrono::Duration::minutes(10));
    let late = chrono::Duration::from_std(config.alerts.outbox_late_after).unwrap_or(chrono::Duration::minutes(15));
    let mut out = Vec::new();
    for (name, enabled) in [("imap", config.imap.is_some()), ("smtp", config.smtp.is_some())] {
        if !enabled {
            continue;
        }
        let channel = status.channels.iter().find(|c| c.name == name);
        let last_ok = channel.and_then(|c| c.last_success);
        let since = last_ok.unwrap_or(started);
        if now - since > stalled && !(name == "smtp" && status.outbox_pending == 0) {
            let why = channel.and_then(|c| c.last_error.clone()).unwrap_or_else(|| "no attempt yet".into());
            out.push(format!("{name} has not succeeded since {} (last error: {why})", since.to_rfc3339()));
        }
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
