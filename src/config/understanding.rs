//! How reports are read: labels, patterns and word lists (config/understanding.toml).
//!
//! Customers write the same item a dozen ways; the ways are data so a support team can add
//! the label its customers actually use without a new release.

use super::reader::{self, Section, Source, TableRef};
use crate::terms::Item;
use crate::understand::line_gate::LineGate;
use crate::understand::text::fold;
use regex::{Regex, RegexSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelKind {
    Item(Item),
    ExpectedResult,
    /// A known label that belongs to no item (name, phone, priority...).
    Other,
}

#[derive(Debug, Clone)]
pub struct Understanding {
    pub customer_id_pattern: Regex,
    /// Folded (NFKC, lower case) reply/forward prefixes.
    pub reply_prefixes: Vec<String>,
    /// Folded label text and what it labels, longest first.
    pub labels: Vec<(String, LabelKind)>,
    /// The same, for lookups by exact key.
    pub label_index: std::collections::HashMap<String, LabelKind, std::hash::BuildHasherDefault<LabelHasher>>,
    pub priority_labels: Vec<String>,
    /// The longest label or priority label key, in bytes: longer text is no label (a line of
    /// prose is passed over without building its key).
    pub longest_label: usize,
    pub reply_headers: RegexSet,
    pub quote_prefixes: Vec<String>,
    pub signature_starts: RegexSet,
    pub courtesy: RegexSet,
    pub error_lines: RegexSet,
    /// [`Self::error_lines`] as one search over a whole attached log (`None` when the set is
    /// too large for it: then every line is asked about).
    pub error_gate: Option<LineGate>,
    /// The same patterns, for pulling out a `text` group (`None` for those without one).
    pub error_patterns: Vec<Option<Regex>>,
    pub max_log_bytes: usize,
    pub step_line: Regex,
    /// All the per-line patterns above in one set, so that a line of the customer's text is
    /// matched once, not once per kind.
    pub line_kinds: LineKinds,
    /// The first character of every label and priority label key: a line whose first
    /// character is none of these is no label, and no key is built for it.
    pub label_starts: Vec<char>,
    /// The feature-request words as one case-insensitive pattern (one pass over the text).
    pub feature_pattern: Option<Regex>,
    pub ignore_precedence: Vec<String>,
    pub ignore_headers: Vec<String>,
    pub ignore_senders: Vec<String>,
}

/// [`Understanding`]'s per-line patterns (reply headers, signature starts, courtesy lines,
/// error lines, the step line) compiled as one set, with where each kind's patterns sit in it.
#[derive(Debug, Clone)]
pub struct LineKinds {
    pub set: RegexSet,
    pub reply: std::ops::Range<usize>,
    pub signature: std::ops::Range<usize>,
    pub courtesy: std::ops::Range<usize>,
    pub error: std::ops::Range<usize>,
    pub step: usize,
    /// The same patterns as one search over the whole text: the lines it passes over match
    /// none of them (`None` when too large: then every line is asked about).
    pub gate: Option<LineGate>,
}

impl LineKinds {
    fn new(
        reply: &RegexSet,
        signature: &RegexSet,
        courtesy: &RegexSet,
        error: &RegexSet,
        step_line: &Regex,
    ) -> Option<Self> {
        let parts = [reply.patterns(), signature.patterns(), courtesy.patterns(), error.patterns()];
        let mut patterns: Vec<&str> = Vec::new();
        let [reply, signature, courtesy, error] = parts.map(|part| {
            let start = patterns.len();
            patterns.extend(part.iter().map(String::as_str));
            start..patterns.len()
        });
        let step = patterns.len();
        patterns.push(step_line.as_str());
        // Larger limits than one kind's set needs: this set holds all of them.
        let set = regex::RegexSetBuilder::new(&patterns).size_limit(64 << 20).dfa_size_limit(16 << 20).build().ok()?;
        let gate = LineGate::new(&patterns);
        Some(LineKinds { set, reply, signature, courtesy, error, step, gate })
    }
}

/// FNV-1a, for the label index: its keys are a few dozen short labels from the operator's own
/// config, and a line of a report is looked up in it many times; the default hasher, built to
/// stand up to keys chosen by an attacker, costs more than the lookup itself here (nothing a
/// customer writes is ever inserted).
#[derive(Debug, Clone, Copy)]
pub struct LabelHasher(u64);

impl Default for LabelHasher {
    fn default() -> Self {
        LabelHasher(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for LabelHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl Understanding {
    pub fn label(&self, folded: &str) -> Option<LabelKind> {
        self.label_index.get(folded).copied()
    }
}

const ITEM_KEYS: [(&str, LabelKind); 7] = [
    ("customer_id", LabelKind::Item(Item::CustomerId)),
    ("repro_steps", LabelKind::Item(Item::ReproSteps)),
    ("error_messages", LabelKind::Item(Item::ErrorMessages)),
    ("description", LabelKind::Item(Item::Description)),
    ("expected_result", LabelKind::ExpectedResult),
    ("circumstances", LabelKind::Item(Item::Circumstances)),
    ("other", LabelKind::Other),
];

pub fn read(source: &mut Source, text: &str) -> Option<Understanding> {
    let doc = reader::parse(source, text);
    let root = TableRef { table: doc.get_ref(), span: 0..0 };
    let mut top = Section::new(
        source,
        root,
        "understanding.toml",
        &[
            "customer_id_pattern",
            "reply_prefixes",
            "labels",
            "priority",
            "quotes",
            "signatures",
            "courtesy",
            "errors",
            "steps",
            "feature_request",
            "ignore",
        ],
    );
    let customer_id_pattern = top
        .string("customer_id_pattern", true, "'[A-Z]{2,8}-[0-9]{3,6}'")
        .and_then(|(p, span)| regex(top.source, &p, span));
    let reply_prefixes =
        top.strings("reply_prefixes", "[\"re\", \"返信\"]").into_iter().map(|(p, _)| fold(&p)).collect();
    let tables = [
        top.table("labels"),
        top.table("priority"),
        top.table("quotes"),
        top.table("signatures"),
        top.table("courtesy"),
        top.table("errors"),
        top.table("steps"),
        top.table("feature_request"),
        top.table("ignore"),
    ];
    let [labels_t, priority_t, quotes_t, signatures_t, courtesy_t, errors_t, steps_t, feature_t, ignore_t] = tables;
    let top_span = top.span.clone();
    let need = |source: &mut Source, t, name| need_section(source, top_span.clone(), t, name);

    let mut labels: Vec<(String, LabelKind)> = Vec::new();
    if let Some(t) = need(source, labels_t, "labels") {
        let names: Vec<&str> = ITEM_KEYS.iter().map(|(k, _)| *k).collect();
        let mut s = Section::new(source, t, "[labels]", &names);
        for (key, kind) in ITEM_KEYS {
            for (label, _) in s.strings(key, "[\"再現手順\", \"Steps to reproduce\"]") {
                let folded = label_key(&label);
                // The first meaning given wins (an item beats "other").
                if !folded.is_empty() && !labels.iter().any(|(l, _)| *l == folded) {
                    labels.push((folded, kind));
                }
            }
        }
    }
    labels.sort_by_key(|l| std::cmp::Reverse(l.0.chars().count()));

    let priority_labels = match need(source, priority_t, "priority") {
        Some(t) => Section::new(source, t, "[priority]", &["labels"])
            .strings("labels", "[\"優先度\", \"Priority\"]")
            .into_iter()
            .map(|(l, _)| label_key(&l))
            .collect(),
        None => Vec::new(),
    };

    let (mut reply_headers, mut quote_prefixes) = (None, Vec::new());
    if let Some(t) = need(source, quotes_t, "quotes") {
        let mut s = Section::new(source, t, "[quotes]", &["reply_headers", "line_prefixes"]);
        let patterns = s.strings("reply_headers", "['^On .* wrote:$']");
        reply_headers = regex_set(s.source, patterns);
        quote_prefixes =
            s.strings("line_prefixes", "[\">\"]").into_iter().map(|(p, _)| p).filter(|p| !p.is_empty()).collect();
    }
    let signature_starts = need(source, signatures_t, "signatures").and_then(|t| {
        let mut s = Section::new(source, t, "[signatures]", &["starts"]);
        let patterns = s.strings("starts", "['^-- $']");
        regex_set(s.source, patterns)
    });
    let courtesy = need(source, courtesy_t, "courtesy").and_then(|t| {
        let mut s = Section::new(source, t, "[courtesy]", &["lines"]);
        let patterns = s.strings("lines", "['^お世話になっております.*$']");
        regex_set(s.source, patterns)
    });
    let (mut error_lines, mut error_patterns, mut max_log_bytes) = (None, Vec::new(), 1 << 20);
    if let Some(t) = need(source, errors_t, "errors") {
        let mut s = Section::new(source, t, "[errors]", &["lines", "max_log_bytes"]);
        let patterns = s.strings("lines", "['^Error: .*$']");
        // Patterns with a `text` group are also needed on their own, to take that part.
        error_patterns = patterns
            .iter()
            .map(|(p, span)| if p.contains("(?P<text>") { regex(s.source, p, span.clone()) } else { None })
            .collect();
        error_lines = regex_set(s.source, patterns);
        max_log_bytes = s.integer("max_log_bytes", 1 << 20, 0..(64 << 20)) as usize;
    }
    let step_line = need(source, steps_t, "steps").and_then(|t| {
        let mut s = Section::new(source, t, "[steps]", &["line"]);
        let (p, span) = s.string("line", true, "'^\\s*[0-9]+[.)]'")?;
        regex(s.source, &p, span)
    });
    let feature_words = match need(source, feature_t, "feature_request") {
        Some(t) => Section::new(source, t, "[feature_request]", &["words"])
            .strings("words", "[\"機能追加\", \"feature request\"]")
            .into_iter()
            .map(|(w, _)| fold(&w))
            .filter(|w| !w.is_empty())
            .collect(),
        None => Vec::new(),
    };
    let (mut ignore_precedence, mut ignore_headers, mut ignore_senders) = (Vec::new(), Vec::new(), Vec::new());
    if let Some(t) = need(source, ignore_t, "ignore") {
        let mut s = Section::new(source, t, "[ignore]", &["precedence", "headers", "senders"]);
        ignore_precedence =
            s.strings("precedence", "[\"bulk\"]").into_iter().map(|(w, _)| w.to_ascii_lowercase()).collect();
        ignore_headers =
            s.strings("headers", "[\"List-Id\"]").into_iter().map(|(w, _)| w.to_ascii_lowercase()).collect();
        ignore_senders =
            s.strings("senders", "[\"mailer-daemon\"]").into_iter().map(|(w, _)| w.to_ascii_lowercase()).collect();
    }

    let label_index = labels.iter().cloned().collect();
    let longest_label =
        labels.iter().map(|(l, _)| l.len()).chain(priority_labels.iter().map(String::len)).max().unwrap_or(0);
    let feature_pattern = literal_pattern(&feature_words);
    let line_kinds = match (&reply_headers, &signature_starts, &courtesy, &error_lines, &step_line) {
        (Some(r), Some(s), Some(c), Some(e), Some(l)) => {
            let kinds = LineKinds::new(r, s, c, e, l);
            if kinds.is_none() {
                source.problem(
                    0..0,
                    "the line patterns of [quotes], [signatures], [courtesy], [errors] and [steps] are too large to match together",
                    "Shorten or remove some patterns (each kind compiles, but not all of them as one set).",
                );
            }
            kinds
        }
        _ => None,
    };
    let mut label_starts: Vec<char> = labels
        .iter()
        .map(|(l, _)| l.as_str())
        .chain(priority_labels.iter().map(String::as_str))
        .filter_map(|l| l.chars().next())
        .collect();
    label_starts.sort_unstable();
    label_starts.dedup();
    Some(Understanding {
        customer_id_pattern: customer_id_pattern?,
        reply_prefixes,
        labels,
        label_index,
        priority_labels,
        longest_label,
        reply_headers: reply_headers?,
        quote_prefixes,
        signature_starts: signature_starts?,
        courtesy: courtesy?,
        error_gate: error_lines.as_ref().and_then(|set| LineGate::new(set.patterns())),
        error_lines: error_lines?,
        error_patterns,
        max_log_bytes,
        step_line: step_line?,
        line_kinds: line_kinds?,
        label_starts,
        feature_pattern,
        ignore_precedence,
        ignore_headers,
        ignore_senders,
    })
}

fn need_section<'t, 'i>(
    source: &mut Source,
    span: std::ops::Range<usize>,
    t: Option<TableRef<'t, 'i>>,
    name: &str,
) -> Option<TableRef<'t, 'i>> {
    if t.is_none() {
        source.problem(
            span,
            format!("understanding.toml has no [{name}]"),
            format!("Add the [{name}] section; the shipped config/understanding.toml shows its keys."),
        );
    }
    t
}

/// The form labels are compared in: folded, without spaces.
pub fn label_key(label: &str) -> String {
    normalized_label_key(&fold(label))
}

/// The first character of [`normalized_label_key`] of `label`, without building the key.
pub fn normalized_label_key_start(label: &str) -> Option<char> {
    let c = label.chars().find(|c| !c.is_whitespace())?;
    Some(if c.is_ascii() {
        c.to_ascii_lowercase()
    } else if ('\u{3000}'..='\u{9FFF}').contains(&c) {
        // Kana, kanji and CJK punctuation have no case (as in the key).
        c
    } else {
        c.to_lowercase().next().unwrap_or(c)
    })
}

/// [`label_key`] of text that is already NFKC-normalised: lower case, without spaces.
pub fn normalized_label_key(label: &str) -> String {
    let mut key = String::with_capacity(label.len());
    for c in label.chars().filter(|c| !c.is_whitespace()) {
        if c.is_ascii() {
            key.push(c.to_ascii_lowercase());
        } else if ('\u{3000}'..='\u{9FFF}').contains(&c) {
            // Kana, kanji and CJK punctuation have no case.
            key.push(c);
        } else {
            key.extend(c.to_lowercase());
        }
    }
    key
}

fn regex(source: &mut Source, pattern: &str, span: std::ops::Range<usize>) -> Option<Regex> {
    match Regex::new(pattern) {
        Ok(r) => Some(r),
        Err(e) => {
            let detail = e.to_string().lines().last().unwrap_or("").trim().to_string();
            source.problem(
                span,
                format!("bad regular expression `{pattern}`: {detail}"),
                "Fix the pattern (Rust regex syntax; use single quotes so backslashes stay as written).",
            );
            None
        }
    }
}

fn regex_set(source: &mut Source, patterns: Vec<(String, std::ops::Range<usize>)>) -> Option<RegexSet> {
    // Compiled once as a set; only when that fails is each pattern compiled on its own, to
    // say which one is wrong and where.
    if let Ok(set) = RegexSet::new(patterns.iter().map(|(p, _)| p)) {
        return Some(set);
    }
    for (p, span) in &patterns {
        regex(source, p, span.clone());
    }
    None
}

/// One case-insensitive pattern matching any of `words` (already folded), for a single pass.
pub fn literal_pattern(words: &[String]) -> Option<Regex> {
    if words.is_empty() {
        return None;
    }
    let alternation: Vec<String> = words.iter().map(|w| regex::escape(w)).collect();
    Regex::new(&format!("(?i){}", alternation.join("|"))).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keys_first_character_is_known_without_building_the_key() {
        for label in ["Steps To Reproduce", " 再現手順", "Érreur", "ＩＤ", "  ", "", "ΣΦ code", "#見出し"] {
            assert_eq!(normalized_label_key_start(label), normalized_label_key(label).chars().next(), "{label:?}");
        }
    }
}
