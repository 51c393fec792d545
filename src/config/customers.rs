//! The customers registry: who the customers are, their tier and language, who may report for
//! them, and whether their support is suspended (docs/POLICY.md section 2).
//!
//! A tier is one of the active profile's tiers. An entry may name one tier, or a tier per
//! profile (`tier = { three-priority = "support-plus", four-severity = "gold" }`) so that one
//! file serves a desk moving between contracts; either way it is checked against the profile
//! in force, with the line of the entry when it does not fit.

use super::policy::Policy;
use super::reader::{self, Problem, Section, Source, TableRef};
use crate::terms::Language;
use chrono::NaiveDate;
use regex::Regex;
use std::path::PathBuf;
use toml::de::DeValue;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: String,
    pub name: String,
    /// One of the active profile's tiers.
    pub tier: String,
    pub language: Language,
    /// Full addresses (lower case) or `@domain` entries.
    pub contacts: Vec<String>,
    /// Suspended by hand, whatever the payments say.
    pub suspended: bool,
    /// The first day a payment has been overdue; suspension follows from it and the receipt
    /// date (`suspended_on`).
    pub payment_overdue_since: Option<NaiveDate>,
    line: usize,
}

impl Customer {
    /// Whether support is suspended for a report received on `date` (in the profile's time
    /// zone): by hand, or because payment has been overdue more than `after_days` days.
    pub fn suspended_on(&self, date: NaiveDate, after_days: i64) -> bool {
        self.suspended || self.overdue_days(date).is_some_and(|days| days > after_days)
    }

    /// How many days payment has been overdue on `date`.
    pub fn overdue_days(&self, date: NaiveDate) -> Option<i64> {
        self.payment_overdue_since.map(|since| (date - since).num_days()).filter(|d| *d >= 0)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Customers {
    pub list: Vec<Customer>,
    path: PathBuf,
}

impl Customers {
    pub fn by_id(&self, id: &str) -> Option<&Customer> {
        self.list.iter().find(|c| c.id.eq_ignore_ascii_case(id))
    }

    /// The customers `address` is a contact of: an exact address entry, or its domain.
    pub fn of_sender(&self, address: &str) -> Vec<&Customer> {
        let address = address.trim().to_ascii_lowercase();
        let domain = address.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
        self.list
            .iter()
            .filter(|c| {
                c.contacts.iter().any(|contact| match contact.strip_prefix('@') {
                    Some(d) => !domain.is_empty() && d == domain,
                    None => *contact == address,
                })
            })
            .collect()
    }

    /// Every customer ID must be one a customer could write, or it could never be matched.
    pub fn check_ids(&self, pattern: &Regex, problems: &mut Vec<Problem>) {
        for c in &self.list {
            if pattern.find(&c.id).is_none_or(|m| m.as_str() != c.id) {
                problems.push(Problem {
                    file: self.path.clone(),
                    line: c.line,
                    column: 1,
                    message: format!("customer id `{}` does not match customer_id_pattern", c.id),
                    fix: "Change the id, or widen customer_id_pattern in understanding.toml, so reports can name this customer.".into(),
                });
            }
        }
    }
}

/// Reads the customers file; `policy` is the profile in force (`None` when it failed to load:
/// tiers are then not checked, and the profile's own problems are reported instead).
pub fn read(source: &mut Source, text: &str, policy: Option<&Policy>) -> Option<Customers> {
    let doc = reader::parse(source, text);
    let root = TableRef { table: doc.get_ref(), span: 0..0 };
    let entries = Section::new(source, root, "the customers file", &["customer"]).tables("customer");
    let mut list: Vec<Customer> = Vec::new();
    for entry in entries {
        let line = text.as_bytes()[..entry.span.start.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1;
        let mut s = Section::new(
            source,
            entry,
            "[[customer]]",
            &["id", "name", "tier", "language", "contacts", "suspended", "payment_overdue_since"],
        );
        let id = s.string("id", true, "\"ACME-0012\"");
        let name = s.string("name", false, "\"株式会社アクメ\"").map(|(n, _)| n).unwrap_or_default();
        let tier = tier_of(&mut s, policy);
        let language = match s.string("language", false, "\"ja\"") {
            None => Some(Language::Ja),
            Some((l, span)) => Language::parse(&l).or_else(|| {
                s.source.problem(span, format!("unknown language `{l}`"), "Use \"ja\" or \"en\".");
                None
            }),
        };
        let mut contacts = Vec::new();
        for (contact, span) in s.strings("contacts", "[\"yamada@example.jp\", \"@example.jp\"]") {
            let contact = contact.trim().to_ascii_lowercase();
            let valid = match contact.strip_prefix('@') {
                Some(domain) => domain.contains('.') && !domain.contains('@'),
                None => {
                    contact.split_once('@').is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.contains('@'))
                }
            };
            if valid && !contact.contains(char::is_whitespace) {
                contacts.push(contact);
            } else {
                s.source.problem(
                    span,
                    format!("contact `{contact}` is neither an address nor an @domain"),
                    "Write a full address (\"yamada@example.jp\") or a domain with a leading @ (\"@example.jp\").",
                );
            }
        }
        let suspended = s.boolean("suspended", false);
        let payment_overdue_since = date(&mut s, "payment_overdue_since");
        if let Some((id, span)) = id {
            if list.iter().any(|c| c.id.eq_ignore_ascii_case(&id)) {
                s.source.problem(
                    span,
                    format!("customer id `{id}` appears twice"),
                    "Give every customer its own id; merge the two entries.",
                );
                continue;
            }
            if let (Some(tier), Some(language)) = (tier, language) {
                list.push(Customer {
                    id: id.to_ascii_uppercase(),
                    name,
                    tier,
                    language,
                    contacts,
                    suspended,
                    payment_overdue_since,
                    line,
                });
            }
        }
    }
    Some(Customers { list, path: source.path.clone() })
}

/// The entry's tier under the profile in force: `tier = "gold"`, or a table of a tier per
/// profile. An entry without a tier has the profile's first.
fn tier_of(s: &mut Section, policy: Option<&Policy>) -> Option<String> {
    let Some(policy) = policy else { return Some(String::new()) };
    let first = policy.tiers.first().cloned().unwrap_or_default();
    let (tier, span) = match s.value("tier").map(|v| (v.get_ref(), v.span())) {
        None => return Some(first),
        Some((DeValue::String(t), span)) => (t.to_string(), span),
        Some((DeValue::Table(table), span)) => match table.get(policy.name.as_str()) {
            Some(v) => match v.get_ref().as_str() {
                Some(t) => (t.to_string(), v.span()),
                None => {
                    s.source.problem(
                        v.span(),
                        format!("the tier for profile {} must be a string", policy.name),
                        format!("Write it like: tier = {{ {} = \"{first}\" }}", policy.name),
                    );
                    return None;
                }
            },
            None => {
                s.source.problem(
                    span,
                    format!("this customer has no tier for the profile in force, {}", policy.name),
                    format!(
                        "Add {} = \"{first}\" to the tier table (its tiers: {}).",
                        policy.name,
                        policy.tiers.join(", ")
                    ),
                );
                return None;
            }
        },
        Some((other, span)) => {
            s.source.problem(
                span,
                format!("`tier` in [[customer]] must be a string or a table, not {}", other.type_str()),
                format!("Write it like: tier = \"{first}\""),
            );
            return None;
        }
    };
    let tier = tier.trim().to_ascii_lowercase();
    if policy.has_tier(&tier) {
        return Some(tier);
    }
    s.source.problem(
        span,
        format!("unknown tier `{tier}` for the {} profile", policy.name),
        format!("Use one of the profile's tiers: {}.", policy.tiers.join(", ")),
    );
    None
}

/// A date: a TOML date (`2026-10-01`) or the same in quotes.
fn date(s: &mut Section, key: &str) -> Option<NaiveDate> {
    let value = s.value(key)?;
    let text = match value.get_ref() {
        DeValue::Datetime(d) if d.date.is_some() && d.time.is_none() => d.to_string(),
        DeValue::String(t) => t.to_string(),
        _ => String::new(),
    };
    let parsed = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok();
    if parsed.is_none() {
        s.source.problem(
            value.span(),
            format!("`{key}` in [[customer]] is not a date"),
            format!("Write the day as YYYY-MM-DD, like {key} = 2026-10-01."),
        );
    }
    parsed
}
