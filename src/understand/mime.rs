//! Taking a raw RFC 5322 message apart: headers, the text the customer wrote, attachments.
//!
//! mail-parser finds the MIME structure; the text of every part is then decoded again from
//! the raw bytes through [`charset`](super::charset), because the labels on Japanese mail are
//! too often missing or wrong to trust. HTML-only messages are read through
//! [`html`](super::html).

use super::{charset, header, html};
use chrono::{DateTime, FixedOffset, TimeZone};
use mail_parser::{Encoding, MessageParser, MimeHeaders, PartType};
use serde::Serialize;

/// The parts of a message that understanding needs.
#[derive(Debug, Default)]
pub struct Parsed {
    pub from: Option<String>,
    pub from_name: Option<String>,
    pub subject: String,
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub date: Option<DateTime<FixedOffset>>,
    /// The date of the newest (topmost) Received header.
    pub received: Option<DateTime<FixedOffset>>,
    /// Header names (lower case) and raw values (unfolding aside), in order.
    pub headers: Vec<(String, String)>,
    pub content_type: String,
    pub report_type: Option<String>,
    pub body: String,
    pub attachments: Vec<Attachment>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Attachment {
    pub filename: Option<String>,
    pub content_type: String,
    pub size: usize,
    /// The decoded text of a small text attachment (a log the customer attached).
    #[serde(skip)]
    pub text: Option<String>,
}

/// Why a message could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MimeError {
    Empty,
    NotAMessage,
}

impl std::fmt::Display for MimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MimeError::Empty => write!(f, "the input is empty: there is no message to read"),
            MimeError::NotAMessage => write!(
                f,
                "the input is not a mail message: it has no mail headers (From, Date, Subject, Message-ID ...)"
            ),
        }
    }
}

const KNOWN_HEADERS: [&str; 9] =
    ["from", "to", "date", "subject", "message-id", "received", "content-type", "mime-version", "return-path"];

pub fn parse(raw: &[u8], max_log_bytes: usize) -> Result<Parsed, MimeError> {
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(MimeError::Empty);
    }
    let message = MessageParser::default().parse(raw).ok_or(MimeError::NotAMessage)?;
    let mut parsed = Parsed::default();
    let raw = message.raw_message();

    // Header values are kept raw (the machine-mail signals read ASCII tokens); only the
    // subject is decoded, through the charset-aware decoder.
    for h in message.root_part().headers() {
        let name = h.name.as_str().to_ascii_lowercase();
        let value = raw.get(h.offset_start as usize..h.offset_end as usize).unwrap_or_default();
        if name == "subject" && parsed.subject.is_empty() {
            parsed.subject = header::decode_header(value);
        }
        parsed.headers.push((name, String::from_utf8_lossy(value).trim().to_string()));
    }
    if !parsed.headers.iter().any(|(n, _)| KNOWN_HEADERS.contains(&n.as_str())) {
        return Err(MimeError::NotAMessage);
    }
    // The first address of the From list that uketsuke could write to (one spelling for mail
    // and form); a list whose first entry is broken still has a sender.
    let senders = message.from().map(|a| a.iter().collect::<Vec<_>>()).unwrap_or_default();
    let sender = senders.iter().find_map(|a| Some((a.address.as_deref().and_then(usable_address)?, a.name.clone())));
    if let Some((address, name)) = sender {
        parsed.from = Some(address);
        parsed.from_name = name.map(|n| n.to_string());
    } else if let Some(raw) = message.header_raw("From") {
        // mail-parser drops a quoted local part written without angle brackets
        // ("john.doe"@example.com becomes @example.com): read such an address from the text.
        let decoded = header::decode_header(raw.as_bytes());
        parsed.from = decoded.split(',').find_map(address_in_text);
        parsed.from_name = senders.first().and_then(|a| a.name.as_deref()).map(str::to_string);
    }
    parsed.message_id = message.message_id().map(str::to_string);
    parsed.in_reply_to = ids(message.in_reply_to());
    parsed.references = ids(message.references());
    parsed.date = message.date().and_then(to_chrono);
    parsed.received = message.received().and_then(|r| r.date.as_ref()).and_then(to_chrono);
    if let Some(ct) = message.root_part().content_type() {
        parsed.content_type = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")).to_ascii_lowercase();
        parsed.report_type = ct.attribute("report-type").map(str::to_ascii_lowercase);
    } else {
        parsed.content_type = "text/plain".into();
    }

    // The body: text parts as written; HTML parts only when there is no text alternative.
    let mut texts = Vec::new();
    let mut htmls = Vec::new();
    for &id in &message.text_body {
        if let Some(part) = message.parts.get(id as usize)
            && let PartType::Text(_) = &part.body
        {
            texts.push(decode_part(raw, part, &mut parsed.warnings));
        }
    }
    if texts.is_empty() {
        for &id in &message.html_body {
            if let Some(part) = message.parts.get(id as usize).filter(|p| matches!(p.body, PartType::Html(_))) {
                htmls.push(html::html_to_text(&decode_part(raw, part, &mut parsed.warnings)));
            }
        }
    }
    parsed.body = if texts.is_empty() { htmls.join("\n\n") } else { texts.join("\n\n") };
    parsed.body = parsed.body.replace("\r\n", "\n");

    for &id in &message.attachments {
        let Some(part) = message.parts.get(id as usize) else { continue };
        let content_type = part
            .content_type()
            .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")).to_ascii_lowercase())
            .unwrap_or_else(|| "application/octet-stream".into());
        let filename = part.attachment_name().map(|n| {
            if n.contains('\u{FFFD}') || n.contains('\u{1b}') {
                // Decoded piece by piece somewhere it should not have been: decode the raw
                // header parameters again, joining RFC 2231 continuations as bytes first.
                raw_filename(raw, part).unwrap_or_else(|| n.to_string())
            } else {
                n.to_string()
            }
        });
        let is_log = content_type == "text/plain"
            || filename.as_deref().is_some_and(|n| {
                let n = n.to_ascii_lowercase();
                n.ends_with(".log") || n.ends_with(".txt")
            });
        let size = part.len();
        let text =
            (is_log && size <= max_log_bytes && !matches!(part.body, PartType::Message(_))).then(|| match &part.body {
                PartType::Text(_) => decode_part(raw, part, &mut parsed.warnings),
                _ => charset::decode(part.contents(), None).text,
            });
        parsed.attachments.push(Attachment { filename, content_type, size, text });
    }
    Ok(parsed)
}

/// The file name of a part from its raw Content-Disposition or Content-Type parameters:
/// `filename*0*=UTF-8''%E9%9A%9C; filename*1*=%E5%AE%B3` is joined as bytes, then decoded
/// once, so a continuation split inside a character survives; `filename="=?ISO-2022-JP?...?="`
/// goes through the header decoder.
fn raw_filename(raw: &[u8], part: &mail_parser::MessagePart<'_>) -> Option<String> {
    for h in &part.headers {
        let name = h.name.as_str().to_ascii_lowercase();
        let (key, star_key) = match name.as_str() {
            "content-disposition" => ("filename", "filename*"),
            "content-type" => ("name", "name*"),
            _ => continue,
        };
        let value = raw.get(h.offset_start as usize..h.offset_end as usize)?;
        let value = String::from_utf8_lossy(value).replace(['\r', '\n'], "");
        let mut pieces: Vec<(u32, bool, String)> = Vec::new();
        let mut plain = None;
        for param in value.split(';').skip(1) {
            let Some((k, v)) = param.split_once('=') else { continue };
            let k = k.trim().to_ascii_lowercase();
            let v = v.trim().trim_matches('"').to_string();
            if k == key {
                plain = Some(v);
            } else if let Some(rest) = k.strip_prefix(star_key).or_else(|| k.strip_prefix(&format!("{key}*"))) {
                // filename* (single), filename*N, filename*N*
                let encoded = rest.ends_with('*') || rest.is_empty();
                let index = rest.trim_matches('*').parse().unwrap_or(0);
                pieces.push((index, encoded || k == star_key, v));
            }
        }
        if !pieces.is_empty() {
            pieces.sort_by_key(|p| p.0);
            let mut charset = None;
            let mut bytes = Vec::new();
            for (i, (_, encoded, v)) in pieces.iter().enumerate() {
                let mut v = v.as_str();
                if i == 0 && *encoded {
                    let mut parts = v.splitn(3, '\'');
                    if let (Some(cs), Some(_lang), Some(rest)) = (parts.next(), parts.next(), parts.next()) {
                        charset = Some(cs.to_string());
                        v = rest;
                    }
                }
                if *encoded { bytes.extend(percent_decode(v)) } else { bytes.extend_from_slice(v.as_bytes()) }
            }
            return Some(charset::decode(&bytes, charset.as_deref()).text);
        }
        if let Some(v) = plain {
            return Some(header::decode_header(v.as_bytes()));
        }
    }
    None
}

fn percent_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |x: u8| (x as char).to_digit(16);
        if let (b'%', Some(Some(hi)), Some(Some(lo))) =
            (b[i], b.get(i + 1).map(|x| hex(*x)), b.get(i + 2).map(|x| hex(*x)))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// An address as mail-parser gives it, if uketsuke could write to it.
fn usable_address(address: &str) -> Option<String> {
    super::address::normalize(address).ok()
}

/// The address in one entry of a From header's raw text: in angle brackets, else the whole
/// entry; a quoted local part that is a plain dot-atom loses its quotes (`"john.doe"@x` is
/// `john.doe@x`). Comments in parentheses are dropped.
fn address_in_text(entry: &str) -> Option<String> {
    let mut text = String::with_capacity(entry.len());
    let mut depth = 0usize;
    for c in entry.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if depth == 0 => text.push(c),
            _ => {}
        }
    }
    let inner = match (text.rfind('<'), text.rfind('>')) {
        (Some(open), Some(close)) if open < close => &text[open + 1..close],
        _ => text.as_str(),
    };
    let inner = inner.trim();
    let (local, domain) = inner.rsplit_once('@')?;
    let local = local.trim();
    let local = local.strip_prefix('"').and_then(|l| l.strip_suffix('"')).unwrap_or(local);
    usable_address(&format!("{local}@{domain}"))
}

fn ids(value: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    match value {
        mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
        mail_parser::HeaderValue::TextList(list) => list.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn to_chrono(d: &mail_parser::DateTime) -> Option<DateTime<FixedOffset>> {
    let offset = (d.tz_hour as i32 * 3600 + d.tz_minute as i32 * 60) * if d.tz_before_gmt { -1 } else { 1 };
    FixedOffset::east_opt(offset)?
        .with_ymd_and_hms(d.year as i32, d.month as u32, d.day as u32, d.hour as u32, d.minute as u32, d.second as u32)
        .single()
}

/// Decodes a text part from its raw bytes: transfer encoding, then charset (with detection).
fn decode_part(raw: &[u8], part: &mail_parser::MessagePart<'_>, warnings: &mut Vec<String>) -> String {
    // UTF-8 and ASCII parts that mail-parser decoded cleanly need no second pass (most mail
    // from phones and web mailers). Anything doubtful is decoded again from the raw bytes.
    let label = part.content_type().and_then(|ct| ct.attribute("charset")).map(str::to_ascii_lowercase);
    if let PartType::Text(text) | PartType::Html(text) = &part.body {
        // mail-parser decodes these labels as we would (its ISO-2022-JP and Shift_JIS tables
        // cover the NEC and IBM extensions); a wrong label shows as U+FFFD or a stray ESC.
        let plain_label = matches!(
            label.as_deref(),
            Some("utf-8" | "utf8" | "us-ascii" | "ascii" | "iso-2022-jp" | "shift_jis" | "euc-jp") | None
        );
        let unicode_label = matches!(label.as_deref(), Some("utf-8" | "utf8" | "us-ascii" | "ascii") | None);
        // For the Japanese labels, Latin-1 letters in the result mean bytes of another
        // charset (UTF-8 read as ISO-2022-JP): decode those again too.
        let looks_right = unicode_label || !text.contains(|c: char| ('\u{80}'..='\u{FF}').contains(&c));
        if plain_label && looks_right && !text.contains(['\u{FFFD}', '\u{1b}']) && (label.is_some() || text.is_ascii())
        {
            return text.to_string();
        }
    }
    let body = raw.get(part.offset_body as usize..part.offset_end as usize).unwrap_or_default();
    let bytes = match part.encoding {
        Encoding::Base64 => mail_parser::decoders::base64::base64_decode(body),
        Encoding::QuotedPrintable => mail_parser::decoders::quoted_printable::quoted_printable_decode(body),
        Encoding::None => Some(body.to_vec()),
    };
    let Some(bytes) = bytes else {
        // The transfer encoding is broken; mail-parser's best effort is better than nothing.
        warnings.push("a text part has a broken transfer encoding; its text may be incomplete".into());
        return part.text_contents().unwrap_or_default().to_string();
    };
    let label = part.content_type().and_then(|ct| ct.attribute("charset"));
    let decoded = charset::decode(&bytes, label);
    if let Some(w) = decoded.warning
        && !warnings.contains(&w)
    {
        warnings.push(w);
    }
    decoded.text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_of(header: &str) -> Option<String> {
        let raw = format!("From: {header}\r\nTo: support@uketsuke.example.jp\r\nSubject: x\r\n\r\nbody\r\n");
        parse(raw.as_bytes(), 1 << 20).expect("parses").from
    }

    #[test]
    fn the_sender_is_the_first_address_uketsuke_can_write_to() {
        assert_eq!(from_of("Yamada Taro <Yamada@ACME.example.jp>").as_deref(), Some("yamada@acme.example.jp"));
        // A quoted or encoded local part without angle brackets.
        assert_eq!(from_of("\"john.doe\"@example.com").as_deref(), Some("john.doe@example.com"));
        assert_eq!(from_of("=?utf-8?Q?john.doe?=@example.com").as_deref(), Some("john.doe@example.com"));
        // A list whose first entry is broken.
        assert_eq!(from_of("broken, Yamada <yamada@acme.example.jp>").as_deref(), Some("yamada@acme.example.jp"));
        assert_eq!(from_of("undisclosed-recipients:;").as_deref(), None);
        // Never half an address.
        assert_eq!(from_of("@example.com"), None);
    }
}
