//! The command line as operators use it: `check-config` on broken files, `inspect` on mail
//! and forms, exit statuses and one-line errors.

mod common;

use common::{ChildGuard, TestDir};
use std::path::Path;
use std::process::{Command, Output};

fn uketsuke(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_uketsuke")).args(args).output().expect("run uketsuke")
}

/// A copy of the shipped config/ in a fresh folder, for a test to break.
fn config_copy(name: &str) -> TestDir {
    let dir = TestDir::new(&format!("cli-{name}"));
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"), &dir);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read config") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{from:?} not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).expect("write");
}

fn line_of(path: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(path).expect("read");
    text.lines().position(|l| l.contains(needle)).expect("needle") + 1
}

#[test]
fn shipped_config_is_valid() {
    let out = uketsuke(&["check-config", concat!(env!("CARGO_MANIFEST_DIR"), "/config/uketsuke.toml")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn check_config_reports_every_problem_with_file_line_and_fix() {
    let dir = config_copy("broken");
    let main = dir.join("uketsuke.toml");
    let three = dir.join("policies/three-priority.toml");
    let four = dir.join("policies/four-severity.toml");
    let understanding = dir.join("understanding.toml");
    edit(&main, "width = 6", "width = 6\nwdith = 7");
    edit(&three, "open = \"10:00\"", "open = \"25:00\"");
    edit(&four, "sev4 = \"2d\"", "sev4 = \"two days\"");
    edit(
        &understanding,
        "customer_id_pattern = '[A-Z][A-Z0-9]{1,15}-[0-9]{3,8}'",
        "customer_id_pattern = '([A-Z]+-[0-9]'",
    );
    let out = uketsuke(&["check-config", main.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let expect = [
        (main.clone(), line_of(&main, "wdith"), "unknown key `wdith`", "Did you mean `width`?"),
        (three.clone(), line_of(&three, "25:00"), "`25:00` is not a time of day", "HH:MM"),
        (four.clone(), line_of(&four, "two days"), "target `two days` for sev4", "\"2d\""),
        (
            understanding.clone(),
            line_of(&understanding, "customer_id_pattern"),
            "bad regular expression",
            "Fix the pattern",
        ),
    ];
    for (file, line, message, fix) in expect {
        let found = err
            .lines()
            .any(|l| l.starts_with(&format!("{}:{line}:", file.display())) && l.contains(message) && l.contains(fix));
        assert!(found, "expected {}:{line}: {message} ... {fix}\n in:\n{err}", file.display());
    }
}

#[test]
fn unknown_profile_names_the_known_ones() {
    let dir = config_copy("profile");
    let main = dir.join("uketsuke.toml");
    edit(&main, "profile = \"three-priority\"", "profile = \"five-star\"");
    let out = uketsuke(&["check-config", main.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:{}:", main.display(), line_of(&main, "five-star"))), "{err}");
    assert!(
        err.contains("unknown policy profile `five-star`") && err.contains("four-severity, three-priority"),
        "{err}"
    );
    // --policy with an unknown name is the same mistake.
    let out = uketsuke(&["inspect", "--policy", "nope", "--form", "-"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn syntax_errors_wrong_types_and_bad_customers() {
    let dir = config_copy("syntax");
    let customers = dir.join("customers.toml");
    edit(&customers, "three-priority = \"support-plus\"", "three-priority = \"diamond\"");
    edit(&customers, "suspended = true", "suspended = \"yes\"");
    edit(&customers, "contacts = [\"@globex.example.com\"]", "contacts = [\"globex\"]");
    let main = dir.join("uketsuke.toml");
    edit(&main, "[cases]", "[cases\n");
    let out = uketsuke(&["check-config", main.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TOML syntax error"), "{err}");
    assert!(err.contains("unknown tier `diamond` for the three-priority profile"), "{err}");
    assert!(err.contains("`suspended` in [[customer]] must be true or false"), "{err}");
    assert!(err.contains("contact `globex` is neither an address nor an @domain"), "{err}");
}

#[test]
fn a_profile_names_only_its_own_tiers() {
    let dir = config_copy("tiers");
    let four = dir.join("policies/four-severity.toml");
    edit(&four, "tiers = [\"platinum\"]", "tiers = [\"diamond\"]");
    let line = line_of(&four, "\"diamond\"");
    let three = dir.join("policies/three-priority.toml");
    edit(
        &three,
        "small = \"3d\"\nlarge = \"10d\"\ntiers = [\"standard\", \"support-plus\"]",
        "small = \"3d\"\nlarge = \"10d\"\ntiers = [\"premium\"]",
    );
    let out = uketsuke(&["check-config", dir.join("uketsuke.toml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("four-severity.toml:{line}:"))
            && err.contains("tier `diamond` is not one of this profile's tiers"),
        "{err}"
    );
    assert!(err.contains("tier `premium` is not one of this profile's tiers"), "{err}");
    assert!(err.contains("Use one of: silver, gold, platinum"), "{err}");
}

#[test]
fn missing_config_file_is_a_clear_error() {
    let out = uketsuke(&["check-config", "/nonexistent/uketsuke.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read the file"));
}

#[test]
fn inspect_reads_stdin_and_prints_one_json_object() {
    let mail = "From: Yamada <yamada@acme.example.jp>\r\nTo: support@uketsuke.example.jp\r\nSubject: =?UTF-8?B?44Ot44Kw44Kk44Oz44Gn44GN44G+44Gb44KT?=\r\nDate: Wed, 25 Nov 2026 11:00:00 +0900\r\nMessage-ID: <x1@acme.example.jp>\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n優先度：中\r\n管理画面にログインできません。\r\n";
    let mut child = ChildGuard::new(
        Command::new(env!("CARGO_BIN_EXE_uketsuke"))
            .args(["inspect", "-"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn"),
    );
    use std::io::Write;
    child.stdin.take().expect("stdin").write_all(mail.as_bytes()).expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(v["subject"], "ログインできません");
    assert_eq!(v["language"], "ja");
    assert_eq!(v["customer_id"], "ACME-0012");
    assert_eq!(v["priority"], "medium");
    assert_eq!(v["action"], "dispatch");
    assert_eq!(v["release_at"], serde_json::Value::Null);
    assert_eq!(v["response_due"], "2026-11-25T17:00:00+09:00");
    assert!(v["reasons"].as_array().is_some_and(|r| r.len() >= 3));
    for key in ["case_ref", "feature_request", "fields", "missing"] {
        assert!(v.get(key).is_some(), "{key}");
    }
}

#[test]
fn inspect_at_and_policy_flags() {
    let form = r#"{"email":"it-desk@umbrella.example.com","language":"en","priority":"1","subject":"Production down","description":"Nothing loads.","repro_steps":"Open the app","error_messages":"HTTP 503","circumstances":"Since 22:00"}"#;
    let dir = TestDir::new("cli-form");
    let path = dir.join("form.json");
    std::fs::write(&path, form).expect("write form");
    let out = uketsuke(&[
        "inspect",
        "--policy",
        "four-severity",
        "--form",
        "--at",
        "2026-11-29T22:30:00+09:00",
        path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["priority"], "sev1");
    // From the unsigned page the sender is unproven: held for the reporter's confirmation,
    // never paging on-call on a typed address alone (docs/POLICY.md section 5).
    assert_eq!(v["action"], "hold", "{v}");
    assert!(v["reasons"].to_string().contains("confirm"), "{v}");
    // The same report through the signed webhook pages on-call at once.
    let signed = uketsuke(&[
        "inspect",
        "--policy",
        "four-severity",
        "--form",
        "--signed",
        "--at",
        "2026-11-29T22:30:00+09:00",
        path.to_str().unwrap(),
    ]);
    assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
    let v: serde_json::Value = serde_json::from_slice(&signed.stdout).expect("json");
    assert_eq!(v["priority"], "sev1");
    assert_eq!(v["action"], "escalate");
    assert_eq!(v["response_due"], "2026-11-29T23:30:00+09:00");
    // A stored submission says itself that it came signed.
    let stored = dir.join("stored.json");
    std::fs::write(&stored, form.replacen('{', "{\"signed\":true,", 1)).expect("write stored form");
    let out = uketsuke(&[
        "inspect",
        "--policy",
        "four-severity",
        "--form",
        "--at",
        "2026-11-29T22:30:00+09:00",
        stored.to_str().unwrap(),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["action"], "escalate");
    let bad = uketsuke(&["inspect", "--at", "tomorrow", path.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("RFC 3339"));
}

#[test]
fn unreadable_input_is_one_line_not_a_panic() {
    let dir = TestDir::new("cli-bad");
    for (input, expected) in [(&b""[..], "empty"), (&b"\x00\x01\x02\xff\xfe garbage \x00"[..], "not a mail message")] {
        let path = dir.join(format!("input-{}", expected.len()));
        std::fs::write(&path, input).expect("write");
        let out = uketsuke(&["inspect", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(expected), "{err}");
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn status_without_config_finds_the_configuration_or_says_it_found_none() {
    let dir = TestDir::new("cli-status-search");
    let run = |cwd: &Path, env: Option<&Path>| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_uketsuke"));
        cmd.arg("status").current_dir(cwd).env_remove("UKETSUKE_CONFIG");
        if let Some(path) = env {
            cmd.env("UKETSUKE_CONFIG", path);
        }
        cmd.output().expect("status")
    };
    // Nothing to find: said so, and no database appears.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = run(&empty, None);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no configuration found") && err.contains("--config"), "{err}");
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0, "status wrote into the folder");
    // ./config/uketsuke.toml is found; its store does not exist yet: said so, none created.
    let site = dir.join("site");
    copy_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("config"), &site.join("config"));
    let out = run(&site, None);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("there is no store at state/uketsuke.db"), "{err}");
    assert!(!site.join("state").exists(), "status created a store");
    // $UKETSUKE_CONFIG wins, and one that names nothing is an error, not a fallback.
    let out = run(&empty, Some(&site.join("config/uketsuke.toml")));
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no store"), "{out:?}");
    let out = run(&site, Some(&dir.join("missing.toml")));
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("UKETSUKE_CONFIG names"), "{out:?}");
    // Once the store exists, status reads it.
    let store = site.join("state/uketsuke.db");
    std::fs::create_dir_all(store.parent().unwrap()).unwrap();
    uketsuke::record::SqliteStore::open(&store).expect("a store");
    let out = run(&site, None);
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("no problems"), "{out:?}");
}
