//! Taking a raw RFC 5322 message apart: headers, the text the customer wrote, attachments.
//!
//! mail-parser finds the MIME structure; the text of every part is then decoded again from
//! the raw bytes through [`charset`](super::charset), because the labels on Japanese mail are
//! too often missing or wrong to trust. HTML-only messages are read through
//! [`html`](super::html).

use std::borrow::Cow;

use super::{charset, header, html, multipart};
use chrono::{DateTime, FixedOffset, TimeZone};
use mail_parser::{Encoding, HeaderName, MessageParser, MimeHeaders, PartType};
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

/// The MIME parser, told to read structurally only the headers uketsuke uses: the MIME
/// headers, From, Date and the message IDs. The rest (Subject, which is decoded here from its
/// raw bytes, Received, To, the list headers ...) stay raw, which spares most of the parse.
///
/// Content-Transfer-Encoding is skipped, so mail-parser finds every part's bounds but undoes
/// no base64 or quoted-printable: uketsuke decodes only the parts it reads ([`transfer`]),
/// and measures the others (a screenshot's size is counted from its base64, never decoded).
/// Decoding every attachment cost more than all the rest of the parse.
static PARSER: std::sync::LazyLock<MessageParser> = std::sync::LazyLock::new(|| parser(false));

/// [`PARSER`] that lets mail-parser undo transfer encodings, for the rare message that
/// attaches another message in base64 or quoted-printable: mail-parser finds the end of such
/// a part only once it is decoded ([`parse_message`]).
static DECODING_PARSER: std::sync::LazyLock<MessageParser> = std::sync::LazyLock::new(|| parser(true));

fn parser(decoding: bool) -> MessageParser {
    let parser = MessageParser::new().with_mime_headers();
    let parser = if decoding { parser } else { parser.ignore_header(HeaderName::ContentTransferEncoding) };
    parser
        .header_address(HeaderName::From)
        .header_date(HeaderName::Date)
        .header_id(HeaderName::MessageId)
        .header_id(HeaderName::InReplyTo)
        .header_id(HeaderName::References)
        .default_header_raw()
}

/// A message as mail-parser took it apart, and whether mail-parser decoded the text of its
/// text parts (`false` for a [`single_text_part`] and a [`multipart::walk`]: that text is
/// decoded from the raw bytes).
struct Taken<'x> {
    message: mail_parser::Message<'x>,
    texts_decoded: bool,
}

/// Parses with [`PARSER`], or again with [`DECODING_PARSER`] when a part is a message in a
/// transfer encoding (read as it is, its encoded lines would run over the parts after it). A
/// message of one text part, and a well-formed multipart, are read without mail-parser's pass
/// over the bodies.
fn parse_message(bytes: &[u8]) -> Option<Taken<'_>> {
    if let Some(message) = single_text_part(bytes) {
        return Some(Taken { message, texts_decoded: false });
    }
    if let Some(message) = multipart::walk(bytes, &PARSER) {
        return Some(Taken { message, texts_decoded: false });
    }
    let message = PARSER.parse(bytes)?;
    let raw = message.raw_message();
    let encoded_message = message.parts.iter().any(|p| {
        p.content_type().is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("message"))
            && transfer(raw, p) != Encoding::None
    });
    let message = if encoded_message { DECODING_PARSER.parse(bytes)? } else { message };
    Some(Taken { message, texts_decoded: true })
}

/// A message that is one text part (text/plain, text/html, or no Content-Type at all, not
/// attached), as [`PARSER`] would give it but for the part's text, which is left empty: the
/// headers are parsed by mail-parser itself, and the body is everything after them. Spared:
/// mail-parser's byte-by-byte walk over the body and its decoding of the charset, which
/// [`decode_part`] does again from the raw bytes anyway. Most reports are such messages.
/// `None` for every other message (multipart, message/rfc822, an attachment, headers with no
/// blank line after them): those are left to mail-parser whole.
///
/// The choices are mail-parser's own for a message's first part: a missing Content-Type is
/// text/plain, and a text part not marked as an attachment is both the text and the HTML body.
fn single_text_part(bytes: &[u8]) -> Option<mail_parser::Message<'_>> {
    use mail_parser::GetHeader;
    if names_a_multipart_or_message(bytes) {
        // Not one text part: spare parsing the headers twice.
        return None;
    }
    let mut stream = mail_parser::parsers::MessageStream::new(bytes);
    let mut headers = Vec::new();
    if !stream.parse_headers(&PARSER, &mut headers) || headers.is_empty() {
        return None;
    }
    let html = match headers.header_value(&HeaderName::ContentType) {
        None => false,
        Some(value) => {
            let ct = value.as_content_type()?;
            match (ct.ctype(), ct.subtype()) {
                ("text", Some("plain")) => false,
                ("text", Some("html")) => true,
                _ => return None,
            }
        }
    };
    let attached = headers
        .header_value(&HeaderName::ContentDisposition)
        .is_some_and(|d| d.as_content_type().is_some_and(|ct| ct.is_attachment()));
    if attached {
        return None;
    }
    let empty = std::borrow::Cow::Borrowed("");
    let part = mail_parser::MessagePart {
        headers,
        is_encoding_problem: false,
        body: if html { PartType::Html(empty) } else { PartType::Text(empty) },
        encoding: Encoding::None,
        offset_header: 0,
        offset_body: u32::try_from(stream.offset()).ok()?,
        offset_end: u32::try_from(bytes.len()).ok()?,
    };
    Some(mail_parser::Message {
        html_body: vec![0],
        text_body: vec![0],
        attachments: Vec::new(),
        parts: vec![part],
        raw_message: std::borrow::Cow::Borrowed(bytes),
    })
}

/// Whether the raw header block names a `multipart/` or `message/` type anywhere: then the
/// message is left to mail-parser whole without first being tried as [`single_text_part`].
/// Only a shortcut: a header that merely mentions such a type costs the short way, never
/// changes what is read (the parsed Content-Type decides).
fn names_a_multipart_or_message(bytes: &[u8]) -> bool {
    // The blank line after the headers: CR LF mail has no LF LF before it, so that is looked
    // for only in front of the first CR LF CR LF, never through a whole long body.
    let head = memchr::memmem::find(bytes, b"\n\r\n").map_or(bytes, |end| &bytes[..end]);
    let head = memchr::memmem::find(head, b"\n\n").map_or(head, |end| &head[..end]);
    memchr::memchr_iter(b'/', head).any(|at| {
        let before = &head[..at];
        [&b"multipart"[..], b"message"]
            .iter()
            .any(|ty| before.len() >= ty.len() && before[before.len() - ty.len()..].eq_ignore_ascii_case(ty))
    })
}

const KNOWN_HEADERS: [&str; 9] =
    ["from", "to", "date", "subject", "message-id", "received", "content-type", "mime-version", "return-path"];

pub fn parse(raw: &[u8], max_log_bytes: usize) -> Result<Parsed, MimeError> {
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(MimeError::Empty);
    }
    read_message(parse_message(raw).ok_or(MimeError::NotAMessage)?, max_log_bytes)
}

/// Everything [`Parsed`] holds, read from a message mail-parser took apart.
fn read_message(taken: Taken<'_>, max_log_bytes: usize) -> Result<Parsed, MimeError> {
    let message = &taken.message;
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
        let value = match std::str::from_utf8(value) {
            Ok(text) => text.trim().to_string(),
            Err(_) => String::from_utf8_lossy(value).trim().to_string(),
        };
        parsed.headers.push((name, value));
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
    // Only the newest Received header (the first) is read for its date; the others are
    // kept raw (parsing every hop costs as much as the rest of the headers).
    parsed.received = message
        .root_part()
        .headers()
        .iter()
        .find(|h| h.name == HeaderName::Received)
        .and_then(|h| raw.get(h.offset_start as usize..h.offset_end as usize))
        .and_then(|value| {
            // The date is what follows the header's last ';' (RFC 5322 3.6.7): parsed on its
            // own, without tokenizing the hops, which costs as much as all other headers.
            let date = value.iter().rposition(|&b| b == b';').map(|i| &value[i + 1..])?;
            match mail_parser::parsers::MessageStream::new(date).parse_date() {
                mail_parser::HeaderValue::DateTime(d) => to_chrono(&d),
                _ => None,
            }
        });
    if let Some(ct) = message.root_part().content_type() {
        parsed.content_type = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")).to_ascii_lowercase();
        parsed.report_type = ct.attribute("report-type").map(str::to_ascii_lowercase);
    } else {
        parsed.content_type = "text/plain".into();
    }

    // The body: text parts as written; HTML parts only when there is no text alternative.
    let mut found = Found::default();
    read_parts(&taken, raw, max_log_bytes, &mut parsed, &mut found, 0);
    let texts = distinct(found.texts);
    if texts.is_empty() && found.empty_text_alternative && !found.htmls.is_empty() {
        parsed.warnings.push("the plain-text alternative is empty; the text was read from the HTML part".into());
    }
    parsed.body = if texts.is_empty() { distinct(found.htmls).join("\n\n") } else { texts.join("\n\n") };
    if memchr::memchr(b'\r', parsed.body.as_bytes()).is_some() {
        parsed.body = without_crs_before_newlines(std::mem::take(&mut parsed.body));
    }
    Ok(parsed)
}

/// `text` with every CR LF made a LF (a lone CR stays): the pieces between the CR LFs are
/// copied whole, found by memchr, and stay UTF-8 without being checked again.
fn without_crs_before_newlines(text: String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for at in memchr::memmem::find_iter(text.as_bytes(), b"\r\n") {
        // `at` is the ASCII CR, so both ends of the piece are character boundaries.
        out.push_str(&text[from..at]);
        from = at + 1;
    }
    out.push_str(&text[from..]);
    out
}

/// The body texts found in a message, in message order.
#[derive(Default)]
struct Found {
    /// Text parts, and HTML parts read as text where mail-parser files them as the text body
    /// (an HTML message in a multipart/mixed).
    texts: Vec<String>,
    /// HTML parts read as text: the body when there is no text.
    htmls: Vec<String>,
    /// A text alternative was there but empty (only whitespace).
    empty_text_alternative: bool,
}

/// How many times the parts after an unclosed part are read again (each time a shorter tail).
const MAX_RECOVERIES: usize = 4;

/// Reads the body texts and the attachments of one parsed message. A text part whose boundary
/// never came is re-read from the raw bytes ([`repair`]); the parts after it, swallowed by
/// mail-parser, are parsed again from there.
fn read_parts(
    taken: &Taken<'_>,
    raw: &[u8],
    max_log_bytes: usize,
    parsed: &mut Parsed,
    found: &mut Found,
    depth: usize,
) {
    let message = &taken.message;
    let parts = &message.parts;
    let mut repaired: Vec<Option<Repaired>> = Vec::new();
    repaired.resize_with(parts.len(), || None);
    let mut tail = None;
    if parts.iter().any(|p| p.is_encoding_problem) {
        let parents = parents(parts);
        for (id, part) in parts.iter().enumerate() {
            if !part.is_encoding_problem || !matches!(part.body, PartType::Text(_) | PartType::Html(_)) {
                continue;
            }
            let boundaries = ancestor_boundaries(parts, &parents, id);
            // A part whose transfer encoding alone is broken is left to decode_part.
            let Some(r) = repair(raw, part, &boundaries, &mut parsed.warnings) else { continue };
            if tail.is_none() {
                tail = r.tail.clone();
            }
            repaired[id] = Some(r);
        }
        let warning = "a MIME part was never closed by its boundary (the message is cut short or broken); \
                       its text was read again from the raw message";
        if repaired.iter().any(Option::is_some) && !parsed.warnings.iter().any(|w| w == warning) {
            parsed.warnings.push(warning.into());
        }
    }
    let text_of = |id: usize, warnings: &mut Vec<String>| match repaired.get(id).and_then(Option::as_ref) {
        Some(r) => capped(&r.text, warnings).to_string(),
        None => decode_part(raw, &parts[id], taken.texts_decoded, warnings),
    };

    // Text parts that mail-parser filed among the attachments only because their boundary
    // never came: a message cut short still has its text as the body.
    let rescued: Vec<usize> = message
        .attachments
        .iter()
        .map(|&id| id as usize)
        .filter(|&id| repaired.get(id).is_some_and(Option::is_some) && is_inline_text(&parts[id]))
        .collect();
    let mut text_ids: Vec<usize> =
        message.text_body.iter().map(|&id| id as usize).chain(rescued.iter().copied()).collect();
    text_ids.sort_unstable();
    text_ids.dedup();
    for id in text_ids {
        let Some(part) = parts.get(id) else { continue };
        let text = match &part.body {
            PartType::Text(_) => text_of(id, &mut parsed.warnings),
            PartType::Html(_) => capped_owned(html::html_to_text(&text_of(id, &mut parsed.warnings))),
            _ => continue,
        };
        if text.trim().is_empty() {
            found.empty_text_alternative |= matches!(part.body, PartType::Text(_));
        } else {
            found.texts.push(text);
        }
    }
    // The HTML alternatives are read only while no text has been found: they are the body
    // only when there is no text.
    for &id in message.html_body.iter().filter(|_| found.texts.is_empty()) {
        let id = id as usize;
        if parts.get(id).is_some_and(|p| matches!(p.body, PartType::Html(_))) {
            let text = capped_owned(html::html_to_text(&text_of(id, &mut parsed.warnings)));
            if !text.trim().is_empty() {
                found.htmls.push(text);
            }
        }
    }

    for &id in &message.attachments {
        let id = id as usize;
        if rescued.contains(&id) {
            continue;
        }
        let Some(part) = parts.get(id) else { continue };
        let content_type = part
            .content_type()
            .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")).to_ascii_lowercase())
            .unwrap_or_else(|| "text/plain".into());
        let content_type = if part.content_type().is_none() && matches!(part.body, PartType::Message(_)) {
            // No Content-Type in a multipart/digest: message/rfc822 (RFC 2046 5.1.5).
            "message/rfc822".to_string()
        } else {
            content_type
        };
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
        // A part that ran on over the parts after it is as long as its own bytes.
        let (body, encoding) = (body_of(raw, part), transfer(raw, part));
        let size = match (repaired.get(id).and_then(Option::as_ref), &part.body) {
            (Some(r), _) => r.raw_len,
            (None, PartType::Message(_)) => part.len(),
            (None, _) => decoded_len(body, encoding),
        };
        let text =
            (is_log && size <= max_log_bytes && !matches!(part.body, PartType::Message(_))).then(|| match &part.body {
                PartType::Text(_) | PartType::Html(_) => text_of(id, &mut parsed.warnings),
                _ => match transfer_decode(body, encoding) {
                    Some(bytes) => charset::decode_owned(bytes, None).text,
                    None => charset::decode(body, None).text,
                },
            });
        parsed.attachments.push(Attachment { filename, content_type, size, text });
    }

    // The parts after an unclosed one: mail-parser read them as that part's text.
    if let Some((offset, boundary)) = tail
        && depth < MAX_RECOVERIES
        && !boundary.contains(['"', '\\', '\r', '\n'])
        && let Some(rest) = raw.get(offset..)
    {
        let mut again = format!("Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n").into_bytes();
        again.extend_from_slice(rest);
        if let Some(again) = parse_message(&again) {
            read_parts(&again, again.message.raw_message(), max_log_bytes, parsed, found, depth + 1);
        }
    }
}

/// A text part re-read from the raw message.
struct Repaired {
    text: String,
    /// The length of its raw (encoded) bytes.
    raw_len: usize,
    /// Where the raw bytes of the parts that follow begin, and their boundary, when the part
    /// ran on over an enclosing multipart's next boundary.
    tail: Option<(usize, String)>,
}

/// Re-reads a text part whose boundary mail-parser did not find: its raw bytes up to the first
/// boundary line of an enclosing multipart, its transfer encoding undone (mail-parser leaves
/// such a part encoded), then its charset. `None` when the part is not unclosed (no enclosing
/// multipart, or it ends before the end of the message without running over a boundary).
fn repair(
    raw: &[u8],
    part: &mail_parser::MessagePart<'_>,
    boundaries: &[&str],
    warnings: &mut Vec<String>,
) -> Option<Repaired> {
    if boundaries.is_empty() {
        return None;
    }
    let start = (part.offset_body as usize).min(raw.len());
    let end = (part.offset_end as usize).clamp(start, raw.len());
    let bytes = &raw[start..end];
    let mut cut = bytes.len();
    let mut tail = None;
    let mut pos = 0;
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        if let Some((boundary, closing)) = boundary_line(line, boundaries) {
            cut = pos;
            if !closing {
                tail = Some((start + pos, boundary.to_string()));
            }
            break;
        }
        pos += line.len();
    }
    if cut == bytes.len() && end < raw.len() {
        return None;
    }
    // The line break before a boundary belongs to the boundary.
    let mut content = &bytes[..cut];
    if cut < bytes.len() {
        content = content.strip_suffix(b"\n").unwrap_or(content);
        content = content.strip_suffix(b"\r").unwrap_or(content);
    }
    let decoded = match transfer(raw, part) {
        Encoding::Base64 => mail_parser::decoders::base64::base64_decode(content).or_else(|| {
            // Cut short mid-group: the whole groups there are.
            let clean: Vec<u8> =
                content.iter().copied().filter(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/')).collect();
            mail_parser::decoders::base64::base64_decode(&clean[..clean.len() / 4 * 4])
        }),
        Encoding::QuotedPrintable => mail_parser::decoders::quoted_printable::quoted_printable_decode(content),
        Encoding::None => None,
    };
    let bytes = decoded.unwrap_or_else(|| content.to_vec());
    let label = part.content_type().and_then(|ct| ct.attribute("charset"));
    let decoded = charset::decode(&bytes, label);
    if let Some(w) = decoded.warning
        && !warnings.contains(&w)
    {
        warnings.push(w);
    }
    Some(Repaired { text: decoded.text, raw_len: content.len(), tail })
}

/// Whether a raw line is `--boundary` or `--boundary--` for one of `boundaries`.
fn boundary_line<'b>(line: &[u8], boundaries: &[&'b str]) -> Option<(&'b str, bool)> {
    let rest = line.strip_prefix(b"--")?;
    let rest = rest.trim_ascii_end();
    boundaries.iter().find_map(|&b| {
        let after = rest.strip_prefix(b.as_bytes())?;
        match after {
            b"" => Some((b, false)),
            b"--" => Some((b, true)),
            _ => None,
        }
    })
}

/// The parent of every part (the multipart that lists it).
fn parents(parts: &[mail_parser::MessagePart<'_>]) -> Vec<Option<usize>> {
    let mut parents = vec![None; parts.len()];
    for (i, part) in parts.iter().enumerate() {
        if let PartType::Multipart(children) = &part.body {
            for &c in children {
                if let Some(slot) = parents.get_mut(c as usize)
                    && slot.is_none()
                    && c as usize != i
                {
                    *slot = Some(i);
                }
            }
        }
    }
    parents
}

/// How many enclosing boundaries a part's text is searched for (the nearest first).
const MAX_BOUNDARIES: usize = 16;

/// The boundaries of the multiparts that enclose a part, the nearest first. The parts are
/// listed in document order, so an unlisted part (its multipart never closed, so never listed
/// in it) belongs to the nearest multipart before it that is still open.
fn ancestor_boundaries<'m>(
    parts: &'m [mail_parser::MessagePart<'_>],
    parents: &[Option<usize>],
    id: usize,
) -> Vec<&'m str> {
    let boundary = |p: &'m mail_parser::MessagePart<'_>| p.content_type().and_then(|ct| ct.attribute("boundary"));
    let mut out: Vec<&str> = Vec::new();
    let mut seen = vec![false; parts.len()];
    let mut current = id;
    while out.len() < MAX_BOUNDARIES {
        let parent = parents.get(current).copied().flatten().or_else(|| {
            // Not listed anywhere: the nearest multipart before it.
            (0..current)
                .rev()
                .find(|&i| matches!(parts[i].body, PartType::Multipart(_)) || boundary(&parts[i]).is_some())
        });
        let Some(parent) = parent.filter(|&p| p < parts.len() && !seen[p]) else { break };
        seen[parent] = true;
        if let Some(b) = boundary(&parts[parent])
            && !b.is_empty()
        {
            out.push(b);
        }
        current = parent;
    }
    out
}

/// A text part written as the message itself (no attachment disposition, no file name):
/// text/plain, text/html, or no Content-Type at all (text/plain, RFC 2045).
fn is_inline_text(part: &mail_parser::MessagePart<'_>) -> bool {
    let textual = match part.content_type() {
        None => true,
        Some(ct) => {
            ct.ctype().eq_ignore_ascii_case("text")
                && ct.subtype().is_none_or(|s| s.eq_ignore_ascii_case("plain") || s.eq_ignore_ascii_case("html"))
        }
    };
    let attached = part.content_disposition().is_some_and(|d| d.is_attachment());
    textual && !attached && part.attachment_name().is_none()
}

/// The texts without repeats: a part whose text (spacing aside) is already in an earlier one
/// (the same message sent as text and as HTML side by side) is left out.
fn distinct(texts: Vec<String>) -> Vec<String> {
    // Side-by-side copies come in twos and threes; a message of hundreds of parts is kept as
    // it is rather than compared part against part.
    if texts.len() > 16 || texts.len() < 2 {
        return texts;
    }
    let squash = |t: &str| t.split_whitespace().collect::<String>();
    let mut kept: Vec<(String, String)> = Vec::new();
    for text in texts {
        let s = squash(&text);
        if !kept.iter().any(|(k, _)| k.contains(&s)) {
            kept.push((s, text));
        }
    }
    kept.into_iter().map(|(_, t)| t).collect()
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

/// Whether text mail-parser decoded holds a Latin-1 letter (U+0080-U+00FF, lead byte C2 or
/// C3), and whether it holds U+FFFD (EF BF BD) or an ESC: the marks of a wrong charset. Each
/// is a memchr scan of the bytes.
fn scan_decoded(text: &str) -> (bool, bool) {
    let bytes = text.as_bytes();
    let latin1 = memchr::memchr2(0xC2, 0xC3, bytes).is_some();
    let doubtful =
        memchr::memchr(0x1B, bytes).is_some() || memchr::memmem::find(bytes, "\u{FFFD}".as_bytes()).is_some();
    (latin1, doubtful)
}

/// Decodes a text part from its raw bytes: transfer encoding, then charset (with detection).
/// `parser_decoded`: mail-parser decoded the part's charset, and its text may be taken as it is.
fn decode_part(
    raw: &[u8],
    part: &mail_parser::MessagePart<'_>,
    parser_decoded: bool,
    warnings: &mut Vec<String>,
) -> String {
    // UTF-8 and ASCII parts that mail-parser decoded cleanly need no second pass (most mail
    // from phones and web mailers). Anything doubtful is decoded again from the raw bytes.
    let label = part.content_type().and_then(|ct| ct.attribute("charset")).map(str::to_ascii_lowercase);
    let encoding = transfer(raw, part);
    if let (true, PartType::Text(text) | PartType::Html(text), Encoding::None) = (parser_decoded, &part.body, encoding)
    {
        // mail-parser decodes these labels as we would (its ISO-2022-JP and Shift_JIS tables
        // cover the NEC and IBM extensions); a wrong label shows as U+FFFD or a stray ESC.
        let plain_label = matches!(
            label.as_deref(),
            Some("utf-8" | "utf8" | "us-ascii" | "ascii" | "iso-2022-jp" | "shift_jis" | "euc-jp") | None
        );
        let unicode_label = matches!(label.as_deref(), Some("utf-8" | "utf8" | "us-ascii" | "ascii") | None);
        // For the Japanese labels, Latin-1 letters in the result mean bytes of another
        // charset (UTF-8 read as ISO-2022-JP): decode those again too.
        let (latin1, doubtful) = scan_decoded(text);
        let looks_right = unicode_label || !latin1;
        if plain_label && looks_right && !doubtful && (label.is_some() || text.is_ascii()) {
            return capped(text, warnings).to_string();
        }
    }
    let whole = body_of(raw, part);
    // A long encoded body is decoded only as far as is read: cut at a line end, where
    // base64 and quoted-printable lines end whole.
    let body = if whole.len() > 2 * MAX_TEXT_BYTES && encoding != Encoding::None {
        let prefix = &whole[..2 * MAX_TEXT_BYTES];
        &prefix[..prefix.iter().rposition(|&b| b == b'\n').map_or(prefix.len(), |i| i + 1)]
    } else {
        whole
    };
    // Unencoded text is decoded straight from the message; decoded bytes are handed over.
    let bytes = match encoding {
        Encoding::None => Some(Cow::Borrowed(&body[..body.len().min(MAX_TEXT_BYTES + 4)])),
        encoded => transfer_decode(body, encoded).map(Cow::Owned),
    };
    let Some(mut bytes) = bytes else {
        // The transfer encoding is broken; mail-parser's best effort is better than nothing.
        warnings.push("a text part has a broken transfer encoding; its text may be incomplete".into());
        if !parser_decoded {
            // The text as it stands, still encoded, as mail-parser would have given it.
            // The label as written (a warning quotes it).
            let label = part.content_type().and_then(|ct| ct.attribute("charset"));
            let raw_text = charset::decode(&body[..body.len().min(MAX_TEXT_BYTES)], label).text;
            return capped(&raw_text, warnings).to_string();
        }
        return capped(part.text_contents().unwrap_or_default(), warnings).to_string();
    };
    // Only the first MAX_TEXT_BYTES are read (a few more, so that a character cut at the end
    // is not taken for a wrong charset); the warning says how long the text was.
    if bytes.len() > MAX_TEXT_BYTES {
        let warning = too_long(if body.len() < whole.len() { whole.len() * 3 / 4 } else { body.len() });
        if !warnings.contains(&warning) {
            warnings.push(warning);
        }
        bytes.to_mut().truncate(MAX_TEXT_BYTES + 4);
    }
    let label = part.content_type().and_then(|ct| ct.attribute("charset"));
    let decoded = match bytes {
        Cow::Borrowed(bytes) => charset::decode(bytes, label),
        Cow::Owned(bytes) => charset::decode_owned(bytes, label),
    };
    if let Some(w) = decoded.warning
        && !warnings.contains(&w)
    {
        warnings.push(w);
    }
    let mut text = decoded.text;
    if text.len() > MAX_TEXT_BYTES {
        text.truncate(text.floor_char_boundary(MAX_TEXT_BYTES));
    }
    text
}

/// A part's raw body, still transfer-encoded.
/// Empty when mail-parser gave the part no end (a multipart, a nested message).
fn body_of<'r>(raw: &'r [u8], part: &mail_parser::MessagePart<'_>) -> &'r [u8] {
    let start = (part.offset_body as usize).min(raw.len());
    let end = (part.offset_end as usize).clamp(start, raw.len());
    &raw[start..end]
}

/// How a part's body is transfer-encoded, from its raw Content-Transfer-Encoding header (the
/// last one, as mail-parser would read it): `base64`, `quoted-printable`, or as written
/// (7bit, 8bit, binary, none, or a value no one knows).
fn transfer(raw: &[u8], part: &mail_parser::MessagePart<'_>) -> Encoding {
    let Some(header) = part.headers.iter().rev().find(|h| h.name == HeaderName::ContentTransferEncoding) else {
        return Encoding::None;
    };
    let value = raw.get(header.offset_start as usize..header.offset_end as usize).unwrap_or_default();
    let value = value.trim_ascii_start();
    let token =
        &value[..value.iter().position(|b| b.is_ascii_whitespace() || matches!(b, b';' | b'(')).unwrap_or(value.len())];
    if token.eq_ignore_ascii_case(b"base64") {
        Encoding::Base64
    } else if token.eq_ignore_ascii_case(b"quoted-printable") {
        Encoding::QuotedPrintable
    } else {
        Encoding::None
    }
}

/// A body with its transfer encoding undone; `None` when it is not encoded, or is broken.
fn transfer_decode(body: &[u8], encoding: Encoding) -> Option<Vec<u8>> {
    match encoding {
        Encoding::Base64 => mail_parser::decoders::base64::base64_decode(body),
        Encoding::QuotedPrintable => mail_parser::decoders::quoted_printable::quoted_printable_decode(body),
        Encoding::None => None,
    }
}

/// How many bytes a body holds once its transfer encoding is undone. Base64 is counted without
/// decoding it: every four letters are three bytes (the padding is no letter). Quoted-printable
/// (rare outside text) is decoded to be counted.
fn decoded_len(body: &[u8], encoding: Encoding) -> usize {
    match encoding {
        Encoding::None => body.len(),
        Encoding::Base64 => {
            // Counted in blocks of at most 255 into a byte, which the compiler turns into
            // vector compares: a 30 MB attachment is measured in a few milliseconds.
            let letters: usize = body
                .chunks(255)
                .map(|block| {
                    let n: u8 = block.iter().map(|&b| u8::from(is_base64_letter(b))).fold(0, u8::wrapping_add);
                    usize::from(n)
                })
                .sum();
            letters / 4 * 3 + (letters % 4).saturating_sub(1)
        }
        Encoding::QuotedPrintable => transfer_decode(body, encoding).map_or(body.len(), |b| b.len()),
    }
}

/// A letter of the base64 alphabet (A-Z a-z 0-9 + /).
fn is_base64_letter(b: u8) -> bool {
    b.wrapping_sub(b'A') < 26 || b.wrapping_sub(b'a') < 26 || b.wrapping_sub(b'0') < 10 || b == b'+' || b == b'/'
}

/// The most text read from one part for the incident items, in bytes of UTF-8. A report's
/// own words are a few kilobytes; beyond this is a pasted log or a dump, whose first megabyte
/// says what went wrong. The message itself is stored whole, and the hand-over carries it.
/// Reading a 50 MB body whole would cost several copies of it, in memory and in time.
pub const MAX_TEXT_BYTES: usize = 1 << 20;

fn too_long(len: usize) -> String {
    format!(
        "a text part is {:.1} MB; only its first {} MB was read for the incident items (the whole message is kept)",
        len as f64 / 1e6,
        MAX_TEXT_BYTES >> 20
    )
}

/// At most [`MAX_TEXT_BYTES`] of a part's text, cut at a character boundary, with a warning.
fn capped<'t>(text: &'t str, warnings: &mut Vec<String>) -> &'t str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let warning = too_long(text.len());
    if !warnings.contains(&warning) {
        warnings.push(warning);
    }
    &text[..text.floor_char_boundary(MAX_TEXT_BYTES)]
}

/// [`capped`] for text made here (an HTML part read as text), whose length was already warned of.
fn capped_owned(mut text: String) -> String {
    if text.len() > MAX_TEXT_BYTES {
        text.truncate(text.floor_char_boundary(MAX_TEXT_BYTES));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_of(header: &str) -> Option<String> {
        let raw = format!("From: {header}\r\nTo: support@uketsuke.example.jp\r\nSubject: x\r\n\r\nbody\r\n");
        parse(raw.as_bytes(), 1 << 20).expect("parses").from
    }

    #[test]
    fn crlf_becomes_lf_and_a_lone_cr_stays() {
        for text in ["a\r\nb\r\n", "障害\r\n\r\n発生\r", "a\rb\r\r\nc", "\r\n", ""] {
            assert_eq!(without_crs_before_newlines(text.to_string()), text.replace("\r\n", "\n"), "{text:?}");
        }
        assert_eq!(without_crs_before_newlines("a\rb\r\r\nc".into()), "a\rb\r\nc");
    }

    #[test]
    fn attachments_are_measured_without_being_decoded_and_logs_are_decoded() {
        // Every length from 0 to 300 bytes, so that every padding and every line cut occurs.
        let b64 = |data: &[u8]| {
            let mut out = String::new();
            for chunk in data.chunks(3) {
                const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
                let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
                for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
                    out.push(if i <= chunk.len() { A[(n >> shift) as usize & 63] as char } else { '=' });
                }
            }
            out.as_bytes().chunks(76).map(|l| String::from_utf8_lossy(l).into_owned()).collect::<Vec<_>>().join("\r\n")
        };
        for len in 0..300usize {
            let data: Vec<u8> = (0..len).map(|i| (i * 37 % 256) as u8).collect();
            let encoded = b64(&data);
            assert_eq!(decoded_len(encoded.as_bytes(), Encoding::Base64), len, "{len}");
            let raw = format!(
                "From: a@acme.example.jp\r\nSubject: x\r\nMIME-Version: 1.0\r\n\
                 Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
                 本文\r\n--b\r\nContent-Type: image/png; name=\"s.png\"\r\nContent-Transfer-Encoding: Base64\r\n\r\n\
                 {encoded}\r\n--b\r\nContent-Type: application/octet-stream; name=\"app.log\"\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{}\r\n--b--\r\n",
                b64("ERROR 認証に失敗しました\n".as_bytes())
            );
            let parsed = parse(raw.as_bytes(), 1 << 20).expect("parses");
            assert_eq!(parsed.body, "本文", "{len}");
            assert_eq!(parsed.attachments[0].size, len, "{len}");
            assert_eq!(parsed.attachments[1].text.as_deref(), Some("ERROR 認証に失敗しました\n"), "{len}");
        }
        // A forwarded message sent in base64 is one attachment of its own size, and the part
        // after it is still read.
        let forwarded = b"From: b@globex.example.com\r\nSubject: fwd\r\n\r\nhello\r\n";
        let inner = b64(forwarded.as_slice());
        let raw = format!(
            "From: a@acme.example.jp\r\nSubject: x\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
             転送します\r\n--b\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n{inner}\r\n\
             --b\r\nContent-Type: text/plain; name=\"app.log\"\r\n\r\nERROR 500\r\n--b--\r\n"
        );
        let parsed = parse(raw.as_bytes(), 1 << 20).expect("parses");
        assert_eq!(parsed.body, "転送します");
        let kinds: Vec<(&str, usize)> = parsed.attachments.iter().map(|a| (a.content_type.as_str(), a.size)).collect();
        assert_eq!(kinds, [("message/rfc822", forwarded.len()), ("text/plain", 9)]);
        assert_eq!(parsed.attachments[1].text.as_deref(), Some("ERROR 500"));
        // Quoted-printable: =XX is one byte, a soft line break none.
        assert_eq!(decoded_len(b"a=3Db=\r\nc=\nd", Encoding::QuotedPrintable), 5);
        assert_eq!(decoded_len(b"as written", Encoding::None), 10);
    }

    #[test]
    fn the_arrival_time_is_the_date_of_the_newest_received_header() {
        let raw = "Received: from mx.acme.example.jp (mx [192.0.2.7]; tls)\r\n\tby mail.uketsuke.example.jp with ESMTPS id 4f2a;\r\n\tFri, 27 Nov 2026 10:15:42 +0900 (JST)\r\n\
                   Received: from pc.acme.example.jp by mx.acme.example.jp; Fri, 27 Nov 2026 01:10:00 +0000\r\n\
                   From: a@acme.example.jp\r\nSubject: x\r\nDate: Thu, 26 Nov 2026 09:00:00 +0900\r\n\r\nbody\r\n";
        let parsed = parse(raw.as_bytes(), 1 << 20).expect("parses");
        assert_eq!(parsed.received.map(|d| d.to_rfc3339()).as_deref(), Some("2026-11-27T10:15:42+09:00"));
        // No date after the last ';', or no ';' at all: no arrival time, and no error.
        for received in ["from a by b; not a date", "from a by b"] {
            let raw = format!("Received: {received}\r\nFrom: a@acme.example.jp\r\nSubject: x\r\n\r\nbody\r\n");
            assert_eq!(parse(raw.as_bytes(), 1 << 20).expect("parses").received, None, "{received}");
        }
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

    const HEAD: &str = "From: Sato <sato@globex.example.com>\r\nTo: support@uketsuke.example.jp\r\nSubject: export\r\nDate: Thu, 26 Nov 2026 09:30:00 +0900\r\nMIME-Version: 1.0\r\n";

    fn parse_mail(rest: &str) -> Parsed {
        parse(format!("{HEAD}{rest}").as_bytes(), 1 << 20).expect("parses")
    }

    #[test]
    fn an_unclosed_inner_multipart_still_gives_decoded_text_and_the_attachments_after_it() {
        // "ログインできません" and "café" in quoted-printable, with a soft line break; the inner
        // alternative never closes, the outer mixed does, after a PDF.
        let p = parse_mail(concat!(
            "Content-Type: multipart/mixed; boundary=\"OUT-7f\"\r\n\r\n",
            "--OUT-7f\r\nContent-Type: multipart/alternative; boundary=\"IN-3c\"\r\n\r\n",
            "--IN-3c\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
            "=E3=83=AD=E3=82=B0=E3=82=A4=E3=83=B3=E3=81=A7=E3=81=8D=E3=81=BE=E3=81=9B=E3=82=93=\r\n",
            " (caf=C3=A9)\r\n",
            "--OUT-7f\r\nContent-Type: application/pdf; name=\"screen.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
            "JVBERi0xLjQK\r\n",
            "--OUT-7f--\r\n",
        ));
        assert_eq!(p.body.trim(), "ログインできません (café)");
        assert!(!p.warnings.is_empty());
        let names: Vec<_> = p.attachments.iter().map(|a| a.filename.as_deref()).collect();
        assert_eq!(names, vec![Some("screen.pdf")], "{:?}", p.attachments);
        assert_eq!(p.attachments[0].content_type, "application/pdf");
    }

    #[test]
    fn a_mail_cut_off_before_its_closing_boundary_keeps_its_text_as_the_body() {
        let p = parse_mail(concat!(
            "Content-Type: multipart/mixed; boundary=\"cut\"\r\n\r\n",
            "--cut\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
            "The nightly export stopped at 02:00.\r\nNothing since.\r\n",
        ));
        assert_eq!(p.body.trim(), "The nightly export stopped at 02:00.\nNothing since.");
        assert!(p.attachments.is_empty(), "{:?}", p.attachments);
        assert!(!p.warnings.is_empty());
        // The same, quoted-printable: decoded, not left as =E3=...
        let p = parse_mail(concat!(
            "Content-Type: multipart/mixed; boundary=\"cut\"\r\n\r\n",
            "--cut\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
            "=E9=9A=9C=E5=AE=B3=E3=81=A7=E3=81=99\r\n",
        ));
        assert_eq!(p.body.trim(), "障害です");
        assert!(p.attachments.is_empty(), "{:?}", p.attachments);
        // Cut off in an attached log: the log stays an attachment, decoded.
        let p = parse_mail(concat!(
            "Content-Type: multipart/mixed; boundary=\"cut\"\r\n\r\n",
            "--cut\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nLog attached.\r\n",
            "--cut\r\nContent-Type: text/plain; charset=utf-8; name=\"app.log\"\r\n",
            "Content-Disposition: attachment; filename=\"app.log\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
            "ERROR E-4012 caf=C3=A9 closed\r\n",
        ));
        assert_eq!(p.body.trim(), "Log attached.");
        assert_eq!(p.attachments.len(), 1, "{:?}", p.attachments);
        assert_eq!(p.attachments[0].filename.as_deref(), Some("app.log"));
        assert_eq!(p.attachments[0].text.as_deref().map(str::trim), Some("ERROR E-4012 café closed"));
    }

    #[test]
    fn an_empty_text_alternative_gives_way_to_the_html() {
        for empty in ["", " \r\n\r\n", "\u{3000}\r\n"] {
            let p = parse_mail(&format!(
                "Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n\
                 --alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{empty}\r\n\
                 --alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
                 <html><body><p>Reports page shows <b>HTTP 502</b> since noon.</p></body></html>\r\n\
                 --alt--\r\n"
            ));
            assert!(p.body.contains("Reports page shows HTTP 502 since noon."), "{empty:?}: {:?}", p.body);
            assert!(p.warnings.iter().any(|w| w.contains("HTML")), "{:?}", p.warnings);
        }
    }

    #[test]
    fn an_html_message_with_a_plain_footer_keeps_the_html_text() {
        let p = parse_mail(concat!(
            "Content-Type: multipart/mixed; boundary=\"mx\"\r\n\r\n",
            "--mx\r\nContent-Type: text/html; charset=utf-8\r\n\r\n",
            "<html><body><div>請求書画面が開きません。</div><div>昨日から全員です。</div></body></html>\r\n",
            "--mx\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
            "This message was scanned by MailGuard.\r\n",
            "--mx--\r\n",
        ));
        assert!(p.body.contains("請求書画面が開きません。"), "{:?}", p.body);
        assert!(p.body.contains("昨日から全員です。"), "{:?}", p.body);
        assert!(!p.body.contains("<div>"), "{:?}", p.body);
    }

    #[test]
    fn a_part_without_content_type_is_plain_text() {
        // RFC 2045 5.2: no Content-Type means text/plain; charset=us-ascii, inside a multipart too.
        let p = parse_mail(concat!(
            "Content-Type: multipart/mixed; boundary=\"nb\"\r\n\r\n",
            "--nb\r\n\r\n",
            "Uploads fail with a timeout.\r\n",
            "--nb\r\nContent-Disposition: attachment; filename=\"trace\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n",
            "ERROR upload timed out after 30=\r\ns\r\n",
            "--nb--\r\n",
        ));
        assert_eq!(p.body.trim(), "Uploads fail with a timeout.");
        assert_eq!(p.attachments.len(), 1, "{:?}", p.attachments);
        assert_eq!(p.attachments[0].content_type, "text/plain");
        assert_eq!(p.attachments[0].text.as_deref().map(str::trim), Some("ERROR upload timed out after 30s"));
        // The whole message without one.
        let p = parse(
            b"From: a@globex.example.com\r\nSubject: x\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\ncaf=C3=A9\r\n",
            1 << 20,
        )
        .expect("parses");
        assert_eq!(p.content_type, "text/plain");
        assert_eq!(p.body.trim(), "café");
    }

    #[test]
    fn a_huge_text_body_is_read_up_to_the_limit_with_a_warning() {
        let line = "2026-11-25 11:00:00 ERROR 管理画面にログインできません E-4012\r\n";
        let body = line.repeat(3 * MAX_TEXT_BYTES / line.len());
        for (encoding, encoded) in [
            ("8bit", body.clone()),
            ("base64", {
                use base64::Engine;
                let b64 = base64::engine::general_purpose::STANDARD.encode(body.as_bytes());
                b64.as_bytes().chunks(76).map(|c| format!("{}\r\n", String::from_utf8_lossy(c))).collect()
            }),
        ] {
            let p = parse_mail(&format!(
                "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: {encoding}\r\n\r\n{encoded}"
            ));
            assert!(
                p.body.len() <= MAX_TEXT_BYTES && p.body.len() > MAX_TEXT_BYTES / 2,
                "{encoding}: {}",
                p.body.len()
            );
            assert!(p.body.starts_with("2026-11-25 11:00:00 ERROR 管理画面"), "{encoding}");
            // Cut between characters, never inside one; no charset doubt from the cut.
            assert!(!p.body.contains('\u{FFFD}'), "{encoding}");
            assert!(
                p.warnings.iter().any(|w| w.contains("only its first 1 MB was read")),
                "{encoding}: {:?}",
                p.warnings
            );
            assert!(!p.warnings.iter().any(|w| w.contains("charset")), "{encoding}: {:?}", p.warnings);
        }
        // 3 MB of NULs in base64 (a binary dump sent as text): read as far as the limit.
        use base64::Engine;
        let nul = base64::engine::general_purpose::STANDARD.encode(vec![0u8; 3 * MAX_TEXT_BYTES]);
        let nul: String = nul.as_bytes().chunks(76).map(|c| format!("{}\r\n", String::from_utf8_lossy(c))).collect();
        let p = parse_mail(&format!(
            "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n{nul}"
        ));
        assert!(p.body.len() <= MAX_TEXT_BYTES, "{}", p.body.len());
    }

    #[test]
    fn broken_structures_do_not_panic() {
        let mut deep = String::from("Content-Type: multipart/mixed; boundary=\"d0\"\r\n\r\n");
        for i in 0..300 {
            deep.push_str(&format!("--d{i}\r\nContent-Type: multipart/mixed; boundary=\"d{}\"\r\n\r\n", i + 1));
        }
        deep.push_str("--d300\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8g\r\n");
        for i in (0..300).rev() {
            deep.push_str(&format!("--d{i}\r\nContent-Type: text/plain\r\n\r\nmore {i}\r\n"));
        }
        let cases = [
            deep,
            "Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8gd29y".into(),
            "Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E3=8".into(),
            "Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\n".into(),
            "Content-Type: multipart/alternative; boundary=\"\"\r\n\r\n--\r\n\r\n--\r\n".into(),
        ];
        for case in cases {
            let _ = parse(format!("{HEAD}{case}").as_bytes(), 1 << 20);
        }
    }

    /// Every message of one text part is read the short way exactly as mail-parser's whole
    /// parse reads it: the same headers, the same body bounds, the same part kind, and in the
    /// end the same [`Parsed`], over the corpus and crafted edge cases.
    /// Every message of the test corpus, good and broken.
    fn corpus_messages() -> Vec<Vec<u8>> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
        let mut messages: Vec<Vec<u8>> = Vec::new();
        for dir in ["mail", "broken"] {
            let mut paths: Vec<_> =
                std::fs::read_dir(root.join(dir)).expect("corpus").flatten().map(|e| e.path()).collect();
            paths.sort();
            messages.extend(
                paths
                    .iter()
                    .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                    .filter_map(|p| std::fs::read(p).ok()),
            );
        }
        assert!(messages.len() > 20, "the corpus is missing");
        messages
    }

    /// `fast` (a message read without mail-parser's pass over the bodies) holds the parts of
    /// `raw` as mail-parser's whole parse does, and reads as the same report.
    fn assert_read_as_the_whole_parse(raw: &[u8], fast: mail_parser::Message<'_>) {
        let full = PARSER.parse(raw).expect("mail-parser parses what the short way read");
        let name = String::from_utf8_lossy(&raw[..raw.len().min(300)]).into_owned();
        assert_eq!(fast.parts.len(), full.parts.len(), "{name}");
        for (a, b) in fast.parts.iter().zip(&full.parts) {
            assert_eq!(a.headers, b.headers, "{name}");
            assert_eq!(
                (a.offset_header, a.offset_body, a.offset_end),
                (b.offset_header, b.offset_body, b.offset_end),
                "{name}"
            );
            assert_eq!(a.is_encoding_problem, b.is_encoding_problem, "{name}");
            assert_eq!(std::mem::discriminant(&a.body), std::mem::discriminant(&b.body), "{name}");
            if let (PartType::Multipart(x), PartType::Multipart(y)) = (&a.body, &b.body) {
                assert_eq!(x, y, "{name}");
            }
        }
        assert_eq!(
            (&fast.text_body, &fast.html_body, &fast.attachments),
            (&full.text_body, &full.html_body, &full.attachments),
            "{name}"
        );
        let fast = read_message(Taken { message: fast, texts_decoded: false }, 1 << 20).expect("reads");
        let full = read_message(Taken { message: full, texts_decoded: true }, 1 << 20).expect("reads");
        assert_eq!(format!("{fast:?}"), format!("{full:?}"), "{name}");
    }

    #[test]
    fn a_single_text_part_is_read_as_the_whole_parse_reads_it() {
        let mut messages = corpus_messages();
        let head = "From: Yamada <yamada@acme.example.jp>\r\nSubject: =?UTF-8?B?6Zqc5a6z?=\r\nDate: Wed, 25 Nov 2026 11:00:00 +0900\r\n";
        let crafted = [
            format!("{head}\r\nno Content-Type at all\r\n"),
            format!("{head}Content-Type: text/html; charset=utf-8\r\n\r\n<p>障害&uuml;</p>\r\n"),
            format!("{head}Content-Type: TEXT/Plain; charset=\"ISO-2022-JP\"\r\n\r\n\x1b$B>c32\x1b(B\r\n"),
            format!("{head}Content-Type: text/plain\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nlog\r\n"),
            format!("{head}Content-Type: text/plain\r\nContent-Disposition: inline\r\n\r\ninline text\r\n"),
            format!("{head}Content-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\n"),
            format!(
                "{head}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n6Zqc5a6z\r\n"
            ),
            format!(
                "{head}Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n!!not base64!!\r\n"
            ),
            format!(
                "{head}Content-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E9=9A=9C=\r\n=E5=AE=B3\r\n"
            ),
            format!("{head}Content-Type: text/plain\r\n\r\n"),
            format!("{head}Content-Type: text/plain\r\n"),
            format!("{head}Content-Type: text/plain\r\n\r\n\r\n\r\n"),
            format!("{head}Content-Type: message/rfc822\r\n\r\n{head}\r\ninner\r\n"),
            format!("{head}Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\ntext\r\n--b--\r\n"),
            format!("{head}Content-Type: text/plain\r\n\r\n--b\r\nnot a boundary here\r\n"),
            head.replace("\r\n", "\n") + "Content-Type: text/plain; charset=utf-8\n\n障害\n",
            format!("  \r\n{head}\r\nleading blank line\r\n"),
        ];
        messages.extend(crafted.iter().map(|c| c.clone().into_bytes()));
        // Shift_JIS bytes, unencoded (障害).
        let sjis = format!("{head}Content-Type: text/plain; charset=shift_jis\r\n\r\n");
        messages.push([sjis.as_bytes(), b"\x8f\xe1\x8a\x51\r\n"].concat());
        let mut short = 0;
        for raw in &messages {
            let Some(fast) = single_text_part(raw) else { continue };
            short += 1;
            assert_read_as_the_whole_parse(raw, fast);
        }
        assert!(short > messages.len() / 3, "the short way was taken for only {short} of {} messages", messages.len());
    }

    #[test]
    fn a_multipart_is_found_part_by_part_as_the_whole_parse_finds_it() {
        let mut messages = corpus_messages();
        let head = "From: Yamada <yamada@acme.example.jp>\r\nSubject: =?UTF-8?B?6Zqc5a6z?=\r\nDate: Wed, 25 Nov 2026 11:00:00 +0900\r\nMIME-Version: 1.0\r\n";
        let mixed = |body: &str| format!("{head}Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n{body}");
        let text = "Content-Type: text/plain; charset=utf-8\r\n\r\n障害が出ています\r\n";
        let html = "Content-Type: text/html; charset=utf-8\r\n\r\n<p>障害&uuml;</p>\r\n";
        let png =
            "Content-Type: image/png; name=\"s.png\"\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n";
        let log = "Content-Type: text/plain; name=\"app.log\"\r\nContent-Disposition: attachment; filename=\"app.log\"\r\n\r\nERROR x\r\n";
        // Shapes that are read here, and shapes that are left to mail-parser (those must give
        // None, or else the same parts).
        let walked = [
            mixed(&format!("preamble\r\n--b1\r\n{text}--b1\r\n{png}--b1\r\n{log}--b1--\r\nepilogue\r\n")),
            format!(
                "{head}Content-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n{text}--b2\r\n{html}--b2--\r\n"
            ),
            format!("{head}Content-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n{html}--b2--\r\n"),
            format!("{head}Content-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n{text}--b2--\r\n"),
            format!(
                "{head}Content-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\nContent-Type: text/plain\r\n\r\n \r\n--b2\r\n{html}--b2--\r\n"
            ),
            mixed(&format!(
                "--b1\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n--b2\r\n{text}--b2\r\n{html}--b2--\r\n\r\n--b1\r\n{png}--b1--\r\n"
            )),
            format!(
                "{head}Content-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n{text}--b2\r\nContent-Type: multipart/related; boundary=b3\r\n\r\n--b3\r\n{html}--b3\r\n{png}--b3\r\nContent-Type: image/gif\r\n\r\nGIF89a\r\n--b3--\r\n--b2--\r\n"
            ),
            format!("{head}Content-Type: multipart/related; boundary=b3\r\n\r\n--b3\r\n{html}--b3\r\n{png}--b3--\r\n"),
            mixed(&format!("--b1\r\n{html}--b1\r\nContent-Type: text/plain\r\n\r\n-- \r\nfooter\r\n--b1--\r\n")),
            mixed(&format!(
                "--b1\r\n{text}--b1\r\n{text}--b1\r\n{log}--b1\r\nContent-Type: text/plain; name=a.txt\r\n\r\nnamed\r\n--b1--\r\n"
            )),
            mixed("--b1\r\n\r\nno headers at all\r\n--b1\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n--b1--\r\n"),
            mixed(
                "--b1\r\nContent-Type: text/plain\r\n\r\nends mid-line--b1\r\nContent-Type: text/plain\r\n\r\nnext\r\n--b1--",
            ),
            mixed(
                "--b1  \r\nContent-Type: text/plain\r\n\r\nspace after the boundary\r\n--b1\t\r\n\r\nand a tab\r\n--b1--\r\n",
            ),
            mixed("--b1\r\nContent-Type: text/plain\r\n\r\nboundary as a prefix\r\n--b1x\r\n\r\nafter\r\n--b1--\r\n"),
            format!(
                "{head}Content-Type: multipart/mixed; boundary=b1\n\n--b1\nContent-Type: text/plain\n\nLF only\n--b1\nContent-Type: text/html\n\n<b>x</b>\n--b1--\n"
            ),
            format!(
                "{head}Content-Type: multipart/signed; boundary=s; protocol=\"application/pgp-signature\"\r\n\r\n--s\r\n{text}--s\r\nContent-Type: application/pgp-signature\r\n\r\nsig\r\n--s--\r\n"
            ),
            format!(
                "{head}Content-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n{text}--b2\r\nContent-Type: text/calendar\r\n\r\nBEGIN:VCALENDAR\r\n--b2\r\n{html}--b2--\r\n"
            ),
            format!(
                "{head}Content-Type: Multipart/Mixed; Boundary=\"B1\"\r\n\r\n--B1\r\nContent-Type: Text/Plain\r\n\r\nupper case\r\n--B1--\r\n"
            ),
            format!(
                "{head}Content-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\nContent-Type: multipart/alternative; boundary=b4\r\n\r\n--b4\r\n{text}--b4\r\n{html}--b4--\r\n--b2\r\n{html}--b2--\r\n"
            ),
            mixed(&format!(
                "--b1\r\nContent-Type: text/plain; charset=ISO-2022-JP\r\n\r\n\x1b$B>c32\x1b(B\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n6Zqc5a6z\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=E9=9A=9C=\r\n=E5=AE=B3\r\n--b1\r\n{html}--b1--\r\n"
            )),
            mixed(&format!(
                "--b1\r\n{text}--b1\r\nContent-Type: text/plain\r\nContent-Disposition: inline\r\n\r\ninline\r\n--b1--\r\n"
            )),
            mixed(&format!("--b1\r\nContent-Type: image/jpeg\r\n\r\nJFIF\r\n--b1\r\n{text}--b1--\r\n")),
        ];
        let left = [
            mixed(&format!("--b1\r\n{text}--b1\r\nContent-Type: message/rfc822\r\n\r\n{head}\r\ninner\r\n--b1--\r\n")),
            mixed(&format!("--b1\r\n{text}--b1\r\n{png}")),
            mixed(&format!(
                "--b1\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n--b2\r\n{text}--b1\r\n{png}--b1--\r\n"
            )),
            format!("{head}Content-Type: multipart/digest; boundary=d\r\n\r\n--d\r\n\r\n{head}\r\ndigest\r\n--d--\r\n"),
            format!("{head}Content-Type: multipart/mixed\r\n\r\n--b1\r\n{text}--b1--\r\n"),
            format!("{head}Content-Type: multipart/mixed; boundary=\"\"\r\n\r\n--\r\n{text}----\r\n"),
            format!("{head}Content-Type: multipart/mixed; boundary=b1\r\n\r\nno boundary ever\r\n"),
            mixed(&format!("--b1\r\n{text}--b1\r\nContent-Type: text/plain")),
        ];
        let mut crafted_walked = 0;
        for raw in &walked {
            if let Some(fast) = multipart::walk(raw.as_bytes(), &PARSER) {
                crafted_walked += 1;
                assert_read_as_the_whole_parse(raw.as_bytes(), fast);
            }
        }
        assert!(
            crafted_walked >= walked.len() - 1,
            "only {crafted_walked} of {} crafted multiparts were walked",
            walked.len()
        );
        for raw in &left {
            assert!(multipart::walk(raw.as_bytes(), &PARSER).is_none(), "{raw}");
        }
        messages.extend(walked.iter().chain(&left).map(|m| m.clone().into_bytes()));
        let mut corpus_walked = 0;
        for raw in &messages {
            if let Some(fast) = multipart::walk(raw, &PARSER) {
                corpus_walked += 1;
                assert_read_as_the_whole_parse(raw, fast);
            }
        }
        // The corpus's Gmail, iPhone, Thunderbird and Outlook multiparts are walked too.
        assert!(corpus_walked >= crafted_walked + 6, "only {corpus_walked} messages were walked");
    }
}
