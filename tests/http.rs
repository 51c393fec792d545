//! The HTTP interface of `uketsuke run` over real sockets: the signed webhook (signatures,
//! replay window, key rotation, idempotency under concurrent retries), every error as problem
//! details, the intake page (languages, token, honeypot, validation, confirmation), health
//! and metrics, and `openapi.json` kept true: every route documented, every status the tests
//! see documented for its route.

mod common;

use common::{TestDir, copy_shipped_config, die_with_test, free_port};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use uketsuke::http::signature::sign;

const KEY_OLD: &str = "old-signing-secret";
const KEY_NEW: &str = "new-signing-secret";

/// Statuses seen per (method, path), checked against openapi.json at the end.
static SEEN: Mutex<BTreeMap<(String, String), BTreeSet<u16>>> = Mutex::new(BTreeMap::new());

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// A minimal HTTP/1.1 client: one request per connection.
fn request(port: u16, method: &str, path: &str, headers: &[(&str, String)], body: &[u8]) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write");
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers =
        lines.filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))).collect();
    let route = path.split('?').next().unwrap_or(path).to_string();
    SEEN.lock().unwrap().entry((method.to_ascii_lowercase(), route)).or_default().insert(status);
    Response { status, headers, body: body.to_string() }
}

struct Server {
    child: Child,
    port: u16,
    /// Removed when the server is dropped (after its daemon is killed).
    dir: TestDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `uketsuke run` with only the HTTP listener, its clock fixed at `now`.
fn server(name: &str, profile: &str, now: &str, extra: &str) -> Server {
    server_found(name, profile, now, extra, false)
}

/// [`server`], its configuration named by `--config`, or (`by_env`) found through
/// `$UKETSUKE_CONFIG` as operators may start it.
fn server_found(name: &str, profile: &str, now: &str, extra: &str, by_env: bool) -> Server {
    let dir = TestDir::new(&format!("http-{name}"));
    let repo = common::repo();
    copy_shipped_config(&dir);
    // The templates are copied too, so a test may edit them and reload.
    std::fs::create_dir_all(dir.join("templates")).expect("mkdir");
    for entry in std::fs::read_dir(repo.join("templates")).expect("templates") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dir.join("templates").join(entry.file_name())).expect("copy template");
    }
    std::fs::write(dir.join("key-old"), KEY_OLD).expect("key");
    std::fs::write(dir.join("key-new"), KEY_NEW).expect("key");
    std::fs::write(dir.join("clock"), now).expect("clock");
    let port = free_port();
    let config = format!(
        "[policy]\nprofile = \"{profile}\"\n[files]\ntemplates = \"{}\"\n[mail]\nsupport_address = \"support@uketsuke.example.jp\"\nmessage_id_domain = \"uketsuke.example.jp\"\nteam_address = \"team@uketsuke.example.jp\"\noncall_address = \"oncall@uketsuke.example.jp\"\n[store]\npath = \"{}\"\n[http]\nenabled = true\nlisten = \"127.0.0.1:{port}\"\nsigning_secret_files = [\"key-old\", \"key-new\"]\nmax_body_bytes = 200000\nmax_attachments = 2\nmax_attachment_bytes = 50000\n{extra}\n",
        dir.join("templates").display(),
        dir.join("cases.db").display()
    );
    std::fs::write(dir.join("uketsuke.toml"), config).expect("config");
    let log = std::fs::File::create(dir.join("daemon.log")).expect("log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_uketsuke"));
    die_with_test(&mut command).args(["run", "--clock-file", dir.join("clock").to_str().unwrap()]);
    if by_env {
        command.env("UKETSUKE_CONFIG", dir.join("uketsuke.toml")).current_dir(&*dir);
    } else {
        command.env_remove("UKETSUKE_CONFIG").args(["--config", dir.join("uketsuke.toml").to_str().unwrap()]);
    }
    let child = command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log).spawn().expect("uketsuke run");
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the HTTP listener did not come up: {}",
            std::fs::read_to_string(dir.join("daemon.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Server { child, port, dir }
}

fn unix(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339).expect("time").timestamp()
}

const NOW: &str = "2026-11-25T11:00:00+09:00";

fn signed(port: u16, body: &str, key: &str, t: i64, extra: &[(&str, String)]) -> Response {
    let mut headers = vec![
        ("Content-Type", "application/json".to_string()),
        ("Uketsuke-Signature", sign(key.as_bytes(), t, body.as_bytes())),
    ];
    headers.extend(extra.iter().cloned());
    request(port, "POST", "/v1/reports", &headers, body.as_bytes())
}

fn report_json(email: &str, extra: &str) -> String {
    format!(
        r#"{{"email":"{email}","customer_id":"ＡＣＭＥ－００１２","priority":"medium","subject":"CSV export fails","description":"The CSV export fails for every user.","repro_steps":"1. Open Reports\n2. Click Export","error_messages":"HTTP 500 Internal Server Error","circumstances":"Since 09:00"{extra}}}"#
    )
}

#[test]
fn signed_json_reports_are_recorded_with_their_decision() {
    let s = server("signed", "three-priority", NOW, "");
    let t = unix(NOW);
    let r = signed(s.port, &report_json("yamada@acme.example.jp", ""), KEY_NEW, t, &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    assert_eq!(v["case"], "CASE-2026-000001");
    assert_eq!(v["action"], "dispatch");
    assert_eq!(v["response_due"], "2026-11-25T17:00:00+09:00");
    assert_eq!(v["release_at"], serde_json::Value::Null);
    assert_eq!(v["duplicate"], false);
    // The old key still works while keys are rotated.
    let r = signed(s.port, &report_json("sato@acme.example.jp", ""), KEY_OLD, t, &[]);
    assert_eq!(r.status, 201, "{}", r.body);
    // After hours: held, with the release time.
    std::fs::write(s.dir.join("clock"), "2026-11-28T03:00:00+09:00").expect("clock");
    let late = unix("2026-11-28T03:00:00+09:00");
    let r = signed(s.port, &report_json("kato@sakura-logi.example.jp", ""), KEY_NEW, late, &[]);
    let v = r.json();
    assert_eq!(v["action"], "hold");
    assert_eq!(v["release_at"], "2026-11-30T10:00:00+09:00");
    assert_eq!(v["response_due"], "2026-11-30T16:00:00+09:00");
}

#[test]
fn bad_signatures_are_refused_and_nothing_is_recorded() {
    let s = server("signatures", "three-priority", NOW, "");
    let t = unix(NOW);
    let body = report_json("yamada@acme.example.jp", "");
    let missing =
        request(s.port, "POST", "/v1/reports", &[("Content-Type", "application/json".into())], body.as_bytes());
    assert_eq!(missing.status, 401);
    assert_eq!(missing.header("content-type"), Some("application/problem+json"));
    assert_eq!(missing.json()["type"], "urn:uketsuke:problem:signature-missing");
    assert_eq!(signed(s.port, &body, "a-wrong-secret", t, &[]).status, 403);
    // Replayed later than the window.
    let stale = signed(s.port, &body, KEY_NEW, t - 301, &[]);
    assert_eq!(stale.status, 403);
    assert!(stale.json()["detail"].as_str().unwrap().contains("301 s"));
    // Tampered body: signed one thing, sent another.
    let header = sign(KEY_NEW.as_bytes(), t, body.as_bytes());
    let tampered = body.replace("medium", "high");
    let r = request(
        s.port,
        "POST",
        "/v1/reports",
        &[("Content-Type", "application/json".into()), ("Uketsuke-Signature", header)],
        tampered.as_bytes(),
    );
    assert_eq!(r.status, 403);
    let garbled = request(
        s.port,
        "POST",
        "/v1/reports",
        &[("Content-Type", "application/json".into()), ("Uketsuke-Signature", "v1=abc".into())],
        body.as_bytes(),
    );
    assert_eq!(garbled.status, 401);
    let db = rusqlite::Connection::open(s.dir.join("cases.db")).expect("db");
    let n: i64 = db.query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).expect("count");
    assert_eq!(n, 0, "a refused submission was recorded");
}

#[test]
fn every_error_names_what_to_fix() {
    let s = server("errors", "three-priority", NOW, "rate_per_address_per_hour = 3");
    let t = unix(NOW);
    let bad =
        r#"{"email":"not-an-address","description":"","priority":"urgentissimo","customer_id":"???","colour":"red"}"#;
    let r = signed(s.port, bad, KEY_NEW, t, &[]);
    assert_eq!(r.status, 400, "{}", r.body);
    let fields: BTreeSet<String> =
        r.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(fields, ["colour"].iter().map(|s| s.to_string()).collect(), "unknown fields are refused first");
    let bad = r#"{"email":"not-an-address","description":"","priority":"urgentissimo","customer_id":"???"}"#;
    let r = signed(s.port, bad, KEY_NEW, t, &[]);
    assert_eq!(r.status, 400);
    let fields: BTreeSet<String> =
        r.json()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect();
    assert_eq!(fields, ["customer_id", "description", "email", "priority"].iter().map(|s| s.to_string()).collect());
    let r = signed(s.port, "{not json", KEY_NEW, t, &[]);
    assert_eq!(r.status, 400);
    // 415: a content type that is not a form.
    let body = "hello";
    let r = request(
        s.port,
        "POST",
        "/v1/reports",
        &[("Content-Type", "text/plain".into()), ("Uketsuke-Signature", sign(KEY_NEW.as_bytes(), t, body.as_bytes()))],
        body.as_bytes(),
    );
    assert_eq!(r.status, 415);
    // 413: too large a body, too many attachments.
    let big = report_json("yamada@acme.example.jp", &format!(r#","circumstances2":"{}""#, "x".repeat(300_000)));
    assert_eq!(signed(s.port, &big, KEY_NEW, t, &[]).status, 413);
    let three = r#","attachments":[{"filename":"a.log","content":"YQ=="},{"filename":"b.log","content":"Yg=="},{"filename":"c.log","content":"Yw=="}]"#;
    assert_eq!(signed(s.port, &report_json("yamada@acme.example.jp", three), KEY_NEW, t, &[]).status, 413);
    // 429 with Retry-After beyond the per-address rate (3 an hour here).
    for i in 0..3 {
        let r = signed(s.port, &report_json(&format!("u{i}@example.net"), ""), KEY_NEW, t, &[]);
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let r = signed(s.port, &report_json("u9@example.net", ""), KEY_NEW, t, &[]);
    assert_eq!(r.status, 429);
    let retry: u64 = r.header("retry-after").expect("Retry-After").parse().expect("seconds");
    assert!(retry > 3000 && retry <= 3600, "{retry}");
}

#[test]
fn concurrent_retries_with_one_idempotency_key_make_one_case() {
    let s = server("idempotency", "three-priority", NOW, "");
    let t = unix(NOW);
    let body = report_json("yamada@acme.example.jp", "");
    let port = s.port;
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let body = body.clone();
            std::thread::spawn(move || {
                signed(port, &body, KEY_NEW, t, &[("Idempotency-Key", "order-7f3a-retry".into())])
            })
        })
        .collect();
    let responses: Vec<Response> = threads.into_iter().map(|h| h.join().expect("thread")).collect();
    let cases: BTreeSet<String> = responses
        .iter()
        .map(|r| {
            assert_eq!(r.status, 201, "{}", r.body);
            r.json()["case"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert_eq!(responses.iter().filter(|r| r.json()["duplicate"] == false).count(), 1);
    let db = rusqlite::Connection::open(s.dir.join("cases.db")).expect("db");
    let (messages, acks): (i64, i64) = db
        .query_row(
            "SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM outbox WHERE kind = 'ack')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("count");
    assert_eq!((messages, acks), (1, 1));
    // The key in a form field works the same.
    let again = signed(
        port,
        &report_json("yamada@acme.example.jp", r#","idempotency_key":"order-7f3a-retry""#),
        KEY_NEW,
        t,
        &[],
    );
    assert_eq!(again.json()["case"], cases.iter().next().unwrap().as_str());
}

#[test]
fn urlencoded_and_multipart_with_a_log_file() {
    let s = server("encodings", "four-severity", NOW, "");
    let t = unix(NOW);
    let form = "email=it-desk%40umbrella.example.com&customer_id=UMBRELLA-0100&priority=2&description=Export+fails&repro_steps=1.+Open%0A2.+Click&error_messages=HTTP+500";
    let r = request(
        s.port,
        "POST",
        "/v1/reports",
        &[
            ("Content-Type", "application/x-www-form-urlencoded".into()),
            ("Uketsuke-Signature", sign(KEY_NEW.as_bytes(), t, form.as_bytes())),
        ],
        form.as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["action"], "dispatch");
    // Multipart: the error text is only in the attached log; with it the report is complete.
    let boundary = "XyZzy";
    let mut body = String::new();
    for (k, v) in [
        ("email", "it-desk@umbrella.example.com"),
        ("customer_id", "UMBRELLA-0100"),
        ("priority", "sev3"),
        ("description", "Import stops"),
        ("repro_steps", "1. Import the file"),
    ] {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"));
    }
    body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"attachment\"; filename=\"import.log\"\r\nContent-Type: text/plain\r\n\r\n2026-11-25 10:59 INFO start\r\nERROR ImportException: row 42 has no date\r\n--{boundary}--\r\n"));
    let r = request(
        s.port,
        "POST",
        "/v1/reports",
        &[
            ("Content-Type", format!("multipart/form-data; boundary={boundary}")),
            ("Uketsuke-Signature", sign(KEY_NEW.as_bytes(), t, body.as_bytes())),
        ],
        body.as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let v = r.json();
    assert_eq!(v["action"], "dispatch", "the log supplied the error text: {v}");
    let case = v["case"].as_str().unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_uketsuke"))
        .args(["cases", "show", &case, "--json", "--config", s.dir.join("uketsuke.toml").to_str().unwrap()])
        .output()
        .expect("show");
    let detail: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(detail["case"]["error_messages"][0].as_str().unwrap().contains("ImportException: row 42"), "{detail}");
}

fn token_of(html: &str) -> String {
    let at = html.find("name=\"token\" value=\"").expect("token field") + "name=\"token\" value=\"".len();
    html[at..].split('"').next().unwrap().to_string()
}

#[test]
fn the_intake_page_in_both_languages() {
    let s = server("page", "three-priority", "2026-11-28T03:00:00+09:00", "");
    let ja = request(s.port, "GET", "/form", &[("Accept-Language", "ja,en-US;q=0.8".into())], b"");
    assert_eq!(ja.status, 200);
    assert!(
        ja.body.contains("<html lang=\"ja\">")
            && ja.body.contains("再現手順")
            && ja.body.contains("サービスの中断により業務の継続に影響")
    );
    let en = request(s.port, "GET", "/form", &[("Accept-Language", "en-GB,en;q=0.9,ja;q=0.5".into())], b"");
    assert!(
        en.body.contains("<html lang=\"en\">")
            && en.body.contains("Steps to reproduce")
            && en.body.contains("A service interruption")
    );
    let switched = request(s.port, "GET", "/form?lang=en", &[("Accept-Language", "ja".into())], b"");
    assert!(switched.body.contains("<html lang=\"en\">"));
    let token = token_of(&ja.body);
    let origin = format!("http://127.0.0.1:{}", s.port);
    let post = |fields: &[(&str, &str)]| {
        let body = serde_urlencoded::to_string(fields).expect("encode");
        request(
            s.port,
            "POST",
            "/form",
            &[
                ("Content-Type", "application/x-www-form-urlencoded".into()),
                ("Accept-Language", "ja".into()),
                ("Origin", origin.clone()),
            ],
            body.as_bytes(),
        )
    };
    // No token: refused.
    let r = post(&[("email", "kato@sakura-logi.example.jp"), ("description", "設定を変更したい")]);
    assert_eq!(r.status, 403);
    // Server-side truth: the browser's `required` is not trusted.
    let r = post(&[("token", &token), ("lang", "ja"), ("email", "kato@"), ("description", "")]);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("id=\"error-email\"") && r.body.contains("id=\"error-description\""), "{}", r.body);
    // The honeypot: thanked, nothing recorded.
    let r = post(&[
        ("token", &token),
        ("lang", "ja"),
        ("email", "bot@spam.example"),
        ("description", "buy"),
        ("website", "http://spam.example"),
    ]);
    assert_eq!(r.status, 200);
    assert!(!r.body.contains("case-number"));
    // A real report on Saturday night: held, and the page says when work starts.
    let r = post(&[
        ("token", &token),
        ("lang", "ja"),
        ("email", "kato@sakura-logi.example.jp"),
        ("priority", "medium"),
        ("description", "送信ドメインの設定を変更したい"),
        ("website", ""),
    ]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("id=\"case-number\">CASE-2026-000001<"), "{}", r.body);
    assert!(r.body.contains("2026年11月30日(月) 10:00 より対応を開始"), "{}", r.body);
    // Posted from another site: refused.
    let body = serde_urlencoded::to_string([
        ("token", token.as_str()),
        ("email", "kato@sakura-logi.example.jp"),
        ("description", "x"),
    ])
    .unwrap();
    let r = request(
        s.port,
        "POST",
        "/form",
        &[("Content-Type", "application/x-www-form-urlencoded".into()), ("Origin", "https://evil.example".into())],
        body.as_bytes(),
    );
    assert_eq!(r.status, 403);
    let db = rusqlite::Connection::open(s.dir.join("cases.db")).expect("db");
    let n: i64 = db.query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).expect("count");
    assert_eq!(n, 1, "only the real report is recorded");
}

#[test]
fn health_and_metrics() {
    let s = server("ops", "three-priority", NOW, "");
    let t = unix(NOW);
    assert_eq!(signed(s.port, &report_json("yamada@acme.example.jp", ""), KEY_NEW, t, &[]).status, 201);
    let h = request(s.port, "GET", "/healthz", &[], b"");
    assert_eq!(h.status, 200, "{}", h.body);
    assert_eq!(h.json()["store"], "ok");
    let m = request(s.port, "GET", "/metrics", &[], b"");
    assert_eq!(m.status, 200);
    assert!(m.body.contains("uketsuke_reports_received_total{channel=\"form\",action=\"dispatch\"} 1"), "{}", m.body);
    for name in [
        "uketsuke_messages_sent_total",
        "uketsuke_send_failures_total",
        "uketsuke_outbox_pending 2",
        "uketsuke_held_cases",
        "uketsuke_oldest_held_case_age_seconds",
        "uketsuke_imap_connected 0",
    ] {
        assert!(m.body.contains(name), "{name} missing:\n{}", m.body);
    }
}

/// Runs last in name order is not guaranteed, so it exercises what it checks itself too.
/// Edits `file` in place, replacing the first `from` (which must be there) with `to`.
fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).expect("read");
    assert!(text.contains(from), "{from:?} not in {}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).expect("write");
}

/// Sends SIGHUP and waits until the daemon has logged the `n`th reload outcome.
fn reload(s: &Server, n: usize) -> String {
    // SAFETY: kill(2) on our own child's pid; no memory is touched.
    assert_eq!(unsafe { libc::kill(s.child.id() as i32, libc::SIGHUP) }, 0);
    let started = Instant::now();
    loop {
        let log = std::fs::read_to_string(s.dir.join("daemon.log")).unwrap_or_default();
        let outcomes = log.matches("configuration reloaded from").count()
            + log.lines().filter(|l| l.contains("configuration reload refused: the configuration loaded at")).count();
        if outcomes >= n {
            return log;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "no reload logged:\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_daemon_that_found_its_configuration_reloads_that_file() {
    // Started without --config: $UKETSUKE_CONFIG names the file. A reload must read that file
    // again, never the configuration built into the binary.
    let s = server_found("found", "three-priority", NOW, "", true);
    let t = unix(NOW);
    let v = signed(s.port, &report_json("yamada@acme.example.jp", ""), KEY_NEW, t, &[]).json();
    assert_eq!(v["response_due"], "2026-11-25T17:00:00+09:00", "{v}");
    edit(&s.dir.join("policies/three-priority.toml"), "medium = \"6h\"", "medium = \"4h\"");
    let log = reload(&s, 1);
    let file = s.dir.join("uketsuke.toml");
    assert!(log.contains(&format!("configuration reloaded from {}", file.display())), "{log}");
    let again = report_json("yamada@acme.example.jp", "").replace("CSV export fails", "CSV export fails again");
    let v = signed(s.port, &again, KEY_NEW, t, &[]).json();
    assert_eq!(v["response_due"], "2026-11-25T15:00:00+09:00", "the edited file was not read again: {v}");
}

#[test]
fn sighup_reloads_customers_profile_and_templates_and_a_bad_file_changes_nothing() {
    let s = server("reload", "three-priority", NOW, "");
    let t = unix(NOW);
    let kato = |n: u32| {
        report_json(&format!("kato{n}@sakura-logi.example.jp"), "").replace("ＡＣＭＥ－００１２", "SAKURA-0301")
    };
    let v = signed(s.port, &report_json("yamada@acme.example.jp", ""), KEY_NEW, t, &[]).json();
    assert_eq!(
        (v["action"].as_str(), v["response_due"].as_str()),
        (Some("dispatch"), Some("2026-11-25T17:00:00+09:00"))
    );
    let page = request(s.port, "GET", "/form?lang=ja", &[], b"");
    assert!(!page.body.contains("受付窓口（再読み込み済み）"));

    // The customer falls behind with payment, the medium target shortens, the page changes.
    edit(&s.dir.join("customers.toml"), "id = \"ACME-0012\"", "id = \"ACME-0012\"\npayment_overdue_since = 2026-09-01");
    edit(&s.dir.join("policies/three-priority.toml"), "medium = \"6h\"", "medium = \"4h\"");
    edit(&s.dir.join("templates/form.html"), "<body", "<!-- 受付窓口（再読み込み済み） --><body");
    let log = reload(&s, 1);
    assert!(log.contains("configuration reloaded from"), "{log}");
    let v = signed(
        s.port,
        &report_json("yamada@acme.example.jp", "").replace("CSV export fails", "CSV export fails again"),
        KEY_NEW,
        t,
        &[],
    )
    .json();
    assert_eq!(v["action"], "reject", "{v}");
    let v = signed(s.port, &kato(1), KEY_NEW, t, &[]).json();
    assert_eq!(
        (v["action"].as_str(), v["response_due"].as_str()),
        (Some("dispatch"), Some("2026-11-25T15:00:00+09:00"))
    );
    assert!(request(s.port, "GET", "/form?lang=ja", &[], b"").body.contains("受付窓口（再読み込み済み）"));

    // A mistake in two files: nothing changes, and every problem is logged with file and line.
    let customers = s.dir.join("customers.toml");
    edit(&customers, "three-priority = \"standard\", four-severity = \"silver\"", "three-priority = \"diamond\"");
    let bad_line =
        std::fs::read_to_string(&customers).unwrap().lines().position(|l| l.contains("diamond")).unwrap() + 1;
    edit(&s.dir.join("policies/three-priority.toml"), "medium = \"4h\"", "medium = \"2h\"\nlow = \"soon\"");
    let log = reload(&s, 2);
    let refused: Vec<&str> = log.lines().filter(|l| l.contains("configuration reload refused")).collect();
    assert!(
        refused
            .iter()
            .any(|l| l.contains(&format!("customers.toml:{bad_line}:")) && l.contains("unknown tier `diamond`")),
        "{log}"
    );
    assert!(refused.iter().any(|l| l.contains("three-priority.toml:") && l.contains("duplicate key")), "{log}");
    let v = signed(s.port, &kato(2), KEY_NEW, t, &[]).json();
    assert_eq!(v["response_due"], "2026-11-25T15:00:00+09:00", "the running profile stays in force: {v}");
    let v = signed(
        s.port,
        &report_json("yamada@acme.example.jp", "").replace("CSV export fails", "CSV export still fails"),
        KEY_NEW,
        t,
        &[],
    )
    .json();
    assert_eq!(v["action"], "reject", "{v}");

    // `uketsuke status` says when the configuration in force was loaded, and what was refused.
    let out = Command::new(env!("CARGO_BIN_EXE_uketsuke"))
        .args(["status", "--db", s.dir.join("cases.db").to_str().unwrap()])
        .output()
        .expect("status");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("configuration: loaded 2026-11-25 11:00"), "{text}");
    assert!(text.contains("was refused") && text.contains("unknown tier `diamond`"), "{text}");
    let metrics = request(s.port, "GET", "/metrics", &[], b"").body;
    assert!(metrics.contains("uketsuke_config_reload_refused 1"), "{metrics}");
    assert!(metrics.contains(&format!("uketsuke_config_loaded_timestamp_seconds {}", unix(NOW))), "{metrics}");

    // Mended, and reloaded: the new rules are in force and the refusal is history.
    edit(&customers, "three-priority = \"diamond\"", "three-priority = \"standard\"");
    edit(&s.dir.join("policies/three-priority.toml"), "\nlow = \"soon\"", "");
    let log = reload(&s, 3);
    assert_eq!(log.matches("configuration reloaded from").count(), 2, "{log}");
    let v = signed(s.port, &kato(3), KEY_NEW, t, &[]).json();
    assert_eq!(v["response_due"], "2026-11-25T13:00:00+09:00", "{v}");
    let metrics = request(s.port, "GET", "/metrics", &[], b"").body;
    assert!(metrics.contains("uketsuke_config_reload_refused 0"), "{metrics}");
}

// ---- Hardening: the form is not a spam relay, no pre-auth CPU burn, slow clients ----

/// A token for the intake page, as a browser gets it.
fn page_token(port: u16) -> String {
    token_of(&request(port, "GET", "/form", &[], b"").body)
}

/// `POST /form` as the page sends it: URL-encoded, with our own Origin.
fn page_post(port: u16, fields: &[(&str, &str)], headers: &[(&str, String)]) -> Response {
    let body = serde_urlencoded::to_string(fields).expect("encode");
    let mut all = vec![("Content-Type", "application/x-www-form-urlencoded".to_string())];
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("origin") || k.eq_ignore_ascii_case("referer")) {
        all.push(("Origin", format!("http://127.0.0.1:{port}")));
    }
    all.extend(headers.iter().filter(|(_, v)| !v.is_empty()).cloned());
    request(port, "POST", "/form", &all, body.as_bytes())
}

fn count(s: &Server, sql: &str) -> i64 {
    let db = rusqlite::Connection::open(s.dir.join("cases.db")).expect("db");
    db.query_row(sql, [], |r| r.get(0)).expect("count")
}

#[test]
fn signature_values_are_capped_and_read_before_the_body() {
    let s = server("sigcap", "three-priority", NOW, "");
    let t = unix(NOW);
    let body = report_json("yamada@acme.example.jp", "").replace("The CSV export fails", &"x".repeat(19_000));
    let bogus = format!(",v1={}", "ab".repeat(32));
    // A thousand made-up values (each a well-formed HMAC) are refused unread, not checked.
    let header = format!("t={t}{}", bogus.repeat(1000));
    let headers = [("Content-Type", "application/json".to_string()), ("Uketsuke-Signature", header)];
    let r = request(s.port, "POST", "/v1/reports", &headers, body.as_bytes());
    assert_eq!(
        (r.status, r.json()["type"].as_str()),
        (401, Some("urn:uketsuke:problem:signature-malformed")),
        "{}",
        r.body
    );
    // Up to four values, one of them good (a site signing with old and new keys), is fine.
    let good = sign(KEY_NEW.as_bytes(), t, body.as_bytes());
    let four = format!("{good}{}", bogus.repeat(3));
    let headers = [("Content-Type", "application/json".to_string()), ("Uketsuke-Signature", four)];
    assert_eq!(request(s.port, "POST", "/v1/reports", &headers, body.as_bytes()).status, 201);
    let five = format!("{good}{}", bogus.repeat(4));
    let headers = [("Content-Type", "application/json".to_string()), ("Uketsuke-Signature", five)];
    assert_eq!(request(s.port, "POST", "/v1/reports", &headers, body.as_bytes()).status, 401);
    assert_eq!(count(&s, "SELECT count(*) FROM cases"), 1);
}

#[test]
fn a_reply_goes_to_one_bare_address_and_its_rate_counts_that_address() {
    let s = server("relay", "three-priority", NOW, "");
    let t = unix(NOW);
    for email in [
        "\"n0\"<victim@evil.example>",
        "Victim <victim@evil.example>",
        "a@evil.example, b@evil.example",
        "victim@evil.example;x@evil.example",
        "victim",
    ] {
        let body = report_json(&email.replace('"', "\\\""), "");
        let r = signed(s.port, &body, KEY_NEW, t, &[]);
        assert_eq!(r.status, 400, "{email}: {}", r.body);
        let v = r.json();
        assert!(v["errors"].as_array().unwrap().iter().any(|e| e["field"] == "email"), "{email}: {v}");
    }
    // One victim in eight spellings is one recipient: the acknowledgment rate (5 an hour) holds.
    for (i, email) in [
        "victim@evil.example",
        "Victim@evil.example",
        "VICTIM@EVIL.EXAMPLE",
        " victim@Evil.Example",
        "victim@evil.EXAMPLE",
        "vIctim@evil.example",
        "victiM@evil.example",
        "victim@eviL.example",
    ]
    .iter()
    .enumerate()
    {
        let body = report_json(email, "").replace("CSV export fails", &format!("CSV export fails {i}"));
        assert_eq!(signed(s.port, &body, KEY_NEW, t, &[]).status, 201, "{email}");
    }
    assert_eq!(count(&s, "SELECT count(DISTINCT recipient) FROM outbox WHERE kind = 'ack'"), 1);
    assert_eq!(count(&s, "SELECT count(*) FROM outbox WHERE kind = 'ack' AND recipient = 'victim@evil.example'"), 5);
    assert_eq!(count(&s, "SELECT count(*) FROM cases"), 8, "every report is still recorded");
}

#[test]
fn idempotency_keys_of_the_page_and_the_webhook_never_meet_and_a_reused_key_is_a_conflict() {
    let s = server("idem", "three-priority", NOW, "");
    let t = unix(NOW);
    // A page user claims a key a partner will use.
    let token = page_token(s.port);
    let r = page_post(
        s.port,
        &[
            ("token", &token),
            ("email", "kato@sakura-logi.example.jp"),
            ("description", "ログインできません"),
            ("idempotency_key", "order-7"),
        ],
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    // The partner's real report with that key is a new case, not the page user's.
    let partner = report_json("yamada@acme.example.jp", r#","idempotency_key":"order-7""#);
    let v = signed(s.port, &partner, KEY_NEW, t, &[]).json();
    assert_eq!((v["case"].as_str(), v["duplicate"].as_bool()), (Some("CASE-2026-000002"), Some(false)), "{v}");
    // A retry is the same case; another report under the same key is refused.
    let v = signed(s.port, &partner, KEY_NEW, t, &[]).json();
    assert_eq!((v["case"].as_str(), v["duplicate"].as_bool()), (Some("CASE-2026-000002"), Some(true)), "{v}");
    let other = partner.replace("CSV export fails", "Login fails");
    let r = signed(s.port, &other, KEY_NEW, t, &[]);
    assert_eq!(
        (r.status, r.json()["type"].as_str()),
        (409, Some("urn:uketsuke:problem:idempotency-key-reused")),
        "{}",
        r.body
    );
    // The page's own retry with another body under its key: refused too.
    let r = page_post(
        s.port,
        &[
            ("token", &token),
            ("email", "kato@sakura-logi.example.jp"),
            ("description", "別の内容"),
            ("idempotency_key", "order-7"),
        ],
        &[],
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(count(&s, "SELECT count(*) FROM cases"), 2);
}

#[test]
fn a_replayed_signed_request_is_the_same_submission() {
    let s = server("replay", "three-priority", NOW, "");
    let t = unix(NOW);
    let body = report_json("yamada@acme.example.jp", "");
    let header = sign(KEY_NEW.as_bytes(), t, body.as_bytes());
    let send = |header: String| {
        request(
            s.port,
            "POST",
            "/v1/reports",
            &[("Content-Type", "application/json".into()), ("Uketsuke-Signature", header)],
            body.as_bytes(),
        )
    };
    let first = send(header.clone()).json();
    assert_eq!(first["duplicate"], false);
    // A minute later, still inside the 300 s window: the replay is received at another time,
    // so only the signature can tell it is the same request.
    std::fs::write(s.dir.join("clock"), "2026-11-25T11:01:00+09:00").expect("clock");
    // The same bytes again inside the window, and again with a made-up value added.
    for replay in [header.clone(), format!("{header},v1={}", "cd".repeat(32))] {
        let v = send(replay).json();
        assert_eq!((v["case"].clone(), v["duplicate"].as_bool()), (first["case"].clone(), Some(true)), "{v}");
    }
    assert_eq!(count(&s, "SELECT count(*) FROM cases"), 1);
    assert_eq!(count(&s, "SELECT count(*) FROM outbox WHERE kind = 'ack'"), 1);
}

#[test]
fn rate_limits_behind_a_trusted_proxy_and_no_customer_lockout_from_the_page() {
    let extra = "trusted_proxies = [\"127.0.0.1\"]\nrate_per_address_per_hour = 2\nrate_per_customer_per_hour = 2";
    let s = server("proxy", "three-priority", NOW, extra);
    let token = page_token(s.port);
    let report = |n: usize, xff: &str| {
        let subject = format!("ログインできません {n}");
        page_post(
            s.port,
            &[
                ("token", &token),
                ("email", "yamada@acme.example.jp"),
                ("customer_id", "ACME-0012"),
                ("subject", &subject),
                ("description", "エラーになります"),
            ],
            &[("X-Forwarded-For", xff.to_string())],
        )
        .status
    };
    // Each client behind the proxy has its own bucket: the proxy's address is not the client.
    assert_eq!([report(1, "203.0.113.1"), report(2, "203.0.113.1"), report(3, "203.0.113.1")], [200, 200, 429]);
    assert_eq!(report(4, "203.0.113.2"), 200);
    // The client's own claim in front of the proxy's is ignored: the nearest untrusted address counts.
    assert_eq!(report(5, "198.51.100.9, 203.0.113.1"), 429);
    // Four page reports named ACME (over its share of 2), and its partner's signed report still goes in.
    let t = unix(NOW);
    let v = signed(
        s.port,
        &report_json("yamada@acme.example.jp", ""),
        KEY_NEW,
        t,
        &[("X-Forwarded-For", "192.0.2.50".into())],
    );
    assert_eq!(v.status, 201, "{}", v.body);

    // Without trusted proxies the header is the client's word, and ignored.
    let s = server("noproxy", "three-priority", NOW, "rate_per_address_per_hour = 2");
    let token = page_token(s.port);
    let statuses: Vec<u16> = ["203.0.113.1", "203.0.113.2", "203.0.113.3"]
        .iter()
        .enumerate()
        .map(|(n, xff)| {
            let subject = format!("件名 {n}");
            page_post(
                s.port,
                &[
                    ("token", &token),
                    ("email", "kato@sakura-logi.example.jp"),
                    ("subject", &subject),
                    ("description", "x"),
                ],
                &[("X-Forwarded-For", xff.to_string())],
            )
            .status
        })
        .collect();
    assert_eq!(statuses, [200, 200, 429]);
}

#[test]
fn a_page_report_pages_on_call_only_once_the_reporter_confirms() {
    // Saturday 03:00: high is handled 24 hours a day.
    let night = "2026-11-28T03:00:00+09:00";
    let s = server("confirm", "three-priority", night, "");
    let token = page_token(s.port);
    let r = page_post(
        s.port,
        &[
            ("token", &token),
            ("email", "yamada@acme.example.jp"),
            ("priority", "high"),
            ("subject", "全員がログインできません"),
            ("description", "サービス停止しています"),
        ],
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let state = |number: &str| {
        let db = rusqlite::Connection::open(s.dir.join("cases.db")).expect("db");
        db.query_row("SELECT state, awaiting_confirmation FROM cases WHERE number = ?1", [number], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })
        .expect("case")
    };
    assert_eq!(state("CASE-2026-000001"), ("held".to_string(), 1));
    assert_eq!(count(&s, "SELECT count(*) FROM outbox WHERE kind = 'oncall'"), 0, "nobody is paged on a typed address");
    // The same report from a partner's signed form pages at once.
    let signed_high = report_json("yamada@acme.example.jp", "").replace("\"medium\"", "\"high\"");
    let v = signed(s.port, &signed_high, KEY_NEW, unix(night), &[]).json();
    assert_eq!(v["action"], "escalate", "{v}");
    assert_eq!(count(&s, "SELECT count(*) FROM outbox WHERE kind = 'oncall'"), 1);

    // A reply by mail from another address confirms nothing; one from the address given does.
    let ingest = |from: &str, id: &str| {
        let mail = format!(
            "From: {from}\r\nTo: support@uketsuke.example.jp\r\nSubject: Re: [CASE-2026-000001] 全員がログインできません\r\nMessage-ID: <{id}>\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n緊急です。対応をお願いします。\r\n"
        );
        let file = s.dir.join(format!("{id}.eml"));
        std::fs::write(&file, mail).expect("mail");
        let out = Command::new(env!("CARGO_BIN_EXE_uketsuke"))
            .args([
                "ingest",
                "--config",
                s.dir.join("uketsuke.toml").to_str().unwrap(),
                "--at",
                "2026-11-28T03:20:00+09:00",
                file.to_str().unwrap(),
            ])
            .output()
            .expect("ingest");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    ingest("someone@acme.example.jp", "other@acme.example.jp");
    assert_eq!(state("CASE-2026-000001"), ("held".to_string(), 1));
    ingest("yamada@acme.example.jp", "confirm@acme.example.jp");
    assert_eq!(state("CASE-2026-000001"), ("escalated".to_string(), 0));
    assert_eq!(count(&s, "SELECT count(*) FROM outbox WHERE kind = 'oncall'"), 2);
    // The acknowledgment of the held report told the reporter how to confirm.
    let body: String = rusqlite::Connection::open(s.dir.join("cases.db"))
        .unwrap()
        .query_row("SELECT reasons FROM cases WHERE number = 'CASE-2026-000001'", [], |r| r.get(0))
        .unwrap();
    assert!(body.contains("confirms by replying"), "{body}");
}

#[test]
fn slow_clients_are_cut_off_and_an_announced_oversized_body_is_refused_unread() {
    let s = server(
        "slow",
        "three-priority",
        NOW,
        "header_timeout_seconds = 1\nrequest_timeout_seconds = 2\nmax_connections = 8",
    );
    let closed_within = |stream: &mut TcpStream, limit: Duration| {
        stream.set_read_timeout(Some(limit)).unwrap();
        let started = Instant::now();
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(_) => return started.elapsed() < limit,
            }
        }
    };
    // A request head that never ends.
    let mut head = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    head.write_all(b"POST /v1/reports HTTP/1.1\r\nHost: x\r\n").unwrap();
    // A body trickled a few bytes at a time.
    let mut trickle = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    trickle.write_all(b"POST /v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{").unwrap();
    let writer = {
        let mut w = trickle.try_clone().unwrap();
        std::thread::spawn(move || {
            for _ in 0..20 {
                if w.write_all(b"  ").is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        })
    };
    // Idle connections beyond the limit do not keep others out for long.
    let idle: Vec<TcpStream> = (0..8).map(|_| TcpStream::connect(("127.0.0.1", s.port)).unwrap()).collect();
    assert!(closed_within(&mut head, Duration::from_secs(6)), "an unfinished head was not cut off");
    assert!(closed_within(&mut trickle, Duration::from_secs(6)), "a trickled body was not cut off");
    writer.join().unwrap();
    assert_eq!(request(s.port, "GET", "/healthz", &[], b"").status, 200);
    drop(idle);
    // Announced larger than max_body_bytes (200000): 413 as problem+json, the body never sent.
    let mut big = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    big.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    big.write_all(b"POST /v1/reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9500000\r\nUketsuke-Signature: t=1,v1=00\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let _ = big.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-type: application/problem+json"), "{answer}");
    assert!(answer.contains("body-too-large"), "{answer}");
    SEEN.lock().unwrap().entry(("post".into(), "/v1/reports".into())).or_default().insert(413);
}

#[test]
fn the_page_refuses_posts_from_elsewhere_and_sends_its_safety_headers() {
    let s = server("csrf", "three-priority", NOW, "");
    let page = request(s.port, "GET", "/form", &[], b"");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("referrer-policy"), Some("same-origin"));
    assert!(
        page.header("content-security-policy").is_some_and(|c| c.contains("form-action 'self'")),
        "{:?}",
        page.headers
    );
    let token = token_of(&page.body);
    let fields =
        [("token", token.as_str()), ("email", "kato@sakura-logi.example.jp"), ("description", "ログインできません")];
    let ours = format!("http://127.0.0.1:{}/form", s.port);
    // (Origin, Referer) -> status
    let rows: [(&str, &str, u16); 6] = [
        ("null", "", 403),
        ("", "", 403),
        ("https://evil.example", "", 403),
        ("", "https://evil.example/form", 403),
        ("", &ours, 200),
        (&ours[..ours.len() - 5], "", 200),
    ];
    for (origin, referer, status) in rows {
        let mut headers = vec![("Origin", origin.to_string()), ("Referer", referer.to_string())];
        if origin.is_empty() && referer.is_empty() {
            // Neither header at all.
            headers = vec![("Referer", String::new())];
            let body = serde_urlencoded::to_string(fields).unwrap();
            let r = request(
                s.port,
                "POST",
                "/form",
                &[("Content-Type", "application/x-www-form-urlencoded".into())],
                body.as_bytes(),
            );
            assert_eq!(r.status, status, "no Origin, no Referer");
            continue;
        }
        headers.retain(|(_, v)| !v.is_empty());
        let description = format!("ログインできません（{origin} {referer}）");
        let fields = [fields[0], fields[1], ("description", description.as_str())];
        let r = page_post(s.port, &fields, &headers);
        assert_eq!(r.status, status, "Origin {origin:?} Referer {referer:?}: {}", r.body);
    }
    assert_eq!(count(&s, "SELECT count(*) FROM cases"), 2);
    // Every answer, JSON included, is not to be sniffed.
    let r = request(s.port, "POST", "/v1/reports", &[("Content-Type", "application/json".into())], b"{}");
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
}

#[test]
fn an_empty_or_short_signing_secret_is_a_configuration_error() {
    let dir = TestDir::new("http-secret");
    copy_shipped_config(&dir);
    std::fs::write(dir.join("empty-key"), "\n").unwrap();
    std::fs::write(dir.join("short-key"), "secret").unwrap();
    std::fs::write(
        dir.join("uketsuke.toml"),
        "[http]\nenabled = true\nlisten = \"127.0.0.1:0\"\nsigning_secret_files = [\"empty-key\", \"short-key\", \"missing-key\"]\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_uketsuke"))
        .args(["check-config", dir.join("uketsuke.toml").to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("empty-key is empty"), "{err}");
    assert!(err.contains("short-key is shorter than 16 characters"), "{err}");
    assert!(err.contains("cannot read the signing secret file") && err.contains("missing-key"), "{err}");
    assert!(!err.contains("secret\n") && !err.contains(": secret"), "the secret itself is never printed: {err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn openapi_documents_every_route_and_every_status_seen() {
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json")).expect("openapi.json"),
    )
    .expect("JSON");
    let paths = doc["paths"].as_object().expect("paths");
    let documented: BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|(p, ops)| ops.as_object().unwrap().keys().map(move |m| (m.clone(), p.clone())))
        .collect();
    let served: BTreeSet<(String, String)> =
        uketsuke::http::ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(documented, served, "openapi.json and the router differ");
    // Let the other tests of this binary finish, then compare what they saw.
    let s = server("openapi", "three-priority", NOW, "");
    request(s.port, "GET", "/form", &[], b"");
    request(s.port, "GET", "/metrics", &[], b"");
    request(s.port, "GET", "/healthz", &[], b"");
    std::thread::sleep(Duration::from_secs(3));
    for ((method, path), statuses) in SEEN.lock().unwrap().iter() {
        let responses = &paths[path][method]["responses"];
        for status in statuses {
            assert!(
                responses.get(status.to_string()).is_some(),
                "{method} {path} answered {status}, which openapi.json does not document"
            );
        }
    }
}
