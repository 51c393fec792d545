//! OAuth2 end to end: `uketsuke auth login` and `uketsuke run` against a real Dovecot that
//! validates tokens (its oauth2 passdb asking the test's provider, RFC 7662 style) and a real
//! Postfix that takes SMTP AUTH XOAUTH2 through Dovecot, with a small provider on loopback
//! (`common/token_server.rs`) that issues, rotates, expires and revokes tokens.

mod common;
#[path = "common/token_server.rs"]
mod token_server;

use common::mail::*;
use common::{ChildGuard, TestDir, copy_shipped_config, die_with_test, free_port};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use token_server::{CLIENT_ID, CLIENT_SECRET, TokenServer};

const FULL_REPORT: &str = "お客様番号：ACME-0012\n【現象】管理画面にログインできません。\n【再現手順】\n1. 管理画面を開く\n2. ログインを押す\n【エラーメッセージ】認証エラー (E-4012)\n【発生状況】一部の利用者で発生";

struct Setup {
    config: PathBuf,
    db: PathBuf,
    http: u16,
}

/// A configuration folder whose channels log in with the `[oauth.NAME]` account `account`
/// (its TOML lines given), over IMAPS and SMTP with STARTTLS, with the HTTP listener on.
fn oauth_config(stack: &MailStack, name: &str, account: &str, account_toml: &str, imap_mechanism: &str) -> Setup {
    let dir = stack.dir.join(format!("config-{name}"));
    copy_shipped_config(&dir);
    let channels = oauth_channels(stack, &dir, account, imap_mechanism);
    std::fs::write(dir.join("secrets/client-secret"), format!("{CLIENT_SECRET}\n")).unwrap();
    let db = stack.dir.join(format!("{name}.db"));
    let http = free_port();
    let main = config_head("three-priority", &db)
        + &channels
        + &format!(
            r#"[alerts]
auth_notice = true
[http]
enabled = true
listen = "127.0.0.1:{http}"
signing_secret_files = ["secrets/client-secret"]
[oauth.{account}]
{account_toml}
"#
        );
    std::fs::write(dir.join("uketsuke.toml"), main).unwrap();
    let check = uketsuke(&["check-config", dir.join("uketsuke.toml").to_str().unwrap()]);
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    Setup { config: dir.join("uketsuke.toml"), db, http }
}

fn write_token_key(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, "q83vEjRWeJq83vEjRWeJq83vEjRWeJq83vEjRWeJq8M=\n").unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn microsoft_delegated(provider: &TokenServer) -> String {
    format!(
        "provider = \"microsoft_delegated\"\ntenant = \"contoso.example\"\nclient_id = \"{CLIENT_ID}\"\ntoken_url = \"{}\"\ndevice_authorization_url = \"{}\"",
        provider.url("/token"),
        provider.url("/devicecode")
    )
}

fn uketsuke(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_uketsuke")).args(args).stdin(Stdio::null()).output().expect("uketsuke")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `uketsuke auth login` with the device code flow (the provider "signs in" on its second poll).
fn device_login(setup: &Setup, account: &str) {
    let out = uketsuke(&["auth", "login", "--config", setup.config.to_str().unwrap(), account]);
    assert!(out.status.success(), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("open https://microsoft.com/devicelogin and enter the code TESTCODE"), "{said}");
    assert!(said.contains("refresh token stored, sealed"), "{said}");
}

fn status(setup: &Setup) -> Output {
    uketsuke(&["status", "--config", setup.config.to_str().unwrap()])
}

fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    let code = answer.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, answer)
}

/// A GET sent in two writes, split at byte `at` of `path`, with a pause between them: what a
/// browser or an ssh tunnel may do, and what a listener that reads once takes for a whole
/// (and wrong) request.
fn http_get_in_two_writes(port: u16, path: &str, at: usize) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_nodelay(true).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    let (first, second) = request.split_at("GET ".len() + at);
    s.write_all(first.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // A listener that answered the first piece may have closed already: read what it said.
    let _ = s.write_all(second.as_bytes());
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    let code = answer.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    (code, answer)
}

/// Waits for `child` to exit by itself, at most `timeout` (the guard kills it if not).
fn wait_exit(child: &mut ChildGuard, timeout: Duration) -> std::process::ExitStatus {
    let started = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(started.elapsed() < timeout, "`uketsuke auth login` still runs after {timeout:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// No token the provider issued, and no client secret, in `log`.
fn assert_no_secrets(provider: &TokenServer, log: &str) {
    assert!(!log.contains(CLIENT_SECRET), "the client secret appeared in the log");
    provider.with(|p| {
        for token in &p.issued {
            assert!(!log.contains(token.as_str()), "a token appeared in the log: {token}");
        }
    });
}

fn count(log: &str, what: &str) -> usize {
    log.matches(what).count()
}

fn wait_for_log(daemon: &Daemon, what: &str, timeout: Duration) {
    wait_for(what, timeout, || daemon.log().contains(what).then_some(()));
}

fn acknowledged(stack: &MailStack, customer: &str, n: usize) {
    wait_for(&format!("{n} acknowledgment(s) to {customer}"), Duration::from_secs(40), || {
        Some(mailbox(stack, customer)).filter(|m| m.len() >= n)
    });
}

fn postfix_log(stack: &MailStack) -> String {
    std::fs::read_to_string(stack.dir.join("log/postfix.log")).unwrap_or_default()
}

#[test]
fn delegated_sign_in_refreshes_mid_idle_and_survives_a_kill_after_rotation() {
    let provider = TokenServer::start(SUPPORT, 6);
    let stack = MailStack::new_oauth("oauth-delegated", Some(&provider.url("/introspect")));
    let setup = oauth_config(&stack, "delegated", "support", &microsoft_delegated(&provider), "xoauth2");

    // Before anyone signs in, the account is not usable, and status says so.
    let auth = uketsuke(&["auth", "status", "--config", setup.config.to_str().unwrap()]);
    assert_eq!(auth.status.code(), Some(1), "{}", text(&auth));
    assert!(
        text(&auth)
            .contains("PROBLEM: OAuth2 account support has no refresh token yet: run `uketsuke auth login support`"),
        "{}",
        text(&auth)
    );
    device_login(&setup, "support");
    let db = std::fs::read(&setup.db).unwrap();
    provider.with(|p| {
        for rt in p.refresh.keys() {
            assert!(!db.windows(rt.len()).any(|w| w == rt.as_bytes()), "the refresh token is stored in clear");
        }
    });
    let auth = uketsuke(&["auth", "status", "--config", setup.config.to_str().unwrap()]);
    assert!(auth.status.success(), "{}", text(&auth));
    assert!(
        text(&auth).contains("oauth support (microsoft_delegated, support@uketsuke.example.jp)")
            && text(&auth).contains("refresh token stored"),
        "{}",
        text(&auth)
    );

    let daemon = Daemon::start(&setup.config, None);
    wait_for_log(&daemon, "IMAP intake connected", Duration::from_secs(20));
    // Tokens live 6 s: the IDLE session is re-opened with a fresh token before each expires.
    let before = provider.with(|p| p.count("refresh_token"));
    wait_for("three more refreshes", Duration::from_secs(30), || {
        (provider.with(|p| p.count("refresh_token")) >= before + 3).then_some(())
    });
    let log = daemon.log();
    assert!(count(&log, "re-opening the IMAP session with a fresh OAuth2 token") >= 2, "{log}");
    assert!(!log.contains("IMAP intake is down"), "a token expired under the session: {log}");

    // Mail arriving now is read by the current session and acknowledged over SMTP XOAUTH2.
    let customer = "oauth1@ops.acme.example.jp";
    append(
        &stack,
        SUPPORT,
        &report(customer, "oauth1@ops.acme", "ログインできません", FULL_REPORT),
        "20-Nov-2026 11:00:00 +0900",
    );
    acknowledged(&stack, customer, 1);
    assert!(
        postfix_log(&stack).contains("sasl_method=XOAUTH2, sasl_username=support@uketsuke.example.jp"),
        "the acknowledgment was not sent with XOAUTH2"
    );

    // Killed right after a refresh: the provider has already retired the old refresh token,
    // so only the rotated one, saved before use, lets the next start log in.
    let refreshed = count(&daemon.log(), "OAuth2 access token refreshed");
    wait_for("the next refresh", Duration::from_secs(20), || {
        (count(&daemon.log(), "OAuth2 access token refreshed") > refreshed).then_some(())
    });
    let mut daemon = daemon;
    daemon.child.kill().unwrap();
    daemon.child.wait().unwrap();
    let first_log = daemon.log();
    drop(daemon);

    let daemon = Daemon::start(&setup.config, None);
    wait_for_log(&daemon, "IMAP intake connected", Duration::from_secs(20));
    let customer2 = "oauth2@ops.acme.example.jp";
    append(
        &stack,
        SUPPORT,
        &report(customer2, "oauth2@ops.acme", "エラーが出ます", FULL_REPORT),
        "20-Nov-2026 11:05:00 +0900",
    );
    acknowledged(&stack, customer2, 1);
    let log = daemon.terminate();
    assert!(!log.contains("needs re-authorization"), "{log}");
    assert_no_secrets(&provider, &format!("{first_log}{log}{}", postfix_log(&stack)));
}

#[test]
fn a_revoked_grant_stops_the_mailbox_loudly_without_a_retry_storm_until_signed_in_again() {
    let provider = TokenServer::start(SUPPORT, 4);
    let stack = MailStack::new_oauth("oauth-revoked", Some(&provider.url("/introspect")));
    let setup = oauth_config(&stack, "revoked", "support", &microsoft_delegated(&provider), "xoauth2");
    device_login(&setup, "support");
    let daemon = Daemon::start(&setup.config, None);
    wait_for_log(&daemon, "IMAP intake connected", Duration::from_secs(20));
    let (code, health) = http_get(setup.http, "/healthz");
    assert_eq!(code, 200, "{health}");

    // An outage of the token endpoint is not a reason to sign in again: it is asked again with
    // backoff (not in a loop), and mail flows once it is back.
    let before = provider.with(|p| {
        p.down = true;
        p.count("refresh_token")
    });
    let customer = "oauth7@ops.acme.example.jp";
    append(
        &stack,
        SUPPORT,
        &report(customer, "oauth7@ops.acme", "ログインできません", FULL_REPORT),
        "20-Nov-2026 10:55:00 +0900",
    );
    std::thread::sleep(Duration::from_secs(12));
    let asked = provider.with(|p| p.count("refresh_token")) - before;
    assert!((1..=10).contains(&asked), "the token endpoint was asked {asked} times in 12 s of outage");
    assert!(!text(&status(&setup)).contains("NEEDS RE-AUTHORIZATION"));
    assert!(daemon.log().contains("temporarily_unavailable"), "the outage is logged");
    provider.with(|p| p.down = false);
    acknowledged(&stack, customer, 1);

    // The person revokes the app: the next refresh gets invalid_grant.
    let before = provider.with(|p| {
        p.revoked = true;
        p.count("refresh_token")
    });
    wait_for("needs re-authorization in status", Duration::from_secs(20), || {
        text(&status(&setup)).contains("needs re-authorization").then_some(())
    });
    std::thread::sleep(Duration::from_secs(8)); // two token lifetimes: no retry storm
    assert_eq!(
        provider.with(|p| p.count("refresh_token")),
        before + 1,
        "the provider was asked again after invalid_grant"
    );

    let out = status(&setup);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("NEEDS RE-AUTHORIZATION: the token endpoint answered invalid_grant"), "{}", text(&out));
    assert!(text(&out).contains("run `uketsuke auth login support`"), "{}", text(&out));
    let (code, health) = http_get(setup.http, "/healthz");
    assert_eq!(code, 503, "{health}");
    assert!(health.contains("\"needs_reauthorization\":\"the token endpoint answered invalid_grant"), "{health}");
    let (_, metrics) = http_get(setup.http, "/metrics");
    assert!(metrics.contains("uketsuke_oauth_needs_reauthorization{account=\"support\"} 1"), "{metrics}");
    let log = daemon.log();
    assert_eq!(count(&log, "needs re-authorization, mail on it has stopped until then"), 1, "logged once: {log}");
    // On-call cannot be mailed through the account that needs re-authorization: the log says so.
    wait_for_log(&daemon, "could not mail on-call about the OAuth2 account", Duration::from_secs(30));

    // A report arriving meanwhile waits in the mailbox; after a new sign-in it is read and
    // acknowledged without a restart.
    let customer = "oauth3@ops.acme.example.jp";
    append(
        &stack,
        SUPPORT,
        &report(customer, "oauth3@ops.acme", "ログインできません", FULL_REPORT),
        "20-Nov-2026 11:00:00 +0900",
    );
    std::thread::sleep(Duration::from_secs(2));
    assert!(mailbox(&stack, customer).is_empty());
    device_login(&setup, "support");
    acknowledged(&stack, customer, 1);
    wait_for_log(&daemon, "signed in again; mail resumes", Duration::from_secs(10));
    let (_, metrics) = http_get(setup.http, "/metrics");
    assert!(metrics.contains("uketsuke_oauth_needs_reauthorization{account=\"support\"} 0"), "{metrics}");
    let log = daemon.terminate();
    assert_no_secrets(&provider, &log);
}

#[test]
fn google_sign_in_with_pkce_then_oauthbearer_for_imap() {
    let provider = TokenServer::start(SUPPORT, 3600);
    let stack = MailStack::new_oauth("oauth-google", Some(&provider.url("/introspect")));
    let port = free_port();
    let account = format!(
        "provider = \"google\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret_file = \"secrets/client-secret\"\ntoken_url = \"{}\"\nauthorize_url = \"https://accounts.example.test/o/oauth2/v2/auth\"\nlogin_port = {port}",
        provider.url("/token")
    );
    let setup = oauth_config(&stack, "google", "gmail", &account, "oauthbearer");

    // The person opens the printed address; Google redirects the browser to 127.0.0.1. The
    // guard ends `auth login` if the test fails before it has (it would wait 10 minutes).
    let mut login = ChildGuard::new(
        die_with_test(&mut Command::new(env!("CARGO_BIN_EXE_uketsuke")))
            .args(["auth", "login", "--config", setup.config.to_str().unwrap(), "gmail"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut lines = BufReader::new(login.stdout.take().unwrap()).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.starts_with("https://accounts.example.test/"))
        .expect("the sign-in address");
    let query: Vec<(String, String)> = serde_urlencoded::from_str(url.split_once('?').unwrap().1).unwrap();
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(
        (get("scope").as_str(), get("code_challenge_method").as_str(), get("access_type").as_str()),
        ("https://mail.google.com/", "S256", "offline")
    );
    assert_eq!(get("redirect_uri"), format!("http://127.0.0.1:{port}/"));
    // The browser opens a connection ahead of need and sends nothing on it (preconnect).
    let _preconnect = std::net::TcpStream::connect(("127.0.0.1", port)).expect("preconnect");
    // A request with the wrong state is not taken for the answer.
    let (code, _) = http_get(port, "/?code=forged&state=wrong");
    assert_eq!(code, 404);
    let code = provider.authorize(&get("code_challenge"), &get("redirect_uri"));
    // The redirect arrives in two pieces, cut inside `state`: it is read whole.
    let path = format!("/?code={code}&state={}", get("state"));
    let (status_code, page) = http_get_in_two_writes(port, &path, path.len() - 5);
    assert_eq!(status_code, 200, "{page}");
    assert!(page.contains("signed in"), "{page}");
    let exit = wait_exit(&mut login, Duration::from_secs(60));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let mut err = String::new();
    login.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(exit.success(), "{rest:?} {err}");
    assert!(rest.iter().any(|l| l.contains("gmail: signed in as support@uketsuke.example.jp")), "{rest:?}");

    let daemon = Daemon::start(&setup.config, None);
    let customer = "oauth4@ops.acme.example.jp";
    append(
        &stack,
        SUPPORT,
        &report(customer, "oauth4@ops.acme", "ログインできません", FULL_REPORT),
        "20-Nov-2026 11:00:00 +0900",
    );
    acknowledged(&stack, customer, 1);
    let dovecot = std::fs::read_to_string(stack.dir.join("log/dovecot.log")).unwrap_or_default();
    assert!(dovecot.contains("method=OAUTHBEARER"), "IMAP did not log in with OAUTHBEARER");
    let log = daemon.terminate();
    assert_no_secrets(&provider, &log);
}

#[test]
fn an_app_token_the_server_refuses_is_replaced_once_and_a_secret_near_expiry_is_warned() {
    let provider = TokenServer::start(SUPPORT, 3600);
    // Tokens say they last an hour, but the server stops taking them after 4 s (revoked
    // server-side): the next login is refused and must be retried with a fresh token.
    provider.with(|p| p.valid_for = Some(4));
    let stack = MailStack::new_oauth("oauth-app", Some(&provider.url("/introspect")));
    let expires = (chrono::Utc::now() + chrono::Duration::days(10)).format("%Y-%m-%d").to_string();
    let account = format!(
        "provider = \"microsoft_app\"\ntenant = \"contoso.example\"\nclient_id = \"{CLIENT_ID}\"\nclient_secret_file = \"secrets/client-secret\"\nclient_secret_expires = \"{expires}\"\ntoken_url = \"{}\"",
        provider.url("/token")
    );
    let setup = oauth_config(&stack, "app", "app", &account, "xoauth2");
    let daemon = Daemon::start(&setup.config, None);
    wait_for_log(&daemon, "IMAP intake connected", Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(5));
    let customer = "oauth5@ops.acme.example.jp";
    append(
        &stack,
        SUPPORT,
        &report(customer, "oauth5@ops.acme", "ログインできません", FULL_REPORT),
        "20-Nov-2026 11:00:00 +0900",
    );
    acknowledged(&stack, customer, 1);
    let fetched = provider.with(|p| p.count("client_credentials"));
    let log = daemon.log();
    let refusals = count(&log, "the server refused the OAuth2 token (XOAUTH2 as support@uketsuke.example.jp)");
    assert!(refusals >= 1, "{log}");
    assert!(!log.contains("with a fresh OAuth2 token too"), "{log}");
    // One token at start, then one fresh token per refusal (4 s apart at the soonest), no more.
    assert!(fetched as usize <= 1 + refusals, "{fetched} tokens for {refusals} refusals");

    // Ten days before the secret expires: the 14-day warning, in status, metrics and the log.
    let auth = uketsuke(&["auth", "status", "--config", setup.config.to_str().unwrap()]);
    assert_eq!(auth.status.code(), Some(1), "{}", text(&auth));
    assert!(text(&auth).contains("the client secret of OAuth2 account app expires within 14 days"), "{}", text(&auth));
    let (code, health) = http_get(setup.http, "/healthz");
    assert_eq!(code, 503, "{health}");
    let (_, metrics) = http_get(setup.http, "/metrics");
    assert!(
        metrics.contains("uketsuke_oauth_secret_expiry_days{account=\"app\"} 9")
            || metrics.contains("uketsuke_oauth_secret_expiry_days{account=\"app\"} 10"),
        "{metrics}"
    );
    wait_for_log(&daemon, "expires within 14 days", Duration::from_secs(30));
    // ... and on-call hears of it by mail ([alerts] auth_notice), sent with the same account.
    let notices = wait_for("the on-call notice", Duration::from_secs(30), || {
        Some(mailbox(&stack, "oncall@uketsuke.example.jp")).filter(|m| !m.is_empty())
    });
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].subject, "[uketsuke] OAuth2 account app needs attention");
    assert!(
        notices[0].body.contains("the client secret of OAuth2 account app expires within 14 days"),
        "{}",
        notices[0].body
    );
    assert_eq!(notices[0].auto_submitted, "auto-generated");

    // The IMAP server restarts: the session is re-opened with the token in hand, which the
    // server now refuses with its JSON challenge; the reason is logged, a fresh token fetched,
    // and the login tried once more.
    std::thread::sleep(Duration::from_secs(5)); // past the 4 s the server takes the last token
    stack.restart();
    wait_for_log(&daemon, "the server said {\"status\":\"401\"", Duration::from_secs(60));
    wait_for("IMAP connected again", Duration::from_secs(60), || {
        (count(&daemon.log(), "IMAP intake connected") >= 2).then_some(())
    });
    let customer = "oauth6@ops.acme.example.jp";
    append(
        &stack,
        SUPPORT,
        &report(customer, "oauth6@ops.acme", "ログインできません", FULL_REPORT),
        "20-Nov-2026 11:10:00 +0900",
    );
    acknowledged(&stack, customer, 1);
    let log = daemon.terminate();
    assert!(!log.contains("with a fresh OAuth2 token too"), "{log}");
    assert_eq!(count(&log, "expires within 14 days"), 1, "warned once: {log}");
    assert_no_secrets(&provider, &log);
}

/// An RSA key and a self-signed certificate valid for `days`, made by openssl.
fn certificate(dir: &Path, days: u32) -> (PathBuf, PathBuf) {
    let key = dir.join("app.key");
    let cert = dir.join("app.pem");
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=uketsuke-test",
            "-days",
            &days.to_string(),
        ])
        .args(["-keyout", key.to_str().unwrap(), "-out", cert.to_str().unwrap()])
        .output()
        .expect("openssl");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (cert, key)
}

#[test]
fn certificate_and_service_account_credentials_get_tokens_and_a_certificate_near_expiry_is_warned() {
    let provider = TokenServer::start(SUPPORT, 3600);
    let dir = TestDir::new("oauth-credentials");
    copy_shipped_config(&dir);
    let (cert, key) = certificate(&dir, 5);
    // A Google service account key file, as the console downloads it.
    let pem = std::fs::read_to_string(&key).unwrap();
    let sa = serde_json::json!({"type": "service_account", "client_email": "uketsuke@project.iam.gserviceaccount.com", "private_key_id": "k1", "private_key": pem, "token_uri": "https://oauth2.googleapis.com/token"});
    std::fs::write(dir.join("sa.json"), sa.to_string()).unwrap();
    let main = config_head("three-priority", &dir.join("credentials.db"))
        + &format!(
            r#"[imap]
enabled = true
host = "imap.gmail.example"
username = "{SUPPORT}"
oauth = "workspace"
[oauth.app]
provider = "microsoft_app"
tenant = "contoso.example"
client_id = "{CLIENT_ID}"
certificate_file = "{cert}"
private_key_file = "{key}"
token_url = "{token}"
[oauth.workspace]
provider = "google_service_account"
service_account_key_file = "sa.json"
token_url = "{token}"
"#,
            cert = cert.display(),
            key = key.display(),
            token = provider.url("/token"),
        );
    std::fs::write(dir.join("uketsuke.toml"), main).unwrap();
    let config = dir.join("uketsuke.toml");
    let config = config.to_str().unwrap();

    let out = uketsuke(&["auth", "login", "--config", config, "app"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("app: signed in"), "{}", text(&out));
    let out = uketsuke(&["auth", "login", "--config", config, "workspace"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("workspace: signed in as support@uketsuke.example.jp"), "{}", text(&out));
    // The service account acted as the mailbox: the provider issued the token for it.
    assert!(provider.with(|p| p.access.values().filter(|(user, _)| user == SUPPORT).count()) >= 2);

    let out = uketsuke(&["auth", "status", "--config", config]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(said.contains("certificate expires") && said.contains("(4 days)"), "{said}");
    assert!(said.contains("PROBLEM: the certificate of OAuth2 account app expires within 7 days"), "{said}");
    assert!(!said.contains("workspace needs"), "{said}");

    // A dead client secret is final: the account is marked, and says what to do.
    std::fs::write(
        dir.join("uketsuke.toml"),
        std::fs::read_to_string(dir.join("uketsuke.toml")).unwrap().replace(
            &format!("certificate_file = \"{}\"\nprivate_key_file = \"{}\"", cert.display(), key.display()),
            "client_secret_env = \"UKETSUKE_TEST_WRONG_SECRET\"",
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_uketsuke"))
        .args(["auth", "login", "--config", config, "app"])
        .env("UKETSUKE_TEST_WRONG_SECRET", "expired-secret")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("invalid_client") && !text(&out).contains("expired-secret"), "{}", text(&out));
}

#[test]
fn oauth_configuration_mistakes_are_reported_with_their_fix() {
    let dir = TestDir::new("oauth-config");
    copy_shipped_config(&dir);
    write_token_key(&dir.join("token-key"), 0o644);
    let main = config_head("three-priority", &dir.join("credentials.db"))
        + &format!(
            r#"[imap]
enabled = true
host = "outlook.office365.com"
username = "{SUPPORT}"
oauth = "suport"
password_env = "X"
[smtp]
enabled = true
host = "smtp.office365.com"
username = "{SUPPORT}"
oauth = "support"
mechanism = "oauthbearer"
[oauth.support]
provider = "microsoft_delegated"
tenant = "contoso.example"
client_id = "{CLIENT_ID}"
token_url = "http://login.example.com/token"
[oauth.other]
provider = "microsoft"
client_secret_expires = "next year"
"#
        );
    std::fs::write(dir.join("uketsuke.toml"), &main).unwrap();
    let out = uketsuke(&["check-config", dir.join("uketsuke.toml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    for expected in [
        "both a password source and oauth are set",
        "SMTP sends OAuth2 tokens with XOAUTH2 only",
        "token_url `http://login.example.com/token` is not an https address",
        "provider `microsoft` is not known",
        "keeps a refresh token, but [store] has no token_key_file",
    ] {
        assert!(said.contains(expected), "missing `{expected}` in:\n{said}");
    }

    // Once the file reads well, the credentials it names are read as the daemon will.
    let main = config_head("three-priority", &dir.join("credentials.db"))
        + &format!(
            r#"token_key_file = "token-key"
[imap]
enabled = true
host = "outlook.office365.com"
username = "{SUPPORT}"
oauth = "app"
[oauth.app]
provider = "microsoft_app"
tenant = "contoso.example"
client_id = "{CLIENT_ID}"
certificate_file = "missing.pem"
private_key_file = "missing.key"
[oauth.workspace]
provider = "google_service_account"
service_account_key_file = "customers.toml"
"#
        );
    std::fs::write(dir.join("uketsuke.toml"), &main).unwrap();
    let out = uketsuke(&["check-config", dir.join("uketsuke.toml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = text(&out);
    for expected in [
        "the token key file",
        "can be read by other users; make it private: chmod 600",
        "[oauth.app]: cannot read a PEM certificate from",
        "[oauth.app]: cannot read the private key file",
        "[oauth.workspace]: the service account key file",
    ] {
        assert!(said.contains(expected), "missing `{expected}` in:\n{said}");
    }
    assert!(!said.contains("q83vEjRWeJq"), "the token key appeared in an error");
}

#[test]
fn each_provider_gets_its_public_endpoints_and_scopes_unless_told_otherwise() {
    let dir = TestDir::new("oauth-defaults");
    copy_shipped_config(&dir);
    write_token_key(&dir.join("token-key"), 0o600);
    std::fs::write(dir.join("secret"), "s\n").unwrap();
    let main = config_head("three-priority", &dir.join("defaults.db"))
        + &format!(
            r#"token_key_file = "token-key"
[imap]
enabled = true
host = "outlook.office365.com"
username = "Support@Example.co.jp"
oauth = "ms"
[smtp]
enabled = true
host = "smtp.gmail.com"
username = "support@example.co.jp"
oauth = "gmail"
[oauth.ms]
provider = "microsoft_delegated"
tenant = "contoso.onmicrosoft.com"
client_id = "{CLIENT_ID}"
[oauth.app]
provider = "microsoft_app"
tenant = "0f0e0d0c-0000-0000-0000-000000000000"
client_id = "{CLIENT_ID}"
client_secret_file = "secret"
[oauth.gmail]
provider = "google"
client_id = "1234.apps.googleusercontent.com"
client_secret_file = "secret"
"#
        );
    std::fs::write(dir.join("uketsuke.toml"), main).unwrap();
    let config = uketsuke::config::Config::load(Some(&dir.join("uketsuke.toml")), &Default::default()).expect("valid");
    let account = |name: &str| config.oauth.iter().find(|a| a.name == name).unwrap().clone();
    let ms = account("ms");
    assert_eq!(ms.token_url, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token");
    assert_eq!(ms.device_url, "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode");
    assert_eq!(
        ms.scopes,
        ["https://outlook.office.com/IMAP.AccessAsUser.All", "https://outlook.office.com/SMTP.Send", "offline_access"]
    );
    assert_eq!(ms.user, "Support@Example.co.jp", "the mailbox is the username of the channel that names the account");
    let app = account("app");
    assert_eq!(
        app.token_url,
        "https://login.microsoftonline.com/0f0e0d0c-0000-0000-0000-000000000000/oauth2/v2.0/token"
    );
    assert_eq!(app.scopes, ["https://outlook.office365.com/.default"]);
    assert_eq!(app.user, "", "named by no channel");
    let gmail = account("gmail");
    assert_eq!(
        (gmail.token_url.as_str(), gmail.authorize_url.as_str()),
        ("https://oauth2.googleapis.com/token", "https://accounts.google.com/o/oauth2/v2/auth")
    );
    assert_eq!(gmail.scopes, ["https://mail.google.com/"]);
    assert_eq!((gmail.user.as_str(), gmail.login_port), ("support@example.co.jp", 8765));
    let smtp = config.smtp.as_ref().unwrap();
    assert_eq!((smtp.server.port, smtp.server.oauth.as_ref().unwrap().account.as_str()), (465, "gmail"));
}
