//! The intake page as a customer uses it: Debian's Chromium, driven headless through
//! chromedriver (WebDriver), fills the form in Japanese and submits it; the page shows the
//! case number, and the acknowledgment arrives in the customer's mailbox on the private test
//! mail server. Chromium, chromedriver, Dovecot and Postfix are installed by the test command.

mod common;

use common::mail::MailStack;
use common::{ChildGuard, copy_shipped_config, die_with_test, free_port, repo};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One WebDriver command: JSON in, JSON `value` out.
fn webdriver(port: u16, method: &str, path: &str, body: Option<serde_json::Value>) -> serde_json::Value {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("chromedriver");
    stream.set_read_timeout(Some(Duration::from_secs(60))).ok();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).and_then(|_| stream.write_all(body.as_bytes())).expect("write");
    // chromedriver keeps the connection open: read the head, then exactly the body.
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let (head, body_start) = loop {
        let n = stream.read(&mut buf).expect("read");
        assert!(n > 0, "chromedriver closed the connection");
        raw.extend_from_slice(&buf[..n]);
        if let Some(pos) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break (String::from_utf8_lossy(&raw[..pos]).to_ascii_lowercase(), pos + 4);
        }
    };
    let chunked = head.contains("transfer-encoding: chunked");
    let length =
        head.lines().find_map(|l| l.strip_prefix("content-length:").and_then(|v| v.trim().parse::<usize>().ok()));
    loop {
        let have = raw.len() - body_start;
        let done = match length {
            Some(len) => have >= len,
            None if chunked => raw.ends_with(b"0\r\n\r\n"),
            None => false,
        };
        if done {
            break;
        }
        let n = stream.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let rest = String::from_utf8_lossy(&raw[body_start..]).into_owned();
    let text = format!("{head}\n{rest}");
    let json = if chunked { dechunk(&rest) } else { rest.clone() };
    let v: serde_json::Value =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("WebDriver {method} {path}: {e}: {text}"));
    assert!(v["value"].get("error").is_none(), "WebDriver {method} {path} failed: {v}");
    v["value"].clone()
}

fn dechunk(body: &str) -> String {
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&after[..n.min(after.len())]);
        rest = after.get(n + 2..).unwrap_or("");
    }
    out
}

fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let started = Instant::now();
    while !f() {
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_customer_fills_the_page_in_japanese_and_gets_the_acknowledgment() {
    let chromedriver = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("chromedriver (Debian's chromium-driver; scripts/test installs it)");
    // The mail stack, for the acknowledgment; stopped and removed when the test ends.
    let stack = MailStack::new("browser");
    let dir = stack.dir.clone();
    // uketsuke with the HTTP listener and SMTP (no IMAP intake needed).
    copy_shipped_config(&dir.join("config"));
    let http_port = free_port();
    let config = format!(
        "[policy]\nprofile = \"three-priority\"\n[files]\ntemplates = \"{}\"\n[mail]\nsupport_address = \"support@uketsuke.example.jp\"\nmessage_id_domain = \"uketsuke.example.jp\"\nteam_address = \"team@uketsuke.example.jp\"\noncall_address = \"oncall@uketsuke.example.jp\"\n[store]\npath = \"{}\"\n[smtp]\nenabled = true\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"starttls\"\nca_file = \"{}\"\n[http]\nenabled = true\nlisten = \"127.0.0.1:{http_port}\"\n",
        repo().join("templates").display(),
        dir.join("cases.db").display(),
        stack.smtp,
        stack.ca.display()
    );
    std::fs::write(dir.join("config/uketsuke.toml"), config).expect("config");
    let log = std::fs::File::create(dir.join("daemon.log")).expect("log");
    // Dropped (killed) before the stack, whose folder they use.
    let _daemon = ChildGuard::new(
        die_with_test(&mut Command::new(env!("CARGO_BIN_EXE_uketsuke")))
            .args(["run", "--config", dir.join("config/uketsuke.toml").to_str().unwrap()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("uketsuke run"),
    );
    wait_until("the HTTP listener", Duration::from_secs(20), || TcpStream::connect(("127.0.0.1", http_port)).is_ok());
    // chromedriver and a headless Chromium, in a process group of their own so that a failing
    // test kills the browser with the driver; their temporary files go in the test's folder.
    let driver_port = free_port();
    std::fs::create_dir_all(dir.join("tmp")).expect("mkdir");
    let _driver = ChildGuard::group(
        die_with_test(&mut Command::new(chromedriver))
            .arg(format!("--port={driver_port}"))
            .env("TMPDIR", dir.join("tmp"))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver"),
    );
    wait_until("chromedriver", Duration::from_secs(20), || TcpStream::connect(("127.0.0.1", driver_port)).is_ok());
    let profile = dir.join("chromium-profile");
    let session = webdriver(
        driver_port,
        "POST",
        "/session",
        Some(serde_json::json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--lang=ja",
                     format!("--user-data-dir={}", profile.display())],
            "prefs": {"intl.accept_languages": "ja"}
        }}}})),
    );
    let id = session["sessionId"].as_str().expect("session id").to_string();
    let base = format!("/session/{id}");
    let find = |css: &str| -> String {
        webdriver(
            driver_port,
            "POST",
            &format!("{base}/element"),
            Some(serde_json::json!({"using": "css selector", "value": css})),
        )[ELEMENT]
            .as_str()
            .expect("element")
            .to_string()
    };
    let fill = |css: &str, text: &str| {
        let e = find(css);
        webdriver(driver_port, "POST", &format!("{base}/element/{e}/value"), Some(serde_json::json!({"text": text})));
    };
    webdriver(
        driver_port,
        "POST",
        &format!("{base}/url"),
        Some(serde_json::json!({"url": format!("http://127.0.0.1:{http_port}/form")})),
    );
    let title = webdriver(driver_port, "GET", &format!("{base}/title"), None);
    assert_eq!(title, "サポートへのお問い合わせ", "the page is in Japanese for a Japanese browser");
    let customer = "kato@sakura-logi.example.jp";
    fill("#customer_id", "ＳＡＫＵＲＡ－０３０１");
    fill("#name", "加藤 花子");
    fill("#email", customer);
    fill("#subject", "出荷指示書が印刷できません");
    fill("#description", "出荷指示書の印刷ボタンを押しても何も起きません。PDFが表示されることを期待しています。");
    fill("#repro_steps", "1. 出荷管理を開く\n2. 印刷ボタンを押す");
    fill("#error_messages", "「印刷データの作成に失敗しました（E-2201）」");
    fill("#circumstances", "昨日の夕方から、全拠点で発生しています。");
    let submit = find("#submit");
    webdriver(driver_port, "POST", &format!("{base}/element/{submit}/click"), Some(serde_json::json!({})));
    let mut case = String::new();
    wait_until("the confirmation page", Duration::from_secs(20), || {
        let found = webdriver(
            driver_port,
            "POST",
            &format!("{base}/elements"),
            Some(serde_json::json!({"using": "css selector", "value": "#case-number"})),
        );
        if let Some(e) = found.as_array().and_then(|a| a.first()).and_then(|e| e[ELEMENT].as_str()) {
            case = webdriver(driver_port, "GET", &format!("{base}/element/{e}/text"), None)
                .as_str()
                .unwrap_or("")
                .to_string();
        }
        !case.is_empty()
    });
    assert!(case.starts_with("CASE-") && case.len() == 16, "{case}");
    let next = find("#next");
    let next = webdriver(driver_port, "GET", &format!("{base}/element/{next}/text"), None);
    assert!(
        next.as_str().unwrap_or("").contains("初回回答の目標時刻")
            || next.as_str().unwrap_or("").contains("対応を開始いたします"),
        "{next}"
    );
    webdriver(driver_port, "DELETE", &base, None);
    // The acknowledgment, over IMAPS on the test server, quotes the case number.
    let python = format!(
        "import imaplib, ssl, email, email.header, time\nfor _ in range(100):\n    m = imaplib.IMAP4_SSL('localhost', {imaps}, ssl_context=ssl.create_default_context(cafile='{ca}'))\n    m.login('{customer}', 'secret'); m.select('INBOX', readonly=True)\n    _, d = m.search(None, 'ALL')\n    if d[0].split():\n        _, msg = m.fetch(d[0].split()[0], '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')\n        print(str(email.header.make_header(email.header.decode_header(email.message_from_bytes(msg[0][1])['Subject'])))); break\n    m.logout(); time.sleep(0.2)\n",
        ca = stack.ca.display(),
        imaps = stack.imaps,
    );
    let out = Command::new("python3").args(["-c", &python]).output().expect("python3");
    let subject = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(subject, format!("[{case}] Re: 出荷指示書が印刷できません"), "{}", String::from_utf8_lossy(&out.stderr));
}
