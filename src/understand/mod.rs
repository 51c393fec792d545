//! Understanding one report: from raw mail bytes (or a form submission) to the facts the
//! policy decides on. Pure: no I/O, no clock, no store; the same bytes always give the same
//! [`Report`].
//!
//! The steps, each in its own module: [`mime`] takes the message apart and decodes every
//! charset Japanese mail uses ([`charset`], [`header`], [`html`]); [`signals`] spots machine
//! mail; [`fields`] reads the incident items; this module adds the case reference of a
//! follow-up, the language and the feature-request wording.

pub mod address;
pub mod charset;
mod entities;
pub mod fields;
pub mod header;
pub mod html;
pub mod line_gate;
pub mod mime;
mod multipart;
pub mod signals;
pub mod text;

use crate::config::{Config, Understanding};
use crate::terms::{Item, Language};
use chrono::{DateTime, FixedOffset};
pub use fields::Fields;
pub use mime::{Attachment, MimeError};
use serde::{Deserialize, Serialize};
pub use signals::Signal;

/// How a report reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Mail,
    Form,
}

/// Everything understood about one report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub channel: Channel,
    /// The sender's address, lower case.
    pub from: Option<String>,
    pub from_name: Option<String>,
    pub subject: String,
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub date: Option<DateTime<FixedOffset>>,
    /// When the newest Received header says the message arrived.
    pub received: Option<DateTime<FixedOffset>>,
    pub language: Language,
    /// The customer ID the text names (not inferred from the sender: that is policy).
    pub customer_id: Option<String>,
    /// The case this report follows up, from the subject tag or our Message-ID it replies to.
    pub case_ref: Option<String>,
    /// The message replies to one of our own Message-IDs (In-Reply-To or References): a
    /// follow-up even when the subject lost its case tag.
    pub replies_to_us: bool,
    /// Whether anyone vouches for `from`: mail (as far as mail can), the signed webhook. The
    /// address typed into the intake page is unproven: such a report never pages on-call
    /// until the reporter confirms by replying (docs/POLICY.md section 5).
    pub sender_proven: bool,
    /// The priority word the customer declared, if any.
    pub declared_priority: Option<String>,
    pub feature_request: bool,
    pub fields: Fields,
    pub attachments: Vec<Attachment>,
    /// Signs that a machine wrote this; any one means it is never answered.
    pub signals: Vec<Signal>,
    /// The decoded text body as the customer sent it (not normalised).
    pub body: String,
    /// What the customer wrote in this message: normalised, without quotes and signature.
    pub own_text: String,
    /// Things that were wrong with the message but did not stop it being read.
    pub warnings: Vec<String>,
}

impl Report {
    /// The incident items this report does not carry. Item (a) counts as present when the
    /// text names a customer ID; inferring it from the sender is the policy's business.
    pub fn items_missing_from_text(&self) -> Vec<Item> {
        let f = &self.fields;
        let mut missing = Vec::new();
        if self.customer_id.is_none() {
            missing.push(Item::CustomerId);
        }
        if f.repro_steps.is_none() {
            missing.push(Item::ReproSteps);
        }
        if f.error_messages.is_empty() {
            missing.push(Item::ErrorMessages);
        }
        if f.description.is_none() {
            missing.push(Item::Description);
        }
        if f.circumstances.is_none() {
            missing.push(Item::Circumstances);
        }
        missing
    }
}

/// Understands raw mail bytes. Fails only when the bytes are not a mail message at all;
/// anything with headers gives a best-effort report with warnings.
pub fn understand_mail(raw: &[u8], config: &Config) -> Result<Report, MimeError> {
    let rules = &config.understanding;
    let parsed = mime::parse(raw, rules.max_log_bytes)?;
    let signals = signals::detect(&parsed, rules, &config.mail);
    let mut reading = fields::read(&parsed.body, rules);
    // Small text attachments are logs: the customer supplied the error text with them.
    for attachment in &parsed.attachments {
        if let Some(log) = &attachment.text {
            let errors = log_errors(log, rules);
            let name = attachment.filename.clone().unwrap_or_else(|| "attachment".into());
            if errors.is_empty() {
                reading.fields.error_messages.push(format!("(attached log {name})"));
            } else {
                reading.fields.error_messages.extend(errors);
            }
        }
    }
    let subject_norm = text::normalize(&parsed.subject);
    let ours = |id: &&String| is_ours(id, config);
    let replies_to_us = parsed.in_reply_to.iter().chain(&parsed.references).any(|id| ours(&id));
    let case_ref = case_ref_in_subject(&subject_norm, config)
        .or_else(|| case_ref_in_ids(parsed.in_reply_to.iter().chain(&parsed.references).filter(ours), config));
    let language = language_of(&subject_norm, &reading.own_text);
    let feature_request = mentions(&subject_norm, &reading.own_text, rules);
    Ok(Report {
        channel: Channel::Mail,
        from: parsed.from,
        from_name: parsed.from_name,
        subject: parsed.subject,
        message_id: parsed.message_id,
        in_reply_to: parsed.in_reply_to,
        references: parsed.references,
        date: parsed.date,
        received: parsed.received,
        language,
        customer_id: reading.customer_id,
        case_ref,
        replies_to_us,
        sender_proven: true,
        declared_priority: reading.declared_priority,
        feature_request,
        fields: reading.fields,
        attachments: parsed.attachments,
        signals,
        body: parsed.body,
        own_text: reading.own_text,
        warnings: parsed.warnings,
    })
}

/// A report submitted through the web form: one field per item.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct FormSubmission {
    pub customer_id: String,
    pub email: String,
    pub name: String,
    pub language: String,
    pub priority: String,
    pub subject: String,
    pub description: String,
    pub repro_steps: String,
    pub error_messages: String,
    pub expected_result: String,
    pub circumstances: String,
    /// Files sent with the form (a log file, a screenshot).
    pub attachments: Vec<FormAttachment>,
    /// When the form was submitted (RFC 3339), recorded with it.
    pub submitted_at: String,
    /// Sent through the signed webhook: a partner holding a signing secret vouches for the
    /// address. Set by the HTTP listener, never read from the submitted fields.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub signed: bool,
}

/// A file sent with a form submission; `content` is base64.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct FormAttachment {
    pub filename: String,
    pub content_type: String,
    pub content: String,
}

/// Understands a form submission. The form has a field per item, so nothing is guessed
/// from layout; the text still goes through the same normalisation, and the customer ID
/// through the same pattern.
pub fn understand_form(form: &FormSubmission, config: &Config) -> Report {
    let rules = &config.understanding;
    let clean = |s: &str| {
        let t = text::normalize(s.trim()).replace("\r\n", "\n");
        (!t.is_empty()).then_some(t)
    };
    let customer_id = clean(&form.customer_id).and_then(|id| {
        let upper = id.to_uppercase();
        rules.customer_id_pattern.find(&upper).map(|m| m.as_str().to_string())
    });
    let mut error_messages: Vec<String> = clean(&form.error_messages).into_iter().collect();
    // Attached text logs carry error text, as they do in mail.
    let mut attachments = Vec::new();
    for a in &form.attachments {
        let bytes = mail_parser::decoders::base64::base64_decode(a.content.as_bytes()).unwrap_or_default();
        let lower = a.filename.to_ascii_lowercase();
        let is_log = a.content_type.starts_with("text/plain") || lower.ends_with(".log") || lower.ends_with(".txt");
        let text = (is_log && bytes.len() <= rules.max_log_bytes).then(|| charset::decode(&bytes, None).text);
        if let Some(log) = &text {
            let errors = log_errors(log, rules);
            if errors.is_empty() {
                error_messages.push(format!("(attached log {})", a.filename));
            } else {
                error_messages.extend(errors);
            }
        }
        attachments.push(Attachment {
            filename: Some(a.filename.clone()).filter(|f| !f.is_empty()),
            content_type: a.content_type.clone(),
            size: bytes.len(),
            text,
        });
    }
    let fields = Fields {
        repro_steps: clean(&form.repro_steps),
        error_messages,
        description: clean(&form.description),
        expected_result: clean(&form.expected_result),
        circumstances: clean(&form.circumstances),
    };
    let subject = form.subject.trim().to_string();
    let subject_norm = text::normalize(&subject);
    let all_text =
        [&form.description, &form.repro_steps, &form.error_messages, &form.expected_result, &form.circumstances]
            .iter()
            .map(|s| text::normalize(s))
            .collect::<Vec<_>>()
            .join("\n");
    let language = Language::parse(&form.language).unwrap_or_else(|| language_of(&subject_norm, &all_text));
    let declared = text::fold(&form.priority);
    Report {
        channel: Channel::Form,
        // An address that is not one bare address has no reply (the HTTP layer refuses it).
        from: address::normalize(&form.email).ok(),
        from_name: clean(&form.name),
        subject,
        message_id: None,
        in_reply_to: Vec::new(),
        references: Vec::new(),
        date: DateTime::parse_from_rfc3339(&form.submitted_at).ok(),
        received: None,
        language,
        customer_id,
        case_ref: case_ref_in_subject(&subject_norm, config),
        replies_to_us: false,
        sender_proven: form.signed,
        declared_priority: (!declared.is_empty()).then_some(declared),
        feature_request: mentions(&subject_norm, &all_text, rules),
        fields,
        attachments,
        signals: Vec::new(),
        own_text: all_text.clone(),
        body: all_text,
        warnings: Vec::new(),
    }
}

fn language_of(subject: &str, own_text: &str) -> Language {
    if text::is_japanese_sample(subject, own_text, 4000) { Language::Ja } else { Language::En }
}

/// Whether the subject or text mentions a feature-request word.
fn mentions(subject: &str, text: &str, rules: &Understanding) -> bool {
    rules.feature_pattern.as_ref().is_some_and(|p| p.is_match(subject) || p.is_match(text))
}

/// The case tag in a (normalised) subject, in any bracket style: [CASE-2026-000123],
/// 【CASE-2026-000123】, ＃CASE-2026-000123 (full-width forms are ASCII after NFKC).
fn case_ref_in_subject(subject: &str, config: &Config) -> Option<String> {
    config.cases.tag.captures(subject).map(|c| format_case(&c, config))
}

/// Whether a Message-ID is one of ours (our Message-ID domain).
fn is_ours(id: &str, config: &Config) -> bool {
    let domain = &config.mail.message_id_domain;
    let id = id.trim_matches(['<', '>', ' ']).to_ascii_lowercase();
    !domain.is_empty() && id.rsplit_once('@').is_some_and(|(_, d)| d == domain)
}

/// A case number in one of our own Message-IDs that the message replies to.
fn case_ref_in_ids<'a>(mut ids: impl Iterator<Item = &'a String>, config: &Config) -> Option<String> {
    ids.find_map(|id| config.cases.tag.captures(id).map(|c| format_case(&c, config)))
}

fn format_case(c: &regex::Captures<'_>, config: &Config) -> String {
    let seq: u64 = c[3].parse().unwrap_or(0);
    format!("{}-{}-{:0width$}", config.cases.prefix, &c[2], seq, width = config.cases.width)
}

/// Error lines of an attached log: runs of error output, at most 20 messages.
fn log_errors(log: &str, rules: &Understanding) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    // Most lines of a log are not errors: the gate passes over them in one search, and only
    // the lines it stops on are matched in full. The lines are those of `str::lines`.
    let gate = rules.error_gate.as_ref();
    let mut next_hit = gate.and_then(|gate| gate.next_hit(log, 0));
    let mut from = 0;
    while from < log.len() {
        let newline = memchr::memchr(b'\n', &log.as_bytes()[from..]).map(|at| from + at);
        let stop = newline.unwrap_or(log.len());
        let line = &log[from..stop];
        let line = if newline.is_some() { line.strip_suffix('\r').unwrap_or(line) } else { line };
        from = stop + 1;
        let may_match = match gate {
            Some(gate) if next_hit.is_some_and(|hit| hit <= stop) => {
                next_hit = gate.next_hit(log, from);
                true
            }
            Some(_) => false,
            None => true,
        };
        if may_match && rules.error_lines.is_match(line) {
            run.push(line.trim_end());
        } else if !run.is_empty() {
            out.push(text::normalize(&run.join("\n")));
            run.clear();
        }
        if out.len() >= 20 {
            break;
        }
    }
    if !run.is_empty() && out.len() < 20 {
        out.push(text::normalize(&run.join("\n")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Overrides;

    #[test]
    fn a_severity_level_under_a_heading_declares_sev1_in_the_four_severity_profile() {
        let overrides = Overrides { profile: Some("four-severity".into()), ..Overrides::default() };
        let config = Config::load(None, &overrides).expect("shipped config");
        for value in ["重要度レベル 1", "レベル1"] {
            let raw = format!(
                "From: Suzuki <suzuki@acme.example.jp>\r\nTo: support@uketsuke.example.jp\r\nSubject: 本番障害\r\n\
                 Date: Fri, 27 Nov 2026 10:15:00 +0900\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
                 お世話になっております。\r\n\r\n【重要度】\r\n{value}\r\n\r\n【現象】\r\n受注画面が開けません。\r\n"
            );
            let report = understand_mail(raw.as_bytes(), &config).expect("readable");
            let word = report.declared_priority.as_deref();
            assert_eq!(word.and_then(|w| config.policy.declared_priority(w)), Some("sev1"), "{value:?}: {word:?}");
            assert_eq!(report.fields.description.as_deref(), Some("受注画面が開けません。"));
        }
    }
}
