//! The test corpus under tests/corpus/: real-looking Japanese and English reports in every
//! charset and layout, each checked field by field against its hand-written `.expect.json`
//! (see tests/corpus/README.md), and broken input that must give a clear error or a
//! best-effort result, never a panic.

use chrono::{DateTime, Utc};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use uketsuke::config::{Config, Overrides};
use uketsuke::decide::{Calendars, Decision, decide};
use uketsuke::understand::{FormSubmission, Report, understand_form, understand_mail};

fn config(profile: &str) -> &'static Config {
    static THREE: OnceLock<Config> = OnceLock::new();
    static FOUR: OnceLock<Config> = OnceLock::new();
    let cell = if profile == "four-severity" { &FOUR } else { &THREE };
    cell.get_or_init(|| {
        Config::load(None, &Overrides { profile: Some(profile.into()), customers: None }).expect("shipped config")
    })
}

fn corpus(dir: &str, extension: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == extension) && !p.to_string_lossy().ends_with(".expect.json"))
        .collect();
    files.sort();
    files
}

fn expectation(path: &Path) -> Value {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    let expect = path.with_file_name(format!("{stem}.expect.json"));
    let text = std::fs::read_to_string(&expect).unwrap_or_else(|e| panic!("{}: {e}", expect.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", expect.display()))
}

/// Checks one report against its expectation; returns every mismatch.
fn check(report: &Report, decision: &Decision, expect: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let mut eq = |key: &str, actual: Value| {
        if let Some(expected) = expect.get(key)
            && *expected != actual
        {
            problems.push(format!("{key}: expected {expected}, got {actual}"));
        }
    };
    eq("language", serde_json::to_value(report.language).unwrap());
    eq("customer_id", serde_json::to_value(&decision.customer_id).unwrap());
    eq("case_ref", serde_json::to_value(&report.case_ref).unwrap());
    eq("priority", Value::String(decision.priority.clone()));
    eq("feature_request", Value::Bool(report.feature_request));
    eq("action", serde_json::to_value(decision.action).unwrap());
    let mut sorted = |key: &str, actual: Value| {
        if let Some(expected) = expect.get(key) {
            let norm = |v: &Value| {
                let mut items: Vec<String> = v.as_array().into_iter().flatten().map(|x| x.to_string()).collect();
                items.sort();
                items
            };
            if norm(expected) != norm(&actual) {
                problems.push(format!("{key}: expected {expected}, got {actual}"));
            }
        }
    };
    sorted("missing", serde_json::to_value(&decision.missing).unwrap());
    sorted("signals", serde_json::to_value(&report.signals).unwrap());

    let f = &report.fields;
    let field_text = |name: &str| -> Vec<String> {
        match name {
            "repro_steps" => f.repro_steps.iter().cloned().collect(),
            "error_messages" => f.error_messages.clone(),
            "description" => f.description.iter().chain(&f.expected_result).cloned().collect(),
            "expected_result" => f.expected_result.iter().cloned().collect(),
            "circumstances" => f.circumstances.iter().cloned().collect(),
            _ => Vec::new(),
        }
    };
    if let Some(contain) = expect.get("fields_contain").and_then(Value::as_object) {
        for (name, needles) in contain {
            let values = field_text(name);
            for needle in needles.as_array().into_iter().flatten().filter_map(Value::as_str) {
                if !values.iter().any(|v| v.contains(needle)) {
                    problems.push(format!("fields.{name} should contain {needle:?}; it is {values:?}"));
                }
            }
        }
    }
    if let Some(exclude) = expect.get("fields_exclude").and_then(Value::as_array) {
        let all: Vec<String> = ["repro_steps", "error_messages", "description", "circumstances"]
            .iter()
            .flat_map(|n| field_text(n))
            .collect();
        for needle in exclude.iter().filter_map(Value::as_str) {
            if let Some(v) = all.iter().find(|v| v.contains(needle)) {
                problems.push(format!("no field may contain {needle:?}; found in {v:?}"));
            }
        }
    }
    for (key, haystack) in [("subject_contains", &report.subject), ("body_contains", &report.body)] {
        for needle in expect.get(key).and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !haystack.contains(needle) {
                let shown: String = haystack.chars().take(300).collect();
                problems.push(format!("{key}: {needle:?} not in {shown:?}"));
            }
        }
    }
    if let Some(attachments) = expect.get("attachments").and_then(Value::as_array) {
        for a in attachments {
            let found = report.attachments.iter().any(|r| {
                a.get("filename").is_none_or(|n| n.as_str() == r.filename.as_deref())
                    && a.get("content_type").is_none_or(|c| c.as_str() == Some(r.content_type.as_str()))
            });
            if !found {
                problems.push(format!("attachment {a} not found in {:?}", report.attachments));
            }
        }
    }
    problems
}

fn received(report: &Report, expect: &Value) -> DateTime<Utc> {
    expect
        .get("at")
        .and_then(Value::as_str)
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .or(report.received)
        .or(report.date)
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| DateTime::parse_from_rfc3339("2026-11-25T11:00:00+09:00").unwrap().with_timezone(&Utc))
}

fn run_corpus(dir: &str, extension: &str, understand: impl Fn(&[u8], &Config) -> Report) {
    let files = corpus(dir, extension);
    assert!(!files.is_empty(), "no corpus files in tests/corpus/{dir}");
    let mut failures = Vec::new();
    for path in &files {
        let expect = expectation(path);
        let profile = expect.get("policy").and_then(Value::as_str).unwrap_or("three-priority");
        let config = config(profile);
        let bytes = std::fs::read(path).expect("read corpus file");
        let report = understand(&bytes, config);
        let decision = decide(
            &report,
            &config.customers,
            &config.policy,
            &Calendars::new(&config.policy),
            received(&report, &expect),
        );
        let problems = check(&report, &decision, &expect);
        if !problems.is_empty() {
            let name = path.file_name().unwrap().to_string_lossy();
            failures.push(format!("{name}:\n  {}", problems.join("\n  ")));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus files differ from their expectations:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn mail_corpus_field_by_field() {
    run_corpus("mail", "eml", |bytes, config| {
        understand_mail(bytes, config).unwrap_or_else(|e| panic!("corpus mail must be readable: {e}"))
    });
}

#[test]
fn form_corpus_field_by_field() {
    run_corpus("form", "json", |bytes, config| {
        let form: FormSubmission = serde_json::from_slice(bytes).expect("corpus form is a FormSubmission");
        understand_form(&form, config)
    });
}

#[test]
fn broken_input_gives_an_error_or_a_best_effort_report() {
    let files: Vec<PathBuf> = {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/broken");
        let mut f: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("tests/corpus/broken")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| !p.to_string_lossy().ends_with(".expect.json"))
            .collect();
        f.sort();
        f
    };
    assert!(files.len() >= 8, "expected the broken-input corpus, found {} files", files.len());
    let config = config("three-priority");
    let mut failures = Vec::new();
    for path in &files {
        let expect = expectation(path);
        let bytes = std::fs::read(path).expect("read");
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            understand_mail(&bytes, config).map(|r| r.subject.len())
        }));
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        match (outcome, expect["outcome"].as_str()) {
            (Err(_), _) => failures.push(format!("{name}: panicked")),
            (Ok(Ok(_)), Some("best_effort")) | (Ok(Err(_)), Some("error")) => {}
            (Ok(Ok(_)), other) => failures.push(format!("{name}: expected {other:?}, got a report")),
            (Ok(Err(e)), other) => failures.push(format!("{name}: expected {other:?}, got the error {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The line gates (one search over a whole text instead of one per line) are only a shortcut:
/// every report, of the corpus and of mails written to test the gate's edges, is the same
/// with them and without them.
#[test]
fn the_line_gates_change_no_report() {
    let gated = config("three-priority");
    assert!(gated.understanding.line_kinds.gate.is_some(), "the shipped patterns have a gate");
    assert!(gated.understanding.error_gate.is_some(), "the shipped error patterns have a gate");
    let mut ungated = gated.clone();
    ungated.understanding.line_kinds.gate = None;
    ungated.understanding.error_gate = None;

    let log = "INFO  start\r\nERROR [main] c.e.Export - failed\r\n\tat c.e.Export.run(Export.java:42)\r\n\
               Caused by: java.io.IOException: disk full\r\n  ... 3 more\r\nINFO  retry\r\n\r\n\
               exit status 2\r\nINFO lone\rcarriage return\r\nE1234 at the end";
    let body = "お世話になっております。\r\n  1. ログインする\r\n  2. 開く\r\n\
                「接続できません」というエラーが出ます。   \r\nError: boom  \r\n\u{3000}\r\n\
                以上、よろしくお願いいたします。\r\n--  \r\n山田\r\n";
    let crafted = format!(
        "From: Yamada <yamada@acme.example.jp>\r\nTo: support@uketsuke.example.jp\r\nSubject: gate\r\n\
         Date: Wed, 25 Nov 2026 11:00:00 +0900\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n--b\r\n\
         Content-Type: text/plain; charset=us-ascii; name=\"app.log\"\r\n\
         Content-Disposition: attachment; filename=\"app.log\"\r\n\r\n{log}\r\n--b--\r\n"
    );
    let mut mails: Vec<(String, Vec<u8>)> = vec![("crafted".into(), crafted.into_bytes())];
    for dir in ["mail", "broken"] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(dir);
        for entry in std::fs::read_dir(&root).expect("corpus") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|x| x == "eml") {
                mails.push((path.display().to_string(), std::fs::read(&path).expect("read")));
            }
        }
    }
    assert!(mails.len() > 80, "the corpus is there");
    let mut differ = Vec::new();
    for (name, raw) in &mails {
        let with = understand_mail(raw, gated).map(|r| serde_json::to_value(r).expect("json"));
        let without = understand_mail(raw, &ungated).map(|r| serde_json::to_value(r).expect("json"));
        if format!("{with:?}") != format!("{without:?}") {
            differ.push(name.clone());
        }
    }
    assert!(differ.is_empty(), "the gates changed these reports: {differ:?}");
    // The crafted mail exercises what it is meant to: errors from the log and the body.
    let report = understand_mail(&mails[0].1, gated).expect("crafted");
    let errors = report.fields.error_messages.join("\n");
    assert!(errors.contains("disk full") && errors.contains("exit status 2"), "{errors}");
}
