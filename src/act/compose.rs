//! Writing the messages uketsuke sends, from the templates under `templates/`: the
//! acknowledgment in the reporter's language for every action of docs/POLICY.md section 6, the
//! follow-up acknowledgment, the two rejections, and the on-call notice and team hand-over
//! (which carry the customer's original message).
//!
//! Every message carries the case tag in its subject, In-Reply-To and References to the
//! customer's message, our stable Message-ID, `Auto-Submitted` and our loop header, so that
//! auto-responders stay quiet and our own mail coming back is recognised.

use crate::config::Config;
use crate::record::{CaseRecord, OutboxJob};
use crate::terms::Language;
use chrono::{DateTime, Datelike, Utc};
use lettre::Message;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use minijinja::{Environment, Value, context};
use std::path::Path;

/// The template files, by name.
pub const NAMES: [&str; 11] = [
    "ack.ja.txt",
    "ack.en.txt",
    "followup_ack.ja.txt",
    "followup_ack.en.txt",
    "reject_unauthorized.ja.txt",
    "reject_unauthorized.en.txt",
    "reject_suspended.ja.txt",
    "reject_suspended.en.txt",
    "oncall.txt",
    "handover.txt",
    "auth_notice.txt",
];

const EMBEDDED: [&str; 11] = [
    include_str!("../../templates/ack.ja.txt"),
    include_str!("../../templates/ack.en.txt"),
    include_str!("../../templates/followup_ack.ja.txt"),
    include_str!("../../templates/followup_ack.en.txt"),
    include_str!("../../templates/reject_unauthorized.ja.txt"),
    include_str!("../../templates/reject_unauthorized.en.txt"),
    include_str!("../../templates/reject_suspended.ja.txt"),
    include_str!("../../templates/reject_suspended.en.txt"),
    include_str!("../../templates/oncall.txt"),
    include_str!("../../templates/handover.txt"),
    include_str!("../../templates/auth_notice.txt"),
];

/// The loaded templates.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The templates built into the binary (the files under `templates/` at build time).
    pub fn embedded() -> Templates {
        let mut env = base_env();
        for (name, text) in NAMES.iter().zip(EMBEDDED) {
            // The shipped templates are checked by the test suite; a broken one cannot ship.
            let _ = env.add_template_owned(name.to_string(), text.to_string());
        }
        Templates { env }
    }

    /// Loads every template from `dir`; returns every problem found.
    pub fn from_dir(dir: &Path) -> Result<Templates, Vec<String>> {
        let mut env = base_env();
        let mut problems = Vec::new();
        for name in NAMES {
            let path = dir.join(name);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    if let Err(e) = env.add_template_owned(name.to_string(), text) {
                        problems.push(format!(
                            "{}: {e}. Fix the template syntax (minijinja, like Jinja2).",
                            path.display()
                        ));
                    }
                }
                Err(e) => problems.push(format!(
                    "{}: cannot read the template: {e}. Copy it from the shipped templates/ folder.",
                    path.display()
                )),
            }
        }
        if problems.is_empty() { Ok(Templates { env }) } else { Err(problems) }
    }

    /// Renders every template once against sample cases in both languages, so a mistake
    /// shows up in `check-config`, not in a customer's inbox.
    pub fn check(&self, config: &Config, dir: &Path) -> Vec<String> {
        let mut problems = Vec::new();
        for name in NAMES {
            for state in ["dispatched", "escalated", "held", "await_info", "not_covered"] {
                let ctx = sample_context(config, state);
                match self.render(name, ctx) {
                    Ok((subject, body)) => {
                        if subject.trim().is_empty() || body.trim().is_empty() {
                            problems.push(format!("{}: renders an empty subject or body. Start it with a `Subject: ...` line, a blank line, then the body.", dir.join(name).display()));
                            break;
                        }
                    }
                    Err(e) => {
                        problems.push(format!("{}: {e}", dir.join(name).display()));
                        break;
                    }
                }
            }
        }
        problems
    }

    /// Renders a template into (subject, body). The first line is `Subject: ...`.
    pub fn render(&self, name: &str, ctx: Value) -> Result<(String, String), String> {
        let template = self.env.get_template(name).map_err(|e| format!("no template {name}: {e}"))?;
        let text = template.render(ctx).map_err(|e| format!("cannot render {name}: {e}"))?;
        let text = text.replace("\r\n", "\n");
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let subject =
            first.strip_prefix("Subject:").ok_or_else(|| format!("{name} must start with a `Subject: ...` line"))?;
        Ok((subject.trim().to_string(), rest.trim_start_matches('\n').to_string()))
    }
}

fn base_env() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env
}

/// The template for an outbox entry.
pub fn template_name(kind: &str, language: Language) -> String {
    match kind {
        "oncall" | "handover" => format!("{kind}.txt"),
        other => format!("{other}.{}.txt", language.as_str()),
    }
}

fn item_label(item: &str, language: Language) -> &'static str {
    match (item, language) {
        ("customer_id", Language::Ja) => "お客様番号（ご契約時にお知らせした番号）",
        ("repro_steps", Language::Ja) => "再現手順（問題が起きるまでの操作）",
        ("error_messages", Language::Ja) => "表示されたエラーメッセージの全文",
        ("description", Language::Ja) => "発生している現象と、本来期待される結果",
        ("circumstances", Language::Ja) => "発生状況（影響範囲、発生日時、環境など）",
        ("customer_id", Language::En) => "your customer ID (from your contract)",
        ("repro_steps", Language::En) => "the steps that reproduce the problem",
        ("error_messages", Language::En) => "the exact text of every error message",
        ("description", Language::En) => "what happens, and what you expected to happen",
        ("circumstances", Language::En) => "the circumstances (scope of impact, when it started, environment)",
        _ => "",
    }
}

fn priority_label(priority: &str, language: Language) -> String {
    match (priority, language) {
        ("high", Language::Ja) => "高".into(),
        ("medium", Language::Ja) => "中".into(),
        ("low", Language::Ja) => "低".into(),
        (p, Language::Ja) if p.starts_with("sev") => format!("重要度{}", &p[3..]),
        (p, Language::En) if p.starts_with("sev") => format!("Severity {}", &p[3..]),
        (p, _) => {
            let mut c = p.chars();
            c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
        }
    }
}

/// A time as the reader expects it: 2026年11月30日(月) 10:00 / Mon 30 Nov 2026 10:00 JST.
pub fn local_time(t: Option<DateTime<Utc>>, language: Language, config: &Config) -> String {
    let Some(t) = t else { return String::new() };
    let local = t.with_timezone(&config.policy.time_zone);
    match language {
        Language::Ja => {
            let day = ["月", "火", "水", "木", "金", "土", "日"][local.weekday().num_days_from_monday() as usize];
            format!("{}年{}月{}日({day}) {}", local.year(), local.month(), local.day(), local.format("%H:%M"))
        }
        Language::En => local.format("%a %-d %b %Y %H:%M %Z").to_string(),
    }
}

/// The customer's subject without reply prefixes and without our tag, so ours reads
/// "[CASE-...] Re: <subject>" once, not "[CASE-...] Re: RE: [CASE-...] <subject>".
pub fn clean_subject(subject: &str, config: &Config) -> String {
    let mut s = subject.trim().to_string();
    loop {
        let before = s.clone();
        let folded = crate::understand::text::normalize(&s);
        // Reply and forward prefixes (Re:, RE：, 返信:, Fwd:, AW:).
        if let Some((head, tail)) = folded.split_once(':')
            && config.understanding.reply_prefixes.iter().any(|p| head.trim().eq_ignore_ascii_case(p))
        {
            s = tail.trim().to_string();
        }
        // Our tag in any bracket style.
        let tag = regex::Regex::new(&format!(
            r"^\s*[\[【(（#＃]?\s*{}-[0-9]{{4}}-[0-9]+\s*[\]】)）]?\s*",
            regex::escape(&config.cases.prefix)
        ))
        .ok();
        if let Some(tag) = tag {
            let normalized = crate::understand::text::normalize(&s);
            if let Some(m) = tag.find(&normalized) {
                s = normalized[m.end()..].to_string();
            }
        }
        if s == before {
            return s;
        }
    }
}

fn case_context(case: Option<&CaseRecord>, language: Language, config: &Config) -> Value {
    let Some(c) = case else { return Value::from(()) };
    let missing: Vec<&str> = c.missing.iter().map(|m| item_label(m, language)).filter(|l| !l.is_empty()).collect();
    context! {
        number => c.number.clone(),
        state => c.state.as_str(),
        priority => c.priority.clone(),
        priority_label => priority_label(&c.priority, language),
        customer_id => c.customer_id.clone(),
        reply_language => c.reply_language.as_str(),
        missing => missing,
        response_due => local_time(c.response_due, language, config),
        release_at => local_time(c.release_at, language, config),
        reasons => c.reasons.clone(),
        description => c.description.clone(),
        expected_result => c.expected_result.clone(),
        repro_steps => c.repro_steps.clone(),
        error_messages => c.error_messages.clone(),
        circumstances => c.circumstances.clone(),
        change_request => c.change_request.as_ref().map(|r| context! {
            sensitive => r.sensitive,
            entitled => r.entitled,
            small_from => local_time(r.small_from, language, config),
            small => target_label(&r.small, language),
            large => target_label(&r.large, language),
        }),
    }
}

/// A target as the customer reads it: "3d" is 3 営業日 / 3 business days.
fn target_label(target: &str, language: Language) -> String {
    let (number, unit) = target.split_at(target.len().saturating_sub(1));
    match (unit, language) {
        ("d", Language::Ja) => format!("{number} 営業日"),
        ("h", Language::Ja) => format!("{number} 営業時間"),
        ("d", Language::En) => format!("{number} business days"),
        ("h", Language::En) => format!("{number} business hours"),
        _ => target.to_string(),
    }
}

/// Whether the acknowledgment of `case` points to the status page: it arrived out of hours
/// and its priority is one the profile announces there (docs/POLICY.md section 6).
pub fn shows_status_page(case: &CaseRecord, config: &Config) -> bool {
    arrived_out_of_hours(case)
        && config.policy.status_page.is_some()
        && config.policy.status_page_priorities.contains(&case.priority)
}

/// Held for the next opening (a held case keeps its `release_at` once released) or escalated
/// to on-call: the case arrived outside business hours.
fn arrived_out_of_hours(case: &CaseRecord) -> bool {
    case.release_at.is_some() || case.state == crate::record::CaseState::Escalated
}

fn sample_context(config: &Config, state: &str) -> Value {
    let now = Utc::now();
    let case = CaseRecord {
        id: 0,
        number: format!("{}-2026-{:0w$}", config.cases.prefix, 123, w = config.cases.width),
        state: crate::record::CaseState::parse(state).unwrap_or(crate::record::CaseState::Dispatched),
        customer_id: Some("ACME-0012".into()),
        reporter: Some("yamada@acme.example.jp".into()),
        language: Language::Ja,
        reply_language: Language::Ja,
        priority: config.policy.default_priority.clone(),
        subject: "ログインできません".into(),
        repro_steps: Some("1. 開く".into()),
        error_messages: vec!["E-4012".into()],
        description: Some("ログインできません".into()),
        expected_result: None,
        circumstances: None,
        missing: vec!["circumstances".into()],
        clock: "business".into(),
        clock_start: Some(now),
        release_at: Some(now),
        response_due: Some(now),
        reasons: vec!["sample".into()],
        created_at: now,
        updated_at: now,
        change_request: Some(crate::decide::ChangeRequest {
            sensitive: state == "dispatched",
            entitled: state != "held",
            small_from: Some(now),
            small: "3d".into(),
            large: "10d".into(),
        }),
    };
    context! {
        case => case_context(Some(&case), Language::Ja, config),
        report => context! { subject => "ログインできません", name => "山田", from => "yamada@acme.example.jp", received_at => local_time(Some(now), Language::Ja, config) },
        out_of_hours => true,
        status_page => config.policy.status_page.clone(),
        support_address => config.mail.support_address.clone(),
        notice => context! { account => "support", problem => "OAuth2 account support needs re-authorization, mail on it has stopped: invalid_grant" },
    }
}

/// The on-call notice about an OAuth2 account that needs a person (`[alerts] auth_notice`).
pub fn compose_auth_notice(
    templates: &Templates,
    config: &Config,
    account: &str,
    problem: &str,
) -> Result<Message, String> {
    let ctx = context! {
        notice => context! { account => account, problem => problem },
        support_address => config.mail.support_address.clone(),
    };
    let (subject, body) = templates.render("auth_notice.txt", ctx)?;
    let from: Mailbox = config.mail.support_address.parse().map_err(|e| format!("support_address: {e}"))?;
    let to: Mailbox = config.mail.oncall_address.parse().map_err(|e| format!("oncall_address: {e}"))?;
    let id = format!("<auth.{account}.{}@{}>", Utc::now().timestamp_millis(), config.mail.message_id_domain);
    let mut message = Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(id))
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(body))
        .map_err(|e| format!("cannot build the message: {e}"))?;
    let headers = message.headers_mut();
    headers.insert_raw(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), "auto-generated".into()));
    if let Ok(name) = HeaderName::new_from_ascii(config.mail.loop_header.clone()) {
        headers.insert_raw(HeaderValue::new(name, config.mail.support_address.clone()));
    }
    Ok(message)
}

/// Composes the message for an outbox entry.
pub fn compose(job: &OutboxJob, templates: &Templates, config: &Config) -> Result<Message, String> {
    let language = job.language;
    let case = job.case.as_ref();
    let out_of_hours = case.is_some_and(arrived_out_of_hours);
    // `status_page` is set only where the profile announces the case's priority there, so
    // templates written as `{% if out_of_hours and status_page %}` follow the profile.
    let status_page = case.filter(|c| shows_status_page(c, config)).and(config.policy.status_page.clone());
    let ctx = context! {
        case => case_context(case, language, config),
        report => context! {
            subject => clean_subject(&job.subject, config),
            name => Value::from(()),
            from => job.sender.clone(),
            received_at => local_time(Some(job.received_at), language, config),
        },
        out_of_hours => out_of_hours,
        status_page => status_page,
        support_address => config.mail.support_address.clone(),
    };
    let (subject, body) = templates.render(&template_name(&job.kind, language), ctx)?;
    let from: Mailbox = config.mail.support_address.parse().map_err(|e| format!("support_address: {e}"))?;
    let to: Mailbox =
        job.recipient.parse().map_err(|e| format!("recipient {:?} is not an address: {e}", job.recipient))?;
    let mut builder =
        Message::builder().from(from).to(to).subject(subject).message_id(Some(job.our_message_id.clone()));
    let team = matches!(job.kind.as_str(), "oncall" | "handover");
    if !team && let Some(id) = &job.message_id {
        let id = if id.starts_with('<') { id.clone() } else { format!("<{id}>") };
        builder = builder.in_reply_to(id.clone()).references(id);
    }
    let mut message = if team {
        let text = SinglePart::builder().header(ContentType::TEXT_PLAIN).body(body);
        let original = Attachment::new("original.eml".into())
            .body(job.raw.clone(), ContentType::parse("message/rfc822").map_err(|e| e.to_string())?);
        builder
            .multipart(MultiPart::mixed().singlepart(text).singlepart(original))
            .map_err(|e| format!("cannot build the message: {e}"))?
    } else {
        builder
            .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(body))
            .map_err(|e| format!("cannot build the message: {e}"))?
    };
    let headers = message.headers_mut();
    let auto = if team { "auto-generated" } else { "auto-replied" };
    headers.insert_raw(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), auto.into()));
    headers.insert_raw(HeaderValue::new(HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"), "All".into()));
    if let Ok(name) = HeaderName::new_from_ascii(config.mail.loop_header.clone()) {
        headers.insert_raw(HeaderValue::new(name, config.mail.support_address.clone()));
    }
    Ok(message)
}
