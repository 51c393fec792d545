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

/// At most this many characters of the customer's subject are quoted in ours: with our tag and
/// `Re: `, even encoded, the Subject header stays far below RFC 5322's 998 characters a line.
pub const SUBJECT_CHARS: usize = 200;

/// Text for one line of a header or a template line: every control character and line or
/// paragraph separator becomes a space (a CR LF in a customer's subject must not start the body
/// of our message), runs of spaces become one, and past `max` characters it is cut with `…`.
pub fn one_line(text: &str, max: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max * 4));
    let mut count = 0;
    let mut space = false;
    for c in text.trim().chars() {
        let c = if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}') { ' ' } else { c };
        if c == ' ' {
            if space {
                continue;
            }
            space = true;
        } else {
            space = false;
        }
        if count == max {
            out.truncate(out.trim_end().len());
            out.push('…');
            return out;
        }
        out.push(c);
        count += 1;
    }
    out
}

/// The customer's subject without reply prefixes and without our tag, so ours reads
/// "[CASE-...] Re: <subject>" once, not "[CASE-...] Re: RE: [CASE-...] <subject>".
pub fn clean_subject(subject: &str, config: &Config) -> String {
    let subject = subject.trim();
    // Normalised once; each round strips from the front, so a subject costs one pass however
    // many `Re: ` it starts with.
    let folded = crate::understand::text::normalize(subject);
    let mut rest: &str = &folded;
    loop {
        let before = rest.len();
        // Reply and forward prefixes (Re:, RE：, 返信:, Fwd:, AW:): a short word before a colon.
        let head_end = rest.char_indices().take(24).find(|(_, c)| *c == ':').map(|(i, _)| i);
        if let Some(colon) = head_end
            && config.understanding.reply_prefixes.iter().any(|p| rest[..colon].trim().eq_ignore_ascii_case(p))
        {
            rest = rest[colon + 1..].trim_start();
        }
        // Our tag in any bracket style.
        if let Some(m) = config.cases.leading_tag.find(rest) {
            rest = &rest[m.end()..];
        }
        if rest.len() == before {
            break;
        }
    }
    if rest.len() == folded.len() { subject.to_string() } else { rest.trim().to_string() }
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
        awaiting_confirmation => c.awaiting_confirmation,
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
        awaiting_confirmation: state == "held",
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
            // Cut first, so a megabyte of `Re: Re: ...` costs no more than a normal subject.
            subject => one_line(&clean_subject(&one_line(&job.subject, 5 * SUBJECT_CHARS), config), SUBJECT_CHARS),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Overrides};

    fn job(subject: &str) -> OutboxJob {
        OutboxJob {
            id: 1,
            case_id: None,
            kind: "reject_unauthorized".into(),
            recipient: "yamada@acme.example.jp".into(),
            language: Language::Ja,
            our_message_id: "<ack.1@uketsuke.example.jp>".into(),
            attempts: 0,
            sender: Some("yamada@acme.example.jp".into()),
            subject: subject.into(),
            message_id: Some("<m1@acme.example.jp>".into()),
            received_at: Utc::now(),
            raw: Vec::new(),
            case: None,
        }
    }

    fn composed(subject: &str) -> (String, String) {
        let config = Config::load(None, &Overrides::default()).expect("shipped config");
        let message = compose(&job(subject), &Templates::embedded(), &config).expect("composes");
        let text = String::from_utf8(message.formatted()).expect("utf-8");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        (head.to_string(), body.to_string())
    }

    #[test]
    fn a_line_break_in_the_customers_subject_stays_in_the_subject() {
        let (head, body) =
            composed("ログイン不可\r\nBcc: everyone@example.com\r\n\r\nあなたのアカウントは停止されました");
        let whole = format!("{head}\r\n\r\n{body}");
        let parsed = mail_parser::MessageParser::default().parse(whole.as_bytes()).unwrap();
        let subject = parsed.subject().unwrap_or_default().to_string();
        assert!(
            subject.contains("ログイン不可 Bcc: everyone@example.com あなたのアカウントは停止されました"),
            "{subject}"
        );
        let text = parsed.body_text(0).unwrap_or_default().to_string();
        assert!(!text.contains("停止されました"), "the subject's tail leaked into the body:\n{text}");
        assert!(parsed.bcc().is_none());
    }

    #[test]
    fn a_megabyte_subject_gives_a_short_subject_header() {
        let (head, _) = composed(&"Re: ".repeat(250_000));
        let (head2, _) = composed(&"障害".repeat(500_000));
        for head in [head, head2] {
            // Unfolded, the Subject header is short; every physical line is within 998.
            assert!(head.split("\r\n").all(|l| l.len() <= 998), "{}", head.len());
            assert!(head.len() < 4_000, "{}", head.len());
        }
    }

    #[test]
    fn one_line_collapses_controls_and_cuts() {
        assert_eq!(one_line(" a\r\n\tb\u{2028}c  d ", 100), "a b c d");
        assert_eq!(one_line("abcdef", 3), "abc…");
        assert_eq!(one_line("abc", 3), "abc");
    }
}
