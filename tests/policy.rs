//! The decision at receipt, table-driven from the two source documents and the worked
//! examples of docs/POLICY.md: every priority row of both tables, every tier, both languages, in
//! and out of hours.

use chrono::{DateTime, Utc};
use std::sync::OnceLock;
use uketsuke::config::{Config, Overrides};
use uketsuke::decide::{Action, Calendars, Decision, decide};
use uketsuke::understand::{FormSubmission, understand_form};

fn config(profile: &str) -> &'static Config {
    static THREE: OnceLock<Config> = OnceLock::new();
    static FOUR: OnceLock<Config> = OnceLock::new();
    let cell = if profile == "four-severity" { &FOUR } else { &THREE };
    cell.get_or_init(|| {
        Config::load(None, &Overrides { profile: Some(profile.into()), customers: None }).expect("shipped config loads")
    })
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("test time").with_timezone(&Utc)
}

/// A complete report (every item present) from `email`, declaring `priority`.
fn complete(email: &str, language: &str, priority: &str) -> FormSubmission {
    FormSubmission {
        customer_id: String::new(),
        email: email.into(),
        name: "Reporter".into(),
        language: language.into(),
        priority: priority.into(),
        subject: "Invoices cannot be exported".into(),
        description: "Exporting invoices fails for every user. Expected: a CSV file.".into(),
        repro_steps: "1. Open Invoices\n2. Click Export".into(),
        error_messages: "HTTP 500 Internal Server Error".into(),
        expected_result: "A CSV file downloads".into(),
        circumstances: "Since the 09:00 release".into(),
        // As a partner's signed webhook sends it (the page's unproven addresses: tests/http.rs).
        signed: true,
        ..FormSubmission::default()
    }
}

fn run(profile: &str, form: &FormSubmission, when: &str) -> Decision {
    let config = config(profile);
    let report = understand_form(form, config);
    decide(&report, &config.customers, &config.policy, &Calendars::new(&config.policy), at(when))
}

fn due(d: &Decision) -> Option<String> {
    d.response_due.map(|t| t.to_rfc3339())
}

fn release(d: &Decision) -> Option<String> {
    d.release_at.map(|t| t.to_rfc3339())
}

// ---- docs/POLICY.md section 7, the worked examples ----

#[test]
fn worked_example_wednesday_medium_dispatch() {
    let d = run("three-priority", &complete("yamada@acme.example.jp", "ja", "medium"), "2026-11-25T11:00:00+09:00");
    assert_eq!(d.action, Action::Dispatch);
    assert_eq!(due(&d).as_deref(), Some("2026-11-25T17:00:00+09:00"));
}

#[test]
fn worked_example_friday_low_over_labour_thanksgiving() {
    let d = run("three-priority", &complete("yamada@acme.example.jp", "ja", "low"), "2026-11-20T17:00:00+09:00");
    assert_eq!(d.action, Action::Dispatch);
    assert_eq!(due(&d).as_deref(), Some("2026-11-24T17:00:00+09:00"));
}

#[test]
fn worked_example_saturday_medium_hold() {
    let d = run("three-priority", &complete("yamada@acme.example.jp", "ja", "medium"), "2026-11-28T03:00:00+09:00");
    assert_eq!(d.action, Action::Hold);
    assert_eq!(release(&d).as_deref(), Some("2026-11-30T10:00:00+09:00"));
    assert_eq!(due(&d).as_deref(), Some("2026-11-30T16:00:00+09:00"));
}

#[test]
fn worked_example_saturday_high_escalate() {
    let d = run("three-priority", &complete("yamada@acme.example.jp", "ja", "high"), "2026-11-28T03:00:00+09:00");
    assert_eq!(d.action, Action::Escalate);
    assert_eq!(release(&d), None);
    assert_eq!(due(&d).as_deref(), Some("2026-11-30T12:00:00+09:00"));
}

#[test]
fn worked_example_gold_english_sev1_sunday_night() {
    let d = run("four-severity", &complete("it-desk@umbrella.example.com", "en", "sev1"), "2026-11-29T22:30:00+09:00");
    assert_eq!(d.action, Action::Escalate);
    assert_eq!(due(&d).as_deref(), Some("2026-11-29T23:30:00+09:00"));
}

#[test]
fn worked_example_gold_japanese_sev1_sunday_night() {
    let d = run("four-severity", &complete("yamada@acme.example.jp", "ja", "sev1"), "2026-11-29T22:30:00+09:00");
    assert_eq!(d.action, Action::Hold);
    assert_eq!(release(&d).as_deref(), Some("2026-11-30T08:00:00+09:00"));
    assert_eq!(due(&d).as_deref(), Some("2026-11-30T09:00:00+09:00"));
}

#[test]
fn worked_example_gold_english_sev1_wednesday_evening() {
    // docs/POLICY.md section 5: "a Gold English sev1 at Wed 17:30 is due 18:30".
    let d = run("four-severity", &complete("it-desk@umbrella.example.com", "en", "sev1"), "2026-11-25T17:30:00+09:00");
    assert_eq!(d.action, Action::Dispatch);
    assert_eq!(due(&d).as_deref(), Some("2026-11-25T18:30:00+09:00"));
}

// ---- three-priority: every row of the priority table, in and out of hours ----

#[test]
fn three_priority_table() {
    // (priority, received, action, release, due)
    let rows = [
        ("high", "2026-11-25T10:00:00+09:00", Action::Dispatch, None, "2026-11-25T12:00:00+09:00"),
        ("medium", "2026-11-25T10:00:00+09:00", Action::Dispatch, None, "2026-11-25T16:00:00+09:00"),
        ("low", "2026-11-25T10:00:00+09:00", Action::Dispatch, None, "2026-11-25T18:00:00+09:00"),
        // 16:00 + 2 business hours lands exactly on the close: that close.
        ("high", "2026-11-27T16:00:00+09:00", Action::Dispatch, None, "2026-11-27T18:00:00+09:00"),
        ("high", "2026-11-25T09:59:00+09:00", Action::Escalate, None, "2026-11-25T12:00:00+09:00"),
        (
            "medium",
            "2026-11-25T09:59:00+09:00",
            Action::Hold,
            Some("2026-11-25T10:00:00+09:00"),
            "2026-11-25T16:00:00+09:00",
        ),
        // 18:00 is already closed (half-open hours).
        (
            "low",
            "2026-11-25T18:00:00+09:00",
            Action::Hold,
            Some("2026-11-26T10:00:00+09:00"),
            "2026-11-26T18:00:00+09:00",
        ),
        ("high", "2026-11-25T18:00:00+09:00", Action::Escalate, None, "2026-11-26T12:00:00+09:00"),
        // National holiday (勤労感謝の日, Mon 2026-11-23).
        (
            "medium",
            "2026-11-23T11:00:00+09:00",
            Action::Hold,
            Some("2026-11-24T10:00:00+09:00"),
            "2026-11-24T16:00:00+09:00",
        ),
        // Year-end closure 12-29..01-03: a report on 12-28 17:00 with 8 hours runs into 2027.
        ("low", "2026-12-28T17:00:00+09:00", Action::Dispatch, None, "2027-01-04T17:00:00+09:00"),
        ("high", "2026-12-31T09:00:00+09:00", Action::Escalate, None, "2027-01-04T12:00:00+09:00"),
    ];
    for (priority, when, action, rel, due_at) in rows {
        for language in ["ja", "en"] {
            let d = run("three-priority", &complete("yamada@acme.example.jp", language, priority), when);
            assert_eq!(d.priority, priority);
            assert_eq!(d.action, action, "{priority} at {when} ({language})");
            assert_eq!(release(&d).as_deref(), rel, "{priority} at {when}");
            assert_eq!(due(&d).as_deref(), Some(due_at), "{priority} at {when}");
        }
    }
}

#[test]
fn three_priority_accepts_unknown_senders_and_asks_for_the_customer_id() {
    let mut form = complete("someone@gmail.example.com", "ja", "medium");
    form.customer_id.clear();
    let d = run("three-priority", &form, "2026-11-25T11:00:00+09:00");
    assert_eq!(d.action, Action::Dispatch);
    assert_eq!(d.customer_id, None);
    assert_eq!(d.missing, vec![uketsuke::terms::Item::CustomerId]);
}

#[test]
fn three_priority_feature_requests_are_low() {
    let mut form = complete("yamada@acme.example.jp", "ja", "");
    form.subject = "機能追加のお願い".into();
    let d = run("three-priority", &form, "2026-11-25T11:00:00+09:00");
    assert_eq!(d.priority, "low");
    assert_eq!(d.action, Action::Dispatch);
}

#[test]
fn suspended_customers_are_rejected_in_both_profiles() {
    for profile in ["three-priority", "four-severity"] {
        let d = run(profile, &complete("sato@initech.example.jp", "ja", "1"), "2026-11-25T11:00:00+09:00");
        assert_eq!(d.action, Action::Reject, "{profile}");
        assert_eq!(d.rejection, Some(uketsuke::decide::decision::Rejection::Suspended));
        assert_eq!(d.response_due, None);
    }
}

// ---- four-severity: every severity, every tier, both languages ----

#[test]
fn four_severity_targets_in_hours() {
    // Silver (SAKURA-0301) in hours: business clock. Wed 10:00 start; one business day is
    // 10 hours (08:00-18:00), so sev4's 2 business days end Fri 10:00.
    let rows = [
        ("sev1", "2026-11-25T11:00:00+09:00"),
        ("sev2", "2026-11-25T12:00:00+09:00"),
        // 10:00 + 8 business hours lands exactly on the 18:00 close: that close.
        ("sev3", "2026-11-25T18:00:00+09:00"),
        ("sev4", "2026-11-27T10:00:00+09:00"),
    ];
    for (severity, due_at) in rows {
        for language in ["ja", "en"] {
            let d = run(
                "four-severity",
                &complete("kato@sakura-logi.example.jp", language, severity),
                "2026-11-25T10:00:00+09:00",
            );
            assert_eq!(d.action, Action::Dispatch);
            assert_eq!(d.priority, severity);
            assert_eq!(due(&d).as_deref(), Some(due_at), "{severity} {language}");
        }
    }
}

#[test]
fn four_severity_tiers_languages_after_hours() {
    // Friday 20:00: out of hours. (sender, tier, severity, language) -> action, due.
    let when = "2026-11-27T20:00:00+09:00";
    let held = Some("2026-11-30T08:00:00+09:00");
    type Row = (&'static str, &'static str, &'static str, Action, Option<&'static str>, &'static str);
    let rows: [Row; 14] = [
        // Silver: never 24-hour.
        ("kato@sakura-logi.example.jp", "sev1", "en", Action::Hold, held, "2026-11-30T09:00:00+09:00"),
        ("kato@sakura-logi.example.jp", "sev1", "ja", Action::Hold, held, "2026-11-30T09:00:00+09:00"),
        // Gold: sev1 and sev2 in English, on the 24x7 clock.
        ("it-desk@umbrella.example.com", "sev1", "en", Action::Escalate, None, "2026-11-27T21:00:00+09:00"),
        ("it-desk@umbrella.example.com", "sev2", "en", Action::Escalate, None, "2026-11-27T22:00:00+09:00"),
        ("it-desk@umbrella.example.com", "sev3", "en", Action::Hold, held, "2026-11-30T16:00:00+09:00"),
        // Mon 08:00 + 2 business days (20 business hours) = Tue 18:00.
        ("it-desk@umbrella.example.com", "sev4", "en", Action::Hold, held, "2026-12-01T18:00:00+09:00"),
        ("yamada@acme.example.jp", "sev1", "ja", Action::Hold, held, "2026-11-30T09:00:00+09:00"),
        ("yamada@acme.example.jp", "sev2", "ja", Action::Hold, held, "2026-11-30T10:00:00+09:00"),
        // Platinum: every severity in English; sev4's 2 business days are 48 hours.
        ("ops@globex.example.com", "sev1", "en", Action::Escalate, None, "2026-11-27T21:00:00+09:00"),
        ("ops@globex.example.com", "sev2", "en", Action::Escalate, None, "2026-11-27T22:00:00+09:00"),
        ("ops@globex.example.com", "sev3", "en", Action::Escalate, None, "2026-11-28T04:00:00+09:00"),
        ("ops@globex.example.com", "sev4", "en", Action::Escalate, None, "2026-11-29T20:00:00+09:00"),
        ("ops@globex.example.com", "sev1", "ja", Action::Hold, held, "2026-11-30T09:00:00+09:00"),
        ("ops@globex.example.com", "sev4", "ja", Action::Hold, held, "2026-12-01T18:00:00+09:00"),
    ];
    for (sender, severity, language, action, rel, due_at) in rows {
        let d = run("four-severity", &complete(sender, language, severity), when);
        assert_eq!(d.action, action, "{sender} {severity} {language}");
        assert_eq!(release(&d).as_deref(), rel, "{sender} {severity} {language}");
        assert_eq!(due(&d).as_deref(), Some(due_at), "{sender} {severity} {language}");
    }
}

#[test]
fn four_severity_eligible_items_run_on_24x7_even_when_received_in_hours() {
    // Gold English sev2 at Fri 17:00: 2 hours on the 24x7 clock is 19:00, not Monday.
    let d = run("four-severity", &complete("it-desk@umbrella.example.com", "en", "sev2"), "2026-11-27T17:00:00+09:00");
    assert_eq!(d.action, Action::Dispatch);
    assert_eq!(due(&d).as_deref(), Some("2026-11-27T19:00:00+09:00"));
}

#[test]
fn four_severity_only_authorized_contacts() {
    let d = run("four-severity", &complete("someone@gmail.example.com", "en", "sev1"), "2026-11-25T11:00:00+09:00");
    assert_eq!(d.action, Action::Reject);
    assert_eq!(d.rejection, Some(uketsuke::decide::decision::Rejection::Unauthorized));
    // A contact of one customer naming another customer's ID is not authorized for it.
    let mut form = complete("yamada@acme.example.jp", "en", "sev1");
    form.customer_id = "GLOBEX-0042".into();
    assert_eq!(run("four-severity", &form, "2026-11-25T11:00:00+09:00").action, Action::Reject);
}

#[test]
fn four_severity_contact_of_several_customers_must_name_one() {
    let form = complete("consultant@partner.example.net", "en", "sev2");
    let d = run("four-severity", &form, "2026-11-25T11:00:00+09:00");
    assert_eq!(d.action, Action::AwaitInfo);
    assert_eq!(d.customer_id, None);
    assert_eq!(d.response_due, None);
    let mut named = form.clone();
    named.customer_id = "ＮＡＭＩ－０７７７".into();
    let d = run("four-severity", &named, "2026-11-25T11:00:00+09:00");
    assert_eq!(d.action, Action::Dispatch);
    assert_eq!(d.customer_id.as_deref(), Some("NAMI-0777"));
}

#[test]
fn four_severity_missing_required_items_wait() {
    let mut form = complete("yamada@acme.example.jp", "ja", "sev2");
    form.repro_steps.clear();
    form.error_messages.clear();
    form.circumstances.clear();
    let d = run("four-severity", &form, "2026-11-25T11:00:00+09:00");
    assert_eq!(d.action, Action::AwaitInfo);
    use uketsuke::terms::Item;
    assert_eq!(d.missing_required, vec![Item::ReproSteps, Item::ErrorMessages]);
    assert_eq!(d.missing, vec![Item::ReproSteps, Item::ErrorMessages, Item::Circumstances]);
    assert_eq!(d.clock_start, None);
    // (e) alone does not block.
    let mut only_e = complete("yamada@acme.example.jp", "ja", "sev2");
    only_e.circumstances.clear();
    assert_eq!(run("four-severity", &only_e, "2026-11-25T11:00:00+09:00").action, Action::Dispatch);
}

#[test]
fn four_severity_feature_requests_are_not_covered() {
    let mut form = complete("yamada@acme.example.jp", "en", "");
    form.subject = "Feature request: bulk export".into();
    let d = run("four-severity", &form, "2026-11-25T11:00:00+09:00");
    assert_eq!(d.action, Action::NotCovered);
    assert_eq!(d.response_due, None);
}

#[test]
fn declarations_in_every_form() {
    let cases = [
        ("three-priority", "高", "high"),
        ("three-priority", "中", "medium"),
        ("three-priority", "低", "low"),
        ("three-priority", "1", "high"),
        ("three-priority", "", "medium"), // keyword rule: "error"/"fails" in the text
        ("four-severity", "1", "sev1"),
        ("four-severity", "４", "sev4"),
        ("four-severity", "sev2", "sev2"),
        ("four-severity", "Severity 3", "sev3"),
    ];
    for (profile, declared, expected) in cases {
        let mut form = complete("yamada@acme.example.jp", "ja", declared);
        form.description = "Exporting invoices fails. Expected: a CSV file.".into();
        let config = config(profile);
        let mut report = understand_form(&form, config);
        if declared.starts_with("Severity") {
            report.declared_priority = Some("3".into());
        }
        let d = decide(
            &report,
            &config.customers,
            &config.policy,
            &Calendars::new(&config.policy),
            at("2026-11-25T11:00:00+09:00"),
        );
        assert_eq!(d.priority, expected, "{profile} {declared:?}");
    }
}

#[test]
fn followups_and_machine_mail_come_first() {
    let mut form = complete("yamada@acme.example.jp", "ja", "medium");
    form.subject = "Re: [CASE-2026-000123] Invoices".into();
    let d = run("three-priority", &form, "2026-11-28T03:00:00+09:00");
    assert_eq!(d.action, Action::Followup);
    assert_eq!(d.response_due, None);
    // An unauthorized sender's case-tagged reply is rejected (rows are tried top to bottom).
    let mut stranger = form.clone();
    stranger.email = "someone@gmail.example.com".into();
    assert_eq!(run("four-severity", &stranger, "2026-11-25T11:00:00+09:00").action, Action::Reject);
}

mod properties {
    use super::*;
    use chrono::{Duration, TimeZone};
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

        /// Whatever arrives whenever: a due time is never before the receipt, a release is
        /// never before the receipt and is inside business hours, and only dispatch,
        /// escalate and hold carry a due time.
        #[test]
        fn due_and_release_never_precede_receipt(
            minutes in 0i64..(2 * 366 * 24 * 60),
            sender in prop::sample::select(vec!["yamada@acme.example.jp", "ops@globex.example.com", "it-desk@umbrella.example.com", "kato@sakura-logi.example.jp", "someone@gmail.example.com", "consultant@partner.example.net"]),
            language in prop::sample::select(vec!["ja", "en"]),
            priority in prop::sample::select(vec!["", "1", "2", "3", "4", "high", "medium", "low", "sev1", "sev2", "sev3", "sev4", "高"]),
            profile in prop::sample::select(vec!["three-priority", "four-severity"]),
            drop_steps in any::<bool>(),
        ) {
            let received = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(minutes);
            let mut form = complete(sender, language, priority);
            if drop_steps {
                form.repro_steps.clear();
            }
            let config = config(profile);
            let report = understand_form(&form, config);
            let calendars = Calendars::new(&config.policy);
            let d = decide(&report, &config.customers, &config.policy, &calendars, received);
            if let Some(due) = d.response_due {
                prop_assert!(due >= received);
            }
            if let Some(release) = d.release_at {
                prop_assert!(release >= received);
                prop_assert!(calendars.business.is_open(release.with_timezone(&Utc)));
                prop_assert!(!calendars.business.is_open(received));
            }
            let timed = matches!(d.action, Action::Dispatch | Action::Escalate | Action::Hold);
            prop_assert_eq!(d.response_due.is_some(), timed);
            prop_assert_eq!(d.release_at.is_some(), d.action == Action::Hold);
        }
    }
}
