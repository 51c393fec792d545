//! Throughput of `ingest`'s code path, in process: 10,000 messages understood, decided and
//! recorded in a real SQLite file (WAL, synchronous=FULL, one fsync per committed batch).
//!
//! Run with `cargo bench --bench ingest`. It prints messages/s and MB/s per batch size and
//! the peak resident memory of the process (VmHWM). Knobs: `UKETSUKE_BENCH_MESSAGES`
//! (default 10000), `UKETSUKE_BENCH_BATCHES` (default "1,16,256"; batch size 1 runs on at most
//! 1,000 messages, it is the fsync-per-message baseline).

use chrono::{DateTime, Utc};
use std::path::Path;
use std::time::Instant;
use uketsuke::config::{Config, Overrides};
use uketsuke::decide::Calendars;
use uketsuke::record::{self, SqliteStore, Store};
use uketsuke::understand::Channel;

fn corpus() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/mail");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "eml"))
        .collect();
    files.sort();
    files.into_iter().map(|p| std::fs::read(p).expect("read")).collect()
}

/// `n` distinct messages: corpus messages with a fresh Message-ID each.
fn messages(n: usize) -> Vec<Vec<u8>> {
    let base = corpus();
    (0..n)
        .map(|i| {
            let src = &base[i % base.len()];
            let mut out = format!("Message-ID: <bench-{i}@bench.example.jp>\r\n").into_bytes();
            // Drop the original Message-ID line so the new one is the only one.
            let mut rest: &[u8] = src;
            let mut kept = Vec::with_capacity(src.len());
            while let Some(pos) = rest.iter().position(|b| *b == b'\n') {
                let line = &rest[..=pos];
                rest = &rest[pos + 1..];
                if line.is_empty() || line == b"\r\n" || line == b"\n" {
                    kept.extend_from_slice(line);
                    break;
                }
                if !line.to_ascii_lowercase().starts_with(b"message-id:") {
                    kept.extend_from_slice(line);
                }
            }
            kept.extend_from_slice(rest);
            out.extend_from_slice(&kept);
            out
        })
        .collect()
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let n: usize = std::env::var("UKETSUKE_BENCH_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let batches: Vec<usize> = std::env::var("UKETSUKE_BENCH_BATCHES")
        .unwrap_or_else(|_| "1,16,256".into())
        .split(',')
        .filter_map(|b| b.trim().parse().ok())
        .collect();
    let mut config = Config::load(None, &Overrides::default()).expect("config");
    // Every message gets its acknowledgment enqueued: the bench measures the full write.
    config.mail.ack_rate_per_hour = u32::MAX;
    let calendars = Calendars::new(&config.policy);
    let all = messages(n);
    let bytes: usize = all.iter().map(Vec::len).sum();
    let received: DateTime<Utc> =
        DateTime::parse_from_rfc3339("2026-11-25T11:00:00+09:00").unwrap().with_timezone(&Utc);
    let dir = std::env::temp_dir().join(format!("uketsuke-bench-ingest-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    println!(
        "ingest path: {n} messages, {:.1} MB, SQLite WAL synchronous=FULL on {}",
        bytes as f64 / 1e6,
        dir.display()
    );
    println!("{:>6} {:>9} {:>12} {:>9} {:>10} {:>10}", "batch", "messages", "seconds", "msg/s", "MB/s", "commits");
    for batch in batches {
        let count = if batch == 1 { n.min(1000) } else { n };
        let msgs = &all[..count];
        let db = dir.join(format!("batch-{batch}.db"));
        let mut store = SqliteStore::open(&db).expect("open");
        let started = Instant::now();
        let mut commits = 0;
        for chunk in msgs.chunks(batch) {
            let prepared: Vec<_> = chunk
                .iter()
                .map(|m| record::prepare(m.clone(), Channel::Mail, Some(received), received, &config, &calendars))
                .collect();
            let now = Utc::now();
            store
                .write(|tx| {
                    prepared
                        .iter()
                        .map(|p| record::record(tx, p, &config, &calendars, now))
                        .collect::<record::Result<Vec<_>>>()
                })
                .expect("recorded");
            commits += 1;
        }
        let secs = started.elapsed().as_secs_f64();
        let (m, _, _) = store.counts().expect("counts");
        assert_eq!(m as usize, count, "every message recorded once");
        let mb: usize = msgs.iter().map(Vec::len).sum();
        println!(
            "{batch:>6} {count:>9} {secs:>12.3} {:>9.0} {:>10.2} {commits:>10}",
            count as f64 / secs,
            mb as f64 / 1e6 / secs
        );
    }
    println!("peak resident memory (VmHWM): {:.1} MiB", peak_rss_kib() as f64 / 1024.0);
    let _ = std::fs::remove_dir_all(&dir);
}
