//! A policy profile: the numbers and words of one support contract (docs/POLICY.md sections 1-5).
//!
//! Two profiles ship, `three-priority` and `four-severity`; a desk picks one in its main
//! file. Business hours, holidays, targets, who gets 24-hour handling, declared-priority words
//! and keyword rules are all read from the profile, so a new contract is a new file.

use super::reader::{self, Section, Source, TableRef};
use crate::terms::{Item, Language};
use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub time_zone: Tz,
    /// Most urgent first.
    pub priorities: Vec<String>,
    pub default_priority: String,
    pub feature_requests: FeatureRequests,
    pub authorized_contacts_only: bool,
    pub required_items: Vec<Item>,
    pub status_page: Option<String>,
    /// The priorities whose out-of-hours acknowledgment points to `status_page` (the most
    /// urgent one unless the profile says otherwise).
    pub status_page_priorities: Vec<String>,
    /// The contract tiers of this profile; the first is the tier of a customer who names none.
    pub tiers: Vec<String>,
    /// A customer more than this many days behind with payment is suspended.
    pub suspend_after_days: i64,
    /// Requests to change settings on the customer's behalf (設定代行); `None` when the
    /// contract has no such service.
    pub change_requests: Option<ChangeRequests>,
    pub hours: BusinessHours,
    pub national_holidays: bool,
    pub company_holidays: Vec<CompanyHoliday>,
    /// Initial-response target per priority, in the order of `priorities`.
    pub targets: Vec<(String, Target)>,
    pub after_hours_clock: AfterHoursClock,
    pub eligible: Vec<EligibleRule>,
    /// Declaration words (lower case, NFKC) and the priority each means.
    pub declared: Vec<(String, String)>,
    pub keywords: Vec<KeywordRule>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureRequests {
    /// Handled normally, at this priority.
    AsPriority(String),
    /// Answered as outside support.
    NotCovered,
}

/// Business hours: the half-open interval [open, close) on the open weekdays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessHours {
    pub open: NaiveTime,
    pub close: NaiveTime,
    pub days: Vec<Weekday>,
}

/// A day or days the company is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompanyHoliday {
    /// One date, or an inclusive range of dates, with a name (from an .ics SUMMARY).
    Dates { from: NaiveDate, to: NaiveDate, name: String },
    /// Every year, month-day to month-day inclusive (may cross the new year: 12-29..01-03).
    Yearly { from: (u32, u32), to: (u32, u32), name: String },
}

/// A first-response target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Business hours (or, on the 24x7 clock, hours).
    Hours(u32),
    /// Business days: N times the length of one business day.
    Days(u32),
}

/// Which clock an item that is eligible for 24-hour handling runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterHoursClock {
    /// The contractual target still counts business hours (three-priority).
    Business,
    /// The target counts every hour, whenever the item arrives (four-severity).
    Always,
}

/// One rule of who gets 24-hour handling; `None` lists mean any.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EligibleRule {
    pub priorities: Option<Vec<String>>,
    pub tiers: Option<Vec<String>>,
    pub languages: Option<Vec<Language>>,
}

/// The settings-change service of a contract (docs/POLICY.md section 4): the words that
/// recognise a request, its priority, the completion targets quoted to the customer, and the
/// settings a person must look at before anyone touches them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeRequests {
    pub priority: String,
    /// Lower case, NFKC.
    pub words: Vec<String>,
    /// Words of sensitive settings (single sign-on, password resets); lower case, NFKC.
    pub sensitive: Vec<String>,
    /// At the earliest this long for a small change.
    pub small: Target,
    /// This long or more for a large change.
    pub large: Target,
    /// The tiers that have the service; `None`: every tier.
    pub tiers: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeywordRule {
    pub priority: String,
    /// Lower case, NFKC.
    pub words: Vec<String>,
}

impl Policy {
    pub fn target(&self, priority: &str) -> Option<Target> {
        self.targets.iter().find(|(p, _)| p == priority).map(|(_, t)| *t)
    }

    /// Whether `tier` is one of this profile's tiers.
    pub fn has_tier(&self, tier: &str) -> bool {
        self.tiers.iter().any(|t| t == tier)
    }

    /// The priority a declaration word means in this profile.
    pub fn declared_priority(&self, word: &str) -> Option<&str> {
        let word = crate::understand::text::fold(word);
        self.declared.iter().find(|(w, _)| *w == word).map(|(_, p)| p.as_str())
    }
}

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Mon),
    ("tue", Weekday::Tue),
    ("wed", Weekday::Wed),
    ("thu", Weekday::Thu),
    ("fri", Weekday::Fri),
    ("sat", Weekday::Sat),
    ("sun", Weekday::Sun),
];

pub fn read(source: &mut Source, text: &str, base_dir: &Path) -> Option<Policy> {
    let doc = reader::parse(source, text);
    let root = TableRef { table: doc.get_ref(), span: 0..0 };
    let mut top = Section::new(
        source,
        root,
        "the policy profile",
        &[
            "name",
            "description",
            "time_zone",
            "priorities",
            "default_priority",
            "feature_requests",
            "authorized_contacts_only",
            "required_items",
            "status_page",
            "status_page_priorities",
            "tiers",
            "suspend_after_days",
            "change_requests",
            "business_hours",
            "company_holidays",
            "targets",
            "after_hours",
            "declared",
            "keywords",
        ],
    );
    let name = top.string("name", true, "\"three-priority\"").map(|(n, _)| n);
    let time_zone = match top.string("time_zone", false, "\"Asia/Tokyo\"") {
        None => Some(chrono_tz::Asia::Tokyo),
        Some((tz, span)) => tz.parse::<Tz>().ok().or_else(|| {
            top.source.problem(
                span,
                format!("unknown time zone `{tz}`"),
                "Use a tz database name such as \"Asia/Tokyo\".",
            );
            None
        }),
    };
    let priorities: Vec<String> =
        top.strings("priorities", "[\"high\", \"medium\", \"low\"]").into_iter().map(|(p, _)| p).collect();
    if priorities.is_empty() {
        top.missing("priorities", "[\"high\", \"medium\", \"low\"]");
    }
    let known = |p: &str| priorities.iter().any(|q| q == p);
    // A priority named by a key: kept when it is one of the profile's, else a problem.
    let priority_named = |source: &mut Source, (p, span): (String, std::ops::Range<usize>), what: &str| {
        if known(&p) {
            return Some(p);
        }
        source.problem(
            span,
            format!("{what} `{p}` is not one of this profile's priorities"),
            format!("Use one of: {}.", priorities.join(", ")),
        );
        None
    };
    let default_priority = top
        .string("default_priority", true, "\"low\"")
        .and_then(|named| priority_named(top.source, named, "default_priority"));
    let feature_requests = match top.string("feature_requests", false, "\"low\" or \"not_covered\"") {
        None => Some(FeatureRequests::NotCovered),
        Some((f, _)) if f == "not_covered" => Some(FeatureRequests::NotCovered),
        Some((f, _)) if known(&f) => Some(FeatureRequests::AsPriority(f)),
        Some((f, span)) => {
            top.source.problem(
                span,
                format!("feature_requests `{f}` is neither a priority nor not_covered"),
                format!("Use \"not_covered\" or one of: {}.", priorities.join(", ")),
            );
            None
        }
    };
    let authorized_contacts_only = top.boolean("authorized_contacts_only", false);
    let mut required_items = Vec::new();
    for (item, span) in top.strings("required_items", "[\"customer_id\", \"description\"]") {
        match Item::parse(&item) {
            Some(i) => required_items.push(i),
            None => top.source.problem(
                span,
                format!("unknown item `{item}`"),
                "Use customer_id, repro_steps, error_messages, description or circumstances.",
            ),
        }
    }
    let status_page = top.string("status_page", false, "\"https://status.example.jp/\"").map(|(s, _)| s);
    let status_page_priorities: Vec<String> = match top.value("status_page_priorities") {
        None => priorities.first().cloned().into_iter().collect(),
        Some(_) => top
            .strings("status_page_priorities", "[\"high\"]")
            .into_iter()
            .filter_map(|named| priority_named(top.source, named, "status_page_priorities"))
            .collect(),
    };
    let mut tiers: Vec<String> = Vec::new();
    for (tier, span) in top.strings("tiers", "[\"standard\", \"support-plus\"]") {
        let tier = tier.trim().to_ascii_lowercase();
        if tier.is_empty() || tier.contains(char::is_whitespace) {
            top.source.problem(
                span,
                format!("tier `{tier}` is not a name"),
                "Name each tier in one word, like \"gold\" or \"support-plus\".",
            );
        } else if tiers.contains(&tier) {
            top.source.problem(span, format!("tier `{tier}` is listed twice"), "List each tier once.");
        } else {
            tiers.push(tier);
        }
    }
    if tiers.is_empty() {
        top.missing("tiers", "[\"standard\", \"support-plus\"]");
    }
    let suspend_after_days = top.integer("suspend_after_days", 30, 0..3_651);
    let change_requests_table = top.table("change_requests");
    let hours_table = top.table("business_hours");
    let holidays_table = top.table("company_holidays");
    let targets_table = top.table("targets");
    let after_hours_table = top.table("after_hours");
    let declared_table = top.table("declared");
    let keyword_tables = top.tables("keywords");
    let top_span = top.span.clone();

    // [business_hours]
    let (hours, national_holidays) = match hours_table {
        None => {
            source.problem(
                top_span.clone(),
                "the profile has no [business_hours]",
                "Add [business_hours] with open = \"10:00\", close = \"18:00\" and days.",
            );
            (None, true)
        }
        Some(t) => {
            let mut s = Section::new(source, t, "[business_hours]", &["open", "close", "days", "national_holidays"]);
            let open = time_of_day(&mut s, "open", "\"10:00\"");
            let close = time_of_day(&mut s, "close", "\"18:00\"");
            let mut days = Vec::new();
            for (day, span) in s.strings("days", "[\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]") {
                match DAYS.iter().find(|(n, _)| day.eq_ignore_ascii_case(n)) {
                    Some((_, d)) if !days.contains(d) => days.push(*d),
                    Some(_) => s.source.problem(span, format!("day `{day}` is listed twice"), "List each day once."),
                    None => s.source.problem(
                        span,
                        format!("unknown day `{day}`"),
                        "Use mon, tue, wed, thu, fri, sat or sun.",
                    ),
                }
            }
            match s.value("days") {
                None => days = DAYS[..5].iter().map(|(_, d)| *d).collect(),
                Some(v) if days.is_empty() => {
                    s.source.problem(
                        v.span(),
                        "business_hours has no open days",
                        "List the days support works, like days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"].",
                    );
                }
                Some(_) => {}
            }
            let national = match s.string("national_holidays", false, "\"jp\"") {
                None => true,
                Some((v, _)) if v == "jp" => true,
                Some((v, _)) if v == "none" => false,
                Some((v, span)) => {
                    s.source.problem(
                        span,
                        format!("national_holidays `{v}` is not known"),
                        "Use \"jp\" (Japanese national holidays) or \"none\".",
                    );
                    true
                }
            };
            let hours = match (open, close) {
                (Some(open), Some(close)) if open < close => Some(BusinessHours { open, close, days }),
                (Some(_), Some(_)) => {
                    let span = s.value("close").map(|v| v.span()).unwrap_or_default();
                    s.source.problem(
                        span,
                        "business hours close before they open",
                        "Make close later than open on the same day (hours across midnight are not supported).",
                    );
                    None
                }
                _ => None,
            };
            (hours, national)
        }
    };

    // [company_holidays]
    let mut company_holidays = Vec::new();
    if let Some(t) = holidays_table {
        let mut s = Section::new(source, t, "[company_holidays]", &["dates", "ics"]);
        for (entry, span) in s.strings("dates", "[\"12-29..01-03\", \"2026-08-13..2026-08-15\"]") {
            match parse_holiday(&entry) {
                Some(h) => company_holidays.push(h),
                None => s.source.problem(
                    span,
                    format!("`{entry}` is not a date or a date range"),
                    "Write YYYY-MM-DD, MM-DD (every year), or a range A..B of either, like \"12-29..01-03\".",
                ),
            }
        }
        for (file, span) in s.strings("ics", "[\"holidays/2026.ics\"]") {
            let path = base_dir.join(&file);
            match std::fs::read_to_string(&path) {
                Ok(ics) => company_holidays.extend(parse_ics(&ics)),
                Err(e) => s.source.problem(
                    span,
                    format!("cannot read calendar file {}: {e}", path.display()),
                    "Check the path; it is relative to the main configuration file's folder.",
                ),
            }
        }
    }

    // [targets]
    let mut targets = Vec::new();
    match targets_table {
        None => source.problem(
            top_span.clone(),
            "the profile has no [targets]",
            "Add [targets] with a target per priority, like high = \"2h\".",
        ),
        Some(t) => {
            let names: Vec<&str> = priorities.iter().map(String::as_str).collect();
            let mut s = Section::new(source, t, "[targets]", &names);
            for p in &priorities {
                let Some((value, span)) = s.string(p, true, "\"2h\" or \"2d\"") else { continue };
                match parse_target(&value) {
                    Some(target) => targets.push((p.clone(), target)),
                    None => s.source.problem(
                        span,
                        format!("target `{value}` for {p} is not a duration"),
                        "Write business hours as \"2h\" or business days as \"2d\" (whole numbers, at least 1).",
                    ),
                }
            }
        }
    }

    // [after_hours]
    let mut eligible = Vec::new();
    let mut after_hours_clock = AfterHoursClock::Business;
    if let Some(t) = after_hours_table {
        let mut s = Section::new(source, t, "[after_hours]", &["clock", "eligible"]);
        match s.string("clock", false, "\"business\"") {
            None => {}
            Some((c, _)) if c == "business" => after_hours_clock = AfterHoursClock::Business,
            Some((c, _)) if c == "24x7" => after_hours_clock = AfterHoursClock::Always,
            Some((c, span)) => {
                s.source.problem(span, format!("clock `{c}` is not known"), "Use \"business\" or \"24x7\".")
            }
        }
        for rule in s.tables("eligible") {
            let mut r = Section::new(s.source, rule, "[[after_hours.eligible]]", &["priorities", "tiers", "languages"]);
            let list = |r: &mut Section, key: &str| r.value(key).is_some().then(|| r.strings(key, "[\"gold\"]"));
            let priorities_rule = list(&mut r, "priorities")
                .map(|ps| ps.into_iter().filter_map(|named| priority_named(r.source, named, "priority")).collect());
            let rule_tiers = list(&mut r, "tiers").map(|ts| known_tiers(r.source, &tiers, ts));
            let languages = list(&mut r, "languages").map(|ls| {
                ls.into_iter()
                    .filter_map(|(l, span)| {
                        Language::parse(&l).or_else(|| {
                            r.source.problem(span, format!("unknown language `{l}`"), "Use \"ja\" or \"en\".");
                            None
                        })
                    })
                    .collect()
            });
            eligible.push(EligibleRule { priorities: priorities_rule, tiers: rule_tiers, languages });
        }
    }

    // [declared]
    let mut declared = Vec::new();
    if let Some(t) = declared_table {
        let names: Vec<&str> = priorities.iter().map(String::as_str).collect();
        let mut s = Section::new(source, t, "[declared]", &names);
        for p in &priorities {
            for (word, span) in s.strings(p, "[\"high\", \"高\"]") {
                let word = crate::understand::text::fold(&word);
                if let Some((_, other)) = declared.iter().find(|(w, _): &&(String, String)| *w == word) {
                    s.source.problem(
                        span,
                        format!("declaration word `{word}` already means {other}"),
                        "Give each word one meaning.",
                    );
                } else {
                    declared.push((word, p.clone()));
                }
            }
        }
    }

    // [[keywords]]
    let mut keywords = Vec::new();
    for t in keyword_tables {
        let mut s = Section::new(source, t, "[[keywords]]", &["priority", "words"]);
        let priority =
            s.string("priority", true, "\"high\"").and_then(|named| priority_named(s.source, named, "priority"));
        let words = word_list(&mut s, "words", "[\"サービス停止\", \"outage\"]");
        if let Some(priority) = priority {
            keywords.push(KeywordRule { priority, words });
        }
    }

    // [change_requests]
    let change_requests = change_requests_table.and_then(|t| {
        let mut s = Section::new(
            source,
            t,
            "[change_requests]",
            &["priority", "words", "sensitive", "small", "large", "tiers"],
        );
        let priority =
            s.string("priority", true, "\"medium\"").and_then(|named| priority_named(s.source, named, "priority"));
        let words = word_list(&mut s, "words", "[\"設定変更\", \"change request\"]");
        if words.is_empty() {
            s.missing("words", "[\"設定変更\", \"change request\"]");
        }
        let sensitive = word_list(&mut s, "sensitive", "[\"シングルサインオン\", \"password reset\"]");
        let target = |s: &mut Section, key: &str, example: &str| {
            let (value, span) = s.string(key, true, example)?;
            parse_target(&value).or_else(|| {
                s.source.problem(
                    span,
                    format!("{key} `{value}` is not a duration"),
                    "Write business days as \"3d\" or business hours as \"24h\" (whole numbers, at least 1).",
                );
                None
            })
        };
        let small = target(&mut s, "small", "\"3d\"");
        let large = target(&mut s, "large", "\"10d\"");
        let cr_tiers = s.value("tiers").is_some().then(|| {
            let listed = s.strings("tiers", "[\"standard\", \"support-plus\"]");
            known_tiers(s.source, &tiers, listed)
        });
        Some(ChangeRequests { priority: priority?, words, sensitive, small: small?, large: large?, tiers: cr_tiers })
    });

    Some(Policy {
        name: name?,
        time_zone: time_zone?,
        default_priority: default_priority?,
        feature_requests: feature_requests?,
        priorities,
        authorized_contacts_only,
        required_items,
        status_page,
        status_page_priorities,
        tiers,
        suspend_after_days,
        change_requests,
        hours: hours?,
        national_holidays,
        company_holidays,
        targets,
        after_hours_clock,
        eligible,
        declared,
        keywords,
    })
}

/// A list of words to look for in reports: NFKC, lower case, empty entries dropped.
fn word_list(s: &mut Section, key: &str, example: &str) -> Vec<String> {
    s.strings(key, example)
        .into_iter()
        .map(|(w, _)| crate::understand::text::fold(&w))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The listed tiers that are the profile's; a problem for every other.
fn known_tiers(source: &mut Source, tiers: &[String], listed: Vec<(String, std::ops::Range<usize>)>) -> Vec<String> {
    listed
        .into_iter()
        .filter_map(|(t, span)| {
            let t = t.trim().to_ascii_lowercase();
            if tiers.contains(&t) {
                Some(t)
            } else {
                source.problem(
                    span,
                    format!("tier `{t}` is not one of this profile's tiers"),
                    format!("Use one of: {}; or add it to `tiers` at the top of the profile.", tiers.join(", ")),
                );
                None
            }
        })
        .collect()
}

fn time_of_day(s: &mut Section, key: &str, example: &str) -> Option<NaiveTime> {
    let (value, span) = s.string(key, true, example)?;
    let parsed = value.split_once(':').and_then(|(h, m)| {
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        if h == 24 && m == 0 { NaiveTime::from_hms_opt(23, 59, 59) } else { NaiveTime::from_hms_opt(h, m, 0) }
    });
    if parsed.is_none() || value.len() != 5 {
        s.source.problem(
            span,
            format!("`{value}` is not a time of day"),
            format!("Write it as HH:MM on the 24-hour clock, like {key} = {example}."),
        );
        return None;
    }
    parsed
}

fn parse_target(value: &str) -> Option<Target> {
    let value = value.trim();
    let (number, unit) = value.split_at(value.len().checked_sub(1)?);
    let n: u32 = number.trim().parse().ok().filter(|n| (1..=10_000).contains(n))?;
    match unit {
        "h" => Some(Target::Hours(n)),
        "d" => Some(Target::Days(n)),
        _ => None,
    }
}

/// Parses `YYYY-MM-DD`, `MM-DD` or a range `A..B` of either kind.
pub fn parse_holiday(entry: &str) -> Option<CompanyHoliday> {
    let (a, b) = match entry.split_once("..") {
        Some((a, b)) => (a.trim(), b.trim()),
        None => (entry.trim(), entry.trim()),
    };
    let full = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().filter(|_| s.len() == 10);
    let month_day = |s: &str| {
        let (m, d) = s.split_once('-')?;
        let (m, d): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
        // Validate against a leap year so 02-29 is allowed.
        NaiveDate::from_ymd_opt(2024, m, d).map(|_| (m, d)).filter(|_| s.len() == 5)
    };
    let name = "company holiday".to_string();
    match (full(a), full(b)) {
        (Some(from), Some(to)) if from <= to => return Some(CompanyHoliday::Dates { from, to, name }),
        (Some(_), Some(_)) => return None,
        _ => {}
    }
    Some(CompanyHoliday::Yearly { from: month_day(a)?, to: month_day(b)?, name })
}

/// All-day events (`DTSTART;VALUE=DATE:YYYYMMDD`) of an iCalendar file. DTEND is exclusive, as
/// RFC 5545 says; an event without DTEND is one day. Timed events are not closures and are
/// skipped.
pub fn parse_ics(text: &str) -> Vec<CompanyHoliday> {
    // Unfold continuation lines first (RFC 5545 3.1).
    let unfolded = text.replace("\r\n ", "").replace("\r\n\t", "").replace("\n ", "").replace("\n\t", "");
    let mut out = Vec::new();
    let (mut start, mut end, mut summary, mut in_event) = (None, None, String::new(), false);
    let date = |v: &str| NaiveDate::parse_from_str(v.trim(), "%Y%m%d").ok();
    for line in unfolded.lines() {
        let line = line.trim_end();
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        let key = name.split(';').next().unwrap_or("").to_ascii_uppercase();
        match key.as_str() {
            "BEGIN" if value.eq_ignore_ascii_case("VEVENT") => {
                (start, end, summary, in_event) = (None, None, String::new(), true);
            }
            "DTSTART" if in_event => start = if value.len() == 8 { date(value) } else { None },
            "DTEND" if in_event => end = if value.len() == 8 { date(value) } else { None },
            "SUMMARY" if in_event => summary = value.replace("\\,", ",").replace("\\;", ";").replace("\\n", " "),
            "END" if value.eq_ignore_ascii_case("VEVENT") => {
                if let Some(from) = start {
                    let to = end.and_then(|e| e.pred_opt()).filter(|e| *e >= from).unwrap_or(from);
                    let name = if summary.is_empty() { "company holiday".to_string() } else { summary.clone() };
                    out.push(CompanyHoliday::Dates { from, to, name });
                }
                in_event = false;
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holiday_entries() {
        assert_eq!(
            parse_holiday("12-29..01-03"),
            Some(CompanyHoliday::Yearly { from: (12, 29), to: (1, 3), name: "company holiday".into() })
        );
        assert!(matches!(parse_holiday("2026-08-13..2026-08-15"), Some(CompanyHoliday::Dates { .. })));
        assert!(matches!(parse_holiday("02-29"), Some(CompanyHoliday::Yearly { .. })));
        for bad in ["13-01", "2026-02-30", "2026-08-15..2026-08-13", "tomorrow", "1-3", ""] {
            assert_eq!(parse_holiday(bad), None, "{bad}");
        }
    }

    #[test]
    fn ics_all_day_events() {
        let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20260813\r\nDTEND;VALUE=DATE:20260816\r\nSUMMARY:夏季休業\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART:20260901T100000Z\r\nSUMMARY:meeting\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let days = parse_ics(ics);
        assert_eq!(days.len(), 1);
        assert_eq!(
            days[0],
            CompanyHoliday::Dates {
                from: NaiveDate::from_ymd_opt(2026, 8, 13).unwrap(),
                to: NaiveDate::from_ymd_opt(2026, 8, 15).unwrap(),
                name: "夏季休業".into()
            }
        );
    }

    #[test]
    fn targets() {
        assert_eq!(parse_target("2h"), Some(Target::Hours(2)));
        assert_eq!(parse_target("2d"), Some(Target::Days(2)));
        for bad in ["0h", "h", "2", "2 hours", "-1h", ""] {
            assert_eq!(parse_target(bad), None, "{bad}");
        }
    }
}
