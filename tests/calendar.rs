//! The business calendar: national holidays against an independent oracle for 1970-2099,
//! company holidays, and the laws of business-time arithmetic as properties.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::OnceLock;
use uketsuke::config::{Config, Overrides};
use uketsuke::decide::Calendar;

fn calendar(profile: &str) -> &'static Calendar {
    static THREE: OnceLock<Calendar> = OnceLock::new();
    static FOUR: OnceLock<Calendar> = OnceLock::new();
    let cell = if profile == "three-priority" { &THREE } else { &FOUR };
    cell.get_or_init(|| {
        let config =
            Config::load(None, &Overrides { profile: Some(profile.into()), customers: None }).expect("shipped config");
        Calendar::business(&config.policy)
    })
}

/// Days jpholiday lists although the law did not yet provide for them: it applies 振替休日
/// from 1973-01-01 (the amendment took effect 1973-04-12) and 国民の休日 in every year (it
/// took effect 1985-12-27; the first was 1988-05-04).
const ORACLE_ERRATA: [&str; 14] = [
    "1973-02-12",
    "1970-05-04",
    "1971-05-04",
    "1972-05-04",
    "1973-05-04",
    "1974-05-04",
    "1976-05-04",
    "1977-05-04",
    "1978-05-04",
    "1979-05-04",
    "1982-05-04",
    "1983-05-04",
    "1984-05-04",
    "1985-05-04",
];

#[test]
fn national_holidays_1970_2099_agree_with_jpholiday() {
    let script = "import jpholiday, datetime\n\
        for d, name in jpholiday.between(datetime.date(1970,1,1), datetime.date(2099,12,31)):\n    print(d.isoformat())\n";
    let out = Command::new("python3").args(["-c", script]).output().expect(
        "python3 must be installed: run the README's test command (scripts/test), which installs it and jpholiday",
    );
    assert!(
        out.status.success(),
        "the oracle failed (is jpholiday installed? scripts/test installs it): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let oracle: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .filter(|d| !ORACLE_ERRATA.contains(&d.as_str()))
        .collect();
    assert!(oracle.len() > 2000, "the oracle listed only {} days", oracle.len());

    // Ours, as `uketsuke calendar --json` lists them, every year.
    let mut ours = Vec::new();
    let mut names = BTreeMap::new();
    for year in 1970..=2099 {
        let out = Command::new(env!("CARGO_BIN_EXE_uketsuke"))
            .args(["calendar", "--json", &year.to_string()])
            .output()
            .expect("run uketsuke calendar");
        assert!(out.status.success(), "uketsuke calendar {year} failed: {}", String::from_utf8_lossy(&out.stderr));
        let days: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("calendar --json is JSON");
        for day in days {
            if day["kind"] == "national" {
                let date = day["date"].as_str().expect("date").to_string();
                names.insert(date.clone(), day["name"].as_str().unwrap_or("").to_string());
                ours.push(date);
            }
        }
    }
    let missing: Vec<&String> = oracle.iter().filter(|d| !names.contains_key(*d)).collect();
    let extra: Vec<&String> = ours.iter().filter(|d| !oracle.contains(d)).collect();
    assert!(missing.is_empty() && extra.is_empty(), "not in uketsuke: {missing:?}\nnot in jpholiday: {extra:?}");
    assert_eq!(ours.len(), oracle.len());
    assert!(names.values().all(|n| !n.is_empty()), "every national holiday has a name");
}

#[test]
fn the_year_end_closure_and_named_days_of_2026() {
    let out = Command::new(env!("CARGO_BIN_EXE_uketsuke")).args(["calendar", "--json", "2026"]).output().expect("run");
    let days: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).expect("json");
    let find = |date: &str| days.iter().find(|d| d["date"] == date).cloned();
    assert_eq!(find("2026-11-23").expect("勤労感謝の日")["name"], "勤労感謝の日");
    assert_eq!(find("2026-09-22").expect("国民の休日")["name"], "国民の休日");
    assert_eq!(find("2026-05-06").expect("振替休日")["kind"], "national");
    for d in ["2026-12-29", "2026-12-30", "2026-12-31"] {
        assert_eq!(find(d).expect("closure")["kind"], "company", "{d}");
    }
    // 01-01 is both; the national holiday is listed.
    assert_eq!(find("2026-01-01").expect("元日")["kind"], "national");
    assert_eq!(find("2026-01-02").expect("closure")["kind"], "company");
    assert!(find("2026-01-05").is_none());
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 2020-01-01 .. 2031-01-01, to the minute.
    (0i64..(11 * 366 * 24 * 60)).prop_map(|m| Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap() + Duration::minutes(m))
}

fn profile() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("three-priority"), Just("four-severity")]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn next_open_is_open_not_earlier_and_idempotent(t in instant(), p in profile()) {
        let cal = calendar(p);
        let n = cal.next_open(t);
        prop_assert!(n >= t);
        prop_assert!(cal.is_open(n));
        prop_assert_eq!(cal.next_open(n), n);
        if cal.is_open(t) {
            prop_assert_eq!(n, t);
        }
        // Nothing between t and n is open (checked at the minute just before n).
        if n > t {
            prop_assert!(!cal.is_open(n - Duration::minutes(1)));
        }
    }

    #[test]
    fn add_is_never_earlier_monotonic_and_additive(t in instant(), u in instant(), a in 0i64..3000, b in 1i64..3000, p in profile()) {
        let cal = calendar(p);
        let (a, b) = (Duration::minutes(a), Duration::minutes(b));
        let due = cal.add(t, a);
        prop_assert!(due >= t);
        let (early, late) = if t <= u { (t, u) } else { (u, t) };
        prop_assert!(cal.add(early, a) <= cal.add(late, a));
        prop_assert_eq!(cal.add(due, b), cal.add(t, a + b));
        prop_assert!(cal.add(t, a) <= cal.add(t, a + b));
    }

    #[test]
    fn open_exactly_in_business_hours_on_business_days(t in instant(), p in profile()) {
        let cal = calendar(p);
        let local = t.with_timezone(&chrono_tz::Asia::Tokyo);
        let (open_h, close_h) = if p == "three-priority" { (10, 18) } else { (8, 18) };
        let hour = chrono::Timelike::hour(&local);
        let in_hours = hour >= open_h && hour < close_h;
        prop_assert_eq!(cal.is_open(t), in_hours && cal.is_business_day(local.date_naive()));
    }

    #[test]
    fn always_open_calendar_is_wall_clock(t in instant(), a in 0i64..100_000) {
        let cal = Calendar::always(chrono_tz::Asia::Tokyo);
        prop_assert_eq!(cal.add(t, Duration::minutes(a)), t + Duration::minutes(a));
        prop_assert_eq!(cal.next_open(t), t);
    }
}

#[test]
fn business_days_skip_weekends_and_holidays() {
    let cal = calendar("three-priority");
    let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
    assert!(cal.is_business_day(d(2026, 11, 25)));
    assert!(!cal.is_business_day(d(2026, 11, 28))); // Saturday
    assert!(!cal.is_business_day(d(2026, 11, 23))); // 勤労感謝の日
    assert!(!cal.is_business_day(d(2027, 1, 4 - 1))); // closure
    assert!(cal.is_business_day(d(2027, 1, 4)));
}
