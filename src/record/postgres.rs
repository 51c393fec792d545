//! The shared store: PostgreSQL, for a support desk that runs several uketsuke instances
//! (failover, several mailboxes) or wants its cases where its other tools can query them.
//!
//! It keeps every promise of the SQLite store. A write is one transaction, committed before
//! anything is said back. The unique deduplication key records a message once even when two
//! instances fetch it at the same moment: the second instance's transaction meets the
//! first's row, is rolled back and run again, and then finds the duplicate. A case number is
//! taken from a counter row that stays locked until the transaction ends, so numbers never
//! repeat and never skip, whatever the concurrency. Outbox entries are claimed with
//! `FOR UPDATE SKIP LOCKED`, so instances sending side by side never pick the same entry.
//!
//! The client is `postgres`, the blocking face of tokio-postgres: the store's callers already
//! run it off the async workers (`block_in_place`), as they do SQLite.

use super::model::*;
use super::{CASE_COLUMNS, JOINED_CASE_COLUMNS};
use super::{Instance, InstanceStatus, Lease, Result, Store, StoreError, Tx};
use crate::terms::Language;
use chrono::{DateTime, Utc};
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, Row};
use std::path::Path;

const MIGRATIONS: [(&str, &str); 1] = [("0001_schema", include_str!("../../migrations/postgres/0001_schema.sql"))];

/// How many times a write is run again when PostgreSQL asks for it (a concurrent duplicate,
/// a serialization failure, a deadlock).
const WRITE_ATTEMPTS: usize = 5;

pub struct PgStore {
    /// Always Some but while being dropped (see the Drop impl).
    client: Option<Client>,
    config: postgres::Config,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    /// The connection failed under a call: open a new one before the next.
    broken: bool,
    /// This connection's prepared statements, by their SQL: each statement is parsed and
    /// planned by the server once, not at every call (that would be a second round trip for
    /// every query).
    statements: Statements,
}

type Statements = std::collections::HashMap<String, postgres::Statement>;

/// At most this many prepared statements are kept (the SQL of uketsuke is a fixed set, plus a
/// few case filters); past it the cache starts over.
const MAX_STATEMENTS: usize = 256;

/// The prepared statement of `sql` on this connection, prepared at its first use.
fn statement(
    client: &mut impl postgres::GenericClient,
    statements: &mut Statements,
    sql: &str,
) -> std::result::Result<postgres::Statement, postgres::Error> {
    if let Some(prepared) = statements.get(sql) {
        return Ok(prepared.clone());
    }
    let prepared = client.prepare(sql)?;
    if statements.len() >= MAX_STATEMENTS {
        statements.clear();
    }
    statements.insert(sql.to_string(), prepared.clone());
    Ok(prepared)
}

/// Whether the connection itself is gone after `e` (not merely one statement refused).
fn breaks_connection(e: &postgres::Error) -> bool {
    e.is_closed()
        || match e.code() {
            None => e.as_db_error().is_none(),
            // 08: connection exception; 57: operator intervention (pg_terminate_backend, shutdown).
            Some(code) => code.code().starts_with("08") || code.code().starts_with("57"),
        }
}

/// Says what a PostgreSQL error means for the operator; the server's own message is kept,
/// and never the connection string.
fn describe(context: &str, e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{context}: {} ({})", db.message(), db.code().code()),
        None if e.is_closed() => format!("{context}: the connection to PostgreSQL is closed"),
        None => format!("{context}: {e}"),
    }
}

fn open_client(config: &postgres::Config, tls: &Option<tokio_postgres_rustls::MakeRustlsConnect>) -> Result<Client> {
    blocking(|| match tls {
        Some(tls) => config.connect(tls.clone()),
        None => config.connect(postgres::NoTls),
    })
    .map_err(|e| {
        StoreError::new(format!(
            "{}; check [store] url, that PostgreSQL is running and that this user may connect",
            describe("cannot connect to PostgreSQL", &e)
        ))
    })
}

fn err(context: &str) -> impl Fn(postgres::Error) -> StoreError + '_ {
    move |e| StoreError::new(describe(context, &e))
}

/// Errors after which the whole transaction may simply run again.
fn retryable(e: &postgres::Error) -> bool {
    e.code().is_some_and(|c| {
        *c == SqlState::UNIQUE_VIOLATION
            || *c == SqlState::T_R_SERIALIZATION_FAILURE
            || *c == SqlState::T_R_DEADLOCK_DETECTED
    })
}

/// Runs blocking database work from wherever the store is called: on a multi-threaded
/// runtime's worker it steps off the worker first, as the postgres client must not block one.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

impl PgStore {
    /// Connects with `config` and brings the schema up to date (one instance at a time).
    pub fn connect(
        config: &postgres::Config,
        tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
    ) -> Result<PgStore> {
        let client = open_client(config, &tls)?;
        let mut store =
            PgStore { client: Some(client), config: config.clone(), tls, broken: false, statements: Statements::new() };
        store.migrate()?;
        Ok(store)
    }

    /// The connection, opened again if PostgreSQL closed it (a restart, a failover, an
    /// administrator's `pg_terminate_backend`). A transaction in progress then is lost, as
    /// a crash would lose it; nothing committed is.
    fn client(&mut self) -> Result<&mut Client> {
        if self.broken || self.client.as_ref().is_none_or(|c| c.is_closed()) {
            // Prepared statements belong to the connection that prepared them.
            self.statements.clear();
            self.client = Some(open_client(&self.config, &self.tls)?);
            self.broken = false;
        }
        self.client.as_mut().ok_or_else(|| StoreError::new("the PostgreSQL connection is closed"))
    }

    fn migrate(&mut self) -> Result<()> {
        blocking(|| {
            let mut tx = self.client()?.transaction().map_err(err("starting the migration"))?;
            // Instances starting together migrate one after the other.
            tx.execute("SELECT pg_advisory_xact_lock(7710201)", &[]).map_err(err("locking the migration"))?;
            tx.batch_execute(
                "CREATE TABLE IF NOT EXISTS uketsuke_schema (version INTEGER NOT NULL, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            )
            .map_err(err("reading the schema version"))?;
            let version: i32 = tx
                .query_one("SELECT coalesce(max(version), 0) FROM uketsuke_schema", &[])
                .map_err(err("reading the schema version"))?
                .get(0);
            let version = usize::try_from(version).unwrap_or(usize::MAX);
            if version > MIGRATIONS.len() {
                return Err(StoreError::new(format!(
                    "the store has schema version {version}, newer than this uketsuke knows ({}); run a newer uketsuke",
                    MIGRATIONS.len()
                )));
            }
            for (i, (name, sql)) in MIGRATIONS.iter().enumerate().skip(version) {
                tx.batch_execute(sql)
                    .map_err(|e| StoreError::new(describe(&format!("migration {name} failed"), &e)))?;
                tx.execute("INSERT INTO uketsuke_schema (version, name) VALUES ($1, $2)", &[&((i + 1) as i32), name])
                    .map_err(err("recording the schema version"))?;
            }
            tx.commit().map_err(err("committing the migration"))
        })
    }

    fn query_opt(&mut self, context: &str, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        let outcome = blocking(|| {
            self.client()?;
            let PgStore { client: Some(client), statements, .. } = &mut *self else {
                return Err(StoreError::new("the PostgreSQL connection is closed"));
            };
            Ok(statement(client, statements, sql).and_then(|st| client.query_opt(&st, params)))
        });
        self.settle(context, outcome)
    }

    fn query(&mut self, context: &str, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let outcome = blocking(|| {
            self.client()?;
            let PgStore { client: Some(client), statements, .. } = &mut *self else {
                return Err(StoreError::new("the PostgreSQL connection is closed"));
            };
            Ok(statement(client, statements, sql).and_then(|st| client.query(&st, params)))
        });
        self.settle(context, outcome)
    }

    fn execute(&mut self, context: &str, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let outcome = blocking(|| {
            self.client()?;
            let PgStore { client: Some(client), statements, .. } = &mut *self else {
                return Err(StoreError::new("the PostgreSQL connection is closed"));
            };
            Ok(statement(client, statements, sql).and_then(|st| client.execute(&st, params)))
        });
        self.settle(context, outcome)
    }

    /// The outcome of one call, noting a connection that broke under it.
    fn settle<T>(&mut self, context: &str, outcome: Result<std::result::Result<T, postgres::Error>>) -> Result<T> {
        match outcome? {
            Ok(v) => Ok(v),
            Err(e) => {
                self.broken |= breaks_connection(&e);
                Err(StoreError::new(describe(context, &e)))
            }
        }
    }
}

fn get<'a, T: postgres::types::FromSql<'a>>(r: &'a Row, i: usize) -> Result<T> {
    r.try_get(i).map_err(|e| StoreError::new(format!("reading column {i}: {e}")))
}

fn json_list(r: &Row, i: usize) -> Result<Vec<String>> {
    let s: String = get(r, i)?;
    serde_json::from_str(&s).map_err(|e| StoreError::new(format!("a stored list is not JSON: {e}")))
}

fn language(r: &Row, i: usize) -> Result<Language> {
    let s: String = get(r, i)?;
    Language::parse(&s).ok_or_else(|| StoreError::new(format!("bad language {s:?} in the store")))
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn case_from_row(r: &Row) -> Result<CaseRecord> {
    let state: String = get(r, 2)?;
    Ok(CaseRecord {
        id: get(r, 0)?,
        number: get(r, 1)?,
        state: CaseState::parse(&state)
            .ok_or_else(|| StoreError::new(format!("bad case state {state:?} in the store")))?,
        customer_id: get(r, 3)?,
        reporter: get(r, 4)?,
        language: language(r, 5)?,
        reply_language: language(r, 6)?,
        priority: get(r, 7)?,
        subject: get(r, 8)?,
        repro_steps: get(r, 9)?,
        error_messages: json_list(r, 10)?,
        description: get(r, 11)?,
        expected_result: get(r, 12)?,
        circumstances: get(r, 13)?,
        missing: json_list(r, 14)?,
        clock: get(r, 15)?,
        clock_start: get(r, 16)?,
        release_at: get(r, 17)?,
        response_due: get(r, 18)?,
        reasons: json_list(r, 19)?,
        created_at: get(r, 20)?,
        updated_at: get(r, 21)?,
        change_request: {
            let s: Option<String> = get(r, 22)?;
            s.map(|s| serde_json::from_str(&s).map_err(|e| StoreError::new(format!("a stored change request: {e}"))))
                .transpose()?
        },
        awaiting_confirmation: get(r, 23)?,
    })
}

const OAUTH_COLUMNS: &str = "account, refresh_token, access_expires, refreshed_at, needs_reauth, updated_at";

fn oauth_from_row(r: &Row) -> Result<OAuthState> {
    Ok(OAuthState {
        account: get(r, 0)?,
        sealed_refresh: get(r, 1)?,
        access_expires: get(r, 2)?,
        refreshed_at: get(r, 3)?,
        needs_reauth: get(r, 4)?,
        updated_at: get(r, 5)?,
    })
}

fn lease_from_row(r: &Row) -> Result<Lease> {
    Ok(Lease { name: get(r, 0)?, holder: get(r, 1)?, term: get(r, 2)?, since: get(r, 3)?, expires_at: get(r, 4)? })
}

impl Store for PgStore {
    fn write<T>(&mut self, mut f: impl FnMut(&mut dyn Tx) -> Result<T>) -> Result<T> {
        blocking(|| {
            let mut attempt = 0;
            loop {
                attempt += 1;
                self.client()?;
                let PgStore { client, broken: store_broken, statements, .. } = &mut *self;
                let Some(client) = client.as_mut() else {
                    return Err(StoreError::new("the PostgreSQL connection is closed"));
                };
                let tx = match client.transaction() {
                    Ok(tx) => tx,
                    Err(e) => {
                        *store_broken |= breaks_connection(&e);
                        return Err(StoreError::new(describe("starting a write", &e)));
                    }
                };
                let mut tx = PgTx { tx, statements, retry: false, broken: false };
                let outcome = f(&mut tx);
                let (retry, mut broken) = (tx.retry, tx.broken);
                let result = match outcome {
                    Ok(value) => match tx.tx.commit() {
                        Ok(()) => Ok(value),
                        Err(e) if retryable(&e) && attempt < WRITE_ATTEMPTS => continue,
                        Err(e) => {
                            broken |= breaks_connection(&e);
                            Err(StoreError::new(describe("committing", &e)))
                        }
                    },
                    // Dropping the transaction rolls it back.
                    Err(_) if retry && attempt < WRITE_ATTEMPTS => continue,
                    Err(e) => Err(e),
                };
                *store_broken |= broken;
                return result;
            }
        })
    }

    fn cases(&mut self, filter: &CaseFilter) -> Result<Vec<CaseRecord>> {
        let mut sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE true");
        let state = filter.state.map(|s| s.as_str().to_string());
        let customer = filter.customer_id.as_ref().map(|c| c.to_ascii_uppercase());
        let mut args: Vec<&(dyn ToSql + Sync)> = Vec::new();
        if let Some(state) = &state {
            args.push(state);
            sql.push_str(&format!(" AND state = ${}", args.len()));
        }
        if let Some(customer) = &customer {
            args.push(customer);
            sql.push_str(&format!(" AND upper(customer_id) = ${}", args.len()));
        }
        if let Some(before) = &filter.due_before {
            args.push(before);
            sql.push_str(&format!(" AND response_due IS NOT NULL AND response_due < ${}", args.len()));
        }
        sql.push_str(" ORDER BY id");
        self.query("listing cases", &sql, &args)?.iter().map(case_from_row).collect()
    }

    fn case_detail(&mut self, number: &str) -> Result<Option<CaseDetail>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE number = $1");
        let Some(row) = self.query_opt("reading a case", &sql, &[&number])? else { return Ok(None) };
        let case = case_from_row(&row)?;
        let messages = self
            .query(
                "reading messages",
                "SELECT id, channel, sender, message_id, received_at, action, subject, size, sha256, error FROM messages WHERE case_id = $1 ORDER BY id",
                &[&case.id],
            )?
            .iter()
            .map(|r| {
                Ok(MessageSummary {
                    id: get(r, 0)?,
                    channel: get(r, 1)?,
                    sender: get(r, 2)?,
                    message_id: get(r, 3)?,
                    received_at: get(r, 4)?,
                    action: get(r, 5)?,
                    subject: get(r, 6)?,
                    size: get(r, 7)?,
                    sha256: get(r, 8)?,
                    error: get(r, 9)?,
                })
            })
            .collect::<Result<_>>()?;
        let outbox = self
            .query(
                "reading the outbox",
                "SELECT id, kind, recipient, our_message_id, not_before, state, attempts, last_error, sent_at FROM outbox WHERE case_id = $1 ORDER BY id",
                &[&case.id],
            )?
            .iter()
            .map(|r| {
                Ok(OutboxSummary {
                    id: get(r, 0)?,
                    kind: get(r, 1)?,
                    recipient: get(r, 2)?,
                    our_message_id: get(r, 3)?,
                    not_before: get(r, 4)?,
                    state: get(r, 5)?,
                    attempts: get(r, 6)?,
                    last_error: get(r, 7)?,
                    sent_at: get(r, 8)?,
                })
            })
            .collect::<Result<_>>()?;
        let events = self
            .query(
                "reading events",
                "SELECT at, actor, kind, detail FROM case_events WHERE case_id = $1 ORDER BY id",
                &[&case.id],
            )?
            .iter()
            .map(|r| Ok(EventRecord { at: get(r, 0)?, actor: get(r, 1)?, kind: get(r, 2)?, detail: get(r, 3)? }))
            .collect::<Result<_>>()?;
        Ok(Some(CaseDetail { case, messages, outbox, events }))
    }

    fn next_release(&mut self) -> Result<Option<DateTime<Utc>>> {
        let row =
            self.query_opt("finding the next release", "SELECT min(release_at) FROM cases WHERE state = 'held'", &[])?;
        row.map(|r| get::<Option<DateTime<Utc>>>(&r, 0)).transpose().map(Option::flatten)
    }

    fn checkpoint(&mut self, mailbox: &str) -> Result<Option<Checkpoint>> {
        let row = self.query_opt(
            "reading a checkpoint",
            "SELECT uidvalidity, last_uid FROM checkpoints WHERE mailbox = $1",
            &[&mailbox],
        )?;
        row.map(|r| {
            let (validity, uid): (i64, i64) = (get(&r, 0)?, get(&r, 1)?);
            Ok(Checkpoint {
                mailbox: mailbox.to_string(),
                uidvalidity: u32::try_from(validity).unwrap_or(0),
                uid: u32::try_from(uid).unwrap_or(0),
            })
        })
        .transpose()
    }

    fn claim_outbox(
        &mut self,
        claimant: &str,
        now: DateTime<Utc>,
        claim_for: std::time::Duration,
        dead_after: std::time::Duration,
        limit: usize,
    ) -> Result<Vec<OutboxJob>> {
        let limit = limit as i64;
        // Claiming is a sign of life (`alive`): the others take these claims over only a lease
        // time after this moment, however late the last heartbeat was (the sender relies on it).
        let sql = format!(
            "WITH due AS (SELECT id FROM outbox WHERE state = 'pending' AND not_before <= $3 \
               AND (claimed_by IS NULL OR claimed_by = $1 OR claimed_until <= clock_timestamp() \
                 OR claimed_by NOT IN (SELECT id FROM instances WHERE seen_at > clock_timestamp() - make_interval(secs => $5))) \
               ORDER BY not_before, id LIMIT $4 FOR UPDATE SKIP LOCKED), \
             alive AS (UPDATE instances SET seen_at = clock_timestamp() WHERE id = $1), \
             claimed AS (UPDATE outbox o SET claimed_by = $1, claimed_until = clock_timestamp() + make_interval(secs => $2) FROM due WHERE o.id = due.id \
               RETURNING o.id, o.case_id, o.kind, o.recipient, o.language, o.our_message_id, o.attempts, o.message_id) \
             SELECT {}, o.id, o.case_id, o.kind, o.recipient, o.language, o.our_message_id, o.attempts, \
               m.sender, m.subject, m.message_id, m.received_at, m.raw \
             FROM claimed o JOIN messages m ON m.id = o.message_id LEFT JOIN cases c ON c.id = o.case_id ORDER BY o.id",
            JOINED_CASE_COLUMNS.0
        );
        let rows = self.query(
            "claiming outbox entries",
            &sql,
            &[&claimant, &claim_for.as_secs_f64(), &now, &limit, &dead_after.as_secs_f64()],
        )?;
        rows.iter()
            .map(|r| {
                let case = match get::<Option<i64>>(r, 0)? {
                    Some(_) => Some(case_from_row(r)?),
                    None => None,
                };
                let j = JOINED_CASE_COLUMNS.1;
                Ok(OutboxJob {
                    id: get(r, j)?,
                    case_id: get(r, j + 1)?,
                    kind: get(r, j + 2)?,
                    recipient: get(r, j + 3)?,
                    language: language(r, j + 4)?,
                    our_message_id: get(r, j + 5)?,
                    attempts: get(r, j + 6)?,
                    sender: get(r, j + 7)?,
                    subject: get(r, j + 8)?,
                    message_id: get(r, j + 9)?,
                    received_at: get(r, j + 10)?,
                    raw: get(r, j + 11)?,
                    case,
                })
            })
            .collect()
    }

    fn mark_sent(&mut self, id: i64, claimant: &str, at: DateTime<Utc>) -> Result<bool> {
        let changed = self.execute(
            "marking an outbox entry sent",
            "UPDATE outbox SET state = 'sent', sent_at = $3, attempts = attempts + 1, last_error = NULL, \
             claimed_by = NULL, claimed_until = NULL WHERE id = $1 AND claimed_by = $2 AND state = 'pending'",
            &[&id, &claimant, &at],
        )?;
        Ok(changed == 1)
    }

    fn mark_failed(&mut self, id: i64, claimant: &str, error: &str, retry_at: Option<DateTime<Utc>>) -> Result<()> {
        match retry_at {
            Some(at) => self.execute(
                "recording a failed send",
                "UPDATE outbox SET attempts = attempts + 1, last_error = $3, not_before = $4, claimed_by = NULL, \
                 claimed_until = NULL WHERE id = $1 AND claimed_by = $2 AND state = 'pending'",
                &[&id, &claimant, &error, &at],
            ),
            None => self.execute(
                "recording a failed send",
                "UPDATE outbox SET attempts = attempts + 1, last_error = $3, state = 'parked', claimed_by = NULL, \
                 claimed_until = NULL WHERE id = $1 AND claimed_by = $2 AND state = 'pending'",
                &[&id, &claimant, &error],
            ),
        }?;
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
        self.execute(
            "recording a channel's state",
            "INSERT INTO channels (name, state, since, last_success, last_error, updated_at) \
             VALUES ($1, $2, $5, CASE WHEN $3 THEN $5 END, $4, $5) \
             ON CONFLICT (name) DO UPDATE SET \
               since = CASE WHEN channels.state = excluded.state THEN channels.since ELSE excluded.since END, \
               state = excluded.state, \
               last_success = CASE WHEN $3 THEN excluded.updated_at ELSE channels.last_success END, \
               last_error = coalesce(excluded.last_error, channels.last_error), updated_at = excluded.updated_at",
            &[&name, &state, &success, &error, &at],
        )?;
        Ok(())
    }

    fn oauth_account(&mut self, account: &str) -> Result<Option<OAuthState>> {
        let sql = format!("SELECT {OAUTH_COLUMNS} FROM oauth_accounts WHERE account = $1");
        self.query_opt("reading an OAuth account", &sql, &[&account])?.map(|r| oauth_from_row(&r)).transpose()
    }

    fn oauth_accounts(&mut self) -> Result<Vec<OAuthState>> {
        let sql = format!("SELECT {OAUTH_COLUMNS} FROM oauth_accounts ORDER BY account");
        self.query("reading OAuth accounts", &sql, &[])?.iter().map(oauth_from_row).collect()
    }

    fn save_oauth_tokens(
        &mut self,
        account: &str,
        sealed_refresh: Option<&[u8]>,
        access_expires: Option<DateTime<Utc>>,
        login: bool,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.execute(
            "saving OAuth tokens",
            "INSERT INTO oauth_accounts (account, refresh_token, access_expires, refreshed_at, needs_reauth, updated_at) \
             VALUES ($1, $2, $3, $5, NULL, $5) \
             ON CONFLICT (account) DO UPDATE SET \
               refresh_token = coalesce(excluded.refresh_token, oauth_accounts.refresh_token), \
               access_expires = excluded.access_expires, refreshed_at = excluded.refreshed_at, \
               needs_reauth = CASE WHEN $4 THEN NULL ELSE oauth_accounts.needs_reauth END, \
               updated_at = excluded.updated_at",
            &[&account, &sealed_refresh, &access_expires, &login, &at],
        )?;
        Ok(())
    }

    fn mark_needs_reauth(&mut self, account: &str, reason: &str, at: DateTime<Utc>) -> Result<()> {
        self.execute(
            "marking an OAuth account for re-authorization",
            "INSERT INTO oauth_accounts (account, needs_reauth, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (account) DO UPDATE SET needs_reauth = excluded.needs_reauth, access_expires = NULL, updated_at = excluded.updated_at",
            &[&account, &reason, &at],
        )?;
        Ok(())
    }

    fn status(&mut self) -> Result<StoreStatus> {
        let rows = self.query(
            "reading the status",
            "SELECT (SELECT count(*) FROM outbox WHERE state = 'pending'), (SELECT count(*) FROM outbox WHERE state = 'parked'), \
             (SELECT min(created_at) FROM outbox WHERE state = 'pending'), (SELECT count(*) FROM cases WHERE state = 'held'), \
             (SELECT min(release_at) FROM cases WHERE state = 'held'), (SELECT count(*) FROM cases WHERE state = 'quarantined'), \
             (SELECT count(*) FROM cases), (SELECT count(*) FROM messages), (SELECT min(clock_start) FROM cases WHERE state = 'held')",
            &[],
        )?;
        let r = rows.first().ok_or_else(|| StoreError::new("reading the status: no answer"))?;
        let channels = self
            .query(
                "reading channels",
                "SELECT name, state, since, last_success, last_error, updated_at FROM channels ORDER BY name",
                &[],
            )?
            .iter()
            .map(|r| {
                Ok(ChannelStatus {
                    name: get(r, 0)?,
                    state: get(r, 1)?,
                    since: get(r, 2)?,
                    last_success: get(r, 3)?,
                    last_error: get(r, 4)?,
                    updated_at: get(r, 5)?,
                })
            })
            .collect::<Result<_>>()?;
        let oauth = self.oauth_accounts()?;
        let instances = self.instances(std::time::Duration::from_secs(3600))?;
        let leases = self.leases()?;
        let mut load = |outcome: &str| -> Result<Option<(i64, ConfigLoad)>> {
            self.query_opt(
                "reading configuration loads",
                "SELECT at, path, problems, id FROM config_loads WHERE outcome = $1 ORDER BY id DESC LIMIT 1",
                &[&outcome],
            )?
            .map(|r| {
                let problems: String = get(&r, 2)?;
                Ok((
                    get(&r, 3)?,
                    ConfigLoad {
                        at: get(&r, 0)?,
                        path: get(&r, 1)?,
                        problems: problems.lines().map(str::to_string).collect(),
                    },
                ))
            })
            .transpose()
        };
        let loaded = load("loaded")?;
        let refused = load("refused")?.filter(|(id, _)| loaded.as_ref().is_none_or(|(loaded_id, _)| id > loaded_id));
        Ok(StoreStatus {
            config_loaded: loaded.map(|(_, l)| l),
            config_refused: refused.map(|(_, r)| r),
            outbox_pending: get(r, 0)?,
            outbox_parked: get(r, 1)?,
            oldest_pending: get(r, 2)?,
            held: get(r, 3)?,
            next_release: get(r, 4)?,
            quarantined: get(r, 5)?,
            cases: get(r, 6)?,
            messages: get(r, 7)?,
            oldest_held: get(r, 8)?,
            channels,
            oauth,
            instances,
            leases,
        })
    }

    fn message_raw(&mut self, id: i64) -> Result<Option<Vec<u8>>> {
        self.query_opt("reading a message", "SELECT raw FROM messages WHERE id = $1", &[&id])?
            .map(|r| get(&r, 0))
            .transpose()
    }

    fn record_config_load(&mut self, at: DateTime<Utc>, path: &Path, problems: &[String]) -> Result<()> {
        let outcome = if problems.is_empty() { "loaded" } else { "refused" };
        let (path, problems) = (path.display().to_string(), problems.join("\n"));
        blocking(|| {
            let mut tx = self.client()?.transaction().map_err(err("recording a configuration load"))?;
            let done = tx
                .execute(
                    "INSERT INTO config_loads (at, path, outcome, problems) VALUES ($1, $2, $3, $4)",
                    &[&at, &path, &outcome, &problems],
                )
                .and_then(|_| {
                    tx.execute("DELETE FROM config_loads WHERE id <= (SELECT max(id) - 100 FROM config_loads)", &[])
                });
            done.map_err(err("recording a configuration load"))?;
            tx.commit().map_err(err("recording a configuration load"))
        })
    }

    fn counts(&mut self) -> Result<(i64, i64, i64)> {
        let rows = self.query(
            "counting",
            "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM cases), (SELECT count(*) FROM outbox)",
            &[],
        )?;
        let r = rows.first().ok_or_else(|| StoreError::new("counting: no answer"))?;
        Ok((get(r, 0)?, get(r, 1)?, get(r, 2)?))
    }

    fn acquire_lease(&mut self, name: &str, holder: &str, ttl: std::time::Duration) -> Result<Option<Lease>> {
        // The database's clock decides, so instances on machines whose clocks differ agree.
        self.query_opt(
            "taking a lease",
            "INSERT INTO leases (name, holder, term, since, renewed_at, expires_at) \
             VALUES ($1, $2, 1, clock_timestamp(), clock_timestamp(), clock_timestamp() + make_interval(secs => $3)) \
             ON CONFLICT (name) DO UPDATE SET \
               term = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > excluded.renewed_at THEN leases.term ELSE leases.term + 1 END, \
               since = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > excluded.renewed_at THEN leases.since ELSE excluded.since END, \
               holder = excluded.holder, renewed_at = excluded.renewed_at, expires_at = excluded.expires_at \
             WHERE leases.expires_at <= excluded.renewed_at OR leases.holder = excluded.holder \
             RETURNING name, holder, term, since, expires_at",
            &[&name, &holder, &ttl.as_secs_f64()],
        )?
        .map(|r| lease_from_row(&r))
        .transpose()
    }

    fn release_lease(&mut self, name: &str, holder: &str, term: i64) -> Result<()> {
        self.execute(
            "giving up a lease",
            "UPDATE leases SET expires_at = clock_timestamp() WHERE name = $1 AND holder = $2 AND term = $3",
            &[&name, &holder, &term],
        )?;
        Ok(())
    }

    fn leases(&mut self) -> Result<Vec<Lease>> {
        self.query("reading leases", "SELECT name, holder, term, since, expires_at FROM leases ORDER BY name", &[])?
            .iter()
            .map(lease_from_row)
            .collect()
    }

    fn heartbeat(&mut self, i: &Instance) -> Result<()> {
        let pid = i64::from(i.pid);
        self.execute(
            "recording this instance",
            "INSERT INTO instances (id, host, pid, version, started_at, seen_at) VALUES ($1, $2, $3, $4, $5, clock_timestamp()) \
             ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
            &[&i.id, &i.host, &pid, &i.version, &i.started_at],
        )?;
        self.execute(
            "recording this instance",
            "DELETE FROM instances WHERE seen_at < clock_timestamp() - interval '1 day'",
            &[],
        )?;
        Ok(())
    }

    fn forget_instance(&mut self, id: &str) -> Result<()> {
        blocking(|| {
            let mut tx = self.client()?.transaction().map_err(err("freeing leases"))?;
            tx.execute(
                "UPDATE leases SET expires_at = clock_timestamp() WHERE holder = $1 AND expires_at > clock_timestamp()",
                &[&id],
            )
            .map_err(err("freeing leases"))?;
            tx.execute("UPDATE outbox SET claimed_by = NULL, claimed_until = NULL WHERE claimed_by = $1", &[&id])
                .map_err(err("freeing outbox claims"))?;
            tx.execute("DELETE FROM instances WHERE id = $1", &[&id]).map_err(err("forgetting an instance"))?;
            tx.commit().map_err(err("freeing leases"))
        })
    }

    fn instances(&mut self, within: std::time::Duration) -> Result<Vec<InstanceStatus>> {
        self.query(
            "reading instances",
            "SELECT id, host, pid, version, started_at, seen_at FROM instances \
             WHERE seen_at >= clock_timestamp() - make_interval(secs => $1) ORDER BY started_at DESC, id",
            &[&within.as_secs_f64()],
        )?
        .iter()
        .map(|r| {
            Ok(InstanceStatus {
                id: get(r, 0)?,
                host: get(r, 1)?,
                pid: get(r, 2)?,
                version: get(r, 3)?,
                started_at: get(r, 4)?,
                seen_at: get(r, 5)?,
            })
        })
        .collect()
    }
}

impl Drop for PgStore {
    /// Closing the connection blocks (it says goodbye to the server): off the async workers,
    /// as every other call.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            blocking(move || drop(client));
        }
    }
}

/// One write transaction. `retry` is set when PostgreSQL refused a statement in a way that
/// running the whole transaction again can cure.
struct PgTx<'c> {
    tx: postgres::Transaction<'c>,
    statements: &'c mut Statements,
    retry: bool,
    /// The connection broke under a statement.
    broken: bool,
}

impl PgTx<'_> {
    fn note(&mut self, context: &str, e: postgres::Error) -> StoreError {
        if retryable(&e) {
            self.retry = true;
        }
        self.broken |= breaks_connection(&e);
        StoreError::new(describe(context, &e))
    }

    fn query_opt(&mut self, context: &str, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        let outcome = statement(&mut self.tx, self.statements, sql).and_then(|st| self.tx.query_opt(&st, params));
        match outcome {
            Ok(r) => Ok(r),
            Err(e) => Err(self.note(context, e)),
        }
    }

    fn query(&mut self, context: &str, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let outcome = statement(&mut self.tx, self.statements, sql).and_then(|st| self.tx.query(&st, params));
        match outcome {
            Ok(r) => Ok(r),
            Err(e) => Err(self.note(context, e)),
        }
    }

    fn execute(&mut self, context: &str, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let outcome = statement(&mut self.tx, self.statements, sql).and_then(|st| self.tx.execute(&st, params));
        match outcome {
            Ok(r) => Ok(r),
            Err(e) => Err(self.note(context, e)),
        }
    }

    fn insert(&mut self, context: &str, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<i64> {
        let row = self.query_opt(context, sql, params)?.ok_or_else(|| StoreError::new(format!("{context}: no id")))?;
        get(&row, 0)
    }
}

impl Tx for PgTx<'_> {
    fn check_lease(&mut self, name: &str, holder: &str, term: i64) -> Result<()> {
        // FOR SHARE: a takeover (an UPDATE of this row) waits until this transaction ends.
        let held = self.query_opt(
            "checking a lease",
            "SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND term = $3 AND expires_at > clock_timestamp() FOR SHARE",
            &[&name, &holder, &term],
        )?;
        match held {
            Some(_) => Ok(()),
            None => Err(StoreError::lease_lost(format!("the lease {name} (term {term}) is no longer this instance's"))),
        }
    }

    fn find_message(&mut self, dedup_key: &str) -> Result<Option<(i64, Option<String>)>> {
        self.query_opt(
            "looking for a duplicate",
            "SELECT m.id, c.number FROM messages m LEFT JOIN cases c ON c.id = m.case_id WHERE m.dedup_key = $1",
            &[&dedup_key],
        )?
        .map(|r| Ok((get(&r, 0)?, get(&r, 1)?)))
        .transpose()
    }

    fn allocate_case_number(&mut self, prefix: &str, year: i32, width: usize) -> Result<String> {
        // The counter row stays locked until this transaction ends: a concurrent allocation
        // waits, and a rolled-back one gives its number back.
        let row = self.query_opt(
            "allocating a case number",
            "INSERT INTO case_numbers (prefix, year, last_seq) VALUES ($1, $2, 1) \
             ON CONFLICT (prefix, year) DO UPDATE SET last_seq = case_numbers.last_seq + 1 RETURNING last_seq",
            &[&prefix, &year],
        )?;
        let seq: i64 = get(&row.ok_or_else(|| StoreError::new("allocating a case number: no answer"))?, 0)?;
        Ok(format!("{prefix}-{year}-{seq:0width$}"))
    }

    fn insert_case(&mut self, c: &CaseRecord) -> Result<i64> {
        let sql = format!(
            "INSERT INTO cases ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23) RETURNING id",
            &CASE_COLUMNS[4..]
        );
        let (errors, missing, reasons) = (json(&c.error_messages), json(&c.missing), json(&c.reasons));
        let change = c.change_request.as_ref().map(json);
        self.insert(
            "recording a case",
            &sql,
            &[
                &c.number,
                &c.state.as_str(),
                &c.customer_id,
                &c.reporter,
                &c.language.as_str(),
                &c.reply_language.as_str(),
                &c.priority,
                &c.subject,
                &c.repro_steps,
                &errors,
                &c.description,
                &c.expected_result,
                &c.circumstances,
                &missing,
                &c.clock,
                &c.clock_start,
                &c.release_at,
                &c.response_due,
                &reasons,
                &c.created_at,
                &c.updated_at,
                &change,
                &c.awaiting_confirmation,
            ],
        )
    }

    fn update_case(&mut self, c: &CaseRecord) -> Result<()> {
        let (errors, missing, reasons) = (json(&c.error_messages), json(&c.missing), json(&c.reasons));
        let change = c.change_request.as_ref().map(json);
        self.execute(
            "updating a case",
            "UPDATE cases SET state = $2, customer_id = $3, priority = $4, repro_steps = $5, error_messages = $6, \
             description = $7, expected_result = $8, circumstances = $9, missing = $10, clock = $11, clock_start = $12, \
             release_at = $13, response_due = $14, reasons = $15, updated_at = $16, change_request = $17, awaiting_confirmation = $18 WHERE id = $1",
            &[
                &c.id,
                &c.state.as_str(),
                &c.customer_id,
                &c.priority,
                &c.repro_steps,
                &errors,
                &c.description,
                &c.expected_result,
                &c.circumstances,
                &missing,
                &c.clock,
                &c.clock_start,
                &c.release_at,
                &c.response_due,
                &reasons,
                &c.updated_at,
                &change,
                &c.awaiting_confirmation,
            ],
        )?;
        Ok(())
    }

    fn load_case(&mut self, number: &str) -> Result<Option<CaseRecord>> {
        let sql = format!("SELECT {CASE_COLUMNS} FROM cases WHERE number = $1");
        self.query_opt("reading a case", &sql, &[&number])?.map(|r| case_from_row(&r)).transpose()
    }

    fn case_of_our_message(&mut self, ids: &[String]) -> Result<Option<String>> {
        for id in ids {
            let found = self.query_opt(
                "finding the case of a reply",
                "SELECT c.number FROM outbox o JOIN cases c ON c.id = o.case_id WHERE o.our_message_id = $1",
                &[&id.trim()],
            )?;
            if let Some(row) = found {
                return Ok(Some(get(&row, 0)?));
            }
        }
        Ok(None)
    }

    fn insert_message(&mut self, m: &NewMessage<'_>) -> Result<i64> {
        let size = m.raw.len() as i64;
        self.insert(
            "recording a message",
            "INSERT INTO messages (case_id, channel, sender, message_id, dedup_key, received_at, recorded_at, action, \
             subject, sha256, size, raw, error) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
            &[
                &m.case_id,
                &m.channel,
                &m.sender,
                &m.message_id,
                &m.dedup_key,
                &m.received_at,
                &m.recorded_at,
                &m.action,
                &m.subject,
                &m.sha256,
                &size,
                &m.raw,
                &m.error,
            ],
        )
    }

    fn enqueue(&mut self, o: &NewOutbox) -> Result<()> {
        self.execute(
            "enqueueing a message",
            "INSERT INTO outbox (case_id, message_id, kind, recipient, language, our_message_id, not_before, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                &o.case_id,
                &o.message_id,
                &o.kind.as_str(),
                &o.recipient,
                &o.language.as_str(),
                &o.our_message_id,
                &o.not_before,
                &o.created_at,
            ],
        )?;
        Ok(())
    }

    fn acks_since(&mut self, recipient: &str, since: DateTime<Utc>) -> Result<u32> {
        let row = self.query_opt(
            "counting acknowledgments",
            "SELECT count(*) FROM outbox WHERE recipient = $1 AND created_at >= $2 \
             AND kind IN ('ack', 'followup_ack', 'reject_unauthorized', 'reject_suspended')",
            &[&recipient, &since],
        )?;
        let n: i64 = row.map(|r| get(&r, 0)).transpose()?.unwrap_or(0);
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    fn add_event(&mut self, case_id: i64, at: DateTime<Utc>, actor: &str, kind: &str, detail: &str) -> Result<()> {
        self.execute(
            "recording an event",
            "INSERT INTO case_events (case_id, at, actor, kind, detail) VALUES ($1, $2, $3, $4, $5)",
            &[&case_id, &at, &actor, &kind, &detail],
        )?;
        Ok(())
    }

    fn set_checkpoint(&mut self, c: &Checkpoint, at: DateTime<Utc>) -> Result<()> {
        let (validity, uid) = (i64::from(c.uidvalidity), i64::from(c.uid));
        self.execute(
            "recording a checkpoint",
            "INSERT INTO checkpoints (mailbox, uidvalidity, last_uid, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, \
             last_uid = CASE WHEN checkpoints.uidvalidity = excluded.uidvalidity THEN greatest(checkpoints.last_uid, excluded.last_uid) ELSE excluded.last_uid END, \
             updated_at = excluded.updated_at",
            &[&c.mailbox, &validity, &uid, &at],
        )?;
        Ok(())
    }

    fn held_until(&mut self, now: DateTime<Utc>) -> Result<Vec<CaseRecord>> {
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE state = 'held' AND release_at <= $1 ORDER BY release_at, id"
        );
        self.query("finding held cases", &sql, &[&now])?.iter().map(case_from_row).collect()
    }

    fn raw_of_case(&mut self, case_id: i64) -> Result<Option<super::FirstMessage>> {
        self.query_opt(
            "reading a raw message",
            "SELECT raw, channel, received_at FROM messages WHERE case_id = $1 ORDER BY id LIMIT 1",
            &[&case_id],
        )?
        .map(|r| {
            let channel: String = get(&r, 1)?;
            let channel =
                if channel == "form" { crate::understand::Channel::Form } else { crate::understand::Channel::Mail };
            Ok((get(&r, 0)?, channel, get(&r, 2)?))
        })
        .transpose()
    }

    fn first_message_of(&mut self, case_id: i64) -> Result<Option<i64>> {
        let row = self.query_opt(
            "finding a case's first message",
            "SELECT min(id) FROM messages WHERE case_id = $1",
            &[&case_id],
        )?;
        Ok(row.map(|r| get::<Option<i64>>(&r, 0)).transpose()?.flatten())
    }
}
