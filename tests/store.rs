//! The durable record against real SQLite files: the pipeline from bytes to case and outbox,
//! duplicates, follow-ups completing a report, the scheduler on an injected clock, operator
//! commands, and the process killed (SIGKILL) at many points of a batch.

mod common;

use chrono::{DateTime, Duration, Utc};
use common::mail::report as mail;
use common::{ChildGuard, TestDir, at};
use rusqlite::Connection;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use uketsuke::act::scheduler::{self, Clock, ManualClock};
use uketsuke::config::{Config, Overrides};
use uketsuke::decide::Calendars;
use uketsuke::record::{self, CaseFilter, CaseState, OutboxKind, SqliteStore, Store};
use uketsuke::understand::Channel;

fn config(profile: &str) -> &'static Config {
    static THREE: OnceLock<Config> = OnceLock::new();
    static FOUR: OnceLock<Config> = OnceLock::new();
    let cell = if profile == "four-severity" { &FOUR } else { &THREE };
    cell.get_or_init(|| {
        Config::load(None, &Overrides { profile: Some(profile.into()), customers: None }).expect("shipped config")
    })
}

/// A fresh folder for one test's database, removed when the test ends.
fn temp_dir(name: &str) -> TestDir {
    TestDir::new(&format!("store-{name}"))
}

/// Records raw mails through the same path `ingest` uses, in one transaction.
fn ingest(
    store: &mut SqliteStore,
    profile: &str,
    mails: Vec<(Vec<u8>, &str)>,
    now: DateTime<Utc>,
) -> Vec<record::Outcome> {
    let config = config(profile);
    let calendars = Calendars::new(&config.policy);
    let prepared: Vec<_> = mails
        .into_iter()
        .map(|(raw, when)| record::prepare(raw, Channel::Mail, Some(at(when)), now, config, &calendars))
        .collect();
    store
        .write(|tx| {
            prepared.iter().map(|p| record::record(tx, p, config, &calendars, now)).collect::<record::Result<Vec<_>>>()
        })
        .expect("recorded")
}

#[test]
fn new_cases_duplicates_and_case_numbers() {
    let dir = temp_dir("basic");
    let mut store = SqliteStore::open(&dir.join("cases.db")).expect("open");
    let now = at("2026-11-25T11:00:00+09:00");
    let body = "お客様番号：ACME-0012\n【現象】ログインできません\n【再現手順】\n1. 開く\n2. 押す\n【エラーメッセージ】E-4012\n【発生状況】全員";
    let first = ingest(
        &mut store,
        "three-priority",
        vec![(mail("yamada@acme.example.jp", "a1@acme", "ログイン不可", body), "2026-11-25T11:00:00+09:00")],
        now,
    );
    assert_eq!(first[0].case.as_deref(), Some("CASE-2026-000001"));
    assert_eq!(first[0].action, "dispatch");
    assert_eq!(first[0].enqueued, vec![OutboxKind::Ack, OutboxKind::Handover]);
    // The same Message-ID from the same sender again, even re-encoded: nothing changes.
    let again = ingest(
        &mut store,
        "three-priority",
        vec![(mail("yamada@acme.example.jp", "a1@acme", "ログイン不可", body), "2026-11-25T12:00:00+09:00")],
        now,
    );
    assert!(again[0].duplicate);
    assert_eq!(again[0].case.as_deref(), Some("CASE-2026-000001"));
    assert_eq!(store.counts().expect("counts"), (1, 1, 2));
    // The same Message-ID from another sender is another message.
    let other = ingest(
        &mut store,
        "three-priority",
        vec![(
            mail("kato@sakura-logi.example.jp", "a1@acme", "質問", "使い方を教えてください"),
            "2026-11-28T03:00:00+09:00",
        )],
        now,
    );
    assert_eq!(other[0].case.as_deref(), Some("CASE-2026-000002"));
    assert_eq!(other[0].action, "hold");
    assert_eq!(other[0].enqueued, vec![OutboxKind::Ack]);
    // Machine mail is recorded (nothing is lost) but opens no case and is never answered.
    let auto = mail("yamada@acme.example.jp", "ooo@acme", "不在", "不在です").into_iter().collect::<Vec<u8>>();
    let auto = [b"Auto-Submitted: auto-replied\r\n".as_slice(), &auto].concat();
    let ignored = ingest(&mut store, "three-priority", vec![(auto, "2026-11-25T11:00:00+09:00")], now);
    assert_eq!((ignored[0].case.clone(), ignored[0].action.as_str(), ignored[0].enqueued.len()), (None, "ignore", 0));
    // Unreadable bytes are kept raw as a quarantined case.
    let garbage =
        ingest(&mut store, "three-priority", vec![(vec![0, 159, 146, 150, 0, 1], "2026-11-25T11:00:00+09:00")], now);
    assert_eq!(garbage[0].action, "quarantine");
    let quarantined =
        store.cases(&CaseFilter { state: Some(CaseState::Quarantined), ..Default::default() }).expect("list");
    assert_eq!(quarantined.len(), 1);
    let db = Connection::open(dir.join("cases.db")).expect("sqlite");
    let raw: Vec<u8> =
        db.query_row("SELECT raw FROM messages WHERE action = 'quarantine'", [], |r| r.get(0)).expect("raw kept");
    assert_eq!(raw, vec![0, 159, 146, 150, 0, 1]);
    // Raw bytes of every message are kept, with their hash.
    let (n, sized): (i64, i64) = db
        .query_row("SELECT count(*), sum(length(raw) = size AND length(sha256) = 64) FROM messages", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("q");
    assert_eq!(n, sized);
}

#[test]
fn a_follow_up_completes_a_waiting_report_and_starts_the_clock() {
    let dir = temp_dir("followup");
    let mut store = SqliteStore::open(&dir.join("cases.db")).expect("open");
    let now = at("2026-11-25T10:00:00+09:00");
    // Four-severity: the report lacks steps and error text: await_info, no clock.
    let report = ingest(
        &mut store,
        "four-severity",
        vec![(
            mail(
                "it-desk@umbrella.example.com",
                "u1@umbrella",
                "Invoices fail",
                "Customer ID: UMBRELLA-0100\nDescription: invoice export fails since today.\nSeverity: 2",
            ),
            "2026-11-25T10:00:00+09:00",
        )],
        now,
    );
    let number = report[0].case.clone().expect("case");
    assert_eq!(report[0].action, "await_info");
    let case = store.case_detail(&number).expect("read").expect("case");
    assert_eq!(case.case.state, CaseState::AwaitInfo);
    assert_eq!(case.case.clock_start, None);
    assert_eq!(case.case.missing, vec!["repro_steps", "error_messages", "circumstances"]);
    // A reply with the case tag brings the steps only: still waiting.
    let steps = ingest(
        &mut store,
        "four-severity",
        vec![(
            mail(
                "it-desk@umbrella.example.com",
                "u2@umbrella",
                &format!("RE: [{number}] Invoices fail"),
                "Steps to reproduce:\n1. Open Invoices\n2. Click Export",
            ),
            "2026-11-25T11:00:00+09:00",
        )],
        now,
    );
    assert_eq!(steps[0].action, "followup");
    assert_eq!(steps[0].enqueued, vec![OutboxKind::FollowupAck]);
    // A reply to our acknowledgment (no tag, only In-Reply-To) brings the error text: the
    // clock starts at this follow-up's receipt. Gold, English, sev2 runs on the 24x7 clock:
    // Wed 16:30 + 2 hours = 18:30.
    let ack_id: String = Connection::open(dir.join("cases.db"))
        .expect("db")
        .query_row("SELECT our_message_id FROM outbox WHERE kind = 'ack'", [], |r| r.get(0))
        .expect("ack");
    let mut reply = mail(
        "it-desk@umbrella.example.com",
        "u3@umbrella",
        "Re: Invoices fail",
        "Error message: HTTP 500 Internal Server Error",
    );
    reply = [format!("In-Reply-To: {ack_id}\r\n").into_bytes(), reply].concat();
    let done = ingest(&mut store, "four-severity", vec![(reply, "2026-11-25T16:30:00+09:00")], now);
    assert_eq!(done[0].case.as_deref(), Some(number.as_str()));
    assert_eq!(done[0].action, "followup:dispatch");
    assert_eq!(done[0].enqueued, vec![OutboxKind::Ack, OutboxKind::Handover]);
    let case = store.case_detail(&number).expect("read").expect("case").case;
    assert_eq!(case.state, CaseState::Dispatched);
    assert_eq!(case.clock_start, Some(at("2026-11-25T16:30:00+09:00")));
    assert_eq!(case.response_due, Some(at("2026-11-25T18:30:00+09:00")));
    assert_eq!(case.clock, "24x7");
    assert_eq!(case.missing, vec!["circumstances"]);
    assert_eq!(case.priority, "sev2");
}

#[test]
fn acknowledgments_are_rate_limited_per_sender_but_cases_are_recorded() {
    let dir = temp_dir("rate");
    let mut store = SqliteStore::open(&dir.join("cases.db")).expect("open");
    let now = at("2026-11-25T11:00:00+09:00");
    let mails: Vec<(Vec<u8>, &str)> = (0..7)
        .map(|i| {
            (
                mail("bot@crm.example.net", &format!("r{i}@crm"), &format!("Report {i}"), "Something broke."),
                "2026-11-25T11:00:00+09:00",
            )
        })
        .collect();
    let outcomes = ingest(&mut store, "three-priority", mails, now);
    let acked = outcomes.iter().filter(|o| o.enqueued.contains(&OutboxKind::Ack)).count();
    assert_eq!(acked, 5, "the default limit is 5 an hour");
    assert_eq!(outcomes.iter().filter(|o| o.case.is_some()).count(), 7);
    // An hour later the sender is answered again.
    let later = ingest(
        &mut store,
        "three-priority",
        vec![(mail("bot@crm.example.net", "r8@crm", "Report 8", "x"), "2026-11-25T12:30:00+09:00")],
        now + Duration::minutes(61),
    );
    assert!(later[0].enqueued.contains(&OutboxKind::Ack));
}

#[test]
fn held_cases_are_released_by_the_scheduler_on_an_injected_clock() {
    let dir = temp_dir("scheduler");
    let mut store = SqliteStore::open(&dir.join("cases.db")).expect("open");
    let friday_night = at("2026-11-27T20:00:00+09:00");
    let held = ingest(
        &mut store,
        "three-priority",
        vec![(
            mail("kato@sakura-logi.example.jp", "h1@sakura", "質問", "設定変更をお願いします"),
            "2026-11-27T20:00:00+09:00",
        )],
        friday_night,
    );
    let number = held[0].case.clone().expect("case");
    assert_eq!(held[0].action, "hold");
    let config = config("three-priority");
    // Before Monday 10:00 nothing is released.
    assert!(scheduler::tick(&mut store, config, at("2026-11-30T09:59:59+09:00")).expect("tick").is_empty());
    assert_eq!(store.next_release().expect("next"), Some(at("2026-11-30T10:00:00+09:00")));
    // Run the scheduler loop on a manual clock in a thread and move time to Monday 10:00.
    let clock = std::sync::Arc::new(ManualClock::new(at("2026-11-28T09:00:00+09:00")));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (tx, rx) = std::sync::mpsc::channel();
    let handle = {
        let (clock, stop, path) = (clock.clone(), stop.clone(), dir.join("cases.db"));
        std::thread::spawn(move || {
            let mut store = SqliteStore::open(&path).expect("open");
            scheduler::run(&mut store, config, clock.as_ref(), &stop, |n| tx.send(n.to_string()).expect("send"))
                .expect("run");
        })
    };
    assert!(rx.recv_timeout(std::time::Duration::from_millis(300)).is_err(), "released too early");
    clock.set(at("2026-11-30T10:00:00+09:00"));
    assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(10)).expect("released"), number);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    handle.join().expect("scheduler thread");
    let detail = store.case_detail(&number).expect("read").expect("case");
    assert_eq!(detail.case.state, CaseState::Dispatched);
    assert_eq!(detail.outbox.iter().filter(|o| o.kind == "handover").count(), 1);
    // A second tick, or a restart catching up, hands nothing over twice.
    assert!(scheduler::tick(&mut store, config, at("2026-12-01T10:00:00+09:00")).expect("tick").is_empty());
    assert_eq!(clock.now(), at("2026-11-30T10:00:00+09:00"));
}

#[test]
fn start_up_catches_up_on_releases_missed_while_down() {
    let dir = temp_dir("catchup");
    let mut store = SqliteStore::open(&dir.join("cases.db")).expect("open");
    let night = at("2026-11-24T23:00:00+09:00");
    let mails = (0..3)
        .map(|i| {
            (
                mail("kato@sakura-logi.example.jp", &format!("c{i}@sakura"), "質問", "教えてください"),
                "2026-11-24T23:00:00+09:00",
            )
        })
        .collect();
    ingest(&mut store, "three-priority", mails, night);
    drop(store);
    // uketsuke was down all Wednesday; it starts Thursday morning.
    let mut store = SqliteStore::open(&dir.join("cases.db")).expect("reopen");
    let released =
        scheduler::tick(&mut store, config("three-priority"), at("2026-11-26T07:00:00+09:00")).expect("tick");
    assert_eq!(released.len(), 3);
}

#[test]
fn reclassify_recomputes_from_the_same_clock_start_and_release_by_hand() {
    let dir = temp_dir("ops");
    let db = dir.join("cases.db");
    let mut store = SqliteStore::open(&db).expect("open");
    let now = at("2026-11-25T11:00:00+09:00");
    let o = ingest(
        &mut store,
        "three-priority",
        vec![(
            mail("yamada@acme.example.jp", "o1@acme", "質問", "優先度：低\n使い方を教えてください"),
            "2026-11-25T11:00:00+09:00",
        )],
        now,
    );
    let number = o[0].case.clone().expect("case");
    drop(store);
    let cli = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_uketsuke"))
            .args(args)
            .args(["--db", db.to_str().unwrap()])
            .output()
            .expect("run");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) =
        cli(&["cases", "reclassify", &number, "high", "--reason", "whole office affected", "--by", "sato", "--json"]);
    assert_eq!(code, Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["priority"], "high");
    // Same clock start (Wed 11:00): high is 2 business hours.
    assert_eq!(v["response_due"], "2026-11-25T13:00:00+09:00");
    let (_, shown, _) = cli(&["cases", "show", &number]);
    assert!(shown.contains("sato reclassified: low -> high"), "{shown}");
    assert!(shown.contains("whole office affected"));
    let (code, _, err) = cli(&["cases", "reclassify", &number, "sev1", "--reason", "x"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("not a priority of the three-priority profile"), "{err}");
    let (code, _, err) = cli(&["cases", "release", &number]);
    assert_eq!(code, Some(1));
    assert!(err.contains("not held"), "{err}");
    let (code, out, _) = cli(&[
        "cases",
        "list",
        "--state",
        "dispatched",
        "--customer",
        "acme-0012",
        "--due-before",
        "2026-11-25T14:00:00+09:00",
        "--json",
    ]);
    assert_eq!(code, Some(0));
    let list: Vec<serde_json::Value> = serde_json::from_str(&out).expect("json");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["number"], number.as_str());
}

// ---- the process killed at any instant ----

/// The corpus mails, as files for `uketsuke ingest`.
fn corpus_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/mail");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files
}

fn ingest_command(db: &Path, files: &[PathBuf]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_uketsuke"));
    cmd.args(["ingest", "--batch", "1", "--at", "2026-11-25T11:00:00+09:00", "--db"])
        .arg(db)
        .args(files)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// What must be identical however often the process was killed: every message once with its
/// case and action, every outbox entry once.
fn contents(db: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let conn = Connection::open(db).expect("open");
    let mut messages = BTreeSet::new();
    let mut stmt = conn
        .prepare(
            "SELECT m.dedup_key, m.sha256, m.action, c.number FROM messages m LEFT JOIN cases c ON c.id = m.case_id",
        )
        .expect("q");
    let rows = stmt
        .query_map([], |r| {
            Ok(format!(
                "{} {} {} {:?}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?
            ))
        })
        .expect("q");
    for row in rows {
        assert!(messages.insert(row.expect("row")), "a message recorded twice");
    }
    let mut outbox = BTreeSet::new();
    let mut stmt = conn.prepare("SELECT o.kind, o.recipient, o.our_message_id, m.dedup_key FROM outbox o JOIN messages m ON m.id = o.message_id").expect("q");
    let rows = stmt
        .query_map([], |r| {
            Ok(format!(
                "{} {} {} {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?
            ))
        })
        .expect("q");
    for row in rows {
        assert!(outbox.insert(row.expect("row")), "an outbox entry enqueued twice");
    }
    (messages, outbox)
}

#[test]
fn sigkill_at_many_points_loses_nothing_and_duplicates_nothing() {
    let files = corpus_files();
    assert!(files.len() >= 50);
    let dir = temp_dir("kill");
    // The reference: one clean run.
    let reference = dir.join("reference.db");
    let status = ingest_command(&reference, &files).status().expect("run");
    assert!(status.success());
    let expected = contents(&reference);
    assert_eq!(expected.0.len(), files.len());

    // The same batch, killed with SIGKILL again and again at different moments, then run on.
    let killed = dir.join("killed.db");
    let mut kills = 0;
    let mut seed: u64 = 0x5eed_1234;
    for round in 0..200 {
        let mut child = ChildGuard::new(ingest_command(&killed, &files).spawn().expect("spawn"));
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let delay = 2 + (seed >> 33) % (20 + round * 10);
        std::thread::sleep(std::time::Duration::from_millis(delay));
        match child.try_wait().expect("wait") {
            Some(status) => {
                assert!(status.success(), "ingest failed after {kills} kills");
                if kills >= 8 {
                    break;
                }
            }
            None => {
                child.kill().expect("SIGKILL");
                child.wait().expect("reap");
                kills += 1;
            }
        }
    }
    // Finish whatever is left.
    assert!(ingest_command(&killed, &files).status().expect("run").success());
    assert!(kills >= 8, "only {kills} runs were interrupted");
    let got = contents(&killed);
    assert_eq!(got.0, expected.0, "messages differ from the uninterrupted run");
    assert_eq!(got.1, expected.1, "outbox differs from the uninterrupted run");
}

#[test]
fn two_processes_ingesting_the_same_mail_record_it_once() {
    let files = corpus_files();
    let dir = temp_dir("concurrent");
    let reference = dir.join("reference.db");
    assert!(ingest_command(&reference, &files).status().expect("run").success());
    let shared = dir.join("shared.db");
    // Create the schema first so both start on an existing file.
    SqliteStore::open(&shared).expect("open");
    let a = ChildGuard::new(ingest_command(&shared, &files).spawn().expect("spawn a"));
    let mut reversed = files.clone();
    reversed.reverse();
    let b = ChildGuard::new(ingest_command(&shared, &reversed).spawn().expect("spawn b"));
    for child in [a, b] {
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let (messages, outbox) = contents(&shared);
    let (ref_messages, ref_outbox) = contents(&reference);
    assert_eq!(messages.len(), ref_messages.len());
    assert_eq!(outbox.len(), ref_outbox.len());
    // Case numbers depend on who came first; every case number is used once.
    let conn = Connection::open(&shared).expect("open");
    let (cases, distinct): (i64, i64) = conn
        .query_row("SELECT count(*), count(DISTINCT number) FROM cases", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("q");
    assert_eq!(cases, distinct);
}

#[test]
fn quarantined_messages_can_be_reprocessed_after_a_fix() {
    let dir = temp_dir("reprocess");
    let mut store = SqliteStore::open(&dir.join("cases.db")).expect("open");
    let config = config("three-priority");
    let calendars = Calendars::new(&config.policy);
    let now = at("2026-11-25T11:00:00+09:00");
    // A readable message that an earlier version failed on: recorded raw as quarantined.
    let mut item = record::prepare(
        mail("yamada@acme.example.jp", "q1@acme", "質問", "使い方を教えてください"),
        Channel::Mail,
        Some(now),
        now,
        config,
        &calendars,
    );
    item.understood = Err("an earlier parser failed".into());
    let quarantined = store.write(|tx| record::record(tx, &item, config, &calendars, now)).expect("record");
    let number = quarantined.case.clone().expect("case");
    assert_eq!(quarantined.action, "quarantine");
    // Garbage stays quarantined.
    let garbage = ingest(&mut store, "three-priority", vec![(b"\x00\x01".to_vec(), "2026-11-25T11:00:00+09:00")], now);
    let still = store
        .write(|tx| record::reprocess(tx, config, &calendars, garbage[0].case.as_deref().unwrap(), now, "sato"))
        .expect("reprocess");
    assert!(still.is_none());
    // The readable one is understood now: a new case, and the quarantine is marked.
    let again = store
        .write(|tx| record::reprocess(tx, config, &calendars, &number, now, "sato"))
        .expect("reprocess")
        .expect("understood");
    assert_eq!(again.action, "dispatch");
    assert!(again.enqueued.contains(&OutboxKind::Ack));
    let old = store.case_detail(&number).expect("read").expect("case");
    assert_eq!(old.case.state, CaseState::Reprocessed);
    assert!(old.events.iter().any(|e| e.kind == "reprocessed" && e.actor == "sato"));
    // Running it twice does nothing more.
    assert!(store.write(|tx| record::reprocess(tx, config, &calendars, &number, now, "sato")).is_err());
}
