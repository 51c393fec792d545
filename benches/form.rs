//! Load on the webhook: signed JSON submissions to `POST /v1/reports` of a running
//! `uketsuke run` (release build), over loopback, with durable commits (each recorded report
//! is on disk before its 201). A Rust load generator: C connections in threads, each sending
//! its share of N requests one after another on fresh connections.
//!
//! Run with `cargo bench --bench form` (it builds nothing itself: run `cargo build --release`
//! first). Knobs: UKETSUKE_BENCH_REQUESTS (default 5000), UKETSUKE_BENCH_CONCURRENCY
//! (default 8). Prints requests/s, latency percentiles and the daemon's peak memory.

#[path = "../tests/common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use uketsuke::http::signature::sign;

fn main() {
    let n: usize = std::env::var("UKETSUKE_BENCH_REQUESTS").ok().and_then(|v| v.parse().ok()).unwrap_or(5000);
    let c: usize = std::env::var("UKETSUKE_BENCH_CONCURRENCY").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = repo.join("target/release/uketsuke");
    assert!(bin.exists(), "build the daemon first: cargo build --release");
    let dir = common::TestDir::new("bench-form");
    common::copy_shipped_config(&dir);
    std::fs::write(dir.join("key"), "bench-form-signing-secret").expect("key");
    let port = common::free_port();
    std::fs::write(
        dir.join("uketsuke.toml"),
        format!(
            "[policy]\nprofile = \"three-priority\"\n[files]\ntemplates = \"{}\"\n[mail]\nsupport_address = \"support@uketsuke.example.jp\"\nmessage_id_domain = \"uketsuke.example.jp\"\nteam_address = \"team@uketsuke.example.jp\"\noncall_address = \"oncall@uketsuke.example.jp\"\nack_rate_per_hour = 10000\n[store]\npath = \"{}\"\n[http]\nenabled = true\nlisten = \"127.0.0.1:{port}\"\nsigning_secret_files = [\"key\"]\nrate_per_address_per_hour = 1000000\nrate_per_customer_per_hour = 1000000\n",
            repo.join("templates").display(),
            dir.join("cases.db").display()
        ),
    )
    .expect("config");
    // Killed if the bench panics; dropped before the folder it uses.
    let mut daemon = common::ChildGuard::new(
        Command::new(&bin)
            .args(["run", "--config", dir.join("uketsuke.toml").to_str().unwrap()])
            .env("UKETSUKE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("uketsuke run"),
    );
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(started.elapsed() < Duration::from_secs(20), "the listener did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
    let per = n / c;
    let wall = Instant::now();
    let handles: Vec<_> = (0..c)
        .map(|worker| {
            std::thread::spawn(move || {
                let mut latencies = Vec::with_capacity(per);
                let mut failures = 0;
                for i in 0..per {
                    let body = format!(
                        r#"{{"email":"bench{worker}-{i}@example.net","customer_id":"ACME-0012","priority":"medium","subject":"Export fails {worker}-{i}","description":"CSV の出力に失敗します。期待: ファイルが保存される。","repro_steps":"1. 開く\n2. 出力","error_messages":"HTTP 500 Internal Server Error","circumstances":"本日から"}}"#
                    );
                    let t = chrono::Utc::now().timestamp();
                    let signature = sign(b"bench-form-signing-secret", t, body.as_bytes());
                    let request = format!("POST /v1/reports HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nUketsuke-Signature: {signature}\r\nContent-Length: {}\r\n\r\n{body}", body.len());
                    let sent = Instant::now();
                    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
                    stream.write_all(request.as_bytes()).expect("write");
                    let mut response = Vec::new();
                    let _ = stream.read_to_end(&mut response);
                    latencies.push(sent.elapsed());
                    if !response.starts_with(b"HTTP/1.1 201") {
                        failures += 1;
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failures = 0;
    for h in handles {
        let (l, f) = h.join().expect("worker");
        latencies.extend(l);
        failures += f;
    }
    let elapsed = wall.elapsed().as_secs_f64();
    latencies.sort();
    let pct =
        |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)].as_secs_f64() * 1000.0;
    let hwm = std::fs::read_to_string(format!("/proc/{}/status", daemon.id()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0);
    let _ = Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status();
    let _ = daemon.wait();
    let db = rusqlite::Connection::open(dir.join("cases.db")).expect("db");
    let recorded: i64 = db.query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).expect("count");
    println!(
        "signed JSON submissions: {} requests, {c} concurrent connections, new connection per request",
        latencies.len()
    );
    println!("  throughput   {:.0} requests/s ({:.2} s)", latencies.len() as f64 / elapsed, elapsed);
    println!("  latency ms   p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}", pct(0.50), pct(0.90), pct(0.99), pct(1.0));
    println!("  failures     {failures}; recorded in the store: {recorded}");
    println!("  daemon peak resident memory (VmHWM): {:.1} MiB", hwm / 1024.0);
}
