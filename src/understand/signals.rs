//! Recognising mail written by machines: auto-replies, bounces, list traffic, and our own
//! acknowledgments coming back (docs/POLICY.md section 5). Answering any of them starts a mail loop,
//! so they are recorded but never acknowledged.
//!
//! RFC 3834 is followed to the letter where others are not: `Auto-Submitted: no` is a human.

use super::mime::Parsed;
use crate::config::{MailIdentity, Understanding};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    AutoSubmitted,
    Precedence,
    ListId,
    XAutoreply,
    XAutorespond,
    XAutoResponseSuppress,
    NullReturnPath,
    MailerDaemon,
    DeliveryReport,
    OwnMessageId,
    LoopHeader,
}

pub fn detect(parsed: &Parsed, rules: &Understanding, us: &MailIdentity) -> Vec<Signal> {
    let mut signals = Vec::new();
    let mut add = |s: Signal| {
        if !signals.contains(&s) {
            signals.push(s);
        }
    };
    let loop_header = us.loop_header.to_ascii_lowercase();
    for (name, value) in &parsed.headers {
        let value = value.trim();
        match name.as_str() {
            "auto-submitted" => {
                // "no" (possibly with parameters/comments) is a human.
                let token = value.split(|c: char| c == ';' || c == '(' || c.is_whitespace()).next().unwrap_or("");
                if !token.is_empty() && !token.eq_ignore_ascii_case("no") {
                    add(Signal::AutoSubmitted);
                }
            }
            "precedence" if rules.ignore_precedence.iter().any(|p| p.eq_ignore_ascii_case(value)) => {
                add(Signal::Precedence)
            }
            "return-path" if value.trim_matches(|c: char| c == '<' || c == '>' || c.is_whitespace()).is_empty() => {
                add(Signal::NullReturnPath)
            }
            n if n == loop_header => add(Signal::LoopHeader),
            n if rules.ignore_headers.iter().any(|h| h == n) => add(match n {
                "list-id" => Signal::ListId,
                "x-autoreply" => Signal::XAutoreply,
                "x-autorespond" => Signal::XAutorespond,
                "x-auto-response-suppress" => Signal::XAutoResponseSuppress,
                _ => Signal::ListId,
            }),
            _ => {}
        }
    }
    if let Some(from) = &parsed.from {
        let local = from.split('@').next().unwrap_or("");
        if rules.ignore_senders.iter().any(|s| s == local) {
            add(Signal::MailerDaemon);
        }
        if *from == us.support_address {
            add(Signal::OwnMessageId);
        }
    }
    if parsed.content_type == "multipart/report"
        || parsed.attachments.iter().any(|a| {
            a.content_type == "message/delivery-status" || a.content_type == "message/disposition-notification"
        })
    {
        add(Signal::DeliveryReport);
    }
    if let Some(id) = &parsed.message_id {
        let domain = id.trim_matches(|c| c == '<' || c == '>').rsplit('@').next().unwrap_or("").to_ascii_lowercase();
        if !us.message_id_domain.is_empty() && domain == us.message_id_domain {
            add(Signal::OwnMessageId);
        }
    }
    signals
}
