//! The daemon end to end against real servers on loopback: a private Dovecot (IMAP, IMAPS,
//! LMTP) and Postfix (SMTP) per test, started by `scripts/mailstack` (installed by the test
//! command). Each test puts customer mail into the support mailbox, runs `uketsuke run`, and
//! reads the customer's, the team's and on-call's mailboxes for what they must (and must not)
//! have received.

mod common;

use common::copy_shipped_config;
use common::mail::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// A configuration folder for one test: the shipped files, with the main file pointed at the
/// stack.
fn config_for(stack: &MailStack, name: &str, profile: &str, security: &str) -> PathBuf {
    let dir = stack.dir.join(format!("config-{name}"));
    copy_shipped_config(&dir);
    std::fs::write(dir.join("imap-password"), "secret\n").expect("secret");
    // Both channels use the same security: implicit TLS (IMAPS, SMTPS), STARTTLS, or plain.
    let (port, smtp_security, smtp_port) = match security {
        "tls" => (stack.imaps, "tls", stack.smtps),
        "starttls" => (stack.imap, "starttls", stack.smtp),
        _ => (stack.imap, "plain", stack.smtp),
    };
    let main = config_head(profile, &stack.dir.join(format!("{name}.db")))
        + &format!(
            r#"[imap]
enabled = true
host = "127.0.0.1"
port = {port}
security = "{security}"
ca_file = "{ca}"
username = "{SUPPORT}"
password_file = "imap-password"
idle_seconds = 60
[smtp]
enabled = true
host = "127.0.0.1"
port = {smtp}
security = "{smtp_security}"
ca_file = "{ca}"
[outbox]
retry_first_seconds = 1
retry_max_seconds = 2
max_attempts = 1000
"#,
            ca = stack.ca.display(),
            smtp = smtp_port,
        );
    std::fs::write(dir.join("uketsuke.toml"), main).expect("write config");
    let check = Command::new(env!("CARGO_BIN_EXE_uketsuke"))
        .args(["check-config", dir.join("uketsuke.toml").to_str().unwrap()])
        .output()
        .expect("check-config");
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    dir.join("uketsuke.toml")
}

const FULL_JA: &str = "お客様番号：ACME-0012\n【現象】管理画面にログインできません。\n【再現手順】\n1. 管理画面を開く\n2. ログインを押す\n【エラーメッセージ】認証エラー (E-4012)\n【発生状況】全員で発生";

#[test]
fn in_hours_report_is_dispatched_and_acknowledged_over_imaps() {
    let stack = MailStack::start("dispatch", 24100);
    let config = config_for(&stack, "dispatch", "three-priority", "tls");
    let daemon = Daemon::start(&config, None);
    let customer = "t1-yamada@ops.acme.example.jp";
    append(
        &stack,
        SUPPORT,
        &report(customer, "t1@ops.acme", "ログインできません", FULL_JA),
        "20-Nov-2026 11:00:00 +0900",
    );
    let acks = wait_for("the acknowledgment", Duration::from_secs(30), || {
        Some(mailbox(&stack, customer)).filter(|m| !m.is_empty())
    });
    assert_eq!(acks.len(), 1);
    let ack = &acks[0];
    assert_eq!(ack.subject, "[CASE-2026-000001] Re: ログインできません");
    assert_eq!(ack.in_reply_to, "<t1@ops.acme>");
    assert_eq!(ack.auto_submitted, "auto-replied");
    assert!(
        ack.message_id.contains("CASE-2026-000001") && ack.message_id.ends_with("@uketsuke.example.jp>"),
        "{}",
        ack.message_id
    );
    assert!(ack.body.contains("受付番号: CASE-2026-000001"), "{}", ack.body);
    assert!(
        ack.body.contains("2026年11月20日(金) 13:00"),
        "due 2 business hours later (high, all staff): {}",
        ack.body
    );
    let team = wait_for("the hand-over", Duration::from_secs(30), || {
        Some(mailbox(&stack, "team@uketsuke.example.jp")).filter(|m| !m.is_empty())
    });
    assert_eq!(team.len(), 1);
    assert!(team[0].subject.starts_with("[CASE-2026-000001]"));
    assert_eq!(team[0].attachments, 1, "the hand-over carries the original message");
    assert!(mailbox(&stack, "oncall@uketsuke.example.jp").is_empty());
    let log = daemon.terminate();
    assert!(log.contains("IMAP intake connected"), "{log}");
    assert!(!log.contains("secret"), "a password appeared in the log");
}

#[test]
fn after_hours_report_is_held_then_released_when_support_opens() {
    let stack = MailStack::start("hold", 24200);
    let config = config_for(&stack, "hold", "three-priority", "starttls");
    let clock = clock_file(&stack, "hold", "2026-11-21T03:05:00+09:00");
    let daemon = Daemon::start(&config, Some(&clock));
    let customer = "t2-kato@sakura-logi.example.jp";
    append(
        &stack,
        SUPPORT,
        &report(customer, "t2@sakura", "設定変更のお願い", "優先度：中\n送信ドメインの設定変更をお願いします。"),
        "21-Nov-2026 03:00:00 +0900",
    );
    let acks = wait_for("the hold notice", Duration::from_secs(30), || {
        Some(mailbox(&stack, customer)).filter(|m| !m.is_empty())
    });
    // Saturday night; Monday 11-23 is 勤労感謝の日: work starts Tuesday 10:00.
    assert!(acks[0].body.contains("2026年11月24日(火) 10:00 より対応を開始"), "{}", acks[0].body);
    std::thread::sleep(Duration::from_secs(2));
    assert!(mailbox(&stack, "team@uketsuke.example.jp").is_empty(), "handed over before support opened");
    assert!(mailbox(&stack, "oncall@uketsuke.example.jp").is_empty());
    std::fs::write(&clock, "2026-11-24T09:59:00+09:00").expect("move the clock");
    std::thread::sleep(Duration::from_secs(2));
    assert!(mailbox(&stack, "team@uketsuke.example.jp").is_empty(), "handed over on a holiday");
    std::fs::write(&clock, "2026-11-24T10:00:00+09:00").expect("move the clock");
    let team = wait_for("the hand-over on Tuesday morning", Duration::from_secs(30), || {
        Some(mailbox(&stack, "team@uketsuke.example.jp")).filter(|m| !m.is_empty())
    });
    assert_eq!(team.len(), 1);
    daemon.terminate();
}

#[test]
fn out_of_hours_high_priority_is_escalated_to_on_call() {
    let stack = MailStack::start("escalate", 24300);
    let config = config_for(&stack, "escalate", "three-priority", "plain");
    let clock = clock_file(&stack, "escalate", "2026-11-21T03:01:00+09:00");
    let daemon = Daemon::start(&config, Some(&clock));
    let customer = "t3-ops@globex.example.com";
    append(
        &stack,
        SUPPORT,
        &report(customer, "t3@globex", "Outage", "Priority: High\nThe service is down for all users.\nError: HTTP 503"),
        "21-Nov-2026 03:00:00 +0900",
    );
    let oncall = wait_for("the on-call notice", Duration::from_secs(30), || {
        Some(mailbox(&stack, "oncall@uketsuke.example.jp")).filter(|m| !m.is_empty())
    });
    assert!(oncall[0].subject.contains("ON-CALL high"), "{}", oncall[0].subject);
    let acks = wait_for("the acknowledgment", Duration::from_secs(30), || {
        Some(mailbox(&stack, customer)).filter(|m| !m.is_empty())
    });
    assert!(acks[0].body.contains("on-call"), "{}", acks[0].body);
    assert!(mailbox(&stack, "team@uketsuke.example.jp").is_empty());
    daemon.terminate();
}

#[test]
fn missing_items_then_a_follow_up_that_completes_them() {
    let stack = MailStack::start("followup", 24400);
    let config = config_for(&stack, "followup", "four-severity", "tls");
    let daemon = Daemon::start(&config, None);
    let customer = "it-desk@umbrella.example.com";
    append(
        &stack,
        SUPPORT,
        &report(
            customer,
            "t4a@umbrella",
            "Export fails",
            "Customer ID: UMBRELLA-0100\nSeverity: 3\nDescription: the invoice export fails.",
        ),
        "20-Nov-2026 10:00:00 +0900",
    );
    let acks = wait_for("the request for missing items", Duration::from_secs(30), || {
        Some(mailbox(&stack, customer)).filter(|m| !m.is_empty())
    });
    assert!(acks[0].body.contains("the steps that reproduce the problem"), "{}", acks[0].body);
    assert!(acks[0].body.contains("the exact text of every error message"));
    assert!(mailbox(&stack, "team@uketsuke.example.jp").is_empty(), "no hand-over before the report is complete");
    let tag = acks[0].subject.split(']').next().unwrap().trim_start_matches('[').to_string();
    let reply = format!(
        "From: {customer}\r\nTo: {SUPPORT}\r\nSubject: RE: {}\r\nIn-Reply-To: {}\r\nMessage-ID: <t4b@umbrella>\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nSteps to reproduce:\r\n1. Open Invoices\r\n2. Click Export\r\nError message: HTTP 500 Internal Server Error\r\n",
        acks[0].subject, acks[0].message_id
    );
    append(&stack, SUPPORT, reply.as_bytes(), "20-Nov-2026 10:30:00 +0900");
    let team = wait_for("the hand-over once complete", Duration::from_secs(30), || {
        Some(mailbox(&stack, "team@uketsuke.example.jp")).filter(|m| !m.is_empty())
    });
    assert!(team[0].subject.contains(&tag));
    let acks = mailbox(&stack, customer);
    assert_eq!(acks.len(), 2);
    // Clock from the follow-up, Fri 10:30: sev3 is 8 business hours; 7.5 on Friday, Monday
    // 11-23 is a holiday, so the last half hour is Tuesday 08:00-08:30.
    assert!(acks[1].body.contains("Tue 24 Nov 2026 08:30"), "{}", acks[1].body);
    daemon.terminate();
}

#[test]
fn auto_replies_and_our_own_mail_coming_back_are_never_answered() {
    let stack = MailStack::start("loops", 24500);
    let config = config_for(&stack, "loops", "three-priority", "tls");
    let daemon = Daemon::start(&config, None);
    let away = "t5-away@ops.acme.example.jp";
    let auto =
        [b"Auto-Submitted: auto-replied\r\n".as_slice(), &report(away, "t5a@acme", "不在のお知らせ", "不在です")]
            .concat();
    append(&stack, SUPPORT, &auto, "20-Nov-2026 11:00:00 +0900");
    let ours = [
        b"X-Uketsuke-Loop: support@uketsuke.example.jp\r\n".as_slice(),
        &report(away, "t5b@acme", "[CASE-2026-000009] Re: x", "loop"),
    ]
    .concat();
    append(&stack, SUPPORT, &ours, "20-Nov-2026 11:00:01 +0900");
    // A human report after them: when its acknowledgment has arrived, the machine mail
    // before it has been handled too.
    let human = "t5-human@ops.acme.example.jp";
    append(&stack, SUPPORT, &report(human, "t5c@acme", "質問", "使い方を教えてください"), "20-Nov-2026 11:00:02 +0900");
    wait_for("the human's acknowledgment", Duration::from_secs(30), || {
        Some(mailbox(&stack, human)).filter(|m| !m.is_empty())
    });
    assert!(mailbox(&stack, away).is_empty(), "an auto-reply or our own mail was answered");
    daemon.terminate();
}

#[test]
fn imap_server_restarted_mid_run_and_smtp_refusing_then_accepting() {
    let stack = MailStack::start("faults", 24600);
    let config = config_for(&stack, "faults", "three-priority", "tls");
    let daemon = Daemon::start(&config, None);
    let a = "t6-a@ops.acme.example.jp";
    append(&stack, SUPPORT, &report(a, "t6a@acme", "一件目", "使い方を教えてください"), "20-Nov-2026 11:00:00 +0900");
    wait_for("the first acknowledgment", Duration::from_secs(30), || {
        Some(mailbox(&stack, a)).filter(|m| !m.is_empty())
    });
    // IMAP (and SMTP) restart under the running daemon.
    stack.restart();
    let b = "t6-b@ops.acme.example.jp";
    append(&stack, SUPPORT, &report(b, "t6b@acme", "二件目", "使い方を教えてください"), "20-Nov-2026 11:01:00 +0900");
    wait_for("an acknowledgment after the restart", Duration::from_secs(60), || {
        Some(mailbox(&stack, b)).filter(|m| !m.is_empty())
    });
    // SMTP refuses (down) for a while: the case is recorded, the acknowledgment waits.
    stack.postfix("stop");
    let c = "t6-c@ops.acme.example.jp";
    append(&stack, SUPPORT, &report(c, "t6c@acme", "三件目", "使い方を教えてください"), "20-Nov-2026 11:02:00 +0900");
    std::thread::sleep(Duration::from_secs(4));
    stack.postfix("start");
    let got = wait_for("the delayed acknowledgment", Duration::from_secs(60), || {
        Some(mailbox(&stack, c)).filter(|m| !m.is_empty())
    });
    assert_eq!(got.len(), 1);
    for who in [a, b] {
        assert_eq!(mailbox(&stack, who).len(), 1, "{who} acknowledged twice");
    }
    let log = daemon.terminate();
    assert!(log.contains("IMAP intake is down"), "{log}");
    assert!(log.contains("sending has paused"), "{log}");
    assert!(log.contains("the SMTP server is back after"), "{log}");
    // Each change of state is logged once, not once per retry.
    assert!(log.matches("IMAP intake is down").count() <= 3, "{log}");
}

/// `uketsuke status --json` for a test's configuration (Null before the daemon made its store).
fn status_json(config: &std::path::Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_uketsuke"))
        .args(["status", "--json", "--config", config.to_str().unwrap()])
        .output()
        .expect("status");
    if String::from_utf8_lossy(&out.stderr).contains("there is no store") {
        return serde_json::Value::Null;
    }
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("status --json: {e}: {out:?}"))
}

/// The outbox entries still waiting: (recipient, attempts, not_before, created_at).
fn pending_entries(db: &std::path::Path) -> Vec<(String, i64, String, String)> {
    if !db.exists() {
        return Vec::new();
    }
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).expect("store");
    // The daemon may not have made its tables yet.
    let Ok(mut query) =
        conn.prepare("SELECT recipient, attempts, not_before, created_at FROM outbox WHERE state = 'pending'")
    else {
        return Vec::new();
    };
    query
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn an_smtp_outage_pauses_the_channel_and_everything_waiting_goes_when_it_is_back() {
    let stack = MailStack::new("smtp-outage");
    let config = config_for(&stack, "smtp-outage", "three-priority", "plain");
    // The shipped backoff for a message's own failures: had each refused connection aged the
    // messages, they would wait a minute or more after the server is back. Down is said after
    // 3 s.
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "retry_first_seconds = 1\nretry_max_seconds = 2\n",
        "retry_first_seconds = 30\nretry_max_seconds = 3600\n",
        1,
    ) + "[alerts]\ndown_after_seconds = 3\n";
    std::fs::write(&config, text).unwrap();
    let db = stack.dir.join("smtp-outage.db");
    let daemon = Daemon::start(&config, None);
    let first = "outage-0@ops.acme.example.jp";
    append(
        &stack,
        SUPPORT,
        &report(first, "o0@acme", "一件目", "使い方を教えてください"),
        "20-Nov-2026 11:00:00 +0900",
    );
    wait_for("the first acknowledgment", Duration::from_secs(30), || {
        Some(mailbox(&stack, first)).filter(|m| !m.is_empty())
    });

    stack.postfix("stop");
    let waiting: Vec<String> = (1..=5).map(|i| format!("outage-{i}@ops.acme.example.jp")).collect();
    for (i, who) in waiting.iter().enumerate() {
        let id = format!("o{}@acme", i + 1);
        append(&stack, SUPPORT, &report(who, &id, "使い方", "使い方を教えてください"), "20-Nov-2026 11:01:00 +0900");
    }
    // Health says so as soon as the grace is over, not after stalled_after_seconds (600).
    let problems = wait_for("status to show SMTP down", Duration::from_secs(60), || {
        let status = status_json(&config);
        let problems = status["problems"].to_string();
        problems.contains("smtp is down since").then_some(problems)
    });
    assert!(problems.contains("refused") || problems.contains("connect"), "{problems}");
    // Let the channel fail a good many times over.
    std::thread::sleep(Duration::from_secs(10));
    let pending = pending_entries(&db);
    let acks: Vec<_> = pending.iter().filter(|(to, ..)| to.starts_with("outage-")).collect();
    assert_eq!(acks.len(), waiting.len(), "{pending:?}");
    for (to, attempts, not_before, created) in &pending {
        // Nothing was counted against a message, nothing was put off.
        assert_eq!(*attempts, 0, "{to}: {pending:?}");
        assert!(not_before <= created, "{to} was put off: {pending:?}");
    }

    let back = std::time::Instant::now();
    stack.postfix("start");
    for who in &waiting {
        wait_for("the acknowledgments that waited", Duration::from_secs(60), || {
            Some(mailbox(&stack, who)).filter(|m| !m.is_empty())
        });
    }
    eprintln!("every waiting acknowledgment delivered {} ms after SMTP was back", back.elapsed().as_millis());
    for who in waiting.iter().chain([&first.to_string()]) {
        assert_eq!(mailbox(&stack, who).len(), 1, "{who} acknowledged twice");
    }
    wait_for("status to show SMTP up", Duration::from_secs(30), || {
        let status = status_json(&config);
        (!status["problems"].to_string().contains("smtp is down")).then_some(())
    });
    let log = daemon.terminate();
    // The outage is logged when it starts and when it ends, not once per refused connection.
    assert_eq!(log.matches("sending has paused").count(), 1, "{log}");
    assert!(log.contains("the SMTP server is back after"), "{log}");
}

#[test]
fn an_smtp_server_that_never_greets_is_a_channel_down_not_a_hung_outbox() {
    let stack = MailStack::new("smtp-silent");
    let config = config_for(&stack, "smtp-silent", "three-priority", "plain");
    // A server that takes connections and never says a word.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("listen");
    let port = silent.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming().flatten() {
            held.push(conn);
        }
    });
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        &format!("port = {}\nsecurity = \"plain\"", stack.smtp),
        &format!("port = {port}\nsecurity = \"plain\"\ntimeout_seconds = 1"),
        1,
    ) + "[alerts]\ndown_after_seconds = 1\n";
    assert!(text.contains("timeout_seconds = 1"), "{text}");
    std::fs::write(&config, text).unwrap();
    let daemon = Daemon::start(&config, None);
    let who = "silent@ops.acme.example.jp";
    append(
        &stack,
        SUPPORT,
        &report(who, "silent@acme", "使い方", "使い方を教えてください"),
        "20-Nov-2026 11:00:00 +0900",
    );
    let problems = wait_for("status to show SMTP down", Duration::from_secs(60), || {
        let problems = status_json(&config)["problems"].to_string();
        problems.contains("smtp is down since").then_some(problems)
    });
    assert!(problems.contains("did not finish greeting and login"), "{problems}");
    // Still probing, not stuck: the daemon stops on SIGTERM at once.
    let log = daemon.terminate();
    assert_eq!(log.matches("sending has paused").count(), 1, "{log}");
}

#[test]
fn a_4xx_to_one_recipient_is_that_messages_backoff_not_an_outage() {
    let stack = MailStack::new("smtp-4xx");
    let config = config_for(&stack, "smtp-4xx", "three-priority", "plain");
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "retry_first_seconds = 1\nretry_max_seconds = 2\n",
        "retry_first_seconds = 30\nretry_max_seconds = 3600\n",
        1,
    ) + "[alerts]\ndown_after_seconds = 1\n";
    std::fs::write(&config, text).unwrap();
    // Postfix puts off one recipient (450 at RCPT), as a full or busy mailbox does.
    let busy = "busy-4xx@ops.acme.example.jp";
    let etc = stack.dir.join("postfix/etc");
    let restriction =
        format!("smtpd_recipient_restrictions = check_recipient_access inline:{{{{{busy}=450 4.2.0 Mailbox busy}}}}");
    let out = Command::new("postconf").args(["-c", etc.to_str().unwrap(), "-e", &restriction]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    stack.postfix("reload");
    let daemon = Daemon::start(&config, None);
    append(&stack, SUPPORT, &report(busy, "b4@acme", "一件目", "使い方を教えてください"), "20-Nov-2026 11:00:00 +0900");
    let db = stack.dir.join("smtp-4xx.db");
    let entry = wait_for("the put-off acknowledgment", Duration::from_secs(30), || {
        pending_entries(&db).into_iter().find(|(to, attempts, ..)| to == busy && *attempts >= 1)
    });
    // Put off by its own backoff (30 s doubled), not sent again at once.
    assert!(entry.2 > entry.3, "not put off: {entry:?}");
    // The channel is up: the next customer's acknowledgment goes at once.
    let other = "other-4xx@ops.acme.example.jp";
    append(
        &stack,
        SUPPORT,
        &report(other, "o4@acme", "二件目", "使い方を教えてください"),
        "20-Nov-2026 11:01:00 +0900",
    );
    wait_for("the other acknowledgment", Duration::from_secs(30), || {
        Some(mailbox(&stack, other)).filter(|m| !m.is_empty())
    });
    std::thread::sleep(Duration::from_secs(2));
    let problems = status_json(&config)["problems"].to_string();
    assert!(!problems.contains("smtp is down"), "{problems}");
    let log = daemon.terminate();
    assert!(log.contains("the server put the message off, will retry in 60 s") && log.contains("450"), "{log}");
    assert!(!log.contains("sending has paused"), "{log}");
    assert!(mailbox(&stack, busy).is_empty());
}

#[test]
fn several_mailboxes_each_with_its_own_checkpoint_and_channel() {
    let stack = MailStack::new("mailboxes");
    let dir = stack.dir.join("config-mailboxes");
    copy_shipped_config(&dir);
    std::fs::write(dir.join("imap-password"), "secret\n").expect("secret");
    let section = |name: &str, user: &str| {
        format!(
            "[[imap]]\nname = \"{name}\"\nenabled = true\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"tls\"\nca_file = \"{}\"\nusername = \"{user}\"\npassword_file = \"imap-password\"\nidle_seconds = 60\n",
            stack.imaps,
            stack.ca.display()
        )
    };
    let security = "security@uketsuke.example.jp";
    let db = stack.dir.join("mailboxes.db");
    let main = config_head("three-priority", &db)
        + &section("support", SUPPORT)
        + &section("security", security)
        + &format!(
            "[smtp]\nenabled = true\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"plain\"\n[outbox]\nretry_first_seconds = 1\nretry_max_seconds = 2\nmax_attempts = 1000\n",
            stack.smtp
        );
    let config = dir.join("uketsuke.toml");
    std::fs::write(&config, &main).expect("config");
    let check = |text: &str| {
        std::fs::write(dir.join("check.toml"), text).expect("config");
        Command::new(env!("CARGO_BIN_EXE_uketsuke"))
            .args(["check-config", dir.join("check.toml").to_str().unwrap()])
            .output()
            .expect("check-config")
    };
    assert!(check(&main).status.success(), "{:?}", check(&main));
    // Several mailboxes need names, and each its own.
    let unnamed = check(&main.replace("name = \"security\"\n", ""));
    assert!(String::from_utf8_lossy(&unnamed.stderr).contains("needs a name"), "{unnamed:?}");
    let twice = check(&main.replace("name = \"security\"", "name = \"support\""));
    assert!(String::from_utf8_lossy(&twice.stderr).contains("both named imap:support"), "{twice:?}");
    let same = check(&main.replace(&format!("username = \"{security}\""), &format!("username = \"{SUPPORT}\"")));
    assert!(String::from_utf8_lossy(&same.stderr).contains("watch the same mailbox"), "{same:?}");

    let daemon = Daemon::start(&config, None);
    let (a, b) = ("mb-a@ops.acme.example.jp", "mb-b@ops.acme.example.jp");
    append(&stack, SUPPORT, &report(a, "mb-a@acme", "使い方", "使い方を教えてください"), "20-Nov-2026 11:00:00 +0900");
    append(
        &stack,
        security,
        &report(b, "mb-b@acme", "脆弱性の報告", "使い方を教えてください"),
        "20-Nov-2026 11:00:00 +0900",
    );
    for who in [a, b] {
        wait_for("the acknowledgment", Duration::from_secs(30), || {
            Some(mailbox(&stack, who)).filter(|m| !m.is_empty())
        });
    }
    let status = status_json(&config);
    let channels = status["channels"].as_array().cloned().unwrap_or_default();
    for name in ["imap:support", "imap:security"] {
        assert!(
            channels.iter().any(|c| c["name"] == name && c["state"] == "connected"),
            "{name} is not shown connected: {status}"
        );
    }
    let conn = rusqlite::Connection::open(&db).expect("db");
    let checkpoints: Vec<String> = conn
        .prepare("SELECT mailbox FROM checkpoints ORDER BY mailbox")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(checkpoints.len(), 2, "{checkpoints:?}");
    assert!(checkpoints.iter().any(|c| c.starts_with(security)) && checkpoints.iter().any(|c| c.starts_with(SUPPORT)));
    daemon.terminate();
}

#[test]
fn an_imap_server_that_is_down_is_shown_at_once_and_no_status_creates_an_empty_store() {
    let stack = MailStack::new("imap-down");
    let config = config_for(&stack, "imap-down", "three-priority", "tls");
    let text = std::fs::read_to_string(&config).unwrap() + "[alerts]\ndown_after_seconds = 2\n";
    std::fs::write(&config, text).unwrap();
    let db = stack.dir.join("imap-down.db");
    // Before the daemon ever ran there is no store: status says so and makes none.
    let before = Command::new(env!("CARGO_BIN_EXE_uketsuke"))
        .args(["status", "--config", config.to_str().unwrap()])
        .output()
        .expect("status");
    assert_eq!(before.status.code(), Some(1), "{before:?}");
    assert!(String::from_utf8_lossy(&before.stderr).contains("there is no store at"), "{before:?}");
    assert!(!db.exists(), "status created an empty store");

    let daemon = Daemon::start(&config, None);
    wait_for("IMAP connected", Duration::from_secs(30), || {
        let status = status_json(&config);
        status["channels"].to_string().contains("connected").then_some(())
    });
    assert_eq!(status_json(&config)["problems"], serde_json::json!([]));
    stack.stop_all();
    let problems = wait_for("status to show IMAP down", Duration::from_secs(60), || {
        let problems = status_json(&config)["problems"].to_string();
        problems.contains("imap is down since").then_some(problems)
    });
    assert!(!problems.contains("has not succeeded"), "{problems}");
    stack.restart();
    wait_for("status to show IMAP up again", Duration::from_secs(90), || {
        status_json(&config)["problems"].as_array().is_some_and(|p| p.is_empty()).then_some(())
    });
    daemon.terminate();
}

#[test]
fn daemon_killed_mid_backlog_loses_nothing_and_acknowledges_once() {
    let stack = MailStack::start("backlog", 24700);
    let config = config_for(&stack, "backlog", "three-priority", "tls");
    let n = 120;
    runtime().block_on(async {
        let mut session = imap_login(&stack, SUPPORT).await;
        for i in 0..n {
            let raw = report(
                &format!("t7-{}@ops.acme.example.jp", i % 10),
                &format!("t7-{i}@acme"),
                &format!("Report {i}"),
                "使い方を教えてください",
            );
            session.append("INBOX", None, Some("\"20-Nov-2026 11:00:00 +0900\""), &raw).await.expect("append");
        }
        session.logout().await.ok();
    });
    let db = stack.dir.join("backlog.db");
    let recorded = || -> i64 {
        rusqlite::Connection::open(&db)
            .ok()
            .and_then(|c| c.query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).ok())
            .unwrap_or(0)
    };
    let mut kills = 0;
    for k in 0..6 {
        let mut daemon = Daemon::start(&config, None);
        let before = recorded();
        wait_for("some progress", Duration::from_secs(60), || (recorded() > before || before == n).then_some(()));
        std::thread::sleep(Duration::from_millis(100 + 60 * k));
        let _ = daemon.child.kill(); // SIGKILL
        let _ = daemon.child.wait();
        kills += 1;
    }
    let daemon = Daemon::start(&config, None);
    wait_for("every message recorded", Duration::from_secs(90), || (recorded() == n).then_some(()));
    // Every message got its acknowledgment, with one Message-ID each.
    let mut by_original: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    wait_for("every acknowledgment delivered", Duration::from_secs(120), || {
        by_original.clear();
        for i in 0..10 {
            for m in mailbox(&stack, &format!("t7-{i}@ops.acme.example.jp")) {
                by_original.entry(m.in_reply_to.clone()).or_default().insert(m.message_id.clone());
            }
        }
        (by_original.len() == n as usize).then_some(())
    });
    assert!(
        by_original.values().all(|ids| ids.len() == 1),
        "an acknowledgment was sent twice with different Message-IDs"
    );
    // A kill can catch at most one message between the server's 250 and the store's record
    // of it (the end of DATA is taken one message at a time): at most one copy too many per
    // kill, acknowledgments and hand-overs together.
    wait_for("every hand-over delivered", Duration::from_secs(120), || {
        (mailbox(&stack, "team@uketsuke.example.jp").len() >= n as usize).then_some(())
    });
    let mut deliveries = 0;
    let mut distinct = BTreeSet::new();
    for who in (0..10).map(|i| format!("t7-{i}@ops.acme.example.jp")).chain(["team@uketsuke.example.jp".to_string()]) {
        for m in mailbox(&stack, &who) {
            deliveries += 1;
            distinct.insert(m.message_id);
        }
    }
    let surplus = deliveries - distinct.len();
    assert!(surplus <= 6, "{surplus} messages delivered twice for 6 kills");
    let conn = rusqlite::Connection::open(&db).expect("db");
    let (messages, cases, acks): (i64, i64, i64) = conn
        .query_row("SELECT (SELECT count(*) FROM messages), (SELECT count(DISTINCT number) FROM cases), (SELECT count(*) FROM outbox WHERE kind = 'ack')", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("counts");
    assert_eq!((messages, cases, acks), (n, n, n));
    assert_eq!(kills, 6);
    daemon.terminate();
}

#[test]
fn a_permanent_refusal_is_parked_with_the_servers_answer() {
    let stack = MailStack::start("parked", 24800);
    let config = config_for(&stack, "parked", "three-priority", "tls");
    let daemon = Daemon::start(&config, None);
    // Three-priority accepts anyone; the stack relays nothing to this domain: 554.
    append(
        &stack,
        SUPPORT,
        &report("someone@nowhere.example.org", "t8@nowhere", "質問", "使い方を教えてください"),
        "20-Nov-2026 11:00:00 +0900",
    );
    let cli = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_uketsuke"))
            .args(args)
            .args(["--config", config.to_str().unwrap()])
            .output()
            .expect("run")
    };
    let shown = wait_for("the parked acknowledgment", Duration::from_secs(30), || {
        let out = cli(&["cases", "show", "CASE-2026-000001"]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.contains("ack to someone@nowhere.example.org parked").then_some(text)
    });
    assert!(shown.contains("Relay access denied"), "{shown}");
    // The hand-over still went to the team; status reports the parked entry.
    wait_for("the hand-over", Duration::from_secs(30), || {
        Some(mailbox(&stack, "team@uketsuke.example.jp")).filter(|m| !m.is_empty())
    });
    let status = cli(&["status"]);
    assert_eq!(status.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&status.stdout).contains("parked after permanent failures"));
    daemon.terminate();
}

#[test]
fn large_messages_are_recorded_whole_in_size_bounded_batches() {
    let stack = MailStack::start("large", 25100);
    let config = config_for(&stack, "large", "three-priority", "tls");
    // Two 20 MB reports (a log dump each) and a small one behind them.
    let mut sizes = Vec::new();
    for i in 0..2 {
        let mut raw = format!("From: t9-{i}@ops.acme.example.jp\r\nTo: {SUPPORT}\r\nSubject: dump {i}\r\nMessage-ID: <t9-{i}@acme>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nログを添付します。\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"dump.bin\"\r\n\r\n").into_bytes();
        while raw.len() < 20 << 20 {
            raw.extend_from_slice(b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0\r\n");
        }
        raw.extend_from_slice(b"--b--\r\n");
        sizes.push(raw.len() as i64);
        append(&stack, SUPPORT, &raw, "20-Nov-2026 11:00:00 +0900");
    }
    append(
        &stack,
        SUPPORT,
        &report("t9-small@ops.acme.example.jp", "t9-small@acme", "質問", "使い方を教えてください"),
        "20-Nov-2026 11:00:01 +0900",
    );
    let daemon = Daemon::start(&config, None);
    wait_for("the small report's acknowledgment", Duration::from_secs(60), || {
        Some(mailbox(&stack, "t9-small@ops.acme.example.jp")).filter(|m| !m.is_empty())
    });
    let db = rusqlite::Connection::open(stack.dir.join("large.db")).expect("db");
    let mut stmt =
        db.prepare("SELECT length(raw), size FROM messages WHERE size > 1000000 ORDER BY id").expect("query");
    let stored: Vec<(i64, i64)> =
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).expect("rows").map(|r| r.expect("row")).collect();
    assert_eq!(stored.iter().map(|(len, _)| *len).collect::<Vec<_>>(), sizes, "the large messages are kept whole");
    daemon.terminate();
}

#[test]
fn smtp_auth_with_a_password_where_the_server_allows_it() {
    let stack = MailStack::start("smtp-auth", 25600);
    let config = config_for(&stack, "smtp-auth", "three-priority", "tls");
    // The outbox logs in (AUTH PLAIN over SMTPS) with a password read from a file.
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "[smtp]\nenabled = true\n",
        "[smtp]\nenabled = true\nusername = \"support@uketsuke.example.jp\"\npassword_file = \"imap-password\"\n",
        1,
    );
    std::fs::write(&config, text).unwrap();
    let daemon = Daemon::start(&config, None);
    let customer = "t9-auth@ops.acme.example.jp";
    append(
        &stack,
        SUPPORT,
        &report(customer, "t9@ops.acme", "ログインできません", FULL_JA),
        "20-Nov-2026 11:00:00 +0900",
    );
    wait_for("the acknowledgment", Duration::from_secs(30), || {
        Some(mailbox(&stack, customer)).filter(|m| !m.is_empty())
    });
    let postfix = std::fs::read_to_string(stack.dir.join("log/postfix.log")).unwrap_or_default();
    assert!(
        postfix.contains("sasl_method=PLAIN, sasl_username=support@uketsuke.example.jp"),
        "the outbox did not authenticate"
    );

    // A wrong password is a temporary failure to retry and to report, never a parked reply.
    daemon.terminate();
    std::fs::write(config.parent().unwrap().join("imap-password"), "wrong\n").unwrap();
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "password_file = \"imap-password\"\nidle_seconds",
        "password_file = \"imap-password-ok\"\nidle_seconds",
        1,
    );
    std::fs::write(config.parent().unwrap().join("imap-password-ok"), "secret\n").unwrap();
    std::fs::write(&config, text).unwrap();
    let daemon = Daemon::start(&config, None);
    let customer = "t10-auth@ops.acme.example.jp";
    append(
        &stack,
        SUPPORT,
        &report(customer, "t10@ops.acme", "ログインできません", FULL_JA),
        "20-Nov-2026 11:05:00 +0900",
    );
    wait_for("the refused login in the log", Duration::from_secs(30), || {
        daemon.log().contains("sending has paused, the SMTP server refuses our login").then_some(())
    });
    let log = daemon.terminate();
    let status = Command::new(env!("CARGO_BIN_EXE_uketsuke"))
        .args(["status", "--json", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).expect("status --json");
    assert_eq!(status["outbox_parked"], 0, "{status}");
    assert!(status["outbox_pending"].as_i64().unwrap_or(0) >= 1, "{status}");
    assert!(log.contains("535"), "the server's answer is in the log: {log}");
    assert!(!log.contains("wrong") && !log.contains("secret\n"), "a password appeared in the log");
    assert!(mailbox(&stack, customer).is_empty());
}

#[test]
fn a_server_without_idle_is_polled() {
    let stack = MailStack::start_env("no-idle", 25700, &[("MAILSTACK_NO_IDLE", "1")]);
    let config = config_for(&stack, "no-idle", "three-priority", "tls");
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "idle_seconds = 60",
        "idle_seconds = 60\npoll_seconds = 1",
        1,
    );
    std::fs::write(&config, text).unwrap();
    let daemon = Daemon::start(&config, None);
    wait_for("the IMAP connection", Duration::from_secs(20), || {
        daemon.log().contains("IMAP intake connected").then_some(())
    });
    assert!(daemon.log().contains("idle=false"), "the server offered IDLE after all: {}", daemon.log());
    let customer = "t11-poll@ops.acme.example.jp";
    append(
        &stack,
        SUPPORT,
        &report(customer, "t11@ops.acme", "ログインできません", FULL_JA),
        "20-Nov-2026 11:00:00 +0900",
    );
    let acks = wait_for("the acknowledgment", Duration::from_secs(30), || {
        Some(mailbox(&stack, customer)).filter(|m| !m.is_empty())
    });
    assert_eq!(acks.len(), 1);
    daemon.terminate();
}

// ---- several instances on PostgreSQL ----

/// The lease holder of the support mailbox, as (instance id, pid, term), if one is live.
fn mailbox_holder(db: &mut postgres::Client) -> Option<(String, u32, i64)> {
    let row = db
        .query_opt("SELECT holder, term FROM leases WHERE name LIKE 'imap:%' AND expires_at > clock_timestamp()", &[])
        .ok()??;
    let holder: String = row.get(0);
    let pid = holder.split(':').nth(1)?.parse().ok()?;
    Some((holder, pid, row.get(1)))
}

fn pg_count(db: &mut postgres::Client, sql: &str) -> i64 {
    db.query_one(sql, &[]).map(|r| r.get(0)).unwrap_or(-1)
}

#[test]
fn three_instances_on_postgres_fail_over_losing_nothing_and_a_paused_holder_writes_nothing() {
    let stack = MailStack::start("failover", 24800);
    let pg = common::pg::PgDatabase::new("failover");
    let config = config_for(&stack, "failover", "three-priority", "tls");
    on_postgres(&config, &pg.url);
    let mut db = pg.client();
    let n = 80;
    let append_reports = |from: usize, to: usize| {
        runtime().block_on(async {
            let mut session = imap_login(&stack, SUPPORT).await;
            for i in from..to {
                let raw = report(
                    &format!("fo-{}@ops.acme.example.jp", i % 10),
                    &format!("fo-{i}@acme"),
                    &format!("Report {i}"),
                    "使い方を教えてください",
                );
                session.append("INBOX", None, Some("\"20-Nov-2026 11:00:00 +0900\""), &raw).await.expect("append");
            }
            session.logout().await.ok();
        })
    };
    append_reports(0, n);
    let mut daemons: Vec<Daemon> = (0..3).map(|_| Daemon::start(&config, None)).collect();
    // SIGKILL the holder of the mailbox lease again and again, mid-backlog; a new instance
    // takes each one's place.
    let mut takeovers = Vec::new();
    for _ in 0..4 {
        let (holder, pid, term) = wait_for("a lease holder", Duration::from_secs(30), || mailbox_holder(&mut db));
        let before = pg_count(&mut db, "SELECT count(*) FROM messages");
        wait_for("some progress", Duration::from_secs(60), || {
            (pg_count(&mut db, "SELECT count(*) FROM messages") > before || before == n as i64).then_some(())
        });
        let i = daemons.iter().position(|d| d.child.id() == pid).expect("the holder is one of ours");
        let mut dead = daemons.remove(i);
        let _ = dead.child.kill();
        let _ = dead.child.wait();
        let killed = std::time::Instant::now();
        let (next, _, next_term) = wait_for("a takeover", Duration::from_secs(30), || {
            mailbox_holder(&mut db).filter(|(h, _, t)| *h != holder && *t > term)
        });
        takeovers.push(killed.elapsed());
        assert_ne!(next, holder);
        assert!(next_term > term);
        daemons.push(Daemon::start(&config, None));
    }
    // Within the lease time (3 s), and a poll (1 s).
    assert!(takeovers.iter().all(|t| *t < Duration::from_secs(5)), "takeovers took {takeovers:?}");
    wait_for("every message recorded", Duration::from_secs(90), || {
        (pg_count(&mut db, "SELECT count(*) FROM messages") == n as i64).then_some(())
    });
    // Paused past its lease, the holder loses the mailbox; resumed, it writes nothing.
    let (holder, pid, term) = wait_for("a lease holder", Duration::from_secs(30), || mailbox_holder(&mut db));
    unsafe_kill(pid, "STOP");
    let (next, _, _) = wait_for("a takeover from the paused holder", Duration::from_secs(15), || {
        mailbox_holder(&mut db).filter(|(h, _, t)| *h != holder && *t > term)
    });
    append_reports(n, n + 10);
    wait_for("the new holder records the new mail", Duration::from_secs(60), || {
        (pg_count(&mut db, "SELECT count(*) FROM messages") == n as i64 + 10).then_some(())
    });
    unsafe_kill(pid, "CONT");
    let paused = daemons.iter().position(|d| d.child.id() == pid).expect("ours");
    wait_for("the resumed instance knows its lease is gone", Duration::from_secs(15), || {
        daemons[paused].log().contains("stopped watching the mailbox").then_some(())
    });
    assert_eq!(mailbox_holder(&mut db).map(|(h, _, _)| h), Some(next), "the lease stays with the new holder");
    // Nothing lost, nothing twice: one message and one case per mail, and one acknowledgment
    // Message-ID per report in the customers' mailboxes.
    let total = n as i64 + 10;
    assert_eq!(pg_count(&mut db, "SELECT count(*) FROM messages"), total);
    assert_eq!(pg_count(&mut db, "SELECT count(DISTINCT number) FROM cases"), total);
    assert_eq!(pg_count(&mut db, "SELECT count(*) FROM outbox WHERE kind = 'ack'"), total);
    let mut by_original: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    wait_for("every acknowledgment delivered", Duration::from_secs(120), || {
        by_original.clear();
        for i in 0..10 {
            for m in mailbox(&stack, &format!("fo-{i}@ops.acme.example.jp")) {
                by_original.entry(m.in_reply_to.clone()).or_default().insert(m.message_id.clone());
            }
        }
        (by_original.len() == total as usize).then_some(())
    });
    assert!(by_original.values().all(|ids| ids.len() == 1), "an acknowledgment went out under two Message-IDs");
    // status shows the instances and who holds what.
    let out = Command::new(env!("CARGO_BIN_EXE_uketsuke"))
        .args(["status", "--config", config.to_str().unwrap()])
        .output()
        .expect("status");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("lease imap:") && shown.contains("lease scheduler"), "{shown}");
    assert!(shown.matches("instance ").count() >= 3, "{shown}");
    eprintln!("takeovers after SIGKILL: {takeovers:?}");
    for d in daemons {
        d.terminate();
    }
}

/// A TCP relay in front of PostgreSQL that can be cut. Once cut it forwards nothing, either
/// way, and answers nothing, but keeps every connection open and accepts new ones: a network
/// partition as both ends see it (no reset, no close; only silence).
struct Relay {
    port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Relay {
    fn to(url: &str) -> Relay {
        use std::sync::atomic::Ordering;
        let upstream = url.split('@').nth(1).and_then(|rest| rest.split('/').next()).expect("host:port in the URL");
        let upstream = upstream.to_string();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("relay port");
        let port = listener.local_addr().expect("addr").port();
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let relay_cut = cut.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                if relay_cut.load(Ordering::SeqCst) {
                    let sink = client.try_clone().expect("clone");
                    relay_pump(client, sink, relay_cut.clone());
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(&upstream) else { continue };
                relay_pump(client.try_clone().expect("clone"), server.try_clone().expect("clone"), relay_cut.clone());
                relay_pump(server, client, relay_cut.clone());
            }
        });
        Relay { port, cut }
    }

    fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Copies `from` to `to` until cut; from then on reads and drops what `from` sends.
fn relay_pump(
    mut from: std::net::TcpStream,
    mut to: std::net::TcpStream,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use std::io::{Read, Write};
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if !cut.load(std::sync::atomic::Ordering::SeqCst) && to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        if !cut.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = to.shutdown(std::net::Shutdown::Both);
        }
    });
}

/// The PostgreSQL configuration of `config_for`'s file: `url` instead of `path`, a short lease.
fn on_postgres(config: &std::path::Path, url: &str) {
    let text = std::fs::read_to_string(config).expect("config");
    let db_line = text.lines().find(|l| l.starts_with("path = ")).expect("a [store] path").to_string();
    std::fs::write(config, text.replace(&db_line, &format!("url = \"{url}\"\nlease_seconds = 3"))).expect("write");
}

#[test]
fn an_instance_cut_from_postgres_stops_before_its_lease_ends_and_another_takes_over() {
    let stack = MailStack::start("cut", 24900);
    let pg = common::pg::PgDatabase::new("cut");
    let relay = Relay::to(&pg.url);
    // Instance A reaches the database through the relay; instance B directly.
    let config_a = config_for(&stack, "cut-a", "three-priority", "tls");
    let config_b = config_for(&stack, "cut-b", "three-priority", "tls");
    let db_name = pg.url.rsplit('/').next().expect("database name");
    on_postgres(&config_a, &format!("postgres://postgres@127.0.0.1:{}/{db_name}", relay.port));
    on_postgres(&config_b, &pg.url);
    let mut db = pg.client();
    let customer = |i: usize| format!("cut-{}@ops.acme.example.jp", i % 3);
    let append_reports = |from: usize, to: usize| {
        for i in from..to {
            let raw = report(&customer(i), &format!("cut-{i}@acme"), &format!("Report {i}"), "使い方を教えてください");
            append(&stack, SUPPORT, &raw, "20-Nov-2026 11:00:00 +0900");
        }
    };
    append_reports(0, 4);
    let a = Daemon::start(&config_a, None);
    let (_, pid, term) = wait_for("A holds the mailbox", Duration::from_secs(30), || mailbox_holder(&mut db));
    assert_eq!(pid, a.child.id(), "A was started alone and must hold the mailbox");
    wait_for("A records and acknowledges the first reports", Duration::from_secs(60), || {
        (pg_count(&mut db, "SELECT count(*) FROM outbox WHERE kind = 'ack' AND state = 'sent'") == 4).then_some(())
    });
    let b = Daemon::start(&config_b, None);
    wait_for("B stands by", Duration::from_secs(30), || b.log().contains("standing by").then_some(()));

    // Cut A from the database. The lease row now keeps the expiry of A's last renewal.
    relay.cut();
    std::thread::sleep(Duration::from_millis(300));
    let expires: chrono::DateTime<chrono::Utc> = db
        .query_one("SELECT expires_at FROM leases WHERE name LIKE 'imap:%'", &[])
        .map(|r| r.get(0))
        .expect("the mailbox lease");
    let stopped = wait_for("A stops acting on its own clock", Duration::from_secs(10), || {
        a.log().contains("stopping the work under it").then(chrono::Utc::now)
    });
    assert!(stopped < expires, "A stopped at {stopped}, after its lease ran out at {expires}: {}", a.log());
    let (holder, next_pid, next_term) = wait_for("B takes over", Duration::from_secs(15), || {
        mailbox_holder(&mut db).filter(|(_, p, _)| *p == b.child.id())
    });
    assert!(next_term > term, "{holder} took the mailbox with term {next_term}, not above {term}");
    let since: chrono::DateTime<chrono::Utc> = db
        .query_one("SELECT since FROM leases WHERE name LIKE 'imap:%'", &[])
        .map(|r| r.get(0))
        .expect("the mailbox lease");
    assert!(since >= expires, "B took the mailbox at {since}, before A's lease ran out at {expires}");
    assert_eq!(next_pid, b.child.id());
    wait_for("A stops watching the mailbox", Duration::from_secs(10), || {
        a.log().contains("stopped watching the mailbox").then_some(())
    });

    // New mail is B's alone: recorded and acknowledged once each, nothing lost.
    append_reports(4, 8);
    wait_for("B records and acknowledges the new reports", Duration::from_secs(60), || {
        (pg_count(&mut db, "SELECT count(*) FROM outbox WHERE kind = 'ack' AND state = 'sent'") == 8).then_some(())
    });
    assert_eq!(pg_count(&mut db, "SELECT count(*) FROM messages"), 8);
    assert_eq!(pg_count(&mut db, "SELECT count(DISTINCT number) FROM cases"), 8);
    let mut by_original: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    wait_for("every acknowledgment delivered", Duration::from_secs(60), || {
        by_original.clear();
        for i in 0..3 {
            for m in mailbox(&stack, &customer(i)) {
                by_original.entry(m.in_reply_to.clone()).or_default().insert(m.message_id.clone());
            }
        }
        (by_original.values().map(BTreeSet::len).sum::<usize>() == 8).then_some(())
    });
    assert_eq!(by_original.len(), 8, "{by_original:?}");
    assert!(!a.log().contains("panicked"), "{}", a.log());
    eprintln!("A stopped {:?} before its lease ran out", (expires - stopped).to_std().unwrap_or_default());
    // A is still cut off, its tasks waiting on the silent store: told to stop, it still stops,
    // after the daemon's stop deadline (30 s), and says why.
    let mut a = a;
    unsafe_kill(a.child.id(), "TERM");
    let exited = wait_for("A stops on SIGTERM though its store is silent", Duration::from_secs(45), || {
        a.child.try_wait().ok().flatten()
    });
    assert!(exited.success(), "{exited}: {}", a.log());
    assert!(a.log().contains("did not stop within 30 s"), "{}", a.log());
    b.terminate();
}
