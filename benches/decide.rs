//! Cost of one decision at receipt, across a year of receipt times, for both shipped profiles.
//!
//! Run with `cargo bench --bench decide` (a `harness = false` bench: plain `fn main`, timed
//! with `std::time::Instant`, no criterion).
//!
//! About 20 varied reports are built once: two written inline here and understood, a few
//! corpus files (`tests/corpus/mail`, when present), and variants of them that reach every
//! row of the decision table (machine mail, unauthorized and suspended senders, follow-ups,
//! enhancement requests, missing items, declared priorities, keywords, 24-hour eligibility).
//! Each is then decided at every 17th minute of 2026 (Japan time, 1 Jan 00:00 to 1 Jan 2027
//! 00:00: weekends, national holidays and both ends of the 12-29..01-03 closure included),
//! under `three-priority` (the default) and `four-severity`.
//!
//! Timing is batched: one `Instant` pair around 64 consecutive receipt times of one report;
//! the mean is over all decisions, p50/p99/max over the per-batch means. A second, per-call
//! pass breaks the cost down by action.
//!
//! Environment knobs: `UKETSUKE_BENCH_STEP_MIN` (minutes between receipt times, default 17),
//! `UKETSUKE_BENCH_BATCH` (default 64).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uketsuke::config::{Config, Overrides};
use uketsuke::decide::{Action, Calendars, decide};
use uketsuke::terms::Language;
use uketsuke::understand::{Report, Signal, understand_mail};

const JA_MAIL: &str = "Return-Path: <yamada@acme.example.jp>\r
Received: from mail.acme.example.jp (mail.acme.example.jp [192.0.2.10])\r
\tby mx1.uketsuke.example.jp (Postfix) with ESMTPS id 4F2A19C0D1\r
\tfor <support@uketsuke.example.jp>; Wed, 25 Nov 2026 10:15:03 +0900 (JST)\r
From: =?UTF-8?B?5bGx55SwIOWkqumDjg==?= <yamada@acme.example.jp>\r
To: support@uketsuke.example.jp\r
Subject: =?UTF-8?B?Q1NW5Ye65Yqb44GM6YCU5Lit44Gn5q2i44G+44KL?=\r
Date: Wed, 25 Nov 2026 10:15:00 +0900\r
Message-ID: <20261125101500.4F2A19C0D1@acme.example.jp>\r
MIME-Version: 1.0\r
Content-Type: text/plain; charset=UTF-8\r
Content-Transfer-Encoding: 8bit\r
\r
株式会社ウケツケ\r
サポートご担当者様\r
\r
いつもお世話になっております。株式会社アクメの山田です。\r
\r
【お客様番号】\r
ACME-0012\r
\r
【現象】\r
CSV出力を実行すると、約3万件の時点で処理が止まり、ファイルが途中までしか出力されません。\r
\r
【再現手順】\r
1. 管理画面にログインする\r
2. メニューから「データ出力」を選択する\r
3. 期間を2026年10月1日〜10月31日に指定して「CSV出力」を押す\r
\r
【エラーメッセージ】\r
ERR-4031 出力処理がタイムアウトしました\r
\r
【発生状況】\r
発生日時：2026年11月25日 9:30頃から\r
利用環境：Windows 11 / Microsoft Edge 130\r
\r
よろしくお願いいたします。\r
";

const EN_MAIL: &str = "Return-Path: <j.miller@globex.example.com>\r
Received: from mail-eopbgr40071.outbound.protection.outlook.example.com ([198.51.100.71])\r
\tby mx1.uketsuke.example.jp (Postfix) with ESMTPS id 77B01A2E44\r
\tfor <support@uketsuke.example.jp>; Wed, 25 Nov 2026 18:40:05 +0900 (JST)\r
From: John Miller <j.miller@globex.example.com>\r
To: support@uketsuke.example.jp\r
Subject: API returns 502 Bad Gateway intermittently\r
Date: Wed, 25 Nov 2026 09:40:00 +0000\r
Message-ID: <CAK3f9a1b2c3d4e5f60718293a4b5c6d7e8f@mail.gmail.example.com>\r
MIME-Version: 1.0\r
Content-Type: text/plain; charset=us-ascii\r
\r
Hello,\r
\r
Customer ID: GLOBEX-0042\r
\r
Description:\r
Roughly one in five API calls returns an error since this morning.\r
\r
Steps to reproduce:\r
1. Call POST /api/v2/orders with the attached payload\r
2. Repeat the call about 20 times\r
\r
Error message:\r
HTTP 502 Bad Gateway\r
\r
Environment: Ubuntu 24.04, Python 3.12, requests 2.32\r
\r
Best regards,\r
John Miller\r
";

fn understood(raw: &[u8], config: &Config, what: &str) -> Report {
    match understand_mail(raw, config) {
        Ok(r) => r,
        Err(e) => panic!("{what} is not understood: {e}"),
    }
}

/// The reports to decide: (label, report). Variants are made by changing the understood
/// report's public fields, so that every row of the decision table is reached.
fn reports(config: &Config) -> Vec<(String, Report)> {
    let ja = understood(JA_MAIL.as_bytes(), config, "the inline Japanese report");
    let en = understood(EN_MAIL.as_bytes(), config, "the inline English report");
    let mut out: Vec<(String, Report)> = Vec::new();
    let mut add = |label: &str, base: &Report, change: &dyn Fn(&mut Report)| {
        let mut r = base.clone();
        change(&mut r);
        out.push((label.to_string(), r));
    };
    add("ja complete, ACME gold", &ja, &|_| {});
    add("ja declared 高", &ja, &|r| r.declared_priority = Some("高".into()));
    add("ja declared low", &ja, &|r| r.declared_priority = Some("低".into()));
    add("ja keyword 本番環境が停止", &ja, &|r| {
        r.fields.description = Some("本番環境が停止しており、全拠点で受注登録ができません。".into())
    });
    add("ja keyword 誤字 (minor)", &ja, &|r| {
        r.fields.description = Some("画面の誤字です。影響は小さいです。".into())
    });
    add("ja customer inferred", &ja, &|r| r.customer_id = None);
    add("ja missing steps+errors", &ja, &|r| {
        r.fields.repro_steps = None;
        r.fields.error_messages.clear();
    });
    add("ja feature request", &ja, &|r| r.feature_request = true);
    add("ja follow-up [CASE]", &ja, &|r| r.case_ref = Some("CASE-2026-000123".into()));
    add("ja auto-reply (machine)", &ja, &|r| r.signals = vec![Signal::AutoSubmitted, Signal::XAutoResponseSuppress]);
    add("ja suspended INITECH", &ja, &|r| {
        r.from = Some("kobayashi@initech.example.jp".into());
        r.customer_id = Some("INITECH-0007".into());
    });
    add("ja stranger, unknown ID", &ja, &|r| {
        r.from = Some("someone@gmail.example.com".into());
        r.customer_id = Some("FOO-1234".into());
    });
    add("ja consultant, two customers", &ja, &|r| {
        r.from = Some("consultant@partner.example.net".into());
        r.customer_id = None;
    });
    add("ja consultant for NAMI", &ja, &|r| {
        r.from = Some("consultant@partner.example.net".into());
        r.customer_id = Some("NAMI-0777".into());
    });
    add("en complete, GLOBEX platinum", &en, &|_| {});
    add("en declared critical", &en, &|r| r.declared_priority = Some("critical".into()));
    add("en outage keyword", &en, &|r| {
        r.fields.description = Some("Production is down: outage for every tenant.".into())
    });
    add("en UMBRELLA gold, high", &en, &|r| {
        r.from = Some("it-desk@umbrella.example.com".into());
        r.customer_id = Some("UMBRELLA-0100".into());
        r.declared_priority = Some("high".into());
    });
    add("en from HOKUTO platinum (ja customer)", &en, &|r| {
        r.from = Some("ito@hokuto.example.jp".into());
        r.customer_id = Some("HOKUTO-0555".into());
        r.language = Language::En;
    });
    add("en bounce (machine)", &en, &|r| {
        r.from = Some("mailer-daemon@mx1.acme.example.jp".into());
        r.signals = vec![Signal::MailerDaemon, Signal::DeliveryReport, Signal::NullReturnPath];
    });

    // A few corpus files, as they are understood (sorted by name, every fifth).
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/mail");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "eml")).collect())
        .unwrap_or_default();
    files.sort();
    for path in files.iter().step_by(5).take(6) {
        let Ok(raw) = std::fs::read(path) else { continue };
        if let Ok(r) = understand_mail(&raw, config) {
            out.push((format!("corpus {}", path.file_stem().unwrap_or_default().to_string_lossy()), r));
        }
    }
    out
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

const ACTIONS: [Action; 8] = [
    Action::Ignore,
    Action::Reject,
    Action::Followup,
    Action::NotCovered,
    Action::AwaitInfo,
    Action::Dispatch,
    Action::Escalate,
    Action::Hold,
];

fn action_index(a: Action) -> usize {
    ACTIONS.iter().position(|x| *x == a).unwrap_or(0)
}

fn main() {
    let step = env_usize("UKETSUKE_BENCH_STEP_MIN", 17).max(1) as i64;
    let batch = env_usize("UKETSUKE_BENCH_BATCH", 64).max(1);
    let start: DateTime<Utc> = DateTime::parse_from_rfc3339("2026-01-01T00:00:00+09:00").unwrap().with_timezone(&Utc);
    let end: DateTime<Utc> = DateTime::parse_from_rfc3339("2027-01-01T00:00:00+09:00").unwrap().with_timezone(&Utc);
    let mut times = Vec::new();
    let mut t = start;
    while t < end {
        times.push(t);
        t += chrono::Duration::minutes(step);
    }

    println!("uketsuke decide bench");
    println!(
        "  machine   : {} logical CPUs, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    println!(
        "  receipts  : every {step} min from 2026-01-01T00:00+09:00 to 2027-01-01T00:00+09:00: {} times",
        times.len()
    );
    println!("  timing    : batches of {batch} consecutive times of one report; p50/p99/max over batch means");

    let profiles: [(&str, Overrides); 2] = [
        ("three-priority", Overrides::default()),
        ("four-severity", Overrides { profile: Some("four-severity".into()), ..Default::default() }),
    ];
    let mut summary = Vec::new();
    for (name, overrides) in &profiles {
        let config = match Config::load(None, overrides) {
            Ok(c) => c,
            Err(problems) => {
                for p in problems {
                    eprintln!("{p}");
                }
                panic!("the embedded configuration with profile {name} does not load");
            }
        };
        let t0 = Instant::now();
        let cal = Calendars::new(&config.policy);
        let cal_time = t0.elapsed();
        let reports = reports(&config);
        println!();
        println!(
            "  profile {name}: {} reports x {} times = {} decisions (Calendars::new took {:.1} µs)",
            reports.len(),
            times.len(),
            reports.len() * times.len(),
            cal_time.as_secs_f64() * 1e6
        );

        // Warm-up.
        for (_, r) in &reports {
            for &t in times.iter().step_by(97) {
                black_box(decide(r, &config.customers, &config.policy, &cal, t));
            }
        }

        // Batched timing.
        let mut batch_ns = Vec::with_capacity(reports.len() * times.len() / batch + reports.len());
        let mut counts = [0usize; 8];
        let mut total = Duration::ZERO;
        let mut decisions = 0usize;
        for (_, r) in &reports {
            for chunk in times.chunks(batch) {
                let t0 = Instant::now();
                for &t in chunk {
                    let d = decide(black_box(r), &config.customers, &config.policy, &cal, black_box(t));
                    counts[action_index(d.action)] += 1;
                    black_box(d);
                }
                let e = t0.elapsed();
                total += e;
                decisions += chunk.len();
                batch_ns.push(e.as_nanos() as f64 / chunk.len() as f64);
            }
        }
        batch_ns.sort_by(f64::total_cmp);
        let mean = total.as_nanos() as f64 / decisions as f64;
        let (p50, p99, max) = (percentile(&batch_ns, 0.5), percentile(&batch_ns, 0.99), batch_ns[batch_ns.len() - 1]);
        println!(
            "    batched : mean {:.0} ns ({:.2} µs) per decision; batch p50 {:.0} ns, p99 {:.0} ns, max {:.0} ns; {:.0} decisions/s; {:.2} s timed",
            mean,
            mean / 1e3,
            p50,
            p99,
            max,
            1e9 / mean,
            total.as_secs_f64()
        );
        let spread: Vec<String> =
            ACTIONS.iter().zip(counts).filter(|(_, c)| *c > 0).map(|(a, c)| format!("{} {c}", a.as_str())).collect();
        println!("    actions : {}", spread.join(", "));

        // Per-call pass: cost by action (Instant overhead subtracted).
        let overhead = {
            let n = 200_000;
            let t0 = Instant::now();
            for _ in 0..n {
                black_box(Instant::now());
            }
            t0.elapsed().as_nanos() as f64 / n as f64
        };
        let mut by_action: Vec<Vec<f64>> = vec![Vec::new(); 8];
        for (_, r) in &reports {
            for &t in &times {
                let t0 = Instant::now();
                let d = decide(black_box(r), &config.customers, &config.policy, &cal, black_box(t));
                let e = t0.elapsed().as_nanos() as f64 - overhead;
                by_action[action_index(d.action)].push(e.max(0.0));
                black_box(d);
            }
        }
        println!("    per call by action (Instant::now overhead {overhead:.0} ns subtracted):");
        println!("      {:<12} | {:>8} | {:>9} | {:>9} | {:>9}", "action", "count", "mean ns", "p50 ns", "p99 ns");
        for (a, v) in ACTIONS.iter().zip(by_action.iter_mut()) {
            if v.is_empty() {
                continue;
            }
            v.sort_by(f64::total_cmp);
            let m = v.iter().sum::<f64>() / v.len() as f64;
            println!(
                "      {:<12} | {:>8} | {:>9.0} | {:>9.0} | {:>9.0}",
                a.as_str(),
                v.len(),
                m,
                percentile(v, 0.5),
                percentile(v, 0.99)
            );
        }
        summary.push((name.to_string(), decisions, mean, p50, p99, max));
    }

    println!();
    println!(
        "  {:<15} | {:>9} | {:>10} | {:>10} | {:>10} | {:>10} | {:>12}",
        "profile", "decisions", "mean ns", "p50 ns", "p99 ns", "max ns", "decisions/s"
    );
    println!("  {:-<15}-+-{:->9}-+-{:->10}-+-{:->10}-+-{:->10}-+-{:->10}-+-{:->12}", "", "", "", "", "", "", "");
    for (name, n, mean, p50, p99, max) in &summary {
        println!(
            "  {:<15} | {:>9} | {:>10.0} | {:>10.0} | {:>10.0} | {:>10.0} | {:>12.0}",
            name,
            n,
            mean,
            p50,
            p99,
            max,
            1e9 / mean
        );
    }
    println!("  (p50/p99/max are over per-batch means of {batch} decisions)");
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
