//! What OAuth2 costs the mailbox, measured against the test provider and mail stack on
//! loopback (`tests/common/token_server.rs`, `scripts/mailstack` with Dovecot's oauth2
//! passdb):
//!
//! 1. One refresh with rotation, in process: `TokenSource::token()` after the current token
//!    was refused, i.e. the POST to the token endpoint, sealing the rotated refresh token and
//!    the durable (synchronous=FULL) write of it before the token is handed out. N times in a
//!    row; median, p90, p99, max.
//! 2. Token churn under load: `uketsuke run` (this bench's build) with access tokens that live
//!    `LIFETIME` seconds, so the IDLE session is re-opened with a fresh token every
//!    3/4 of that, while reports are put into the support mailbox one at a time (IMAP APPEND),
//!    each waited for until its acknowledgment is in the customer's mailbox (polled every
//!    50 ms with a fresh IMAPS login, so each figure is late by up to about 70 ms). Prints the
//!    acknowledgment latency, the number of re-logins, and how long each re-login kept new
//!    mail waiting (`gap_ms` in the daemon's log: from ending the old session to the new one
//!    having caught up).
//!
//! Run with `cargo bench --bench oauth` (needs `scripts/mailstack install`). Knobs:
//! UKETSUKE_BENCH_REFRESHES (500), UKETSUKE_BENCH_REPORTS (60), UKETSUKE_BENCH_LIFETIME (8).

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/common/token_server.rs"]
mod token_server;

use common::copy_shipped_config;
use common::mail::*;
use std::sync::Arc;
use std::time::{Duration, Instant};
use token_server::{CLIENT_ID, TokenServer};
use uketsuke::config::oauth::{ClientCredential, OAuthAccount, Provider};
use uketsuke::oauth::TokenSource;
use uketsuke::oauth::vault::Vault;
use uketsuke::record::{SqliteStore, Store, StoreLocation};

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn percentiles(label: &str, mut ms: Vec<f64>) {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "{label}: n={} median {:.1} ms, p90 {:.1}, p99 {:.1}, max {:.1}",
        ms.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0)
    );
}

fn account(provider: &TokenServer) -> OAuthAccount {
    OAuthAccount {
        name: "support".into(),
        provider: Provider::MicrosoftDelegated,
        client_id: CLIENT_ID.into(),
        tenant: Some("contoso.example".into()),
        credential: ClientCredential::None,
        secret_expires: None,
        service_account_key: None,
        scopes: vec!["https://outlook.office.com/IMAP.AccessAsUser.All".into(), "offline_access".into()],
        token_url: provider.url("/token"),
        device_url: provider.url("/devicecode"),
        authorize_url: String::new(),
        login_port: 8765,
        user: SUPPORT.into(),
    }
}

fn refreshes(n: u64) {
    let provider = TokenServer::start(SUPPORT, 3600);
    let dir = common::TestDir::new("bench-oauth-refresh");
    let db = dir.join("tokens.db");
    let vault = Arc::new(Vault::from_key(&[42u8; 32]).unwrap());
    // The refresh token a sign-in would have stored.
    let first = provider.with(|p| {
        let rt = "rt-seed".to_string();
        p.refresh.insert(rt.clone(), SUPPORT.into());
        rt
    });
    let mut store = SqliteStore::open(&db).unwrap();
    store
        .save_oauth_tokens("support", Some(&vault.seal("support", &first).unwrap()), None, true, chrono::Utc::now())
        .unwrap();
    let source = TokenSource::new(account(&provider), StoreLocation::Sqlite(db), Some(vault));
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut times = Vec::with_capacity(n as usize);
    rt.block_on(async {
        let mut token = source.token().await.expect("first token");
        for _ in 0..n {
            source.rejected(&token).await;
            let started = Instant::now();
            token = source.token().await.expect("refresh");
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    });
    assert_eq!(provider.with(|p| p.refresh.len()), 1, "exactly one live refresh token after {n} rotations");
    percentiles(&format!("1. refresh with rotation (POST + seal + durable save), {n} in a row"), times);
}

fn churn(reports: u64, lifetime: i64) {
    let provider = TokenServer::start(SUPPORT, lifetime);
    let stack = MailStack::new_oauth("bench-oauth", Some(&provider.url("/introspect")));
    let dir = stack.dir.join("config");
    copy_shipped_config(&dir);
    let main = config_head("three-priority", &stack.dir.join("bench.db"))
        + &oauth_channels(&stack, &dir, "support", "xoauth2")
        + &format!(
            r#"[oauth.support]
provider = "microsoft_delegated"
tenant = "contoso.example"
client_id = "{CLIENT_ID}"
token_url = "{token}"
device_authorization_url = "{device}"
"#,
            token = provider.url("/token"),
            device = provider.url("/devicecode"),
        );
    let config = dir.join("uketsuke.toml");
    std::fs::write(&config, main).unwrap();
    let login = std::process::Command::new(env!("CARGO_BIN_EXE_uketsuke"))
        .args(["auth", "login", "--config", config.to_str().unwrap(), "support"])
        .output()
        .unwrap();
    assert!(login.status.success(), "{}", String::from_utf8_lossy(&login.stderr));
    let daemon = Daemon::start(&config, None);
    wait_for("IMAP connected", Duration::from_secs(30), || {
        daemon.log().contains("IMAP intake connected").then_some(())
    });
    let mut latencies = Vec::new();
    let started = Instant::now();
    for i in 0..reports {
        let customer = format!("bench-oauth-{i}@ops.acme.example.jp");
        let raw = report(
            &customer,
            &format!("bench-oauth-{i}@ops.acme"),
            "使い方を教えてください",
            "管理画面の操作方法を知りたいです。",
        );
        append(&stack, SUPPORT, &raw, "20-Nov-2026 11:00:00 +0900");
        let sent = Instant::now();
        wait_for("the acknowledgment", Duration::from_secs(60), || {
            std::thread::sleep(Duration::from_millis(50));
            (!mailbox(&stack, &customer).is_empty()).then_some(())
        });
        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
    }
    let elapsed = started.elapsed();
    let log = daemon.terminate();
    let gaps: Vec<f64> = log
        .lines()
        .filter(|l| l.contains("IMAP session re-opened with a fresh OAuth2 token"))
        .filter_map(|l| l.split("gap_ms=").nth(1)?.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .collect();
    let refreshed: Vec<f64> = log
        .lines()
        .filter(|l| l.contains("OAuth2 access token refreshed"))
        .filter_map(|l| l.split("took_ms=").nth(1)?.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
        .collect();
    println!("2. {reports} reports over {:.0} s with {lifetime} s tokens:", elapsed.as_secs_f64());
    percentiles("   APPEND to acknowledgment in the customer's mailbox", latencies);
    if !gaps.is_empty() {
        percentiles(&format!("   re-login gaps ({} re-logins)", gaps.len()), gaps);
    }
    if !refreshed.is_empty() {
        percentiles(&format!("   refreshes inside the daemon ({})", refreshed.len()), refreshed);
    }
    assert!(!log.contains("needs re-authorization") && !log.contains("IMAP intake is down"), "{log}");
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    refreshes(knob("UKETSUKE_BENCH_REFRESHES", 500));
    churn(knob("UKETSUKE_BENCH_REPORTS", 60), knob("UKETSUKE_BENCH_LIFETIME", 8) as i64);
}
