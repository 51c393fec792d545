//! Where the store is, and the store opened there: a SQLite file (`[store] path`, the
//! embedded default) or a PostgreSQL database (`[store] url`) that several instances share.
//!
//! The rest of uketsuke opens a [`StoreLocation`] and talks to the [`Store`] trait; only this
//! module knows that there are two backends.

use super::postgres::PgStore;
use super::sqlite::SqliteStore;
use super::{
    CaseDetail, CaseFilter, CaseRecord, Checkpoint, Instance, InstanceStatus, Lease, OAuthState, OutboxJob, Result,
    Store, StoreError, StoreStatus, Tx,
};
use chrono::{DateTime, Utc};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Where the store is.
#[derive(Clone)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    Postgres(Arc<PostgresTarget>),
}

/// A PostgreSQL database and how to reach it. The password, when there is one, came from a
/// file and is never shown.
pub struct PostgresTarget {
    config: postgres::Config,
    /// The URL as written, without any password (for messages and `status`).
    shown: String,
    /// TLS to use: `None` only for a database on this machine (loopback or a Unix socket).
    tls: Option<Arc<tokio_rustls::rustls::ClientConfig>>,
}

impl std::fmt::Debug for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")
    }
}

impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Sqlite(path) => write!(f, "{}", path.display()),
            StoreLocation::Postgres(target) => f.write_str(&target.shown),
        }
    }
}

impl PartialEq for StoreLocation {
    fn eq(&self, other: &StoreLocation) -> bool {
        match (self, other) {
            (StoreLocation::Sqlite(a), StoreLocation::Sqlite(b)) => a == b,
            (StoreLocation::Postgres(a), StoreLocation::Postgres(b)) => a.shown == b.shown,
            _ => false,
        }
    }
}

fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

impl StoreLocation {
    /// A `--db` argument: a PostgreSQL URL, or else a SQLite file.
    pub fn from_argument(arg: &str) -> std::result::Result<StoreLocation, String> {
        if is_postgres_url(arg) {
            StoreLocation::postgres(arg, None, None)
        } else {
            Ok(StoreLocation::Sqlite(PathBuf::from(arg)))
        }
    }

    /// A PostgreSQL database at `url` (`postgres://user@host:port/database?options`). A
    /// password is read from `password_file` (or PostgreSQL's own `PGPASSWORD`), never from the
    /// URL, which lands in configuration files and process lists. A database on another
    /// machine is reached over TLS, verified against the public roots or `ca_file`.
    pub fn postgres(
        url: &str,
        password_file: Option<&Path>,
        ca_file: Option<&Path>,
    ) -> std::result::Result<StoreLocation, String> {
        use postgres::config::{Host, SslMode};
        let mut config: postgres::Config = url
            .parse()
            .map_err(|e| format!("[store] url is not a PostgreSQL URL: {e}; write postgres://user@host/database"))?;
        if config.get_password().is_some() {
            return Err(
                "[store] url holds a password; put the password in a file named by [store] password_file instead"
                    .into(),
            );
        }
        let shown = url.to_string();
        if let Some(file) = password_file {
            let password = std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read [store] password_file {}: {e}", file.display()))?;
            config.password(password.trim_end_matches(['\r', '\n']));
        } else if let Ok(password) = std::env::var("PGPASSWORD") {
            config.password(password);
        }
        if config.get_hosts().is_empty() {
            config.host("localhost");
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(10));
        }
        // A cut connection is noticed within seconds, not at the kernel's two hours.
        config.keepalives(true).keepalives_idle(std::time::Duration::from_secs(10));
        config.tcp_user_timeout(std::time::Duration::from_secs(20));
        if config.get_application_name().is_none() {
            config.application_name("uketsuke");
        }
        let local = config.get_hosts().iter().all(|h| match h {
            Host::Unix(_) => true,
            Host::Tcp(name) => name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()),
        });
        let tls = if local && config.get_ssl_mode() != SslMode::Require {
            config.ssl_mode(SslMode::Disable);
            None
        } else {
            if config.get_ssl_mode() == SslMode::Disable {
                return Err(format!(
                    "[store] url turns TLS off (sslmode=disable) for a database on another machine ({shown}); \
                     uketsuke reaches a remote PostgreSQL only over verified TLS (name a CA with [store] ca_file)"
                ));
            }
            config.ssl_mode(SslMode::Require);
            Some(crate::channels::tls::client_config(ca_file)?)
        };
        Ok(StoreLocation::Postgres(Arc::new(PostgresTarget { config, shown, tls })))
    }

    /// Opens the store, creating its tables or bringing them up to date.
    pub fn open(&self) -> Result<AnyStore> {
        match self {
            StoreLocation::Sqlite(path) => SqliteStore::open(path).map(AnyStore::Sqlite),
            StoreLocation::Postgres(target) => {
                let tls = target.tls.as_ref().map(|c| tokio_postgres_rustls::MakeRustlsConnect::new((**c).clone()));
                PgStore::connect(&target.config, tls)
                    .map(|s| AnyStore::Postgres(Box::new(s)))
                    .map_err(|e| StoreError::new(format!("{} ({})", e, target.shown)))
            }
        }
    }

    /// A shared store (PostgreSQL), where several instances may run at once.
    pub fn is_shared(&self) -> bool {
        matches!(self, StoreLocation::Postgres(_))
    }
}

/// The store opened at a [`StoreLocation`].
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(Box<PgStore>),
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $e,
            AnyStore::Postgres($s) => $e,
        }
    };
}

impl Store for AnyStore {
    fn write<T>(&mut self, f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
        each!(self, s => s.write(f))
    }
    fn cases(&mut self, filter: &CaseFilter) -> Result<Vec<CaseRecord>> {
        each!(self, s => s.cases(filter))
    }
    fn case_detail(&mut self, number: &str) -> Result<Option<CaseDetail>> {
        each!(self, s => s.case_detail(number))
    }
    fn next_release(&mut self) -> Result<Option<DateTime<Utc>>> {
        each!(self, s => s.next_release())
    }
    fn checkpoint(&mut self, mailbox: &str) -> Result<Option<Checkpoint>> {
        each!(self, s => s.checkpoint(mailbox))
    }
    fn claim_outbox(
        &mut self,
        claimant: &str,
        now: DateTime<Utc>,
        claim_for: Duration,
        dead_after: Duration,
        limit: usize,
    ) -> Result<Vec<OutboxJob>> {
        each!(self, s => s.claim_outbox(claimant, now, claim_for, dead_after, limit))
    }
    fn mark_sent(&mut self, id: i64, claimant: &str, at: DateTime<Utc>) -> Result<bool> {
        each!(self, s => s.mark_sent(id, claimant, at))
    }
    fn mark_failed(&mut self, id: i64, claimant: &str, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<()> {
        each!(self, s => s.mark_failed(id, claimant, error, retry_at))
    }
    fn set_channel(
        &mut self,
        name: &str,
        state: &str,
        success: bool,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        each!(self, s => s.set_channel(name, state, success, error, at))
    }
    fn oauth_account(&mut self, account: &str) -> Result<Option<OAuthState>> {
        each!(self, s => s.oauth_account(account))
    }
    fn oauth_accounts(&mut self) -> Result<Vec<OAuthState>> {
        each!(self, s => s.oauth_accounts())
    }
    fn save_oauth_tokens(
        &mut self,
        account: &str,
        sealed_refresh: Option<&[u8]>,
        access_expires: Option<DateTime<Utc>>,
        login: bool,
        at: DateTime<Utc>,
    ) -> Result<()> {
        each!(self, s => s.save_oauth_tokens(account, sealed_refresh, access_expires, login, at))
    }
    fn mark_needs_reauth(&mut self, account: &str, reason: &str, at: DateTime<Utc>) -> Result<()> {
        each!(self, s => s.mark_needs_reauth(account, reason, at))
    }
    fn status(&mut self) -> Result<StoreStatus> {
        each!(self, s => s.status())
    }
    fn message_raw(&mut self, id: i64) -> Result<Option<Vec<u8>>> {
        each!(self, s => s.message_raw(id))
    }
    fn record_config_load(&mut self, at: DateTime<Utc>, path: &Path, problems: &[String]) -> Result<()> {
        each!(self, s => s.record_config_load(at, path, problems))
    }
    fn counts(&mut self) -> Result<(i64, i64, i64)> {
        each!(self, s => s.counts())
    }
    fn acquire_lease(&mut self, name: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>> {
        each!(self, s => s.acquire_lease(name, holder, ttl))
    }
    fn release_lease(&mut self, name: &str, holder: &str, term: i64) -> Result<()> {
        each!(self, s => s.release_lease(name, holder, term))
    }
    fn leases(&mut self) -> Result<Vec<Lease>> {
        each!(self, s => s.leases())
    }
    fn heartbeat(&mut self, instance: &Instance) -> Result<()> {
        each!(self, s => s.heartbeat(instance))
    }
    fn instances(&mut self, within: Duration) -> Result<Vec<InstanceStatus>> {
        each!(self, s => s.instances(within))
    }
    fn forget_instance(&mut self, id: &str) -> Result<()> {
        each!(self, s => s.forget_instance(id))
    }
}
