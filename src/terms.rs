//! The words of the support contract that every layer shares: the report's language and the
//! incident items of docs/POLICY.md section 3. Contract tiers are not here: each profile names
//! its own (`config::policy::Policy::tiers`).

use serde::Serialize;

/// The language a report is written in (and acknowledgments are answered in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Ja,
    En,
}

impl Language {
    pub fn parse(s: &str) -> Option<Language> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ja" | "jp" | "japanese" | "日本語" => Some(Language::Ja),
            "en" | "english" | "英語" => Some(Language::En),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Ja => "ja",
            Language::En => "en",
        }
    }
}

/// The incident items (a)-(e) a report should carry (four-severity terms 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Item {
    /// (a) the customer ID.
    CustomerId,
    /// (b) a reproducible test case: the steps.
    ReproSteps,
    /// (c) the exact text of every related error message.
    ErrorMessages,
    /// (d) the description of the incident (and the expected result).
    Description,
    /// (e) special circumstances.
    Circumstances,
}

impl Item {
    pub const ALL: [Item; 5] =
        [Item::CustomerId, Item::ReproSteps, Item::ErrorMessages, Item::Description, Item::Circumstances];

    pub fn as_str(self) -> &'static str {
        match self {
            Item::CustomerId => "customer_id",
            Item::ReproSteps => "repro_steps",
            Item::ErrorMessages => "error_messages",
            Item::Description => "description",
            Item::Circumstances => "circumstances",
        }
    }

    pub fn parse(s: &str) -> Option<Item> {
        Item::ALL.into_iter().find(|i| i.as_str() == s)
    }
}
