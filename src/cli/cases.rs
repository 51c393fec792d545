//! `uketsuke ingest` and `uketsuke cases ...`: feeding reports into the store by hand (or from
//! a mail server's pipe) and the operator's view of the cases.

use super::load;
use crate::config::{Config, Overrides};
use crate::decide::Calendars;
use crate::record::{self, AnyStore, CaseDetail, CaseFilter, CaseRecord, CaseState, Store, StoreLocation};
use crate::understand::Channel;
use chrono::{DateTime, Utc};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

pub struct StoreArgs {
    pub config: Option<PathBuf>,
    pub db: Option<PathBuf>,
    pub overrides: Overrides,
}

/// Where a command finds the main configuration when `--config` is not given, after
/// `$UKETSUKE_CONFIG`: the first of these that exists.
pub const CONFIG_SEARCH: [&str; 2] = ["config/uketsuke.toml", "/etc/uketsuke/uketsuke.toml"];

/// The main configuration a command on the daemon's store uses: `--config`, else
/// `$UKETSUKE_CONFIG`, else the first of [`CONFIG_SEARCH`] that exists. None when nothing was
/// found; an error when `$UKETSUKE_CONFIG` names a file that is not there.
pub fn find_config(explicit: Option<&Path>) -> Result<Option<PathBuf>, String> {
    if let Some(path) = explicit {
        return Ok(Some(path.to_path_buf()));
    }
    if let Some(path) = std::env::var_os("UKETSUKE_CONFIG").filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        if !path.exists() {
            return Err(format!(
                "UKETSUKE_CONFIG names {}, which does not exist; set it to the daemon's uketsuke.toml or pass --config FILE",
                path.display()
            ));
        }
        return Ok(Some(path));
    }
    Ok(CONFIG_SEARCH.iter().map(PathBuf::from).find(|p| p.exists()))
}

/// Whether a command may create the store when there is none yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Commands that put something in (ingest, auth login): a new store is made.
    CreateIfMissing,
    /// Commands that read or change what the daemon recorded: no store is an error, never an
    /// empty new one that reports "no problems".
    Existing,
    /// `auth status`: before the first sign-in there is nothing stored, which is its answer
    /// (each account "has no refresh token yet"); read as empty, no file made.
    EmptyIfMissing,
}

/// The configuration a store command works with (see [`find_config`]): with `--db` and no
/// configuration found, the built-in one; with neither, an error that says where it looked.
/// Also returns the file found, which the daemon reads again on reload.
pub fn load_for_store(args: &StoreArgs) -> Result<(Config, Option<PathBuf>), ExitCode> {
    match find_config(args.config.as_deref()) {
        Ok(Some(path)) => load(Some(&path), &args.overrides).map(|c| (c, Some(path))),
        Ok(None) if args.db.is_some() => load(None, &args.overrides).map(|c| (c, None)),
        Ok(None) => {
            eprintln!(
                "uketsuke: no configuration found (looked at $UKETSUKE_CONFIG, ./{}, {}); pass --config FILE, or --db PATH for a store alone",
                CONFIG_SEARCH[0], CONFIG_SEARCH[1]
            );
            Err(ExitCode::from(2))
        }
        Err(e) => {
            eprintln!("uketsuke: {e}");
            Err(ExitCode::from(2))
        }
    }
}

impl StoreArgs {
    /// The store named by `--db` (a SQLite file or a PostgreSQL URL), else by `[store]`.
    pub fn location(&self, config: &Config) -> Result<StoreLocation, ExitCode> {
        match &self.db {
            Some(db) => StoreLocation::from_argument(&db.to_string_lossy()).map_err(|e| {
                eprintln!("uketsuke: --db: {e}");
                ExitCode::from(2)
            }),
            None => Ok(config.store.location.clone()),
        }
    }
}

fn open(args: &StoreArgs) -> Result<(Config, AnyStore), ExitCode> {
    open_with(args, Access::Existing)
}

fn open_with(args: &StoreArgs, access: Access) -> Result<(Config, AnyStore), ExitCode> {
    let (config, _) = load_for_store(args)?;
    let location = match args.location(&config)? {
        StoreLocation::Sqlite(path) => StoreLocation::Sqlite(sqlite_path(path, access)?),
        shared => shared,
    };
    match location.open() {
        Ok(store) => Ok((config, store)),
        Err(e) => {
            eprintln!("uketsuke: {e}");
            Err(ExitCode::from(1))
        }
    }
}

/// The SQLite file to open for `access`: says where a new one is created, and refuses to
/// create one for a command that only reads.
fn sqlite_path(mut path: PathBuf, access: Access) -> Result<PathBuf, ExitCode> {
    if access == Access::CreateIfMissing && !path.exists() {
        // A relative [store] path is taken from the current folder: say where the new store
        // goes, so a command run from the wrong folder is noticed.
        eprintln!("uketsuke: no store at {} yet; creating it", path.display());
    }
    if access == Access::EmptyIfMissing && !path.exists() {
        path = PathBuf::from(":memory:");
    }
    if access == Access::Existing && !path.exists() {
        eprintln!(
            "uketsuke: there is no store at {}: uketsuke has not run with this configuration yet, or [store] path (or --db) names another file",
            path.display()
        );
        return Err(ExitCode::from(1));
    }
    Ok(path)
}

/// The configuration and the store's status.
fn open_status(args: &StoreArgs) -> Result<(Config, crate::record::StoreStatus), ExitCode> {
    let (config, mut store) = open(args)?;
    let status = store.status().map_err(fail)?;
    Ok((config, status))
}

fn fail(e: record::StoreError) -> ExitCode {
    eprintln!("uketsuke: {e}");
    ExitCode::from(1)
}

fn parse_at(at: Option<&str>) -> Result<Option<DateTime<Utc>>, ExitCode> {
    at.map(|s| DateTime::parse_from_rfc3339(s).map(|t| t.with_timezone(&Utc))).transpose().map_err(|e| {
        eprintln!("uketsuke: not an RFC 3339 time ({e}); write it like 2026-11-25T11:00:00+09:00");
        ExitCode::from(2)
    })
}

/// Puts messages through the whole pipeline: understand, decide, record (with what must be
/// sent enqueued). Items are committed `batch` at a time; each item's line is printed after
/// its batch is on disk.
pub fn ingest(args: &StoreArgs, files: &[PathBuf], form: bool, at: Option<&str>, batch: usize, json: bool) -> ExitCode {
    let at = match parse_at(at) {
        Ok(at) => at,
        Err(code) => return code,
    };
    let (config, mut store) = match open_with(args, Access::CreateIfMissing) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let calendars = Calendars::new(&config.policy);
    let channel = if form { Channel::Form } else { Channel::Mail };
    let mut failed = false;
    for chunk in files.chunks(batch.max(1)) {
        let mut prepared = Vec::with_capacity(chunk.len());
        let mut names = Vec::with_capacity(chunk.len());
        for file in chunk {
            let bytes = if file == Path::new("-") {
                let mut buf = Vec::new();
                std::io::stdin().read_to_end(&mut buf).map(|_| buf)
            } else {
                std::fs::read(file)
            };
            match bytes {
                Ok(bytes) => {
                    // The edge: the recording time, and the receipt time when the message
                    // carries none, are read from the clock here.
                    prepared.push(record::prepare(bytes, channel, at, Utc::now(), &config, &calendars));
                    names.push(file.display().to_string());
                }
                Err(e) => {
                    eprintln!("uketsuke: cannot read {}: {e}", file.display());
                    failed = true;
                }
            }
        }
        let now = Utc::now();
        let outcomes = store.write(|tx| {
            prepared.iter().map(|p| record::record(tx, p, &config, &calendars, now)).collect::<record::Result<Vec<_>>>()
        });
        match outcomes {
            Ok(outcomes) => {
                for (name, o) in names.iter().zip(outcomes) {
                    if json {
                        let mut v = serde_json::to_value(&o).unwrap_or_default();
                        v["file"] = serde_json::Value::String(name.clone());
                        println!("{v}");
                    } else {
                        let case = o.case.as_deref().unwrap_or("no case");
                        let sent: Vec<&str> = o.enqueued.iter().map(|k| k.as_str()).collect();
                        if o.duplicate {
                            println!("{name}: already recorded (message {}, {case}); nothing changed", o.message);
                        } else {
                            println!(
                                "{name}: {case} {} (message {}; enqueued: {})",
                                o.action,
                                o.message,
                                if sent.is_empty() { "nothing".into() } else { sent.join(", ") }
                            );
                        }
                    }
                }
            }
            Err(e) => {
                eprintln!("uketsuke: nothing of this batch was recorded: {e}");
                return ExitCode::from(1);
            }
        }
    }
    if failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

pub fn list(
    args: &StoreArgs,
    state: Option<&str>,
    customer: Option<String>,
    due_before: Option<&str>,
    json: bool,
) -> ExitCode {
    let state = match state.map(|s| CaseState::parse(s).ok_or(s)).transpose() {
        Ok(s) => s,
        Err(s) => {
            let known: Vec<&str> = CaseState::ALL.iter().map(|c| c.as_str()).collect();
            eprintln!("uketsuke: unknown state `{s}`; use one of: {}", known.join(", "));
            return ExitCode::from(2);
        }
    };
    let due_before = match parse_at(due_before) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let (config, mut store) = match open(args) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let cases = match store.cases(&CaseFilter { state, customer_id: customer, due_before }) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    if json {
        let shown: Vec<serde_json::Value> = cases.iter().map(|c| case_json(c, &config)).collect();
        println!("{}", serde_json::to_string_pretty(&shown).unwrap_or_default());
        return ExitCode::SUCCESS;
    }
    if cases.is_empty() {
        println!("no cases");
        return ExitCode::SUCCESS;
    }
    println!("{:<18} {:<12} {:<8} {:<14} {:<17} SUBJECT", "CASE", "STATE", "PRIORITY", "CUSTOMER", "DUE");
    for c in &cases {
        let due = c.response_due.map(|t| local(t, &config)).unwrap_or_else(|| "-".into());
        let subject: String = c.subject.chars().take(40).collect();
        println!(
            "{:<18} {:<12} {:<8} {:<14} {:<17} {subject}",
            c.number,
            c.state.as_str(),
            c.priority,
            c.customer_id.as_deref().unwrap_or("-"),
            due
        );
    }
    ExitCode::SUCCESS
}

fn local(t: DateTime<Utc>, config: &Config) -> String {
    t.with_timezone(&config.policy.time_zone).format("%Y-%m-%d %H:%M").to_string()
}

fn case_json(c: &CaseRecord, config: &Config) -> serde_json::Value {
    let mut v = serde_json::to_value(c).unwrap_or_default();
    for key in ["clock_start", "release_at", "response_due", "created_at", "updated_at"] {
        if let Some(t) = v.get(key).and_then(|t| t.as_str()).and_then(record::parse_time) {
            v[key] = serde_json::Value::String(t.with_timezone(&config.policy.time_zone).to_rfc3339());
        }
    }
    v
}

pub fn show(args: &StoreArgs, number: &str, json: bool) -> ExitCode {
    let (config, mut store) = match open(args) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let detail = match store.case_detail(number) {
        Ok(Some(d)) => d,
        Ok(None) => {
            eprintln!("uketsuke: no case {number}; `uketsuke cases list` shows the cases on record");
            return ExitCode::from(1);
        }
        Err(e) => return fail(e),
    };
    if json {
        let mut v = serde_json::to_value(&detail).unwrap_or_default();
        v["case"] = case_json(&detail.case, &config);
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print_detail(&detail, &config);
    }
    ExitCode::SUCCESS
}

fn print_detail(d: &CaseDetail, config: &Config) {
    let c = &d.case;
    let t = |t: Option<DateTime<Utc>>| t.map(|t| local(t, config)).unwrap_or_else(|| "-".into());
    println!(
        "{}  {}  priority {}  customer {}",
        c.number,
        c.state.as_str(),
        c.priority,
        c.customer_id.as_deref().unwrap_or("-")
    );
    println!("subject:      {}", c.subject);
    println!(
        "reporter:     {} (writes {}, answered in {})",
        c.reporter.as_deref().unwrap_or("-"),
        c.language.as_str(),
        c.reply_language.as_str()
    );
    println!(
        "clock:        {} from {}; release {}; due {}",
        c.clock,
        t(c.clock_start),
        t(c.release_at),
        t(c.response_due)
    );
    if !c.missing.is_empty() {
        println!("missing:      {}", c.missing.join(", "));
    }
    let field = |name: &str, v: &Option<String>| {
        if let Some(v) = v {
            println!("{name}:\n  {}", v.replace('\n', "\n  "));
        }
    };
    field("description", &c.description);
    field("expected result", &c.expected_result);
    field("steps", &c.repro_steps);
    for e in &c.error_messages {
        println!("error:\n  {}", e.replace('\n', "\n  "));
    }
    field("circumstances", &c.circumstances);
    println!("reasons:");
    for r in &c.reasons {
        println!("  - {r}");
    }
    println!("messages:");
    for m in &d.messages {
        println!(
            "  #{} {} {} from {} ({} bytes, sha256 {}) {}",
            m.id,
            local(m.received_at, config),
            m.action,
            m.sender.as_deref().unwrap_or("-"),
            m.size,
            &m.sha256[..12.min(m.sha256.len())],
            m.error.as_deref().unwrap_or("")
        );
    }
    println!("outbox:");
    for o in &d.outbox {
        let error = o.last_error.as_deref().map(|e| format!(" last error: {e}")).unwrap_or_default();
        println!("  #{} {} to {} {} (attempts {}){error}", o.id, o.kind, o.recipient, o.state, o.attempts);
    }
    println!("history:");
    for e in &d.events {
        println!("  {} {} {}: {}", local(e.at, config), e.actor, e.kind, e.detail);
    }
}

fn actor(by: Option<String>) -> String {
    by.or_else(|| std::env::var("USER").ok()).filter(|s| !s.is_empty()).unwrap_or_else(|| "operator".into())
}

pub fn reclassify(
    args: &StoreArgs,
    number: &str,
    priority: &str,
    reason: &str,
    by: Option<String>,
    json: bool,
) -> ExitCode {
    if reason.trim().is_empty() {
        eprintln!("uketsuke: --reason must say why the priority changes; it is kept with the case");
        return ExitCode::from(2);
    }
    let (config, mut store) = match open(args) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let calendars = Calendars::new(&config.policy);
    let who = actor(by);
    match store.write(|tx| record::reclassify(tx, &config, &calendars, number, priority, reason, &who, Utc::now())) {
        Ok(case) => {
            if json {
                println!("{}", case_json(&case, &config));
            } else {
                let due = case.response_due.map(|t| local(t, &config)).unwrap_or_else(|| "-".into());
                println!("{}: priority {}, due {due}", case.number, case.priority);
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

pub fn release(args: &StoreArgs, number: &str, by: Option<String>) -> ExitCode {
    let (config, mut store) = match open(args) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let who = actor(by);
    match store.write(|tx| record::release(tx, &config, number, Utc::now(), &who)) {
        Ok(n) => {
            println!("{n}: handed over to the team");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// One scheduler tick at `--at` (default: now): releases every held case that is due.
pub fn release_due(args: &StoreArgs, at: Option<&str>) -> ExitCode {
    let at = match parse_at(at) {
        Ok(at) => at.unwrap_or_else(Utc::now),
        Err(code) => return code,
    };
    let (config, mut store) = match open(args) {
        Ok(v) => v,
        Err(code) => return code,
    };
    match crate::act::scheduler::tick(&mut store, &config, at) {
        Ok(released) => {
            if released.is_empty() {
                println!("no held case is due");
            }
            for n in released {
                println!("{n}: released to the team");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(e),
    }
}

/// `uketsuke status`: exit status 1 when something needs an operator.
pub fn status(args: &StoreArgs, json: bool) -> ExitCode {
    let (config, status) = match open_status(args) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let now = Utc::now();
    // A channel that never connected counts from its first record; with none, from now.
    let started = status.channels.iter().map(|c| c.since).min().unwrap_or(now);
    let problems = crate::daemon::problems(&config, &status, now, started);
    let oauth = crate::oauth::health::accounts(&config, &status, now);
    if json {
        let mut v = serde_json::to_value(&status).unwrap_or_default();
        v["oauth"] = serde_json::to_value(&oauth).unwrap_or_default();
        v["problems"] = serde_json::to_value(&problems).unwrap_or_default();
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        let t = |t: Option<DateTime<Utc>>| t.map(|t| local(t, &config)).unwrap_or_else(|| "-".into());
        println!(
            "cases {} (held {}, next release {}; quarantined {}), messages {}",
            status.cases,
            status.held,
            t(status.next_release),
            status.quarantined,
            status.messages
        );
        println!(
            "outbox: {} waiting (oldest since {}), {} parked",
            status.outbox_pending,
            t(status.oldest_pending),
            status.outbox_parked
        );
        match &status.config_loaded {
            Some(l) => println!("configuration: loaded {} from {}", local(l.at, &config), l.path),
            None => println!("configuration: not yet loaded by a running daemon"),
        }
        if let Some(r) = &status.config_refused {
            println!(
                "configuration: the reload of {} was refused ({} problems); the configuration loaded before stays in force:",
                local(r.at, &config),
                r.problems.len()
            );
            for p in &r.problems {
                println!("  {p}");
            }
        }
        for c in &status.channels {
            println!(
                "{}: {} since {}, last success {}{}",
                c.name,
                c.state,
                local(c.since, &config),
                t(c.last_success),
                c.last_error.as_deref().map(|e| format!(", last error: {e}")).unwrap_or_default()
            );
        }
        for a in &oauth {
            println!("{}", account_line(a, &config));
        }
        for i in &status.instances {
            println!(
                "instance {} on {} (pid {}, uketsuke {}): started {}, last heard {}",
                i.id,
                i.host,
                i.pid,
                i.version,
                local(i.started_at, &config),
                local(i.seen_at, &config)
            );
        }
        for l in &status.leases {
            if l.expires_at > now {
                println!(
                    "lease {}: held by {} since {} (term {}), until {}",
                    l.name,
                    l.holder,
                    local(l.since, &config),
                    l.term,
                    local(l.expires_at, &config)
                );
            } else {
                println!("lease {}: free (last held by {}, term {})", l.name, l.holder, l.term);
            }
        }
        if problems.is_empty() {
            println!("no problems");
        }
        for p in &problems {
            println!("PROBLEM: {p}");
        }
    }
    if problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

/// `uketsuke cases reprocess CASE`: a quarantined message through understanding again.
pub fn reprocess(args: &StoreArgs, number: &str, by: Option<String>) -> ExitCode {
    let (config, mut store) = match open(args) {
        Ok(v) => v,
        Err(code) => return code,
    };
    let calendars = Calendars::new(&config.policy);
    let who = actor(by);
    match store.write(|tx| record::reprocess(tx, &config, &calendars, number, Utc::now(), &who)) {
        Ok(Some(o)) => {
            println!("{number}: understood now; recorded as {} {}", o.case.as_deref().unwrap_or("(no case)"), o.action);
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!(
                "uketsuke: {number} still cannot be understood; it stays quarantined (see `uketsuke cases show {number}`)"
            );
            ExitCode::from(1)
        }
        Err(e) => fail(e),
    }
}

/// One line about an OAuth2 account, for `status` and `auth status`.
fn account_line(a: &crate::oauth::health::AccountHealth, config: &Config) -> String {
    let t = |t: Option<DateTime<Utc>>| t.map(|t| local(t, config)).unwrap_or_else(|| "-".into());
    let mut line = format!(
        "oauth {} ({}, {}): token expires {}, last refresh {}",
        a.account,
        a.provider,
        if a.user.is_empty() { "-" } else { &a.user },
        t(a.access_expires),
        t(a.refreshed_at)
    );
    if a.uses_refresh_token {
        line.push_str(if a.refresh_token_stored { ", refresh token stored" } else { ", NO refresh token stored" });
    }
    if let Some(what) = &a.credential {
        match (a.credential_expires, a.credential_days_left) {
            (Some(at), Some(days)) => {
                line.push_str(&format!(", {what} expires {} ({days} days)", at.format("%Y-%m-%d")))
            }
            _ => line.push_str(&format!(", {what} expiry unknown")),
        }
    }
    if let Some(reason) = &a.needs_reauthorization {
        line.push_str(&format!(", NEEDS RE-AUTHORIZATION: {reason}"));
    }
    line
}

/// `uketsuke auth login NAME`.
pub fn auth_login(args: &StoreArgs, name: &str) -> ExitCode {
    let (config, store) = match open_with(args, Access::CreateIfMissing) {
        Ok(v) => v,
        Err(code) => return code,
    };
    drop(store);
    let Some(account) = config.oauth.iter().find(|a| a.name == name) else {
        let known: Vec<&str> = config.oauth.iter().map(|a| a.name.as_str()).collect();
        eprintln!(
            "uketsuke: no [oauth.{name}] account in {}; known: {}",
            config.path.display(),
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        );
        return ExitCode::from(2);
    };
    let vault = match &config.store.token_key {
        Some(path) => match crate::oauth::vault::Vault::from_file(path) {
            Ok(v) => Some(v),
            Err(e) => {
                eprintln!("uketsuke: {e}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let path = match args.location(&config) {
        Ok(l) => l,
        Err(code) => return code,
    };
    // Multi-threaded: the store is called off the async workers (`block_in_place`).
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("uketsuke: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let mut out = std::io::stdout();
    match runtime.block_on(crate::oauth::login::login(account, &path, vault.as_ref(), &mut out)) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("uketsuke: {name}: {e}");
            ExitCode::from(1)
        }
    }
}

/// `uketsuke auth status`.
pub fn auth_status(args: &StoreArgs, json: bool) -> ExitCode {
    let (config, status) = match open_with(args, Access::EmptyIfMissing) {
        Ok((config, mut store)) => match store.status() {
            Ok(status) => (config, status),
            Err(e) => return fail(e),
        },
        Err(code) => return code,
    };
    let accounts = crate::oauth::health::accounts(&config, &status, Utc::now());
    let problems: Vec<String> = accounts.iter().flat_map(|a| a.problems()).collect();
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({"accounts": accounts, "problems": problems}))
                .unwrap_or_default()
        );
    } else {
        if accounts.is_empty() {
            println!("no [oauth.*] accounts are configured");
        }
        for a in &accounts {
            println!("{}", account_line(a, &config));
        }
        for p in &problems {
            println!("PROBLEM: {p}");
        }
    }
    if problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}
