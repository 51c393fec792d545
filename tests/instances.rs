//! Several instances on one store: the PostgreSQL backend against a real server (the same
//! pipeline as SQLite, concurrent recording, gap-free case numbers), and on both backends
//! the leases with their fencing terms, the shared outbox's claims, and what `status` shows.

mod common;

use chrono::Utc;
use common::mail::report;
use common::pg::PgDatabase;
use common::{TestDir, at};
use std::collections::BTreeSet;
use std::sync::OnceLock;
use std::time::Duration;
use uketsuke::config::{Config, Overrides};
use uketsuke::decide::Calendars;
use uketsuke::record::{self, AnyStore, CaseFilter, CaseState, Instance, OutboxKind, Store, StoreLocation};
use uketsuke::understand::Channel;

fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        Config::load(None, &Overrides { profile: Some("three-priority".into()), customers: None })
            .expect("shipped config")
    })
}

fn ingest(store: &mut impl Store, raw: Vec<u8>, when: &str) -> record::Outcome {
    let config = config();
    let calendars = Calendars::new(&config.policy);
    let now = at(when);
    let prepared = record::prepare(raw, Channel::Mail, Some(now), now, config, &calendars);
    store.write(|tx| record::record(tx, &prepared, config, &calendars, now)).expect("recorded")
}

/// A store of each backend, fresh; the guard keeps its folder or database alive.
enum Guard {
    Dir(#[allow(dead_code)] TestDir),
    Db(#[allow(dead_code)] PgDatabase),
}

fn sqlite(name: &str) -> (StoreLocation, Guard) {
    let dir = TestDir::new(&format!("instances-{name}"));
    (StoreLocation::Sqlite(dir.join("cases.db")), Guard::Dir(dir))
}

fn postgres(name: &str) -> (StoreLocation, Guard) {
    let db = PgDatabase::new(name);
    (StoreLocation::from_argument(&db.url).expect("a PostgreSQL URL"), Guard::Db(db))
}

fn both(name: &str) -> Vec<(StoreLocation, Guard)> {
    vec![sqlite(name), postgres(name)]
}

fn open(location: &StoreLocation) -> AnyStore {
    location.open().unwrap_or_else(|e| panic!("cannot open {location}: {e}"))
}

fn instance(name: &str) -> Instance {
    Instance {
        id: format!("test-host:{name}"),
        host: "test-host".into(),
        pid: 1,
        started_at: Utc::now(),
        version: "test".into(),
    }
}

const CORRECT: &str = "お客様番号：ACME-0012\n【現象】ログインできません\n【再現手順】\n1. 開く\n2. 押す\n【エラーメッセージ】E-4012\n【発生状況】全員";

#[test]
fn postgres_records_like_sqlite_duplicates_and_raw_bytes_included() {
    let (location, _db) = postgres("pipeline");
    let mut store = open(&location);
    let first = ingest(
        &mut store,
        report("yamada@acme.example.jp", "a1@acme", "ログイン不可", CORRECT),
        "2026-11-25T11:00:00+09:00",
    );
    assert_eq!(first.case.as_deref(), Some("CASE-2026-000001"));
    assert_eq!(first.action, "dispatch");
    assert_eq!(first.enqueued, vec![OutboxKind::Ack, OutboxKind::Handover]);
    let again = ingest(
        &mut store,
        report("yamada@acme.example.jp", "a1@acme", "ログイン不可", CORRECT),
        "2026-11-25T12:00:00+09:00",
    );
    assert!(again.duplicate);
    assert_eq!(store.counts().expect("counts"), (1, 1, 2));
    let held = ingest(
        &mut store,
        report("kato@sakura-logi.example.jp", "h1@sakura", "質問", "教えてください"),
        "2026-11-28T03:00:00+09:00",
    );
    assert_eq!((held.case.as_deref(), held.action.as_str()), (Some("CASE-2026-000002"), "hold"));
    let garbage = vec![0, 159, 146, 150, 0, 1];
    let q = ingest(&mut store, garbage.clone(), "2026-11-25T11:00:00+09:00");
    assert_eq!(q.action, "quarantine");
    assert_eq!(store.message_raw(q.message).expect("raw"), Some(garbage));
    let quarantined =
        store.cases(&CaseFilter { state: Some(CaseState::Quarantined), ..Default::default() }).expect("list");
    assert_eq!(quarantined.len(), 1);
    // Held until Monday 10:00 JST; the scheduler's tick releases it then, once.
    assert_eq!(store.next_release().expect("next"), Some(at("2026-11-30T10:00:00+09:00")));
    let released = uketsuke::act::scheduler::tick(&mut store, config(), at("2026-11-30T10:00:00+09:00")).expect("tick");
    assert_eq!(released, vec!["CASE-2026-000002".to_string()]);
    assert!(
        uketsuke::act::scheduler::tick(&mut store, config(), at("2026-11-30T10:00:01+09:00")).expect("tick").is_empty()
    );
    let detail = store.case_detail("CASE-2026-000002").expect("read").expect("case");
    assert_eq!(detail.case.state, CaseState::Dispatched);
    assert_eq!(detail.outbox.iter().filter(|o| o.kind == "handover").count(), 1);
    let first = store.case_detail("CASE-2026-000001").expect("read").expect("case");
    assert_eq!(first.case.customer_id.as_deref(), Some("ACME-0012"));
    assert_eq!(first.messages.len(), 1);
    // The schema is brought up to date once; opening again changes nothing.
    drop(store);
    let mut again = open(&location);
    assert_eq!(again.counts().expect("counts").1, 3);
}

#[test]
fn concurrent_instances_number_cases_without_gaps_and_record_a_mail_once() {
    for (location, _guard) in both("numbers") {
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let location = location.clone();
                std::thread::spawn(move || {
                    let mut store = open(&location);
                    let mut numbers = Vec::new();
                    for i in 0..15 {
                        let o = ingest(
                            &mut store,
                            report("yamada@acme.example.jp", &format!("n{t}-{i}@acme"), "障害", CORRECT),
                            "2026-11-25T11:00:00+09:00",
                        );
                        numbers.push(o.case.expect("a case"));
                        // The same mail, fetched by every instance at once: one message.
                        let shared = ingest(
                            &mut store,
                            report("yamada@acme.example.jp", &format!("same-{i}@acme"), "障害", CORRECT),
                            "2026-11-25T11:00:00+09:00",
                        );
                        numbers.push(shared.case.expect("a case"));
                    }
                    numbers
                })
            })
            .collect();
        let all: Vec<String> = threads.into_iter().flat_map(|t| t.join().expect("thread")).collect();
        let distinct: BTreeSet<&String> = all.iter().collect();
        // 60 own mails and 15 shared ones: 75 cases, numbered 1..=75 with no gap.
        let expected: BTreeSet<String> = (1..=75).map(|n| format!("CASE-2026-{n:06}")).collect();
        assert_eq!(distinct.into_iter().cloned().collect::<BTreeSet<_>>(), expected, "{location}");
        let mut store = open(&location);
        assert_eq!(store.counts().expect("counts").0, 75, "{location}: each shared mail is one message");
    }
}

#[test]
fn leases_fence_a_stale_holder_and_status_shows_who_holds_what() {
    for (location, _guard) in both("leases") {
        let (a, b) = (instance("a"), instance("b"));
        let mut sa = open(&location);
        let mut sb = open(&location);
        sa.heartbeat(&a).expect("heartbeat");
        sb.heartbeat(&b).expect("heartbeat");
        let ttl = Duration::from_millis(1500);
        let held = sa.acquire_lease("imap:box", &a.id, ttl).expect("ask").expect("a takes the free lease");
        assert_eq!(held.term, 1);
        assert_eq!(
            sb.acquire_lease("imap:box", &b.id, ttl).expect("ask"),
            None,
            "{location}: a live lease is not taken"
        );
        let renewed = sa.acquire_lease("imap:box", &a.id, ttl).expect("ask").expect("renewed");
        assert_eq!((renewed.term, renewed.since), (1, held.since), "{location}: renewing keeps term and since");
        // A write fenced with the live term goes through.
        let fence = uketsuke::lease::Fence { name: "imap:box".into(), holder: a.id.clone(), term: 1 };
        sa.write(|tx| fence.check(tx)).expect("the holder writes");
        let status = sb.status().expect("status");
        assert_eq!(status.instances.len(), 2, "{location}");
        assert_eq!(status.leases.len(), 1);
        assert_eq!(status.leases[0].holder, a.id);
        // a stops renewing (paused); the lease runs out and b takes it with a higher term.
        std::thread::sleep(ttl + Duration::from_millis(300));
        let taken = sb.acquire_lease("imap:box", &b.id, ttl).expect("ask").expect("b takes the expired lease");
        assert_eq!(taken.term, 2, "{location}");
        // a wakes up: its renewal is refused and so is everything it writes under term 1.
        assert_eq!(sa.acquire_lease("imap:box", &a.id, ttl).expect("ask"), None);
        let refused = sa
            .write(|tx| {
                fence.check(tx)?;
                tx.set_checkpoint(&record::Checkpoint { mailbox: "box".into(), uidvalidity: 1, uid: 99 }, Utc::now())
            })
            .expect_err("a stale term writes nothing");
        assert!(refused.is_lease_lost(), "{location}: {refused}");
        assert_eq!(sb.checkpoint("box").expect("read"), None, "{location}: the refused checkpoint is not there");
        // b is gone (its process died on this machine): its leases are free at once, and the
        // next holder's term is higher still.
        sb.forget_instance(&b.id).expect("forget");
        let back = sa.acquire_lease("imap:box", &a.id, ttl).expect("ask").expect("a takes it back");
        assert_eq!(back.term, 3, "{location}");
        // A clean shutdown gives the lease up without waiting.
        sa.release_lease("imap:box", &a.id, 3).expect("release");
        assert_eq!(sb.acquire_lease("imap:box", &b.id, ttl).expect("ask").map(|l| l.term), Some(4));
    }
}

#[test]
fn the_shared_outbox_is_claimed_by_one_instance_and_marked_sent_only_by_it() {
    for (location, _guard) in both("outbox") {
        let (a, b) = (instance("a"), instance("b"));
        let mut sa = open(&location);
        let mut sb = open(&location);
        sa.heartbeat(&a).expect("heartbeat");
        sb.heartbeat(&b).expect("heartbeat");
        for i in 0..10 {
            // Ten senders: no acknowledgment is held back by the per-sender limit.
            let from = format!("user{i}@acme.example.jp");
            ingest(&mut sa, report(&from, &format!("o{i}@acme"), "障害", CORRECT), "2026-11-25T11:00:00+09:00");
        }
        let now = at("2026-11-25T11:00:00+09:00");
        let claim = Duration::from_secs(60);
        let alive = Duration::from_secs(60);
        // 20 entries (an acknowledgment and a hand-over each), two instances claiming at once.
        let ja = sa.claim_outbox(&a.id, now, claim, alive, 12).expect("claim");
        let jb = sb.claim_outbox(&b.id, now, claim, alive, 12).expect("claim");
        assert_eq!((ja.len(), jb.len()), (12, 8), "{location}");
        let ids_a: BTreeSet<i64> = ja.iter().map(|j| j.id).collect();
        assert!(jb.iter().all(|j| !ids_a.contains(&j.id)), "{location}: no entry is claimed twice");
        assert!(ja.iter().all(|j| !j.raw.is_empty() && j.case.is_some()));
        // Only the claimant marks an entry sent.
        assert!(!sb.mark_sent(ja[0].id, &b.id, now).expect("mark"), "{location}");
        assert!(sa.mark_sent(ja[0].id, &a.id, now).expect("mark"), "{location}");
        assert!(!sa.mark_sent(ja[0].id, &a.id, now).expect("mark"), "{location}: sent once");
        // A failed attempt frees the entry for whoever asks next, at its retry time.
        sa.mark_failed(ja[1].id, &a.id, "450 try later", Some(now)).expect("fail");
        let retry = sb.claim_outbox(&b.id, now, claim, alive, 50).expect("claim");
        assert!(retry.iter().any(|j| j.id == ja[1].id), "{location}");
        // b's own claims come back to b; a's live ones do not.
        assert!(retry.iter().all(|j| !ids_a.contains(&j.id) || j.id == ja[1].id), "{location}");
        assert_eq!(retry.len(), 9, "{location}");
        // Claiming is a sign of life: a's heartbeat is old, but it has just claimed again, so b
        // (counting an instance dead after one second) takes none of a's entries.
        std::thread::sleep(Duration::from_millis(1200));
        let again = sa.claim_outbox(&a.id, now, claim, alive, 50).expect("claim");
        assert_eq!(again.len(), 10, "{location}: a's own unsent entries come back to a");
        let own = sb.claim_outbox(&b.id, now, claim, Duration::from_secs(1), 50).expect("claim");
        assert!(own.iter().all(|j| !ids_a.contains(&j.id) || j.id == ja[1].id), "{location}: a has just claimed");
        assert_eq!(own.len(), 9, "{location}");
        // a dies unheard: once it has not reported within `alive`, b takes its claims.
        std::thread::sleep(Duration::from_millis(1200));
        sb.heartbeat(&b).expect("heartbeat");
        let taken = sb.claim_outbox(&b.id, now, claim, Duration::from_secs(1), 50).expect("claim");
        assert_eq!(taken.len(), 19, "{location}: every unsent entry, a's included");
        assert!(!sa.mark_sent(ja[2].id, &a.id, now).expect("mark"), "{location}: a's claim is gone");
    }
}

#[test]
fn a_postgres_store_survives_its_connection_being_killed() {
    let db = PgDatabase::new("terminate");
    let location = StoreLocation::from_argument(&db.url).expect("a PostgreSQL URL");
    let mut store = open(&location);
    ingest(&mut store, report("yamada@acme.example.jp", "t1@acme", "障害", CORRECT), "2026-11-25T11:00:00+09:00");
    let mut admin = db.client();
    let killed: i64 = admin
        .query_one(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
            &[],
        )
        .expect("terminate")
        .get(0);
    assert!(killed >= 1);
    // The first call after may fail (the connection died under it); the store reconnects.
    let _ = store.counts();
    assert_eq!(store.counts().expect("reconnected").0, 1);
    let o =
        ingest(&mut store, report("yamada@acme.example.jp", "t2@acme", "障害", CORRECT), "2026-11-25T11:00:00+09:00");
    assert_eq!(o.case.as_deref(), Some("CASE-2026-000002"));
}

#[test]
fn a_store_url_with_a_password_or_without_tls_to_a_remote_host_is_refused() {
    let e = StoreLocation::postgres("postgres://u:secret@db.example.jp/uketsuke", None, None).expect_err("refused");
    assert!(e.contains("password_file") && !e.contains("secret"), "{e}");
    let e = StoreLocation::postgres("postgres://u@db.example.jp/uketsuke?sslmode=disable", None, None)
        .expect_err("refused");
    assert!(e.contains("TLS"), "{e}");
    assert!(StoreLocation::postgres("postgres://u@db.example.jp/uketsuke", None, None).is_ok());
    assert!(StoreLocation::postgres("postgres://u@127.0.0.1/uketsuke", None, None).is_ok());
}
