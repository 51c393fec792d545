//! Part 4 of the mail bench: several instances. One backlog of M reports is drained, in one
//! run and on the same mail stack, by:
//!
//! - one instance on SQLite (the embedded default),
//! - one instance on PostgreSQL,
//! - three instances on PostgreSQL,
//! - three instances on PostgreSQL while the holder of the mailbox lease is SIGKILLed
//!   (UKETSUKE_BENCH_FAILOVER_KILLS times, spread over the backlog). No instance is started in
//!   its place until another has taken the mailbox over, so a takeover here is what a failover
//!   to another machine costs: the lease time, not the same-machine shortcut (a restarted
//!   instance frees the leases of a gone process on its own host at once).
//!
//! Each drain starts fresh: the support mailbox emptied and refilled by MULTIAPPEND, a fresh
//! database (a new SQLite file, or a new PostgreSQL database on the server of
//! $UKETSUKE_TEST_POSTGRES, else of `scripts/postgres start`), new customers' mailboxes. The
//! database is polled every 100 ms (every 20 ms around a kill) for the messages recorded and
//! the outbox sent; clocks start when the first daemon is started. Afterwards the customers'
//! mailboxes are read: an acknowledgment Message-ID delivered more than once is a duplicate,
//! an outbox entry that never arrived is lost. The daemons' JSON logs say which instance
//! recorded and sent how much.
//!
//! It runs after parts 1-3, outside their runtime (the bench reads PostgreSQL with the
//! blocking client); Ctrl-C does not stop it cleanly.

use super::*;

/// A store the bench looks into behind the daemons' backs.
enum Probe {
    Sqlite(PathBuf),
    Postgres(Box<postgres::Client>),
}

impl Probe {
    fn counts(&mut self) -> Option<Counts> {
        match self {
            Probe::Sqlite(path) => counts(path),
            Probe::Postgres(client) => {
                let r = client.query_one(COUNTS_SQL, &[]).ok()?;
                Some(Counts {
                    messages: r.get(0),
                    acks: r.get(1),
                    acks_sent: r.get(2),
                    outbox: r.get(3),
                    sent: r.get(4),
                    pending: r.get(5),
                    parked: r.get(6),
                })
            }
        }
    }

    fn number(&mut self, sql: &str) -> i64 {
        match self {
            Probe::Sqlite(path) => {
                rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                    .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
                    .unwrap_or(-1)
            }
            Probe::Postgres(client) => client.query_one(sql, &[]).map(|r| r.get(0)).unwrap_or(-1),
        }
    }

    /// The live holder of the mailbox lease: (instance id, pid, term). PostgreSQL only.
    fn mailbox_holder(&mut self) -> Option<(String, u32, i64)> {
        let Probe::Postgres(client) = self else { return None };
        let row = client
            .query_opt(
                "SELECT holder, term FROM leases WHERE name LIKE 'imap:%' AND holder IS NOT NULL \
                 AND expires_at > clock_timestamp()",
                &[],
            )
            .ok()??;
        let holder: String = row.get(0);
        let pid = holder.split(':').nth(1)?.parse().ok()?;
        Some((holder, pid, row.get(1)))
    }
}

struct Run {
    name: &'static str,
    label: &'static str,
    postgres: bool,
    instances: usize,
    kills: usize,
}

#[derive(Default)]
struct Outcome {
    recorded: Option<Duration>,
    first_recorded: Option<Duration>,
    acked: Option<Duration>,
    all_sent: Option<Duration>,
    outbox: i64,
    takeovers: Vec<Duration>,
    intake_gaps: Vec<Duration>,
    delivered: i64,
    distinct: i64,
    surplus: i64,
    lost: i64,
    cases: i64,
    numbers: i64,
    double_entries: i64,
    shares: Vec<(usize, usize)>,
}

pub fn compare(stack: &MailStack, m: usize) {
    println!();
    println!(
        "== 4. several instances: a backlog of {m} drained by 1 on SQLite, 1 and 3 on PostgreSQL, and 3 on PostgreSQL with the mailbox holder SIGKILLed"
    );
    let (admin, started_here) = match std::env::var(common::pg::URL_VAR) {
        Ok(url) => (url, false),
        Err(_) => {
            let out =
                Command::new(common::repo().join("scripts/postgres")).arg("start").output().expect("scripts/postgres");
            assert!(out.status.success(), "scripts/postgres start: {}", String::from_utf8_lossy(&out.stderr));
            (String::from_utf8_lossy(&out.stdout).trim().to_string(), true)
        }
    };
    let version = postgres::Client::connect(&admin, postgres::NoTls)
        .and_then(|mut c| c.query_one("SHOW server_version", &[]))
        .map(|r| r.get::<_, String>(0))
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL: {e}"));
    let lease = knob("UKETSUKE_BENCH_LEASE_S", 15);
    let kills = knob("UKETSUKE_BENCH_FAILOVER_KILLS", 3) as usize;
    let limit = Duration::from_secs(knob("UKETSUKE_BENCH_INSTANCES_LIMIT_S", 900));
    println!(
        "  PostgreSQL {version} on loopback (no TLS), lease_seconds = {lease}; each drain stopped after {} s (UKETSUKE_BENCH_INSTANCES_LIMIT_S)",
        limit.as_secs()
    );
    let runs = [
        Run { name: "sqlite1", label: "1 instance, SQLite", postgres: false, instances: 1, kills: 0 },
        Run { name: "pg1", label: "1 instance, PostgreSQL", postgres: true, instances: 1, kills: 0 },
        Run { name: "pg3", label: "3 instances, PostgreSQL", postgres: true, instances: 3, kills: 0 },
        Run { name: "pg3kill", label: "3 on PostgreSQL, holder killed", postgres: true, instances: 3, kills },
    ];
    let mut outcomes = Vec::new();
    for run in &runs {
        let outcome = drain_with(stack, &admin, run, m, lease, limit);
        outcomes.push(outcome);
    }
    println!();
    println!("  summary ({m} reports; rates over the time from the first daemon's start):");
    println!(
        "  {:<32} {:>15} {:>17} {:>15} {:>9} {:>6} {:>10}",
        "", "all recorded", "all acks sent", "whole outbox", "surplus", "lost", "takeovers"
    );
    for (run, o) in runs.iter().zip(&outcomes) {
        let rate = |d: Option<Duration>, n: f64| {
            d.map(|d| format!("{:.1} s {:>5.0}/s", d.as_secs_f64(), n / d.as_secs_f64())).unwrap_or("not done".into())
        };
        let takeovers = if o.takeovers.is_empty() {
            "-".to_string()
        } else {
            o.takeovers.iter().map(|t| format!("{:.1}", t.as_secs_f64())).collect::<Vec<_>>().join("/") + " s"
        };
        println!(
            "  {:<32} {:>15} {:>17} {:>15} {:>9} {:>6} {:>10}",
            run.label,
            rate(o.recorded, m as f64),
            rate(o.acked, m as f64),
            rate(o.all_sent, o.outbox as f64),
            o.surplus,
            o.lost,
            takeovers
        );
    }
    if started_here {
        let _ = Command::new(common::repo().join("scripts/postgres")).arg("stop").status();
    }
}

fn drain_with(stack: &MailStack, admin: &str, run: &Run, m: usize, lease: u64, limit: Duration) -> Outcome {
    println!();
    println!("  -- {}: {m} reports from {}-0..{}@{DOMAIN}", run.label, run.name, BACKLOG_SENDERS - 1);
    let (_, filled, bytes) = common::mail::runtime().block_on(fill_backlog(stack, m, run.name, "インスタンス"));
    println!("  support INBOX refilled ({:.1} MB) in {:.1} s", bytes as f64 / 1e6, filled.as_secs_f64());
    let (config, db) = config_for(stack, run.name);
    let _ = std::fs::remove_file(&db);
    let pg = run.postgres.then(|| common::pg::PgDatabase::on(admin, run.name));
    let mut probe = match &pg {
        Some(pg) => {
            let text = std::fs::read_to_string(&config).expect("config");
            let line = text.lines().find(|l| l.starts_with("path = ")).expect("a [store] path").to_string();
            let text = text.replace(&line, &format!("url = \"{}\"\nlease_seconds = {lease}", pg.url));
            std::fs::write(&config, text).expect("write config");
            Probe::Postgres(Box::new(pg.client()))
        }
        None => Probe::Sqlite(db.clone()),
    };
    let mut logs = Vec::new();
    let start = |logs: &mut Vec<PathBuf>| {
        let log = stack.dir.join(format!("daemon-{}-{}.log", run.name, logs.len()));
        let daemon = Daemon::start(&config, &log);
        logs.push(log);
        daemon
    };
    let t0 = Instant::now();
    let mut daemons: Vec<Daemon> = (0..run.instances).map(|_| start(&mut logs)).collect();
    let mut o = Outcome::default();
    let mut c = Counts::default();
    let mut last_progress = Instant::now();
    let mut next_report = Duration::from_secs(30);
    let mut kills_done = 0;
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let Some(now_counts) = probe.counts() else { continue };
        // After the read: a read can wait (SQLite's busy timeout during a migration).
        let now = t0.elapsed();
        if now_counts.messages != c.messages || now_counts.sent != c.sent {
            last_progress = Instant::now();
        }
        c = now_counts;
        if c.messages > 0 && o.first_recorded.is_none() {
            o.first_recorded = Some(now);
        }
        if c.messages as usize >= m && o.recorded.is_none() {
            o.recorded = Some(now);
        }
        if c.acks_sent as usize >= m && o.acked.is_none() {
            o.acked = Some(now);
        }
        if c.messages as usize >= m && c.pending == 0 && c.outbox > 0 {
            o.all_sent = Some(now);
            break;
        }
        // The next kill when its share of the backlog is recorded.
        if kills_done < run.kills
            && c.messages as usize >= m * (kills_done + 1) / (run.kills + 1)
            && let Some((holder, pid, term)) = probe.mailbox_holder()
            && let Some(i) = daemons.iter().position(|d| d.child.id() == pid)
        {
            kills_done += 1;
            let mut dead = daemons.remove(i);
            let _ = dead.child.kill();
            let _ = dead.child.wait();
            let killed = Instant::now();
            let at = probe.counts().map(|c| c.messages).unwrap_or(c.messages);
            let (mut takeover, mut resumed) = (None, None);
            while killed.elapsed() < Duration::from_secs(120) && (takeover.is_none() || resumed.is_none()) {
                std::thread::sleep(Duration::from_millis(20));
                if takeover.is_none() && probe.mailbox_holder().is_some_and(|(h, _, t)| h != holder && t > term) {
                    takeover = Some(killed.elapsed());
                }
                if resumed.is_none() && probe.counts().is_some_and(|c| c.messages > at || c.messages as usize >= m) {
                    resumed = Some(killed.elapsed());
                }
            }
            let takeover = takeover.expect("no instance took the mailbox over within 120 s");
            println!(
                "  kill {kills_done} of {}: SIGKILL of the holder (pid {pid}, term {term}) with {at} recorded; taken over after {:.2} s, recording again after {:.2} s",
                run.kills,
                takeover.as_secs_f64(),
                resumed.map(|d| d.as_secs_f64()).unwrap_or(f64::NAN)
            );
            o.takeovers.push(takeover);
            o.intake_gaps.extend(resumed);
            daemons.push(start(&mut logs));
            last_progress = Instant::now();
        }
        if now >= next_report {
            c.progress(now);
            next_report += Duration::from_secs(30);
        }
        if last_progress.elapsed() > Duration::from_secs(60) {
            println!("  STUCK: no progress for 60 s at {:.1} s", now.as_secs_f64());
            break;
        }
        if now > limit {
            println!("  stopped at the time limit ({:.0} s)", now.as_secs_f64());
            break;
        }
    }
    for d in &mut daemons {
        d.terminate();
    }
    drop(daemons);
    o.outbox = c.outbox;
    o.cases = probe.number("SELECT count(*) FROM cases");
    o.numbers = probe.number("SELECT count(DISTINCT number) FROM cases");
    o.double_entries = probe.number(
        "SELECT count(*) FROM (SELECT message_id FROM outbox WHERE kind = 'ack' GROUP BY message_id HAVING count(*) > 1) d",
    );
    let acks = probe.number("SELECT count(*) FROM outbox WHERE kind = 'ack'");
    // Who did what, from the daemons' logs.
    for log in &logs {
        let facts = read_log(log);
        o.shares.push((facts.recorded.len(), facts.ack_sent.values().map(Vec::len).sum()));
        if !facts.problems.is_empty() {
            print_problems(&format!("log {}", log.display()), &facts);
        }
    }
    // The customers' mailboxes (Postfix may still be delivering what it accepted).
    let t = Instant::now();
    let mut delivered: HashMap<String, u32> = HashMap::new();
    loop {
        delivered.clear();
        std::thread::scope(|scope| {
            let readers: Vec<_> = (0..BACKLOG_SENDERS)
                .map(|s| scope.spawn(move || common::mail::mailbox(stack, &format!("{}-{s}@{DOMAIN}", run.name))))
                .collect();
            for r in readers {
                for got in r.join().expect("mailbox") {
                    *delivered.entry(got.message_id).or_default() += 1;
                }
            }
        });
        let total: u32 = delivered.values().sum();
        if total as i64 >= c.acks_sent || t.elapsed() > Duration::from_secs(120) {
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
    o.distinct = delivered.len() as i64;
    o.delivered = delivered.values().map(|&n| n as i64).sum();
    o.surplus = o.delivered - o.distinct;
    o.lost = c.acks_sent - o.distinct;
    let rate = |d: Option<Duration>, n: f64| {
        d.map(|d| format!("{:.1} s = {:.0}/s", d.as_secs_f64(), n / d.as_secs_f64())).unwrap_or("not done".into())
    };
    println!(
        "  first recorded after {}; all {m} recorded {}; all {m} acknowledgments sent {}; whole outbox ({} entries) sent {}",
        o.first_recorded.map(|d| format!("{:.0} ms", ms(d))).unwrap_or("never".into()),
        rate(o.recorded, m as f64),
        rate(o.acked, m as f64),
        o.outbox,
        rate(o.all_sent, o.outbox as f64)
    );
    println!(
        "  store: {} messages, {} cases, {} distinct case numbers, {acks} ack entries, messages with two ack entries {}",
        c.messages, o.cases, o.numbers, o.double_entries
    );
    println!(
        "  customers' mailboxes: {} acknowledgments, {} distinct Message-IDs; surplus {}, lost {} (of {} marked sent)",
        o.delivered, o.distinct, o.surplus, o.lost, c.acks_sent
    );
    let shares: Vec<String> =
        o.shares.iter().enumerate().map(|(i, (r, s))| format!("#{i} recorded {r}, sent {s} acks")).collect();
    println!("  instances (from their logs): {}", shares.join("; "));
    summary("takeover after SIGKILL (ms)", &o.takeovers.iter().map(|d| ms(*d)).collect::<Vec<_>>());
    summary("SIGKILL -> recording again (ms)", &o.intake_gaps.iter().map(|d| ms(*d)).collect::<Vec<_>>());
    drop(pg);
    o
}
