//! The embedded store: one SQLite file in WAL mode, no server to install.
//!
//! Every write transaction is `BEGIN IMMEDIATE` (writers queue, readers go on) and commits
//! with `synchronous = FULL`, so a commit that returned is on disk. Several processes may
//! share the file: the unique deduplication key makes a message recorded twice impossible,
//! and case numbers are allocated inside the same transaction, so they are never reused.

use super::model::*;
use super::{CASE_COLUMNS, JOINED_CASE_COLUMNS};
use super::{Instance, InstanceStatus, Lease, Result, Store, StoreError, Tx};
use crate::terms::Language;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row, TransactionBehavior, params};
use std::path::Path;
use std::time::Duration;

const MIGRATIONS: [(&str, &str); 5] = [
    ("0001_cases", include_str!("../../migrations/0001_cases.sql")),
    ("0002_channels", include_str!("../../migrations/0002_channels.sql")),
    ("0003_oauth", include_str!("../../migrations/0003_oauth.sql")),
    ("0004_contract_data", include_str!("../../migrations/0004_contract_data.sql")),
    ("0005_instances", include_str!("../../migrations/0005_instances.sql")),
];

pub struct SqliteStore {
    conn: Connection,
}

fn err(context: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::new(format!("{context}: {e}"))
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::new(format!(
                    "cannot create the store's folder {}: {e}; check [store] path and permissions",
                    dir.display()
                ))
            })?;
        }
        let conn = Connection::open(path).map_err(|e| {
            StoreError::new(format!(
                "cannot open the store {}: {e}; check [store] path and permissions",
                path.display()
            ))
        })?;
        conn.busy_timeout(Duration::from_secs(60)).map_err(err("setting the busy timeout"))?;
        // WAL: readers never block the writer; FULL: a commit is on disk when it returns.
        conn.pragma_update(None, "journal_mode", "WAL").map_err(err("enabling WAL"))?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(err("setting synchronous=FULL"))?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(err("enabling foreign keys"))?;
        let mut store = SqliteStore { conn };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("starting the migration"))?;
        let version: i64 =
            tx.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(err("reading the schema version"))?;
        let version = usize::try_from(version).unwrap_or(usize::MAX);
        if version > MIGRATIONS.len() {
            return Err(StoreError::new(format!(
                "the store has schema version {version}, newer than this uketsuke knows ({}); run a newer uketsuke",
                MIGRATIONS.len()
            )));
        }
        for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(version) {
            tx.execute_batch(sql).map_err(|e| StoreError::new(format!("migration {name} failed: {e}")))?;
            tx.pragma_update(None, "user_version", (i + 1) as i64).map_err(err("recording the schema version"))?;
        }
        tx.commit().map_err(err("committing the migration"))
    }
}

struct SqliteTx<'c>(rusqlite::Transaction<'c>);

impl Store for SqliteStore {
    fn checkpoint(&mut self, mailbox: &str) -> Result<Option<Checkpoint>> {
        self.conn
            .query_row("SELECT uidvalidity, last_uid FROM checkpoints WHERE mailbox = ?1", [mailbox], |r| {
                Ok(Checkpoint { mailbox: mailbox.to_string(), uidvalidity: r.get(0)?, uid: r.get(1)? })
            })
            .optional()
            .map_err(err("reading a checkpoint"))
    }

    fn claim_outbox(
        &mut self,
        claimant: &str,
        now: DateTime<Utc>,
        claim_for: std::time::Duration,
        dead_after: std::time::Duration,
        limit: usize,
    ) -> Result<Vec<OutboxJob>> {
        let clock = Utc::now();
        let claim_until = time_micros(clock + chrono::Duration::from_std(claim_for).unwrap_or(chrono::Duration::MAX));
        let alive_since = time_micros(clock - chrono::Duration::from_std(dead_after).unwrap_or(chrono::Duration::MAX));
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err("claiming outbox entries"))?;
        // Claiming is a sign of life: the others take these claims over only a lease time after
        // this moment, however late the last heartbeat was (the sender relies on it).
        tx.execute("UPDATE instances SET seen_at = ?2 WHERE id = ?1", params![claimant, time_micros(clock)])
            .map_err(err("claiming outbox entries"))?;
        tx.execute(
            "UPDATE outbox SET claimed_by = ?1, claimed_until = ?2 WHERE id IN (SELECT id FROM outbox \
             WHERE state = 'pending' AND not_before <= ?3 AND (claimed_by IS NULL OR claimed_by = ?1 \
             OR claimed_until <= ?5 OR claimed_by NOT IN (SELECT id FROM instances WHERE seen_at > ?6)) \
             ORDER BY not_before, id LIMIT ?4)",
            params![claimant, claim_until, time_text(now), limit as i64, time_micros(clock), alive_since],
        )
        .map_err(err("claiming outbox entries"))?;
        // What was claimed, with its message and case, in one read (the claim is ours until
        // `claim_until`, so nobody else changes these rows meanwhile).
        let jobs = {
            let mut stmt = tx
                .prepare(&format!(
                    "SELECT {}, o.id, o.case_id, o.kind, o.recipient, o.language, o.our_message_id, o.attempts, \
                     m.sender, m.subject, m.message_id, m.received_at, m.raw \
                     FROM outbox o JOIN messages m ON m.id = o.message_id LEFT JOIN cases c ON c.id = o.case_id \
                     WHERE o.claimed_by = ?1 AND o.claimed_until = ?2 AND o.state = 'pending' ORDER BY o.id",
                    JOINED_CASE_COLUMNS.0
                ))
                .map_err(err("reading claimed outbox entries"))?;
            let rows = stmt
                .query_map(params![claimant, claim_until], |r| {
                    let case = match r.get::<_, Option<i64>>(0)? {
                        Some(_) => Some(case_from_row(r)?),
                        None => None,
                    };
                    let j = JOINED_CASE_COLUMNS.1;
                    Ok(OutboxJob {
                        id: r.get(j)?,
                        case_id: r.get(j + 1)?,
                        kind: r.get(j + 2)?,
                        recipient: r.get(j + 3)?,
                        language: language(r, j + 4)?,
                        our_message_id: r.get(j + 5)?,
                        attempts: r.get(j + 6)?,
                        sender: r.get(j + 7)?,
                        subject: r.get(j + 8)?,
                        message_id: r.get(j + 9)?,
                        received_at: time(r, j + 10)?,
                        raw: r.get(j + 11)?,
                        case,
                    })
                })
                .map_err(err("reading claimed outbox entries"))?;
            rows.collect::<std::result::Result<Vec<_>, _>>().map_err(err("reading claimed outbox entries"))?
        };
        tx.commit().map_err(err("claiming outbox entries"))?;
        Ok(jobs)
    }

    fn mark_sent(&mut self, id: i64, claimant: &str, at: DateTime<Utc>) -> Result<bool> {
        let changed = self
            .conn
            .execute(
                "UPDATE outbox SET state = 'sent', sent_at = ?3, attempts = attempts + 1, last_error = NULL, \
                 claimed_by = NULL, claimed_until = NULL WHERE id = ?1 AND claimed_by = ?2 AND state = 'pending'",
                params![id, claimant, time_text(at)],
            )
            .map_err(err("marking an outbox entry sent"))?;
        Ok(changed == 1)
    }

    fn mark_failed(&mut self, id: i64, claimant: &str, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<()> {
        match retry_at {
            Some(at) => self.conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?3, not_before = ?4, claimed_by = NULL, \
                 claimed_until = NULL WHERE id = ?1 AND claimed_by = ?2 AND state = 'pending'",
                params![id, claimant, error, time_text(at)],
            ),
            None => self.conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, last_error = ?3, state = 'parked', claimed_by = NULL, \
                 claimed_until = NULL WHERE id = ?1 AND claimed_by = ?2 AND state = 'pending'",
                params![id, claimant, error],
            ),
        }
        .map_err(err("recording a failed send"))?;
        Ok(())
    }

    fn set_channel(
        &mut self,
        name: &str,
        state: &str,
        success: bool,
        error: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO channels (name, state, since, last_success, last_error, updated_at) \
                 VALUES (?1, ?2, ?5, CASE WHEN ?3 THEN ?5 END, ?4, ?5) \
                 ON CONFLICT (name) DO UPDATE SET \
                   since = CASE WHEN channels.state = excluded.state THEN channels.since ELSE excluded.since END, \
                   state = excluded.state, \
                   last_success = CASE WHEN ?3 THEN excluded.updated_at ELSE channels.last_success END, \
                   last_error = coalesce(excluded.last_error, channels.last_error), updated_at = excluded.updated_at",
                params![name, state, success, error, time_text(at)],
            )
            .map_err(err("recording a channel's state"))?;
        Ok(())
    }

    fn oauth_account(&mut self, account: &str) -> Result<Option<OAuthState>> {
        self.conn
            .query_row(
                &format!("SELECT {OAUTH_COLUMNS} FROM oauth_accounts WHERE account = ?1"),
                params![account],
                oauth_from_row,
            )
            .optional()
            .map_err(err("reading an OAuth account"))
    }

    fn oauth_accounts(&mut self) -> Result<Vec<OAuthState>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {OAUTH_COLUMNS} FROM oauth_accounts ORDER BY account"))
            .map_err(err("reading OAuth accounts"))?;
        stmt.query_map([], oauth_from_row)
            .map_err(err("reading OAuth accounts"))?
            .collect::<std::result::Result<_, _>>()
            .map_err(err("reading an OAuth account"))
    }

    fn save_oauth_tokens(
        &mut self,
        account: &str,
        sealed_refresh: Option<&[u8]>,
        access_expires: Option<DateTime<Utc>>,
        login: bool,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO oauth_accounts (account, refresh_token, access_expires, refreshed_at, needs_reauth, updated_at) \
                 VALUES (?1, ?2, ?3, ?5, NULL, ?5) \
                 ON CONFLICT (account) DO UPDATE SET \
                   refresh_token = coalesce(excluded.refresh_token, oauth_accounts.refresh_token), \
                   access_expires = excluded.access_expires, refreshed_at = excluded.refreshed_at, \
                   needs_reauth = CASE WHEN ?4 THEN NULL ELSE oauth_accounts.needs_reauth END, \
                   updated_at = excluded.updated_at",
                params![account, sealed_refresh, access_expires.map(time_text), login, time_text(at)],
            )
            .map_err(err("saving OAuth tokens"))?;
        Ok(())
    }

    fn mark_needs_reauth(&mut self, account: &str, reason: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO oauth_accounts (account, needs_reauth, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (account) DO UPDATE SET needs_reauth = excluded.needs_reauth, access_expires = NULL, updated_at = excluded.updated_at",
                params![account, reason, time_text(at)],
            )
            .map_err(err("marking an OAuth account for re-authorization"))?;
        Ok(())
    }

    fn status(&mut self) -> Result<StoreStatus> {
        let (pending, parked, oldest_pending, held, next_release, quarantined, cases, messages, oldest_held) = self
            .conn
            .query_row(
                "SELECT (SELECT count(*) FROM outbox WHERE state = 'pending'), (SELECT count(*) FROM outbox WHERE state = 'parked'), \
                 (SELECT min(created_at) FROM outbox WHERE state = 'pending'), (SELECT count(*) FROM cases WHERE state = 'held'), \
                 (SELECT min(release_at) FROM cases WHERE state = 'held'), (SELECT count(*) FROM cases WHERE state = 'quarantined'), \
                 (SELECT count(*) FROM cases), (SELECT count(*) FROM messages), (SELECT min(clock_start) FROM cases WHERE state = 'held')",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, opt_time(r, 2)?, r.get(3)?, opt_time(r, 4)?, r.get(5)?, r.get(6)?, r.get(7)?, opt_time(r, 8)?)),
            )
            .map_err(err("reading the status"))?;
        let mut stmt = self
            .conn
            .prepare("SELECT name, state, since, last_success, last_error, updated_at FROM channels ORDER BY name")
            .map_err(err("reading channels"))?;
        let channels = stmt
            .query_map([], |r| {
                Ok(ChannelStatus {
                    name: r.get(0)?,
                    state: r.get(1)?,
                    since: time(r, 2)?,
                    last_success: opt_time(r, 3)?,
                    last_error: r.get(4)?,
                    updated_at: time(r, 5)?,
                })
            })
            .map_err(err("reading channels"))?
            .collect::<std::result::Result<_, _>>()
            .map_err(err("reading a channel"))?;
        drop(stmt);
        let oauth = self.oauth_accounts()?;
        let instances = self.instances(std::time::Duration::from_secs(3600))?;
        let leases = self.leases()?;
        let load = |outcome: &str| {
            self.conn
                .query_row(
                    "SELECT at, path, problems, id FROM config_loads WHERE outcome = ?1 ORDER BY id DESC LIMIT 1",
                    [outcome],
                    |r| {
                        let problems: String = r.get(2)?;
                        let load = ConfigLoad {
                            at: time(r, 0)?,
                            path: r.get(1)?,
                            problems: problems.lines().map(str::to_string).collect(),
                        };
                        Ok((r.get::<_, i64>(3)?, load))
                    },
                )
                .optional()
                .map_err(err("reading configuration loads"))
        };
        // A refusal counts only when nothing was loaded after it (ids order the loads, even
        // when two share a second).
        let loaded = load("loaded")?;
        let refused = load("refused")?.filter(|(id, _)| loaded.as_ref().is_none_or(|(loaded_id, _)| id > loaded_id));
        let (config_loaded, config_refused) = (loaded.map(|(_, l)| l), refused.map(|(_, r)| r));
        Ok(StoreStatus {
            config_loaded,
            config_refused,
            outbox_pending: pending,
            outbox_parked: parked,
            oldest_pending,
            held,
            oldest_held,
            next_release,
            quarantined,
            cases,
            messages,
            channels,
            oauth,
            instances,
            leases,
        })
    }

    fn message_raw(&mut self, id: i64) -> Result<Option<Vec<u8>>> {
        self.conn
            .query_row("SELECT raw FROM messages WHERE id = ?1", [id], |r| r.get(0))
            .optional()
            .map_err(err("reading a message"))
    }

    fn record_config_load(&mut self, at: DateTime<Utc>, path: &Path, problems: &[String]) -> Result<()> {
        let outcome = if problems.is_empty() { "loaded" } else { "refused" };
        let tx = self.conn.transaction().map_err(err("recording a configuration load"))?;
        tx.execute(
            "INSERT INTO config_loads (at, path, outcome, problems) VALUES (?1, ?2, ?3, ?4)",
            params![time_text(at), path.display().to_string(), outcome, problems.join("\n")],
        )
        .map_err(err("recording a configuration load"))?;
        tx.execute("DELETE FROM config_loads WHERE id <= (SELECT max(id) - 100 FROM config_loads)", [])
            .map_err(err("recording a configuration load"))?;
        tx.commit().map_err(err("recording a configuration load"))
    }

    fn counts(&mut self) -> Result<(i64, i64, i64)> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM cases), (SELECT count(*) FROM outbox)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .map_err(err("counting"))
    }

    fn acquire_lease(&mut self, name: &str, holder: &str, ttl: std::time::Duration) -> Result<Option<Lease>> {
        let now = Utc::now();
        let until = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
        self.conn
            .query_row(
                "INSERT INTO leases (name, holder, term, since, renewed_at, expires_at) VALUES (?1, ?2, 1, ?3, ?3, ?4) \
                 ON CONFLICT (name) DO UPDATE SET \
                   term = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > excluded.renewed_at THEN leases.term ELSE leases.term + 1 END, \
                   since = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > excluded.renewed_at THEN leases.since ELSE excluded.since END, \
                   holder = excluded.holder, renewed_at = excluded.renewed_at, expires_at = excluded.expires_at \
                 WHERE leases.expires_at <= excluded.renewed_at OR leases.holder = excluded.holder \
                 RETURNING term, since, expires_at",
                params![name, holder, time_micros(now), time_micros(until)],
                |r| {
                    Ok(Lease {
                        name: name.to_string(),
                        holder: holder.to_string(),
                        term: r.get(0)?,
                        since: time(r, 1)?,
                        expires_at: time(r, 2)?,
                    })
                },
            )
            .optional()
            .map_err(err("taking a lease"))
    }

    fn release_lease(&mut self, name: &str, holder: &str, term: i64) -> Result<()> {
        self.conn
            .execute(
                "UPDATE leases SET expires_at = ?4 WHERE name = ?1 AND holder = ?2 AND term = ?3",
                params![name, holder, term, time_micros(Utc::now())],
            )
            .map_err(err("giving up a lease"))?;
        Ok(())
    }

    fn leases(&mut self) -> Result<Vec<Lease>> {
        let mut stmt = self
            .conn
            .prepare("SELECT name, holder, term, since, expires_at FROM leases ORDER BY name")
            .map_err(err("reading leases"))?;
        stmt.query_map([], |r| {
            Ok(Lease {
                name: r.get(0)?,
                holder: r.get(1)?,
                term: r.get(2)?,
                since: time(r, 3)?,
                expires_at: time(r, 4)?,
            })
        })
        .map_err(err("reading leases"))?
        .collect::<std::result::Result<_, _>>()
        .map_err(err("reading a lease"))
    }

    fn heartbeat(&mut self, i: &Instance) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO instances (id, host, pid, version, started_at, seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
                params![i.id, i.host, i.pid, i.version, time_text(i.started_at), time_micros(Utc::now())],
            )
            .map_err(err("recording this instance"))?;
        // Instances not heard from for a day are gone.
        self.conn
            .execute("DELETE FROM instances WHERE seen_at < ?1", [time_micros(Utc::now() - chrono::Duration::days(1))])
            .map_err(err("recording this instance"))?;
        Ok(())
    }

    fn forget_instance(&mut self, id: &str) -> Result<()> {
        let now = time_micros(Utc::now());
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err("freeing leases"))?;
        tx.execute("UPDATE leases SET expires_at = ?2 WHERE holder = ?1 AND expires_at > ?2", params![id, now])
            .map_err(err("freeing leases"))?;
        tx.execute("UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = ?1", [id])
            .map_err(err("freeing outbox claims"))?;
        tx.execute("DELETE FROM instances WHERE id = ?1", [id]).map_err(err("forgetting an instance"))?;
        tx.commit().map_err(err("freeing leases"))
    }

    fn instances(&mut self, within: std::time::Duration) -> Result<Vec<InstanceStatus>> {
        let since = Utc::now() - chrono::Duration::from_std(within).unwrap_or(chrono::Duration::MAX);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, host, pid, version, started_at, seen_at FROM instances WHERE seen_at >= ?1 ORDER BY started_at DESC, id",
            )
            .map_err(err("reading instances"))?;
        stmt.query_map([time_micros(since)], |r| {
            Ok(InstanceStatus {
                id: r.get(0)?,
                host: r.get(1)?,
                pid: r.get(2)?,
                version: r.get(3)?,
                started_at: time(r, 4)?,
                seen_at: time(r, 5)?,
            })
        })
        .map_err(err("reading instances"))?
        .collect::<std::result::Result<_, _>>()
        .map_err(err("reading an instance"))
    }

    fn write<T>(&mut self, mut f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
        let tx =
            self.conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(err("starting a write"))?;
        let mut tx = SqliteTx(tx);
        let value = f(&mut tx)?;
        tx.0.commit().map_err(err("committing"))?;
        Ok(value)
    }

    fn cases(&mut self, filter: &CaseFilter) -> Result<Vec<CaseRecord>> {
        let mut sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE 1 = 1");
        let mut args: Vec<String> = Vec::new();
        if let Some(state) = filter.state {
            args.push(state.as_str().into());
            sql.push_str(&format!(" AND state = ?{}", args.len()));
        }
        if let Some(customer) = &filter.customer_id {
            args.push(customer.to_ascii_uppercase());
            sql.push_str(&format!(" AND upper(customer_id) = ?{}", args.len()));
        }
        if let Some(before) = filter.due_before {
            args.push(time_text(before));
            sql.push_str(&format!(" AND response_due IS NOT NULL AND response_due < ?{}", args.len()));
        }
        sql.push_str(" ORDER BY id");
        let mut stmt = self.conn.prepare(&sql).map_err(err("listing cases"))?;
        let rows =
            stmt.query_map(rusqlite::params_from_iter(args.iter()), case_from_row).map_err(err("listing cases"))?;
        rows.collect::<std::result::Result<_, _>>().map_err(err("reading a case"))
    }

    fn next_release(&mut self) -> Result<Option<DateTime<Utc>>> {
        let t: Option<String> = self
            .conn
            .query_row("SELECT min(release_at) FROM cases WHERE state = 'held'", [], |r| r.get(0))
            .map_err(err("finding the next release"))?;
        Ok(t.and_then(|t| parse_time(&t)))
    }

    fn case_detail(&mut self, number: &str) -> Result<Option<CaseDetail>> {
        let Some(case) = case_by_number(&self.conn, number)? else { return Ok(None) };
        let mut stmt = self
            .conn
            .prepare("SELECT id, channel, sender, message_id, received_at, action, subject, size, sha256, error FROM messages WHERE case_id = ?1 ORDER BY id")
            .map_err(err("reading messages"))?;
        let messages = stmt
            .query_map([case.id], |r| {
                Ok(MessageSummary {
                    id: r.get(0)?,
                    channel: r.get(1)?,
                    sender: r.get(2)?,
                    message_id: r.get(3)?,
                    received_at: time(r, 4)?,
                    action: r.get(5)?,
                    subject: r.get(6)?,
                    size: r.get(7)?,
                    sha256: r.get(8)?,
                    error: r.get(9)?,
                })
            })
            .map_err(err("reading messages"))?
            .collect::<std::result::Result<_, _>>()
            .map_err(err("reading a message"))?;
        let mut stmt = self
            .conn
            .prepare("SELECT id, kind, recipient, our_message_id, not_before, state, attempts, last_error, sent_at FROM outbox WHERE case_id = ?1 ORDER BY id")
            .map_err(err("reading the outbox"))?;
        let outbox = stmt
            .query_map([case.id], |r| {
                Ok(OutboxSummary {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    recipient: r.get(2)?,
                    our_message_id: r.get(3)?,
                    not_before: time(r, 4)?,
                    state: r.get(5)?,
                    attempts: r.get(6)?,
                    last_error: r.get(7)?,
                    sent_at: opt_time(r, 8)?,
                })
            })
            .map_err(err("reading the outbox"))?
            .collect::<std::result::Result<_, _>>()
            .map_err(err("reading an outbox entry"))?;
        let mut stmt = self
            .conn
            .prepare("SELECT at, actor, kind, detail FROM case_events WHERE case_id = ?1 ORDER BY id")
            .map_err(err("reading events"))?;
        let events = stmt
            .query_map([case.id], |r| {
                Ok(EventRecord { at: time(r, 0)?, actor: r.get(1)?, kind: r.get(2)?, detail: r.get(3)? })
            })
            .map_err(err("reading events"))?
            .collect::<std::result::Result<_, _>>()
            .map_err(err("reading an event"))?;
        Ok(Some(CaseDetail { case, messages, outbox, events }))
    }
}

/// A lease time, to the microsecond (leases last seconds, and are compared as text).
fn time_micros(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

fn bad(column: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, what.into())
}

fn time(r: &Row<'_>, i: usize) -> rusqlite::Result<DateTime<Utc>> {
    let s: String = r.get(i)?;
    parse_time(&s).ok_or_else(|| bad(i, format!("bad time {s:?}")))
}

fn opt_time(r: &Row<'_>, i: usize) -> rusqlite::Result<Option<DateTime<Utc>>> {
    let s: Option<String> = r.get(i)?;
    s.map(|s| parse_time(&s).ok_or_else(|| bad(i, format!("bad time {s:?}")))).transpose()
}

fn json_list(r: &Row<'_>, i: usize) -> rusqlite::Result<Vec<String>> {
    let s: String = r.get(i)?;
    serde_json::from_str(&s).map_err(|e| bad(i, e.to_string()))
}

fn language(r: &Row<'_>, i: usize) -> rusqlite::Result<Language> {
    let s: String = r.get(i)?;
    Language::parse(&s).ok_or_else(|| bad(i, format!("bad language {s:?}")))
}

/// The columns [`oauth_from_row`] reads, in its order.
const OAUTH_COLUMNS: &str = "account, refresh_token, access_expires, refreshed_at, needs_reauth, updated_at";

fn oauth_from_row(r: &Row<'_>) -> rusqlite::Result<OAuthState> {
    Ok(OAuthState {
        account: r.get(0)?,
        sealed_refresh: r.get(1)?,
        access_expires: opt_time(r, 2)?,
        refreshed_at: opt_time(r, 3)?,
        needs_reauth: r.get(4)?,
        updated_at: time(r, 5)?,
    })
}

fn case_from_row(r: &Row<'_>) -> rusqlite::Result<CaseRecord> {
    let state: String = r.get(2)?;
    Ok(CaseRecord {
        id: r.get(0)?,
        number: r.get(1)?,
        state: CaseState::parse(&state).ok_or_else(|| bad(2, format!("bad state {state:?}")))?,
        customer_id: r.get(3)?,
        reporter: r.get(4)?,
        language: language(r, 5)?,
        reply_language: language(r, 6)?,
        priority: r.get(7)?,
        subject: r.get(8)?,
        repro_steps: r.get(9)?,
        error_messages: json_list(r, 10)?,
        description: r.get(11)?,
        expected_result: r.get(12)?,
        circumstances: r.get(13)?,
        missing: json_list(r, 14)?,
        clock: r.get(15)?,
        clock_start: opt_time(r, 16)?,
        release_at: opt_time(r, 17)?,
        response_due: opt_time(r, 18)?,
        reasons: json_list(r, 19)?,
        created_at: time(r, 20)?,
        updated_at: time(r, 21)?,
        change_request: {
            let s: Option<String> = r.get(22)?;
            s.map(|s| serde_json::from_str(&s).map_err(|e| bad(22, e.to_string()))).transpose()?
        },
        awaiting_confirmation: r.get(23)?,
    })
}

/// A case by its number (a transaction is a connection too).
fn case_by_number(conn: &Connection, number: &str) -> Result<Option<CaseRecord>> {
    conn.query_row(&format!("SELECT {CASE_COLUMNS} FROM cases WHERE number = ?1"), [number], case_from_row)
        .optional()
        .map_err(err("reading a case"))
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

impl Tx for SqliteTx<'_> {
    fn check_lease(&mut self, name: &str, holder: &str, term: i64) -> Result<()> {
        // BEGIN IMMEDIATE: no other writer can take the lease until this transaction ends.
        let held = self
            .0
            .query_row(
                "SELECT 1 FROM leases WHERE name = ?1 AND holder = ?2 AND term = ?3 AND expires_at > ?4",
                params![name, holder, term, time_micros(Utc::now())],
                |_| Ok(()),
            )
            .optional()
            .map_err(err("checking a lease"))?;
        held.ok_or_else(|| {
            StoreError::lease_lost(format!("the lease {name} (term {term}) is no longer this instance's"))
        })
    }

    fn find_message(&mut self, dedup_key: &str) -> Result<Option<(i64, Option<String>)>> {
        self.0
            .query_row(
                "SELECT m.id, c.number FROM messages m LEFT JOIN cases c ON c.id = m.case_id WHERE m.dedup_key = ?1",
                [dedup_key],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(err("looking for a duplicate"))
    }

    fn allocate_case_number(&mut self, prefix: &str, year: i32, width: usize) -> Result<String> {
        let seq: i64 = self
            .0
            .query_row(
                "INSERT INTO case_numbers (prefix, year, last_seq) VALUES (?1, ?2, 1) \
                 ON CONFLICT (prefix, year) DO UPDATE SET last_seq = last_seq + 1 RETURNING last_seq",
                params![prefix, year],
                |r| r.get(0),
            )
            .map_err(err("allocating a case number"))?;
        Ok(format!("{prefix}-{year}-{seq:0width$}"))
    }

    fn insert_case(&mut self, c: &CaseRecord) -> Result<i64> {
        self.0
            .execute(
                &format!("INSERT INTO cases ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)", &CASE_COLUMNS[4..]),
                params![
                    c.number, c.state.as_str(), c.customer_id, c.reporter, c.language.as_str(), c.reply_language.as_str(),
                    c.priority, c.subject, c.repro_steps, json(&c.error_messages), c.description, c.expected_result,
                    c.circumstances, json(&c.missing), c.clock, c.clock_start.map(time_text), c.release_at.map(time_text),
                    c.response_due.map(time_text), json(&c.reasons), time_text(c.created_at), time_text(c.updated_at),
                    c.change_request.as_ref().map(json), c.awaiting_confirmation
                ],
            )
            .map_err(err("recording a case"))?;
        Ok(self.0.last_insert_rowid())
    }

    fn update_case(&mut self, c: &CaseRecord) -> Result<()> {
        self.0
            .execute(
                "UPDATE cases SET state = ?2, customer_id = ?3, priority = ?4, repro_steps = ?5, error_messages = ?6, \
                 description = ?7, expected_result = ?8, circumstances = ?9, missing = ?10, clock = ?11, clock_start = ?12, \
                 release_at = ?13, response_due = ?14, reasons = ?15, updated_at = ?16, change_request = ?17, awaiting_confirmation = ?18 WHERE id = ?1",
                params![
                    c.id, c.state.as_str(), c.customer_id, c.priority, c.repro_steps, json(&c.error_messages), c.description,
                    c.expected_result, c.circumstances, json(&c.missing), c.clock, c.clock_start.map(time_text),
                    c.release_at.map(time_text), c.response_due.map(time_text), json(&c.reasons), time_text(c.updated_at),
                    c.change_request.as_ref().map(json), c.awaiting_confirmation
                ],
            )
            .map_err(err("updating a case"))?;
        Ok(())
    }

    fn load_case(&mut self, number: &str) -> Result<Option<CaseRecord>> {
        case_by_number(&self.0, number)
    }

    fn case_of_our_message(&mut self, ids: &[String]) -> Result<Option<String>> {
        for id in ids {
            let found: Option<String> = self
                .0
                .query_row(
                    "SELECT c.number FROM outbox o JOIN cases c ON c.id = o.case_id WHERE o.our_message_id = ?1",
                    [id.trim()],
                    |r| r.get(0),
                )
                .optional()
                .map_err(err("finding the case of a reply"))?;
            if found.is_some() {
                return Ok(found);
            }
        }
        Ok(None)
    }

    fn insert_message(&mut self, m: &NewMessage<'_>) -> Result<i64> {
        self.0
            .execute(
                "INSERT INTO messages (case_id, channel, sender, message_id, dedup_key, received_at, recorded_at, action, \
                 subject, sha256, size, raw, error) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    m.case_id, m.channel, m.sender, m.message_id, m.dedup_key, time_text(m.received_at), time_text(m.recorded_at),
                    m.action, m.subject, m.sha256, m.raw.len() as i64, m.raw, m.error
                ],
            )
            .map_err(err("recording a message"))?;
        Ok(self.0.last_insert_rowid())
    }

    fn enqueue(&mut self, o: &NewOutbox) -> Result<()> {
        self.0
            .execute(
                "INSERT INTO outbox (case_id, message_id, kind, recipient, language, our_message_id, not_before, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    o.case_id, o.message_id, o.kind.as_str(), o.recipient, o.language.as_str(), o.our_message_id,
                    time_text(o.not_before), time_text(o.created_at)
                ],
            )
            .map_err(err("enqueueing a message"))?;
        Ok(())
    }

    fn acks_since(&mut self, recipient: &str, since: DateTime<Utc>) -> Result<u32> {
        self.0
            .query_row(
                "SELECT count(*) FROM outbox WHERE recipient = ?1 AND created_at >= ?2 \
                 AND kind IN ('ack', 'followup_ack', 'reject_unauthorized', 'reject_suspended')",
                params![recipient, time_text(since)],
                |r| r.get(0),
            )
            .map_err(err("counting acknowledgments"))
    }

    fn add_event(&mut self, case_id: i64, at: DateTime<Utc>, actor: &str, kind: &str, detail: &str) -> Result<()> {
        self.0
            .execute(
                "INSERT INTO case_events (case_id, at, actor, kind, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![case_id, time_text(at), actor, kind, detail],
            )
            .map_err(err("recording an event"))?;
        Ok(())
    }

    fn set_checkpoint(&mut self, c: &Checkpoint, at: DateTime<Utc>) -> Result<()> {
        self.0
            .execute(
                "INSERT INTO checkpoints (mailbox, uidvalidity, last_uid, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, \
                 last_uid = CASE WHEN checkpoints.uidvalidity = excluded.uidvalidity THEN max(checkpoints.last_uid, excluded.last_uid) ELSE excluded.last_uid END, \
                 updated_at = excluded.updated_at",
                params![c.mailbox, c.uidvalidity, c.uid, time_text(at)],
            )
            .map_err(err("recording a checkpoint"))?;
        Ok(())
    }

    fn held_until(&mut self, now: DateTime<Utc>) -> Result<Vec<CaseRecord>> {
        let mut stmt = self
            .0
            .prepare(&format!(
                "SELECT {CASE_COLUMNS} FROM cases WHERE state = 'held' AND release_at <= ?1 ORDER BY release_at, id"
            ))
            .map_err(err("finding held cases"))?;
        let rows = stmt.query_map([time_text(now)], case_from_row).map_err(err("finding held cases"))?;
        rows.collect::<std::result::Result<_, _>>().map_err(err("reading a held case"))
    }

    fn raw_of_case(&mut self, case_id: i64) -> Result<Option<super::FirstMessage>> {
        self.0
            .query_row(
                "SELECT raw, channel, received_at FROM messages WHERE case_id = ?1 ORDER BY id LIMIT 1",
                [case_id],
                |r| {
                    let channel: String = r.get(1)?;
                    let channel = if channel == "form" {
                        crate::understand::Channel::Form
                    } else {
                        crate::understand::Channel::Mail
                    };
                    Ok((r.get(0)?, channel, time(r, 2)?))
                },
            )
            .optional()
            .map_err(err("reading a raw message"))
    }

    fn first_message_of(&mut self, case_id: i64) -> Result<Option<i64>> {
        self.0
            .query_row("SELECT min(id) FROM messages WHERE case_id = ?1", [case_id], |r| r.get(0))
            .map_err(err("finding a case's first message"))
    }
}
