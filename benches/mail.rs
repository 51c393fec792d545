//! The daemon end to end against a real Dovecot + Postfix on loopback (`scripts/mailstack`):
//!
//! 1. Acknowledgment latency with IDLE. `uketsuke run` (the binary cargo builds for this
//!    bench, release settings) watches the support mailbox over IMAPS and sends over plain SMTP.
//!    The bench sends N customer reports over SMTP to support@, **one at a time, closed loop**:
//!    the next report is sent only after the previous acknowledgment is in its customer's
//!    mailbox. Each report comes from its own sender (bench-{i}@ops.acme.example.jp), so each
//!    acknowledgment lands in a mailbox of its own. Clock start: the 250 reply to the end of
//!    DATA (Postfix has queued the report). Observed by IMAP STATUS (MESSAGES) polling, one
//!    logged-in IMAPS session per customer (opened before the report is sent) plus one on the
//!    support mailbox, every `POLL` ms (20 by default): when the report is in the support
//!    mailbox, and when the acknowledgment is in the customer's. An event is stamped when the
//!    STATUS that first shows it returns, so a stamp is late by at most one poll interval plus
//!    one STATUS round trip (both printed). The daemon's JSON log gives when it recorded each
//!    report and when SMTP accepted each acknowledgment, for a breakdown.
//! 2. Backlog drain. The daemon is stopped, the support mailbox emptied and filled with M
//!    reports by IMAP MULTIAPPEND (LITERAL+, 200 per command; from 100 senders), then a fresh
//!    daemon on a fresh database is started, and the database is polled every 100 ms until
//!    every message is recorded and every acknowledgment is sent. Then the daemon's peak RSS
//!    (VmHWM) is read and it is stopped with SIGTERM; finally the customers' mailboxes are
//!    counted (lost or duplicated acknowledgments).
//!
//! 3. SIGKILL during a backlog. The support mailbox is filled with K reports (from 100
//!    senders); a daemon is started and SIGKILLed after 100-500 ms, N times over (the same
//!    seed gives the same intervals), then one daemon drains the rest. Then the customers' and
//!    the team's mailboxes are read: every outbox entry must have arrived (lost), and each
//!    Message-ID that arrived more than once is a surplus that a kill caused. After each kill
//!    the bench notes the messages inside the window (Postfix's log shows the Message-ID, the
//!    outbox has not marked it sent): every surplus must be one of them.
//!
//! 4. Several instances (`benches/mail/instances.rs`): the same backlog drained by one instance
//!    on SQLite, one on PostgreSQL and three on PostgreSQL, in one run; then three on
//!    PostgreSQL again while the mailbox lease holder is SIGKILLed, for the takeover times and
//!    the duplicates.
//!
//! Run with `cargo bench --bench mail` (needs the mail servers: `scripts/mailstack install`;
//! part 4 needs PostgreSQL: `$UKETSUKE_TEST_POSTGRES`, else `scripts/postgres start` is run).
//! Knobs: UKETSUKE_BENCH_ACKS (300), UKETSUKE_BENCH_BACKLOG (10000), UKETSUKE_BENCH_POLL_MS
//! (20), UKETSUKE_BENCH_KILLS (50; 0 skips part 3), UKETSUKE_BENCH_KILL_BACKLOG (6000: enough that every
//! kill finds the daemon sending),
//! UKETSUKE_BENCH_INSTANCES (10000; 0 skips part 4), UKETSUKE_BENCH_FAILOVER_KILLS (3),
//! UKETSUKE_BENCH_LEASE_S (15, the shipped lease time);
//! 0 for ACKS or BACKLOG skips part 1 or 2. UKETSUKE_BENCH_DRAIN_LIMIT_S (300: the drain is
//! stopped there, to keep the whole run near 10 minutes on 2 cores, and the time to send every
//! acknowledgment is projected from the rate so far; raise it to drain to the end). The stack
//! lives in a fresh $TMPDIR/uketsuke-mail-bench-... on ports reserved for the run (both printed
//! at the start); it is stopped at the end, on panic and on Ctrl-C, and its folder removed
//! unless UKETSUKE_KEEP_TEST_DIRS=1 keeps it for its logs (the daemon's are its daemon-*.log
//! files).

#[path = "../tests/common/mod.rs"]
mod common;

use async_imap::{Client, Session};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;

const TEAM: &str = "team@uketsuke.example.jp";
const DOMAIN: &str = "ops.acme.example.jp";
/// Senders of the backlog: each has at most M/100 acknowledgments in the hour, well under
/// ack_rate_per_hour.
const BACKLOG_SENDERS: usize = 100;
const BODY: &str = "使い方を教えてください。\r\n管理画面の操作方法を知りたいです。";

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

use common::mail::{MailStack, SUPPORT, config_head};

fn daemon_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_uketsuke"))
}

// ---------------------------------------------------------------------------------------------
// The daemon's configuration and process (the stack is tests/common/mail.rs's)

/// A configuration folder for one daemon: the shipped files, the main file pointed at the
/// stack (IMAPS in, plain SMTP out), its own database.
fn config_for(stack: &MailStack, name: &str) -> (PathBuf, PathBuf) {
    let dir = stack.dir.join(format!("config-{name}"));
    common::copy_shipped_config(&dir);
    std::fs::write(dir.join("imap-password"), "secret\n").expect("secret");
    let db = stack.dir.join(format!("{name}.db"));
    // The backlog's senders each get M/100 acknowledgments: room for a larger M.
    let main = config_head("three-priority", &db).replace("ack_rate_per_hour = 1000\n", "ack_rate_per_hour = 10000\n")
        + &format!(
            r#"[imap]
enabled = true
host = "127.0.0.1"
port = {imaps}
security = "tls"
ca_file = "{ca}"
username = "{SUPPORT}"
password_file = "imap-password"
idle_seconds = 60
[smtp]
enabled = true
host = "127.0.0.1"
port = {smtp}
security = "plain"
ca_file = "{ca}"
[outbox]
retry_first_seconds = 1
retry_max_seconds = 2
max_attempts = 1000
"#,
            ca = stack.ca.display(),
            imaps = stack.imaps,
            smtp = stack.smtp,
        );
    std::fs::write(dir.join("uketsuke.toml"), main).expect("write config");
    let check = Command::new(daemon_bin())
        .args(["check-config", dir.join("uketsuke.toml").to_str().unwrap()])
        .output()
        .expect("check-config");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    (dir.join("uketsuke.toml"), db)
}

/// `uketsuke run --log-json`, its stderr in a file; killed when dropped.
struct Daemon {
    child: Child,
}

impl Daemon {
    fn start(config: &Path, log: &Path) -> Daemon {
        let file = std::fs::File::create(log).expect("log");
        let child = Command::new(daemon_bin())
            .args(["run", "--log-json", "--config", config.to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("uketsuke run");
        Daemon { child }
    }

    fn status_field(&self, key: &str) -> Option<u64> {
        let s = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        s.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)).and_then(|v| v.parse().ok())
    }

    /// SIGTERM, then wait for the exit (30 s at most).
    fn terminate(&mut self) -> (Option<ExitStatus>, Duration) {
        let started = Instant::now();
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        while started.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(status)) = self.child.try_wait() {
                return (Some(status), started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        (None, started.elapsed())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// IMAP

type Tls = tokio_rustls::client::TlsStream<TcpStream>;

async fn tls(stack: &MailStack) -> Tls {
    let config = uketsuke::channels::tls::client_config(Some(&stack.ca)).expect("tls");
    let tcp = TcpStream::connect(("127.0.0.1", stack.imaps)).await.expect("connect");
    tcp.set_nodelay(true).ok();
    TlsConnector::from(config).connect(ServerName::try_from("localhost").unwrap(), tcp).await.expect("tls")
}

async fn imap_login(stack: &MailStack, user: &str) -> Session<Tls> {
    let mut client = Client::new(tls(stack).await);
    client.read_response().await.expect("greeting");
    client.login(user, "secret").await.map_err(|(e, _)| e).expect("login")
}

/// MESSAGES of INBOX, by STATUS (the mailbox is not selected).
async fn messages(session: &mut Session<Tls>) -> u32 {
    let n = tokio::time::timeout(Duration::from_secs(20), session.status("INBOX", "(MESSAGES)"))
        .await
        .expect("STATUS timed out")
        .expect("STATUS")
        .exists;
    while session.unsolicited_responses.try_recv().is_ok() {}
    n
}

async fn count_of(stack: &MailStack, user: &str) -> u32 {
    let mut s = imap_login(stack, user).await;
    let n = messages(&mut s).await;
    s.logout().await.ok();
    n
}

/// A bare IMAP conversation, for what async-imap does one round trip at a time: emptying the
/// mailbox and MULTIAPPEND with LITERAL+.
struct RawImap {
    io: BufReader<Tls>,
    tag: u32,
}

impl RawImap {
    async fn login(stack: &MailStack, user: &str) -> RawImap {
        let mut me = RawImap { io: BufReader::new(tls(stack).await), tag: 0 };
        let greeting = read_line(&mut me.io).await;
        assert!(greeting.starts_with("* OK"), "{greeting}");
        me.command(format!("LOGIN \"{user}\" \"secret\"").as_bytes()).await;
        me
    }

    /// Sends `TAG <command>\r\n` and reads to the tagged reply, which must be OK; returns the
    /// untagged lines.
    async fn command(&mut self, command: &[u8]) -> Vec<String> {
        self.tag += 1;
        let tag = format!("b{}", self.tag);
        let mut out = Vec::with_capacity(command.len() + 16);
        out.extend_from_slice(tag.as_bytes());
        out.push(b' ');
        out.extend_from_slice(command);
        out.extend_from_slice(b"\r\n");
        self.io.get_mut().write_all(&out).await.expect("write");
        self.io.get_mut().flush().await.expect("flush");
        let mut untagged = Vec::new();
        loop {
            let line = read_line(&mut self.io).await;
            if let Some(rest) = line.strip_prefix(&format!("{tag} ")) {
                assert!(
                    rest.starts_with("OK"),
                    "IMAP {}: {line}",
                    String::from_utf8_lossy(&command[..command.len().min(60)])
                );
                return untagged;
            }
            assert!(!line.starts_with('+'), "a continuation was asked for (no LITERAL+?): {line}");
            untagged.push(line);
        }
    }
}

async fn read_line<R: AsyncRead + Unpin>(io: &mut BufReader<R>) -> String {
    let mut line = String::new();
    let n = tokio::time::timeout(Duration::from_secs(60), io.read_line(&mut line))
        .await
        .expect("server silent for 60 s")
        .expect("read");
    assert!(n > 0, "the server closed the connection");
    line.trim_end().to_string()
}

/// Empties the support mailbox and fills it with `m` reports by MULTIAPPEND (LITERAL+, 200 per
/// command), from {name}-0..99@ (Message-IDs bench-{name}-{i}@): returns how long the emptying
/// and the filling took and the bytes appended.
async fn fill_backlog(stack: &MailStack, m: usize, name: &str, subject: &str) -> (Duration, Duration, usize) {
    let t = Instant::now();
    let mut imap = RawImap::login(stack, SUPPORT).await;
    let caps = imap.command(b"CAPABILITY").await.join(" ");
    assert!(caps.contains("LITERAL+") && caps.contains("MULTIAPPEND"), "{caps}");
    let selected = imap.command(b"SELECT INBOX").await;
    if !selected.iter().any(|l| l == "* 0 EXISTS") {
        imap.command(b"STORE 1:* +FLAGS.SILENT (\\Deleted)").await;
        imap.command(b"EXPUNGE").await;
    }
    imap.command(b"CLOSE").await;
    let emptied = t.elapsed();
    let t = Instant::now();
    let mut bytes = 0usize;
    for start in (0..m).step_by(200) {
        let mut cmd = b"APPEND INBOX".to_vec();
        for i in start..(start + 200).min(m) {
            let raw = report(
                &format!("{name}-{}@{DOMAIN}", i % BACKLOG_SENDERS),
                &format!("bench-{name}-{i}@{DOMAIN}"),
                &format!("{subject} {i}: 操作方法"),
            );
            bytes += raw.len();
            cmd.extend_from_slice(format!(" {{{}+}}\r\n", raw.len()).as_bytes());
            cmd.extend_from_slice(&raw);
        }
        imap.command(&cmd).await;
    }
    imap.command(b"LOGOUT").await;
    (emptied, t.elapsed(), bytes)
}

// ---------------------------------------------------------------------------------------------
// SMTP: a minimal client on one connection

struct Smtp {
    io: BufReader<TcpStream>,
}

impl Smtp {
    async fn connect(port: u16) -> Smtp {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await.expect("SMTP connect");
        tcp.set_nodelay(true).ok();
        let mut me = Smtp { io: BufReader::new(tcp) };
        me.expect(220, "greeting").await;
        me.command("EHLO bench.ops.acme.example.jp", 250).await;
        me
    }

    async fn reply(&mut self) -> (u16, String) {
        let mut text = String::new();
        loop {
            let line = read_line(&mut self.io).await;
            text.push_str(&line);
            text.push('\n');
            if line.len() < 4 || line.as_bytes()[3] == b' ' {
                return (line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0), text);
            }
        }
    }

    async fn expect(&mut self, code: u16, what: &str) -> String {
        let (got, text) = self.reply().await;
        assert_eq!(got, code, "SMTP {what}: {text}");
        text
    }

    async fn command(&mut self, line: &str, code: u16) -> String {
        self.io.get_mut().write_all(format!("{line}\r\n").as_bytes()).await.expect("SMTP write");
        self.expect(code, line).await
    }

    /// One transaction; returns when the server accepted the end of DATA.
    async fn send(&mut self, from: &str, to: &str, message: &[u8]) -> String {
        self.command(&format!("MAIL FROM:<{from}> BODY=8BITMIME"), 250).await;
        self.command(&format!("RCPT TO:<{to}>"), 250).await;
        self.command("DATA", 354).await;
        let mut data = Vec::with_capacity(message.len() + 8);
        for line in message.split_inclusive(|b| *b == b'\n') {
            if line.starts_with(b".") {
                data.push(b'.');
            }
            data.extend_from_slice(line);
        }
        if !data.ends_with(b"\r\n") {
            data.extend_from_slice(b"\r\n");
        }
        data.extend_from_slice(b".\r\n");
        self.io.get_mut().write_all(&data).await.expect("SMTP write");
        self.expect(250, "end of DATA").await
    }
}

fn report(from: &str, id: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {SUPPORT}\r\nSubject: {subject}\r\nDate: {date}\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{BODY}\r\n",
        date = Utc::now().to_rfc2822()
    )
    .into_bytes()
}

// ---------------------------------------------------------------------------------------------
// Numbers

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Nearest-rank percentile of sorted values.
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(label: &str, values: &[f64]) {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if v.is_empty() {
        println!("  {label:<44} (no samples)");
        return;
    }
    println!(
        "  {label:<44} n={:<4} min {:>7.1}  median {:>7.1}  p90 {:>7.1}  p99 {:>7.1}  max {:>7.1}",
        v.len(),
        v[0],
        pct(&v, 50.0),
        pct(&v, 90.0),
        pct(&v, 99.0),
        v[v.len() - 1]
    );
}

/// The daemon's JSON log: when each report was recorded (by its Message-ID) and when each
/// acknowledgment was accepted by SMTP (by recipient); plus the warnings and errors.
struct LogFacts {
    recorded: HashMap<String, DateTime<Utc>>,
    ack_sent: HashMap<String, Vec<DateTime<Utc>>>,
    problems: Vec<String>,
    lines: usize,
}

fn read_log(path: &Path) -> LogFacts {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut facts = LogFacts { recorded: HashMap::new(), ack_sent: HashMap::new(), problems: Vec::new(), lines: 0 };
    for line in text.lines() {
        facts.lines += 1;
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            facts.problems.push(format!("(not JSON) {line}"));
            continue;
        };
        let level = v["level"].as_str().unwrap_or("");
        if level == "WARN" || level == "ERROR" {
            facts.problems.push(line.to_string());
        }
        let Some(at) =
            v["timestamp"].as_str().and_then(|t| DateTime::parse_from_rfc3339(t).ok()).map(|t| t.with_timezone(&Utc))
        else {
            continue;
        };
        let f = &v["fields"];
        match f["message"].as_str() {
            Some("recorded") => {
                let id = f["message_id"].as_str().unwrap_or("").trim_matches(|c| c == '<' || c == '>').to_string();
                facts.recorded.entry(id).or_insert(at);
            }
            Some("sent") if f["kind"].as_str() == Some("ack") => {
                facts.ack_sent.entry(f["to"].as_str().unwrap_or("").to_string()).or_default().push(at);
            }
            _ => {}
        }
    }
    facts
}

fn since(later: DateTime<Utc>, earlier: SystemTime) -> f64 {
    let earlier: DateTime<Utc> = earlier.into();
    (later - earlier).num_microseconds().map(|us| us as f64 / 1000.0).unwrap_or(f64::NAN)
}

fn print_problems(what: &str, facts: &LogFacts) {
    println!("  {what}: {} log lines, {} warnings/errors", facts.lines, facts.problems.len());
    for p in facts.problems.iter().take(8) {
        println!("    {}", &p[..p.len().min(400)]);
    }
    if facts.problems.len() > 8 {
        println!("    ... ({} more)", facts.problems.len() - 8);
    }
}

#[derive(Default, Clone, Copy)]
struct Counts {
    messages: i64,
    acks: i64,
    acks_sent: i64,
    outbox: i64,
    sent: i64,
    pending: i64,
    parked: i64,
}

fn counts(db: &Path) -> Option<Counts> {
    if !db.exists() {
        return None;
    }
    let conn = rusqlite::Connection::open_with_flags(
        db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ok()?;
    conn.busy_timeout(Duration::from_secs(5)).ok()?;
    conn.query_row(COUNTS_SQL, [], |r| {
        Ok(Counts {
            messages: r.get(0)?,
            acks: r.get(1)?,
            acks_sent: r.get(2)?,
            outbox: r.get(3)?,
            sent: r.get(4)?,
            pending: r.get(5)?,
            parked: r.get(6)?,
        })
    })
    .ok()
}

impl Counts {
    /// A progress line on stderr, `at` from the daemon's start.
    fn progress(&self, at: Duration) {
        eprintln!(
            "  ... {:>5.1} s: recorded {}, acks sent {} of {}, outbox sent {} pending {} parked {}",
            at.as_secs_f64(),
            self.messages,
            self.acks_sent,
            self.acks,
            self.sent,
            self.pending,
            self.parked
        );
    }
}

/// What [`Counts`] holds, in its order; the same SQL on SQLite and PostgreSQL.
const COUNTS_SQL: &str = "SELECT (SELECT count(*) FROM messages), \
        (SELECT count(*) FROM outbox WHERE kind = 'ack'), \
        (SELECT count(*) FROM outbox WHERE kind = 'ack' AND state = 'sent'), \
        (SELECT count(*) FROM outbox), \
        (SELECT count(*) FROM outbox WHERE state = 'sent'), \
        (SELECT count(*) FROM outbox WHERE state = 'pending'), \
        (SELECT count(*) FROM outbox WHERE state NOT IN ('pending', 'sent'))";

fn machine_facts() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .unwrap_or("?")
        .trim()
        .to_string();
    let nproc = Command::new("nproc")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .nth(1)
        .and_then(|k| k.parse::<u64>().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let version = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    println!("machine: nproc {nproc}, CPU {model}, {:.1} GiB RAM, Linux {}", mem as f64 / 1048576.0, kernel.trim());
    println!(
        "servers: Dovecot {}, Postfix {}; daemon {}",
        version("dovecot", &["--version"]).split_whitespace().next().unwrap_or("?"),
        version("postconf", &["-d", "-h", "mail_version"]),
        daemon_bin().display()
    );
    let jst = Utc::now().with_timezone(&chrono_tz::Asia::Tokyo);
    println!(
        "started {} (JST; in support hours reports are dispatched, so each also sends a hand-over to the team)",
        jst.format("%a %Y-%m-%d %H:%M:%S")
    );
}

// ---------------------------------------------------------------------------------------------

fn main() {
    // `cargo bench` passes --bench; nothing to filter here.
    let acks = knob("UKETSUKE_BENCH_ACKS", 300) as usize;
    let backlog = knob("UKETSUKE_BENCH_BACKLOG", 10_000) as usize;
    let poll = Duration::from_millis(knob("UKETSUKE_BENCH_POLL_MS", 20));
    let drain_limit = Duration::from_secs(knob("UKETSUKE_BENCH_DRAIN_LIMIT_S", 300));
    machine_facts();
    let started = Instant::now();
    let mut stack = MailStack::new("bench");
    if std::env::var(common::KEEP_VAR).is_ok_and(|v| v == "1") {
        stack.keep_folder();
    }
    println!(
        "mail stack: {} (ports {}..{}), started in {:.1} s",
        stack.dir.display(),
        stack.port_base() + 1,
        stack.port_base() + 6,
        started.elapsed().as_secs_f64()
    );
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        tokio::select! {
            _ = bench(&stack, acks, backlog, poll, drain_limit) => {}
            _ = tokio::signal::ctrl_c() => eprintln!("interrupted: stopping the daemon and the stack"),
        }
    });
    drop(rt);
    // Part 4 looks into PostgreSQL with the blocking client, so it runs outside the runtime.
    let instances_backlog = knob("UKETSUKE_BENCH_INSTANCES", 10_000) as usize;
    if instances_backlog > 0 {
        instances::compare(&stack, instances_backlog);
    }
    println!("total time {:.1} s", started.elapsed().as_secs_f64());
    drop(stack);
}

async fn bench(stack: &MailStack, n: usize, backlog: usize, poll: Duration, drain_limit: Duration) {
    if n > 0 {
        latency(stack, n, poll).await;
    }
    if backlog > 0 {
        drain(stack, backlog, drain_limit).await;
    }
    let kills_n = knob("UKETSUKE_BENCH_KILLS", 50) as usize;
    if kills_n > 0 {
        kills(stack, knob("UKETSUKE_BENCH_KILL_BACKLOG", 6000) as usize, kills_n).await;
    }
}

#[path = "mail/instances.rs"]
mod instances;

/// Part 3: SIGKILL at random instants while a backlog drains, then count what reached the
/// mailboxes against what the outbox holds: every entry must arrive (nothing lost) and the
/// surplus (the same Message-ID delivered twice) is what the kills cost.
async fn kills(stack: &MailStack, m: usize, kills: usize) {
    println!();
    println!(
        "== 3. SIGKILL during a backlog: {m} reports, {kills} kills at 100-500 ms intervals, then one daemon drains the rest"
    );
    fill_backlog(stack, m, "kills", "強制終了").await;
    let team_before = count_of(stack, TEAM).await;
    let (config, db) = config_for(stack, "kills");
    let _ = std::fs::remove_file(&db);
    // What reached Postfix from here on (its cleanup logs each message's Message-ID while
    // taking the DATA), to see which kills landed inside the window: a message that reached
    // the server and that the outbox still holds as pending. (A message cut off mid-DATA is
    // counted too, though Postfix drops it: the count is an upper bound.)
    let postfix_log = stack.dir.join("log/postfix.log");
    let log_from = std::fs::metadata(&postfix_log).map(|m| m.len()).unwrap_or(0);
    let mut in_window_ids: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut per_kill: Vec<(usize, bool)> = Vec::with_capacity(kills);
    let mut rng = 0x5eed_u64;
    let t0 = Instant::now();
    for k in 0..kills {
        let log = stack.dir.join(format!("daemon-kills-{k}.log"));
        let sent_before = counts(&db).map(|c| c.sent).unwrap_or(0);
        let mut daemon = Daemon::start(&config, &log);
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        tokio::time::sleep(Duration::from_millis(100 + rng % 401)).await;
        let _ = daemon.child.kill(); // SIGKILL
        let _ = daemon.child.wait();
        // Postfix logs what it accepted a moment later.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let accepted = accepted_message_ids(&postfix_log, log_from);
        let pending = pending_message_ids(&db);
        let new: Vec<String> =
            accepted.iter().filter(|id| pending.contains(*id) && !in_window_ids.contains(*id)).cloned().collect();
        let sent_after = counts(&db).map(|c| c.sent).unwrap_or(0);
        per_kill.push((new.len(), sent_after != sent_before || !new.is_empty()));
        in_window_ids.extend(new);
    }
    let killed_for = t0.elapsed();
    let c = counts(&db).unwrap_or_default();
    println!(
        "  after {kills} kills ({:.1} s): recorded {} of {m}, outbox sent {} of {}",
        killed_for.as_secs_f64(),
        c.messages,
        c.sent,
        c.outbox
    );
    let mut daemon = Daemon::start(&config, &stack.dir.join("daemon-kills-last.log"));
    let t = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let c = counts(&db).unwrap_or_default();
        if (c.messages as usize >= m && c.pending == 0 && c.outbox > 0) || t.elapsed() > Duration::from_secs(300) {
            break;
        }
    }
    daemon.terminate();
    let conn = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("db");
    let q = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap_or(-1);
    let (acks, handovers, others, sent) = (
        q("SELECT count(*) FROM outbox WHERE kind = 'ack'"),
        q("SELECT count(*) FROM outbox WHERE kind = 'handover'"),
        q("SELECT count(*) FROM outbox WHERE kind NOT IN ('ack', 'handover')"),
        q("SELECT count(*) FROM outbox WHERE state = 'sent'"),
    );
    // Postfix may still be delivering what it accepted.
    let expected_team = team_before as i64 + handovers;
    let t = Instant::now();
    let mut delivered: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    loop {
        delivered.clear();
        std::thread::scope(|scope| {
            let readers: Vec<_> = (0..BACKLOG_SENDERS)
                .map(|s| scope.spawn(move || common::mail::mailbox(stack, &format!("kills-{s}@{DOMAIN}"))))
                .collect();
            for r in readers {
                for got in r.join().expect("mailbox") {
                    *delivered.entry(got.message_id).or_default() += 1;
                }
            }
        });
        let total: u32 = delivered.values().sum();
        if total as i64 >= acks || t.elapsed() > Duration::from_secs(120) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let team = count_of(stack, TEAM).await as i64;
    let distinct = delivered.len() as i64;
    let total: i64 = delivered.values().map(|&n| n as i64).sum();
    let twice = delivered.values().filter(|&&n| n > 1).count();
    println!(
        "  outbox: {acks} acknowledgments, {handovers} hand-overs, {others} others; {sent} sent; recorded {} of {m}",
        q("SELECT count(*) FROM messages")
    );
    println!(
        "  customers' mailboxes: {total} acknowledgments, {distinct} distinct Message-IDs (lost {}), surplus {} ({twice} Message-IDs delivered more than once)",
        acks - distinct,
        total - distinct
    );
    println!(
        "  team mailbox: {} hand-overs delivered for {handovers} entries: surplus {}",
        team - team_before as i64,
        team - expected_team
    );
    println!(
        "  surplus per kill: {:.2} acknowledgments, {:.2} hand-overs",
        (total - distinct) as f64 / kills as f64,
        (team - expected_team) as f64 / kills as f64
    );
    let sending = per_kill.iter().filter(|(_, active)| *active).count();
    let inside = per_kill.iter().filter(|(n, _)| *n > 0).count();
    let most = per_kill.iter().map(|(n, _)| *n).max().unwrap_or(0);
    let twice: std::collections::HashSet<&String> =
        delivered.iter().filter(|(_, n)| **n > 1).map(|(id, _)| id).collect();
    let outside = twice.iter().filter(|id| !in_window_ids.contains(id.trim_matches(['<', '>']))).count();
    println!(
        "  kills while the daemon was sending: {sending} of {kills}; inside the window (the message reached Postfix, the outbox had not marked it sent): {inside} kills, {} messages, at most {most} per kill; of the Message-IDs delivered twice, {} were such messages and {outside} were not",
        in_window_ids.len(),
        twice.len() - outside
    );
}

/// The Message-IDs (without angle brackets) that reached Postfix, from its log after byte
/// `from`.
fn accepted_message_ids(log: &Path, from: u64) -> Vec<String> {
    let text = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(text.get(from as usize..).unwrap_or_default()).into_owned();
    text.lines()
        .filter_map(|l| l.split_once(": message-id=").map(|(_, id)| id.trim().trim_matches(['<', '>']).to_string()))
        .collect()
}

/// The Message-IDs (without angle brackets) of the outbox entries still pending.
fn pending_message_ids(db: &Path) -> std::collections::HashSet<String> {
    let Ok(conn) = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return Default::default();
    };
    let _ = conn.busy_timeout(Duration::from_secs(5));
    let Ok(mut stmt) = conn.prepare("SELECT our_message_id FROM outbox WHERE state = 'pending'") else {
        return Default::default();
    };
    stmt.query_map([], |r| r.get::<_, String>(0))
        .map(|rows| rows.flatten().map(|id| id.trim_matches(['<', '>']).to_string()).collect())
        .unwrap_or_default()
}

struct Sample {
    submitted: SystemTime,
    delivered: Option<Duration>,
    acked: Option<Duration>,
}

async fn latency(stack: &MailStack, n: usize, poll: Duration) {
    println!();
    println!(
        "== 1. acknowledgment latency with IDLE: {n} reports, one at a time (each sent after the previous acknowledgment arrived)"
    );
    let (config, db) = config_for(stack, "latency");
    let log = stack.dir.join("daemon-latency.log");
    let mut daemon = Daemon::start(&config, &log);
    // Wait for the intake to be in IDLE: the log says "IMAP intake connected".
    let t = Instant::now();
    while !std::fs::read_to_string(&log).unwrap_or_default().contains("IMAP intake connected") {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the daemon did not connect: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    println!("  daemon pid {} connected in {:.0} ms; log {}", daemon.child.id(), ms(t.elapsed()), log.display());

    let mut smtp = Smtp::connect(stack.smtp).await;
    let mut support = imap_login(stack, SUPPORT).await;
    let mut support_count = messages(&mut support).await;
    let mut samples = Vec::with_capacity(n);
    let (mut polls, mut poll_time) = (0u64, Duration::ZERO);
    let mut late_dups = 0;
    let phase = Instant::now();
    for i in 0..n {
        let customer = format!("bench-{i}@{DOMAIN}");
        let mut mailbox = imap_login(stack, &customer).await;
        assert_eq!(messages(&mut mailbox).await, 0, "{customer} is not empty");
        let raw = report(&customer, &format!("bench-lat-{i}@{DOMAIN}"), &format!("ベンチ {i}: 操作方法"));
        smtp.send(&customer, SUPPORT, &raw).await;
        let t0 = Instant::now();
        let submitted = SystemTime::now();
        let mut sample = Sample { submitted, delivered: None, acked: None };
        let deadline = t0 + Duration::from_secs(30);
        loop {
            let tick = Instant::now();
            if sample.delivered.is_none() {
                let q = Instant::now();
                let c = messages(&mut support).await;
                poll_time += q.elapsed();
                polls += 1;
                if c > support_count {
                    sample.delivered = Some(t0.elapsed());
                    support_count = c;
                }
            }
            let q = Instant::now();
            let c = messages(&mut mailbox).await;
            poll_time += q.elapsed();
            polls += 1;
            if c > 0 {
                sample.acked = Some(t0.elapsed());
                if c > 1 {
                    late_dups += 1;
                }
                if sample.delivered.is_none() {
                    // Seen in the same round as the acknowledgment: only an upper bound.
                    let c = messages(&mut support).await;
                    if c > support_count {
                        sample.delivered = Some(t0.elapsed());
                        support_count = c;
                    }
                }
                break;
            }
            if Instant::now() > deadline {
                println!("  report {i} ({customer}): no acknowledgment within 30 s");
                break;
            }
            tokio::time::sleep_until((tick + poll).into()).await;
        }
        mailbox.logout().await.ok();
        samples.push(sample);
        if (i + 1) % 50 == 0 {
            eprintln!("  ... {} of {n} in {:.1} s", i + 1, phase.elapsed().as_secs_f64());
        }
    }
    let elapsed = phase.elapsed();
    smtp.command("QUIT", 221).await;
    support.logout().await.ok();

    // Duplicates arriving late: every customer must have exactly one message.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut per_customer = HashMap::new();
    for i in 0..n {
        let c = count_of(stack, &format!("bench-{i}@{DOMAIN}")).await;
        *per_customer.entry(c).or_insert(0usize) += 1;
    }
    let c = counts(&db).unwrap_or_default();
    let rss = daemon.status_field("VmHWM:").unwrap_or(0);
    let (status, stop) = daemon.terminate();
    let facts = read_log(&log);

    let lost = samples.iter().filter(|s| s.acked.is_none()).count();
    println!(
        "  {n} reports in {:.1} s; poll every {} ms, STATUS round trip {:.2} ms on average ({} polls)",
        elapsed.as_secs_f64(),
        poll.as_millis(),
        ms(poll_time) / polls.max(1) as f64,
        polls
    );
    println!("  latency in ms (stamp late by at most one poll interval + one STATUS round trip):");
    let acked: Vec<f64> = samples.iter().filter_map(|s| s.acked.map(ms)).collect();
    summary("end of DATA -> ack in customer mailbox", &acked);
    summary(
        "end of DATA -> report in support mailbox",
        &samples.iter().filter_map(|s| s.delivered.map(ms)).collect::<Vec<_>>(),
    );
    summary(
        "report in support mailbox -> ack in mailbox",
        &samples.iter().filter_map(|s| Some(ms(s.acked? - s.delivered?))).collect::<Vec<_>>(),
    );
    // From the daemon's log (its clock is the same wall clock as the bench's).
    let (mut to_recorded, mut recorded_to_sent, mut sent_to_box, mut delivered_to_recorded) =
        (vec![], vec![], vec![], vec![]);
    for (i, s) in samples.iter().enumerate() {
        let rec = facts.recorded.get(&format!("bench-lat-{i}@{DOMAIN}")).copied();
        let sent = facts.ack_sent.get(&format!("bench-{i}@{DOMAIN}")).and_then(|v| v.first()).copied();
        if let Some(r) = rec {
            to_recorded.push(since(r, s.submitted));
            if let Some(d) = s.delivered {
                delivered_to_recorded.push(since(r, s.submitted) - ms(d));
            }
        }
        if let (Some(r), Some(x)) = (rec, sent) {
            recorded_to_sent.push((x - r).num_microseconds().unwrap_or(0) as f64 / 1000.0);
        }
        if let (Some(x), Some(a)) = (sent, s.acked) {
            sent_to_box.push(ms(a) - since(x, s.submitted));
        }
    }
    println!("  breakdown with the daemon's log timestamps:");
    summary("end of DATA -> recorded (log)", &to_recorded);
    summary("report in support mailbox -> recorded", &delivered_to_recorded);
    summary("recorded -> ack accepted by SMTP (log)", &recorded_to_sent);
    summary("ack accepted by SMTP -> in customer mailbox", &sent_to_box);
    let dup_sends = facts.ack_sent.values().filter(|v| v.len() > 1).count();
    println!(
        "  acknowledgments: {} of {n} arrived, {lost} missing after 30 s; mailboxes holding 0/1/2+ messages 2 s later: {}/{}/{}; outbox ack sent {} of {} (all entries {} sent of {}, {} parked); customers sent an ack twice (log): {dup_sends}; duplicates seen while polling: {late_dups}",
        acked.len(),
        per_customer.get(&0).unwrap_or(&0),
        per_customer.get(&1).unwrap_or(&0),
        per_customer.iter().filter(|(k, _)| **k > 1).map(|(_, v)| v).sum::<usize>(),
        c.acks_sent,
        c.acks,
        c.sent,
        c.outbox,
        c.parked,
    );
    println!(
        "  daemon peak RSS (VmHWM) {:.1} MiB; stopped by SIGTERM in {:.0} ms, exit {:?}",
        rss as f64 / 1024.0,
        ms(stop),
        status
    );
    print_problems(&format!("daemon log {}", log.display()), &facts);
}

async fn drain(stack: &MailStack, m: usize, limit: Duration) {
    println!();
    println!("== 2. backlog drain: {m} reports waiting in the support mailbox, a fresh daemon on a fresh database");
    // Empty the support mailbox (the latency reports) and fill it.
    let (emptied, filled, bytes) = fill_backlog(stack, m, "backlog", "バックログ").await;
    let in_box = count_of(stack, SUPPORT).await;
    println!(
        "  support INBOX emptied in {:.0} ms (login, SELECT, STORE \\Deleted, EXPUNGE); MULTIAPPEND (LITERAL+, 200 per command) of {m} messages ({:.1} MB) in {:.1} s = {:.0} messages/s; support INBOX holds {in_box}",
        ms(emptied),
        bytes as f64 / 1e6,
        filled.as_secs_f64(),
        m as f64 / filled.as_secs_f64()
    );

    let (config, db) = config_for(stack, "backlog");
    let _ = std::fs::remove_file(&db);
    let log = stack.dir.join("daemon-backlog.log");
    let t0 = Instant::now();
    let mut daemon = Daemon::start(&config, &log);
    println!("  daemon pid {}, log {}", daemon.child.id(), log.display());
    let (mut first_recorded, mut all_recorded, mut first_ack, mut all_acks, mut all_sent) =
        (None, None, None, None, None);
    let mut last = Counts::default();
    let mut last_progress = Instant::now();
    let mut next_report = Duration::from_secs(10);
    let mut samples = 0u64;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let Some(c) = counts(&db) else { continue };
        // After the read: a read can wait (SQLite's busy timeout during a migration).
        let now = t0.elapsed();
        samples += 1;
        if c.messages > 0 && first_recorded.is_none() {
            first_recorded = Some(now);
        }
        if c.messages as usize >= m && all_recorded.is_none() {
            all_recorded = Some(now);
        }
        if c.acks_sent > 0 && first_ack.is_none() {
            first_ack = Some(now);
        }
        if c.acks_sent as usize >= m && all_acks.is_none() {
            all_acks = Some(now);
        }
        if c.messages as usize >= m && c.pending == 0 && c.outbox > 0 && all_sent.is_none() {
            all_sent = Some(now);
        }
        if c.messages != last.messages || c.sent != last.sent {
            last_progress = Instant::now();
        }
        last = c;
        if now >= next_report {
            c.progress(now);
            next_report += Duration::from_secs(10);
        }
        if all_recorded.is_some() && all_acks.is_some() && all_sent.is_some() {
            break;
        }
        if last_progress.elapsed() > Duration::from_secs(60) {
            println!("  STUCK: no progress for 60 s at {:.1} s", now.as_secs_f64());
            break;
        }
        if now > limit {
            println!(
                "  drain stopped at the time limit ({:.0} s, UKETSUKE_BENCH_DRAIN_LIMIT_S): recorded {}, acks sent {} of {}, outbox sent {} of {}",
                now.as_secs_f64(),
                c.messages,
                c.acks_sent,
                c.acks,
                c.sent,
                c.outbox
            );
            break;
        }
    }
    let stopped_at = t0.elapsed();
    let hwm = daemon.status_field("VmHWM:").unwrap_or(0);
    let rss = daemon.status_field("VmRSS:").unwrap_or(0);
    let (status, stop) = daemon.terminate();
    let c = counts(&db).unwrap_or_default();
    let rate = |d: Option<Duration>| {
        d.map(|d| format!("{:.1} s = {:.0} messages/s", d.as_secs_f64(), m as f64 / d.as_secs_f64()))
            .unwrap_or_else(|| "never".into())
    };
    println!("  (database polled every 100 ms, {samples} polls; times from the daemon's start)");
    println!(
        "  first message recorded after {}",
        first_recorded.map(|d| format!("{:.0} ms", ms(d))).unwrap_or("never".into())
    );
    println!("  all {m} recorded:                 {}", rate(all_recorded));
    println!("  all {m} acknowledgments sent:     {}", rate(all_acks));
    if all_acks.is_none()
        && let Some(f) = first_ack
    {
        let window = (stopped_at - f).as_secs_f64();
        let r = c.acks_sent as f64 / window.max(1e-9);
        println!(
            "    not finished: {} acks sent in {:.1} s since the first = {:.1} acks/s ({:.1} outbox entries/s); at that rate all {m} would be sent about {:.0} s after the start",
            c.acks_sent,
            window,
            r,
            c.sent as f64 / window.max(1e-9),
            f.as_secs_f64() + m as f64 / r.max(1e-9)
        );
    }
    println!(
        "  whole outbox sent ({} entries: acks + hand-overs): {}",
        c.outbox,
        all_sent
            .map(|d| format!("{:.1} s = {:.0} entries/s", d.as_secs_f64(), c.outbox as f64 / d.as_secs_f64()))
            .unwrap_or("never".into())
    );
    if let (Some(a), Some(b)) = (first_recorded, all_recorded) {
        println!(
            "  recording rate after the first record: {:.0} messages/s",
            (m - 1) as f64 / (b - a).as_secs_f64().max(1e-9)
        );
    }
    println!(
        "  daemon peak RSS (VmHWM) {:.1} MiB (VmRSS {:.1} MiB) just before SIGTERM; stopped in {:.0} ms, exit {:?}",
        hwm as f64 / 1024.0,
        rss as f64 / 1024.0,
        ms(stop),
        status
    );
    println!(
        "  database at the end: {} messages, outbox {} entries ({} acks), sent {}, pending {}, parked/failed {}",
        c.messages, c.outbox, c.acks, c.sent, c.pending, c.parked
    );
    if let Ok(conn) = rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) {
        let q = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap_or(-1);
        println!(
            "  cases {}, distinct case numbers {}, messages with more than one ack entry {}, actions: {}",
            q("SELECT count(*) FROM cases"),
            q("SELECT count(DISTINCT number) FROM cases"),
            q(
                "SELECT count(*) FROM (SELECT message_id FROM outbox WHERE kind = 'ack' GROUP BY message_id HAVING count(*) > 1)"
            ),
            conn.prepare("SELECT action, count(*) FROM messages GROUP BY action ORDER BY 2 DESC")
                .and_then(|mut s| s
                    .query_map([], |r| Ok(format!("{} {}", r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
                    .collect::<Result<Vec<_>, _>>())
                .map(|v| v.join(", "))
                .unwrap_or_default()
        );
    }
    let facts = read_log(&log);
    let dup_log = facts.ack_sent.values().map(|v| v.len()).sum::<usize>();
    println!("  ack 'sent' log lines: {dup_log}");
    print_problems(&format!("daemon log {}", log.display()), &facts);

    // End to end: the acknowledgments in the customers' mailboxes (Postfix may still be
    // delivering what it accepted).
    let t = Instant::now();
    let mut delivered;
    loop {
        delivered = 0u32;
        for s in 0..BACKLOG_SENDERS {
            delivered += count_of(stack, &format!("backlog-{s}@{DOMAIN}")).await;
        }
        if delivered as i64 >= c.acks_sent || t.elapsed() > Duration::from_secs(120) {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let team = count_of(stack, TEAM).await;
    println!(
        "  in the {BACKLOG_SENDERS} customers' mailboxes: {delivered} acknowledgments (the database says {} sent), {:.1} s after the daemon stopped; team mailbox: {team} hand-overs (latency phase included)",
        c.acks_sent,
        t.elapsed().as_secs_f64()
    );
}
