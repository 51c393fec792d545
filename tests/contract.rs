//! The contract as data (docs/POLICY.md sections 2, 4 and 6), table-driven: tiers that belong
//! to the profile and a customers file checked against it; configuration-change requests
//! (設定代行) with their priority, completion targets and sensitive settings; suspension
//! computed from the date a payment fell overdue and the receipt time; and the status page in
//! out-of-hours acknowledgments of high incidents only. Acknowledgments are rendered from what
//! a real SQLite store recorded, with the shipped templates.

mod common;

use chrono::{DateTime, Utc};
use common::{ChildGuard, TestDir};
use std::time::Duration;
use uketsuke::act::compose::{Templates, compose};
use uketsuke::config::{Config, Overrides};
use uketsuke::decide::{Action, Calendars, Decision, decide};
use uketsuke::record::{self, SqliteStore, Store};
use uketsuke::understand::{Channel, FormSubmission, understand_form};

/// A fresh folder for one test's files, removed when the test ends.
fn temp_dir(name: &str) -> TestDir {
    TestDir::new(&format!("contract-{name}"))
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("test time").with_timezone(&Utc)
}

fn shipped(profile: &str) -> Config {
    Config::load(None, &Overrides { profile: Some(profile.into()), customers: None }).expect("shipped config loads")
}

/// The shipped configuration with `customers` as the customers file.
fn with_customers(profile: &str, name: &str, customers: &str) -> Result<Config, String> {
    let dir = temp_dir(name);
    let path = dir.join("customers.toml");
    std::fs::write(&path, customers).expect("write customers");
    let loaded = Config::load(None, &Overrides { profile: Some(profile.into()), customers: Some(path) });
    loaded.map_err(|problems| problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n"))
}

fn report(email: &str, subject: &str, description: &str, priority: &str) -> FormSubmission {
    FormSubmission {
        email: email.into(),
        name: "Reporter".into(),
        language: "ja".into(),
        priority: priority.into(),
        subject: subject.into(),
        description: description.into(),
        // As a partner's signed webhook sends it: the contract's table, not the page's caution.
        signed: true,
        ..FormSubmission::default()
    }
}

fn run(config: &Config, form: &FormSubmission, when: &str) -> Decision {
    let report = understand_form(form, config);
    decide(&report, &config.customers, &config.policy, &Calendars::new(&config.policy), at(when))
}

// ---- 1. Tiers belong to the profile ----

#[test]
fn each_profile_reads_its_own_tier_from_one_customers_file() {
    // (profile, customer, tier)
    let rows = [
        ("three-priority", "ACME-0012", "support-plus"),
        ("three-priority", "UMBRELLA-0100", "standard"),
        ("four-severity", "ACME-0012", "gold"),
        ("four-severity", "GLOBEX-0042", "platinum"),
        ("four-severity", "SAKURA-0301", "silver"),
    ];
    for (profile, id, tier) in rows {
        let config = shipped(profile);
        assert_eq!(config.customers.by_id(id).map(|c| c.tier.as_str()), Some(tier), "{profile} {id}");
    }
    assert_eq!(shipped("three-priority").policy.tiers, ["standard", "support-plus"]);
    assert_eq!(shipped("four-severity").policy.tiers, ["silver", "gold", "platinum"]);
}

#[test]
fn a_customers_file_is_checked_against_the_profile_in_force() {
    let entry = |tier: &str| {
        format!(
            "# one customer\n\n[[customer]]\nid = \"ACME-0012\"\nname = \"Acme\"\n{tier}\ncontacts = [\"@acme.example.jp\"]\n"
        )
    };
    // (profile, tier line, Ok(tier) or Err(problem text)); the tier line is line 6.
    let rows: [(&str, &str, Result<&str, &str>); 9] = [
        ("three-priority", "tier = \"standard\"", Ok("standard")),
        ("three-priority", "tier = \"Support-Plus\"", Ok("support-plus")),
        ("three-priority", "", Ok("standard")),
        ("four-severity", "", Ok("silver")),
        ("four-severity", "tier = { three-priority = \"standard\", four-severity = \"platinum\" }", Ok("platinum")),
        (
            "three-priority",
            "tier = \"gold\"",
            Err("customers.toml:6:8: unknown tier `gold` for the three-priority profile"),
        ),
        ("four-severity", "tier = \"support-plus\"", Err("unknown tier `support-plus` for the four-severity profile")),
        (
            "three-priority",
            "tier = { four-severity = \"gold\" }",
            Err("customers.toml:6:8: this customer has no tier for the profile in force, three-priority"),
        ),
        ("three-priority", "tier = 3", Err("`tier` in [[customer]] must be a string or a table, not integer")),
    ];
    for (i, (profile, line, expected)) in rows.into_iter().enumerate() {
        let loaded = with_customers(profile, &format!("tiers-{i}"), &entry(line));
        match (loaded, expected) {
            (Ok(config), Ok(tier)) => {
                assert_eq!(config.customers.by_id("ACME-0012").unwrap().tier, tier, "{profile} {line:?}")
            }
            (Err(problems), Err(text)) => assert!(problems.contains(text), "{profile} {line:?}: {problems}"),
            (Ok(_), Err(text)) => panic!("{profile} {line:?} loaded, expected {text:?}"),
            (Err(problems), Ok(_)) => panic!("{profile} {line:?} refused: {problems}"),
        }
    }
}

#[test]
fn twenty_four_hour_handling_follows_the_profiles_tiers() {
    // Saturday 03:00, high / sev1: (profile, sender, language, priority, action)
    let rows = [
        // three-priority: high is handled 24 hours for every tier.
        ("three-priority", "yamada@acme.example.jp", "ja", "high", Action::Escalate), // support-plus
        ("three-priority", "it-desk@umbrella.example.com", "en", "high", Action::Escalate), // standard
        ("three-priority", "it-desk@umbrella.example.com", "en", "medium", Action::Hold),
        // four-severity: silver never, gold sev1/sev2, platinum all; English only.
        ("four-severity", "ops@sakura-logi.example.jp", "en", "sev1", Action::Hold), // silver
        ("four-severity", "it-desk@umbrella.example.com", "en", "sev1", Action::Escalate), // gold
        ("four-severity", "it-desk@umbrella.example.com", "en", "sev3", Action::Hold), // gold
        ("four-severity", "ops@globex.example.com", "en", "sev4", Action::Escalate), // platinum
        ("four-severity", "ops@globex.example.com", "ja", "sev4", Action::Hold),     // platinum, Japanese
    ];
    for (profile, sender, language, priority, action) in rows {
        let config = shipped(profile);
        let form = FormSubmission {
            customer_id: String::new(),
            language: language.into(),
            repro_steps: "1. Log in".into(),
            error_messages: "HTTP 500".into(),
            ..report(sender, "Login fails", "Nobody can log in.", priority)
        };
        let d = run(&config, &form, "2026-11-28T03:00:00+09:00");
        assert_eq!(d.action, action, "{profile} {sender} {language} {priority}: {:?}", d.reasons);
    }
}

// ---- 2. Configuration-change requests (設定代行) ----

#[test]
fn change_requests_are_recognised_prioritised_and_flagged() {
    let config = shipped("three-priority");
    // (subject, description, declared, received) -> (priority, change?, sensitive, earliest small change)
    #[allow(clippy::type_complexity)]
    let rows: [(&str, &str, &str, &str, (&str, Option<(bool, &str)>)); 8] = [
        // Wednesday 11:00: 3 business days of 8 hours end Monday 11:00.
        (
            "メール転送設定の変更依頼",
            "転送先アドレスの設定を変更してください。",
            "",
            "2026-11-25T11:00:00+09:00",
            ("medium", Some((false, "2026-11-30T11:00:00+09:00"))),
        ),
        (
            "SSO settings",
            "Please change the setting for single sign-on so that the IdP certificate is the new one.",
            "",
            "2026-11-25T11:00:00+09:00",
            ("medium", Some((true, "2026-11-30T11:00:00+09:00"))),
        ),
        (
            "パスワード再設定の代行",
            "設定代行をお願いします。ユーザー3名のパスワード再設定です。",
            "",
            "2026-11-25T11:00:00+09:00",
            ("medium", Some((true, "2026-11-30T11:00:00+09:00"))),
        ),
        // Saturday night: counted from the next opening, Monday 10:00; 24 business hours end
        // on Wednesday's close, which is that close.
        (
            "Configuration change request",
            "Please change the configuration of our DLP rule.",
            "",
            "2026-11-28T22:00:00+09:00",
            ("medium", Some((false, "2026-12-02T18:00:00+09:00"))),
        ),
        // A declared priority still wins; the request is still one.
        (
            "設定変更（至急）",
            "本日中に設定変更をお願いします。",
            "high",
            "2026-11-25T11:00:00+09:00",
            ("high", Some((false, "2026-11-30T11:00:00+09:00"))),
        ),
        // `sso` does not match inside another word.
        (
            "Lessons on change requests",
            "Where are the lessons for admins? Please change the setting of my account language.",
            "",
            "2026-11-25T11:00:00+09:00",
            ("medium", Some((false, "2026-11-30T11:00:00+09:00"))),
        ),
        // Not a change request: an outage.
        ("全員がログインできません", "サービス停止しています。", "", "2026-11-25T11:00:00+09:00", ("high", None)),
        // An enhancement request is not a change of settings.
        (
            "機能追加の要望",
            "機能追加として、設定の変更履歴を表示する画面が欲しいです。",
            "",
            "2026-11-25T11:00:00+09:00",
            ("low", None),
        ),
    ];
    for (subject, description, declared, received, (priority, change)) in rows {
        let d = run(&config, &report("yamada@acme.example.jp", subject, description, declared), received);
        assert_eq!(d.priority, priority, "{subject}: {:?}", d.reasons);
        match (change, &d.change_request) {
            (None, None) => {}
            (Some((sensitive, small_from)), Some(c)) => {
                assert_eq!(c.sensitive, sensitive, "{subject}: {:?}", d.reasons);
                assert!(c.entitled, "{subject}");
                assert_eq!(
                    c.small_from.map(|t| t.with_timezone(&config.policy.time_zone).to_rfc3339()).as_deref(),
                    Some(small_from),
                    "{subject}"
                );
            }
            (expected, got) => panic!("{subject}: expected {expected:?}, got {got:?} ({:?})", d.reasons),
        }
    }
    // The four-severity contract has no such service: an ordinary report.
    let four = shipped("four-severity");
    let d = run(
        &four,
        &report("yamada@acme.example.jp", "設定変更の依頼", "設定を変更してください。", ""),
        "2026-11-25T11:00:00+09:00",
    );
    assert!(d.change_request.is_none(), "{:?}", d.reasons);
}

/// Records `form` in a fresh store and renders the acknowledgment the outbox would send.
fn acknowledgment(config: &Config, form: &FormSubmission, when: &str, name: &str) -> (Decision, String) {
    let dir = temp_dir(name);
    let mut store = SqliteStore::open(&dir.join("uketsuke.db")).expect("store");
    let calendars = Calendars::new(&config.policy);
    let raw = serde_json::to_vec(form).expect("form json");
    let prepared = record::prepare(raw, Channel::Form, Some(at(when)), at(when), config, &calendars);
    store.write(|tx| record::record(tx, &prepared, config, &calendars, at(when))).expect("recorded");
    let decision = run(config, form, when);
    let jobs = store
        .claim_outbox("contract-test", at("2030-01-01T00:00:00Z"), Duration::from_secs(60), Duration::from_secs(60), 10)
        .expect("outbox");
    let ack = jobs.iter().find(|j| j.kind == "ack").expect("an acknowledgment is queued");
    let message = compose(ack, &Templates::embedded(), config).expect("composes");
    let text = String::from_utf8_lossy(&message.formatted()).to_string();
    (decision, decode(&text))
}

/// The body of a composed message, quoted-printable or base64 undone, for reading.
fn decode(message: &str) -> String {
    let parsed = mail_parser::MessageParser::default().parse(message.as_bytes()).expect("parses");
    parsed.body_text(0).map(|b| b.to_string()).unwrap_or_default()
}

#[test]
fn change_request_acknowledgments_say_what_the_contract_says() {
    let mut config = shipped("three-priority");
    let sensitive =
        report("yamada@acme.example.jp", "SSO設定の変更依頼", "シングルサインオンの設定を変更してください。", "");
    let (d, body) = acknowledgment(&config, &sensitive, "2026-11-25T11:00:00+09:00", "ack-sensitive");
    assert!(d.change_request.as_ref().is_some_and(|c| c.sensitive));
    for words in [
        "最低 3 営業日",
        "2026年11月30日(月) 11:00",
        "10 営業日以上",
        "先着順",
        "ベストエフォート",
        "動作をお客様ご自身で必ずご確認",
        "お断りする場合があります",
    ] {
        assert!(body.contains(words), "{words:?} not in:\n{body}");
    }
    // A plain request does not mention declining.
    let plain = report("yamada@acme.example.jp", "転送設定の変更依頼", "転送先の設定を変更してください。", "");
    let (_, body) = acknowledgment(&config, &plain, "2026-11-25T11:00:00+09:00", "ack-plain");
    assert!(body.contains("最低 3 営業日") && !body.contains("お断り"), "{body}");
    // English.
    let english = FormSubmission {
        language: "en".into(),
        ..report(
            "it-desk@umbrella.example.com",
            "Change request",
            "Please change the setting of our password reset policy.",
            "",
        )
    };
    let (_, body) = acknowledgment(&config, &english, "2026-11-25T11:00:00+09:00", "ack-en");
    for words in [
        "at least 3 business days",
        "Mon 30 Nov 2026 11:00 JST",
        "10 business days or more",
        "first come first",
        "verify the change yourself",
        "may decline",
    ] {
        assert!(body.contains(words), "{words:?} not in:\n{body}");
    }
    // A customer whose tier lacks the service still gets a case, and is told so.
    config.policy.change_requests.as_mut().expect("three-priority has the service").tiers =
        Some(vec!["support-plus".into()]);
    let (d, body) = acknowledgment(&config, &english, "2026-11-25T11:00:00+09:00", "ack-not-entitled");
    assert_eq!(d.action, Action::Dispatch);
    assert!(d.change_request.as_ref().is_some_and(|c| !c.entitled), "{:?}", d.reasons);
    assert!(
        body.contains("not part") && body.contains("make the change yourself") && !body.contains("at least 3"),
        "{body}"
    );
}

// ---- 3. Suspension from the date a payment fell overdue ----

#[test]
fn suspension_follows_the_overdue_date_and_the_receipt_time() {
    let customers = "[[customer]]\nid = \"KUMO-0404\"\ntier = \"standard\"\ncontacts = [\"@kumo.example.jp\"]\npayment_overdue_since = 2026-10-20\n\n\
        [[customer]]\nid = \"ACME-0012\"\ntier = \"standard\"\ncontacts = [\"@acme.example.jp\"]\nsuspended = true\n\n\
        [[customer]]\nid = \"SAKURA-0301\"\ntier = \"standard\"\ncontacts = [\"@sakura-logi.example.jp\"]\npayment_overdue_since = \"2026-11-01\"\n";
    let config = with_customers("three-priority", "suspension", customers).expect("customers load");
    // (sender, received) -> suspended? Days are counted in Asia/Tokyo.
    let rows = [
        ("a@kumo.example.jp", "2026-11-19T23:59:00+09:00", false), // 30 days overdue
        ("a@kumo.example.jp", "2026-11-19T15:00:00Z", true),       // 00:00 JST on the 20th: 31 days
        ("a@kumo.example.jp", "2026-11-20T10:00:00+09:00", true),
        ("a@kumo.example.jp", "2026-10-01T10:00:00+09:00", false), // before it fell overdue
        ("a@acme.example.jp", "2026-11-20T10:00:00+09:00", true),  // suspended by hand
        ("a@sakura-logi.example.jp", "2026-12-01T10:00:00+09:00", false), // 30 days
        ("a@sakura-logi.example.jp", "2026-12-02T10:00:00+09:00", true),
    ];
    for (sender, received, suspended) in rows {
        let d = run(&config, &report(sender, "ログインできません", "エラーになります。", ""), received);
        assert_eq!(d.action == Action::Reject, suspended, "{sender} {received}: {:?}", d.reasons);
        if suspended {
            assert!(d.reasons.iter().any(|r| r.contains("suspended")), "{:?}", d.reasons);
        }
    }
    // The shipped example customer, by the command line, at a fixed receipt time: the same
    // answer on every run, whatever today is.
    let inspect = |when: &str| {
        let mut child = ChildGuard::new(
            std::process::Command::new(env!("CARGO_BIN_EXE_uketsuke"))
                .args(["inspect", "--at", when, "-"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("run inspect"),
        );
        use std::io::Write;
        child.stdin.take().expect("stdin").write_all(
            b"From: ito@kumo.example.jp\r\nSubject: error\r\nMessage-ID: <k1@kumo.example.jp>\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nError: E-1\r\n",
        ).expect("write");
        let out = child.wait_with_output().expect("run inspect");
        assert!(out.status.success());
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        json["action"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(inspect("2026-11-19T12:00:00+09:00"), "dispatch");
    assert_eq!(inspect("2026-11-20T12:00:00+09:00"), "reject");
    assert_eq!(inspect("2026-11-20T12:00:00+09:00"), "reject");
}

#[test]
fn a_bad_overdue_date_is_a_configuration_problem() {
    let customers = "[[customer]]\nid = \"KUMO-0404\"\ntier = \"standard\"\ncontacts = [\"@kumo.example.jp\"]\npayment_overdue_since = \"20 October\"\n";
    let problems = with_customers("three-priority", "bad-date", customers).expect_err("refused");
    assert!(
        problems.contains("customers.toml:5:25: `payment_overdue_since` in [[customer]] is not a date"),
        "{problems}"
    );
}

// ---- 4. The status page, out of hours, for high incidents ----

#[test]
fn out_of_hours_acknowledgments_of_high_incidents_point_to_the_status_page() {
    let page = "https://status.uketsuke.example.jp/";
    // (profile, sender, language, declared, received, status page shown)
    let rows = [
        ("three-priority", "yamada@acme.example.jp", "ja", "high", "2026-11-28T03:00:00+09:00", true), // escalated
        ("three-priority", "yamada@acme.example.jp", "ja", "medium", "2026-11-28T03:00:00+09:00", false), // held
        ("three-priority", "yamada@acme.example.jp", "ja", "low", "2026-11-25T20:00:00+09:00", false), // held
        ("three-priority", "yamada@acme.example.jp", "ja", "high", "2026-11-25T11:00:00+09:00", false), // in hours
        ("four-severity", "it-desk@umbrella.example.com", "en", "sev1", "2026-11-28T03:00:00+09:00", true), // escalated
        ("four-severity", "yamada@acme.example.jp", "ja", "sev1", "2026-11-28T03:00:00+09:00", true),  // held, Japanese
        ("four-severity", "it-desk@umbrella.example.com", "en", "sev2", "2026-11-28T03:00:00+09:00", false),
    ];
    for (i, (profile, sender, language, declared, received, shown)) in rows.into_iter().enumerate() {
        let config = shipped(profile);
        let form = FormSubmission {
            customer_id: String::new(),
            language: language.into(),
            repro_steps: "1. Log in".into(),
            error_messages: "HTTP 500".into(),
            circumstances: "All offices".into(),
            ..report(sender, "Login fails", "Nobody can log in.", declared)
        };
        let (d, body) = acknowledgment(&config, &form, received, &format!("status-{i}"));
        assert_eq!(body.contains(page), shown, "{profile} {declared} {received} {:?}:\n{body}", d.action);
    }
}
