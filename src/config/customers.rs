//! The customers registry: who the customers are, their tier and language, who may report for
//! them, and whether their support is suspended (POLICY.md section 2).

use super::reader::{self, Problem, Section, Source, TableRef};
use crate::terms::Language;
pub use crate::terms::Tier;
use regex::Regex;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub tier: Tier,
    pub language: Language,
    /// Full addresses (lower case) or `@domain` entries.
    pub contacts: Vec<String>,
    pub suspended: bool,
    line: usize,
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
            if !pattern.find(&c.id).is_some_and(|m| m.as_str() == c.id) {
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

pub fn read(source: &mut Source, text: &str) -> Option<Customers> {
    let doc = reader::parse(source, text);
    let root = TableRef { table: doc.get_ref(), span: 0..0 };
    let entries = Section::new(source, root, "the customers file", &["customer"]).tables("customer");
    let mut list: Vec<Customer> = Vec::new();
    for entry in entries {
        let line = text.as_bytes()[..entry.span.start.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1;
        let mut s =
            Section::new(source, entry, "[[customer]]", &["id", "name", "tier", "language", "contacts", "suspended"]);
        let id = s.string("id", true, "\"ACME-0012\"");
        let name = s.string("name", false, "\"株式会社アクメ\"").map(|(n, _)| n).unwrap_or_default();
        let tier = match s.string("tier", false, "\"gold\"") {
            None => Some(Tier::Silver),
            Some((t, span)) => Tier::parse(&t).or_else(|| {
                s.source.problem(span, format!("unknown tier `{t}`"), "Use silver, gold or platinum.");
                None
            }),
        };
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
                list.push(Customer { id: id.to_ascii_uppercase(), name, tier, language, contacts, suspended, line });
            }
        }
    }
    Some(Customers { list, path: source.path.clone() })
}
