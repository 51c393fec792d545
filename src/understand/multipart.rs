//! Finding the parts of a well-formed multipart message without decoding any of them.
//!
//! mail-parser walks every part's body a byte at a time to find the boundary after it, then
//! decodes the part's charset, only for [`mime`](super::mime) to decode the text again from
//! the raw bytes (and to measure attachments without decoding them at all). For the mail most
//! reports arrive as (text and HTML alternatives, a log or a screenshot attached) that pass
//! was a third of understanding a message. Here the parts are found with mail-parser's own
//! header parser and its rules for which part is the text, the HTML and an attachment, but
//! each boundary is looked for with one substring search, and no body is decoded.
//!
//! Only what is certainly read the same way is read here: a multipart root whose parts all
//! end at their boundaries and which holds no message (message/rfc822, a digest). Anything
//! else (a part whose boundary never comes, a nested message, a multipart with no boundary)
//! gives `None`, and the message is left to mail-parser whole. A test holds the two to the
//! same answer, part by part, on the corpus and on crafted shapes.

use mail_parser::parsers::MessageStream;
use mail_parser::{ContentType, Encoding, GetHeader, HeaderName, Message, MessageParser, MessagePart, PartType};

/// Multiparts nested deeper than this are left to mail-parser.
const MAX_DEPTH: usize = 16;

/// What a part is, for deciding where it is filed (mail-parser's own classes).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Mixed,
    Alternative,
    Related,
    Digest,
    /// A multipart of another subtype (signed, report ...).
    OtherMultipart,
    Plain,
    Html,
    OtherText,
    /// image, audio, video: shown inline unless marked as attachments.
    Media,
    Message,
    Other,
}

/// How a part is to be read: its kind, whether it may be shown inline, whether it is text.
struct Class {
    kind: Kind,
    multipart: bool,
    inline: bool,
    text: bool,
}

fn class(content_type: Option<&ContentType<'_>>, parent: Kind) -> Class {
    let (kind, multipart, inline, text) = match content_type {
        None if parent == Kind::Digest => (Kind::Message, false, false, false),
        None => (Kind::Plain, false, true, true),
        Some(ct) => match (ct.ctype(), ct.subtype()) {
            ("multipart", sub) => {
                let kind = match sub {
                    Some("mixed") => Kind::Mixed,
                    Some("alternative") => Kind::Alternative,
                    Some("related") => Kind::Related,
                    Some("digest") => Kind::Digest,
                    _ => Kind::OtherMultipart,
                };
                (kind, true, false, false)
            }
            ("text", Some("plain")) => (Kind::Plain, false, true, true),
            ("text", Some("html")) => (Kind::Html, false, true, true),
            ("text", _) => (Kind::OtherText, false, false, true),
            ("image" | "audio" | "video", _) => (Kind::Media, false, true, false),
            ("message", Some("rfc822" | "global")) => (Kind::Message, false, false, false),
            _ => (Kind::Other, false, false, false),
        },
    };
    Class { kind, multipart, inline, text }
}

/// One multipart being read, and what has been filed while reading it.
struct Level {
    kind: Kind,
    /// `--` and the boundary: what opens each of its parts.
    delimiter: Vec<u8>,
    in_alternative: bool,
    need_html: bool,
    need_text: bool,
    /// How many of its parts have been met so far.
    parts: usize,
    /// The lengths of the text and HTML lists when it opened.
    text_before: usize,
    html_before: usize,
    /// Its own index among the message's parts.
    id: usize,
    children: Vec<u32>,
}

struct Walk<'x, 'p> {
    raw: &'x [u8],
    stream: MessageStream<'x>,
    parser: &'p MessageParser,
    message: Message<'x>,
}

/// The structure of `raw` as `parser.parse(raw)` gives it, with the text of the text parts
/// left empty, or `None` when the message is not a multipart read the same way for certain.
pub fn walk<'x>(raw: &'x [u8], parser: &MessageParser) -> Option<Message<'x>> {
    let mut walk = Walk {
        raw,
        stream: MessageStream::new(raw),
        parser,
        message: Message {
            html_body: Vec::new(),
            text_body: Vec::new(),
            attachments: Vec::new(),
            parts: Vec::new(),
            raw_message: std::borrow::Cow::Borrowed(raw),
        },
    };
    let mut headers = Vec::new();
    if !walk.stream.parse_headers(parser, &mut headers) {
        return None;
    }
    let root = walk.open(headers, 0, Kind::Message, false, (true, true))?;
    walk.read_level(root, 1)?;
    walk.message.parts[0].offset_end = u32::try_from(raw.len()).ok()?;
    Some(walk.message)
}

impl<'x> Walk<'x, '_> {
    /// Opens the multipart whose headers were just read: files it as a part and moves past
    /// its first boundary. `None` when it is not a multipart that is read here.
    fn open(
        &mut self,
        headers: Vec<mail_parser::Header<'x>>,
        offset_header: usize,
        parent: Kind,
        in_alternative: bool,
        (need_html, need_text): (bool, bool),
    ) -> Option<Level> {
        let offset_body = self.stream.offset();
        let content_type = headers.header_value(&HeaderName::ContentType).and_then(|v| v.as_content_type());
        let class = class(content_type, parent);
        let boundary = content_type.and_then(|ct| ct.attribute("boundary"))?;
        if !class.multipart || class.kind == Kind::Digest || boundary.is_empty() {
            return None;
        }
        let delimiter = [b"--", boundary.as_bytes()].concat();
        let first = memchr::memmem::find(&self.raw[offset_body..], &delimiter)?;
        self.stream.skip_bytes(first + delimiter.len());
        self.stream.skip_crlf();
        let id = self.message.parts.len();
        self.message.parts.push(MessagePart {
            headers,
            is_encoding_problem: false,
            body: PartType::Multipart(Vec::new()),
            encoding: Encoding::None,
            offset_header: u32::try_from(offset_header).ok()?,
            offset_body: u32::try_from(offset_body).ok()?,
            offset_end: 0,
        });
        Some(Level {
            kind: class.kind,
            delimiter,
            in_alternative: in_alternative || class.kind == Kind::Alternative,
            need_html,
            need_text,
            parts: 0,
            text_before: self.message.text_body.len(),
            html_before: self.message.html_body.len(),
            id,
            children: Vec::new(),
        })
    }

    /// Reads the parts of an opened multipart up to and past its closing boundary.
    fn read_level(&mut self, mut level: Level, depth: usize) -> Option<()> {
        loop {
            let offset_header = self.stream.offset();
            let mut headers = Vec::new();
            if !self.stream.parse_headers(self.parser, &mut headers) {
                return None;
            }
            level.parts += 1;
            let id = self.message.parts.len();
            level.children.push(u32::try_from(id).ok()?);
            let content_type = headers.header_value(&HeaderName::ContentType).and_then(|v| v.as_content_type());
            let class = class(content_type, level.kind);
            if class.multipart {
                if depth >= MAX_DEPTH {
                    return None;
                }
                let need = (level.need_html, level.need_text);
                let inner = self.open(headers, offset_header, level.kind, level.in_alternative, need)?;
                self.read_level(inner, depth + 1)?;
                // The inner multipart ends where the line of this one's next boundary starts.
                let end = self.stream.seek_next_part_offset(&level.delimiter[2..])?;
                self.message.parts[id].offset_end = u32::try_from(end).ok()?;
            } else {
                let named = content_type.is_some_and(|ct| ct.has_attribute("name"));
                self.read_leaf(&mut level, headers, offset_header, named, class)?;
            }
            if self.stream.is_multipart_end() {
                self.close(level);
                return Some(());
            }
        }
    }

    /// Files one part that is not a multipart and moves past the boundary after it.
    fn read_leaf(
        &mut self,
        level: &mut Level,
        headers: Vec<mail_parser::Header<'x>>,
        offset_header: usize,
        named: bool,
        class: Class,
    ) -> Option<()> {
        if class.kind == Kind::Message {
            return None;
        }
        let offset_body = self.stream.offset();
        let at = offset_body + memchr::memmem::find(&self.raw[offset_body..], &level.delimiter)?;
        // The body ends before the line break in front of the boundary, or at the boundary
        // itself when it does not start a line.
        let offset_end = if at > offset_body && self.raw[at - 1] == b'\n' {
            let newline = at - 1;
            if newline > offset_body && self.raw[newline - 1] == b'\r' { newline - 1 } else { newline }
        } else {
            at
        };
        self.stream.skip_bytes(at + level.delimiter.len() - offset_body);

        let attached = headers
            .header_value(&HeaderName::ContentDisposition)
            .is_some_and(|d| d.as_content_type().is_some_and(|ct| ct.is_attachment()));
        let inline = class.inline
            && !attached
            && (level.parts == 1 || level.kind != Kind::Related && (class.kind == Kind::Media || !named));
        let (to_html, to_text) = if level.kind == Kind::Alternative {
            (class.kind == Kind::Html, class.kind == Kind::Plain)
        } else if inline {
            if level.in_alternative && (level.need_text || level.need_html) {
                match class.kind {
                    Kind::Html => level.need_text = false,
                    Kind::Plain => level.need_html = false,
                    _ => {}
                }
            }
            (level.need_html, level.need_text)
        } else {
            (false, false)
        };
        let id = u32::try_from(self.message.parts.len()).ok()?;
        if to_html {
            self.message.html_body.push(id);
        }
        if to_text {
            self.message.text_body.push(id);
        }
        let empty = std::borrow::Cow::Borrowed("");
        let body = if class.text {
            let html = class.kind == Kind::Html;
            if (html && !to_html) || (!html && !to_text) {
                self.message.attachments.push(id);
            }
            if html { PartType::Html(empty) } else { PartType::Text(empty) }
        } else {
            self.message.attachments.push(id);
            let bytes = std::borrow::Cow::Borrowed(&b""[..]);
            if inline { PartType::InlineBinary(bytes) } else { PartType::Binary(bytes) }
        };
        self.message.parts.push(MessagePart {
            headers,
            is_encoding_problem: false,
            body,
            encoding: Encoding::None,
            offset_header: u32::try_from(offset_header).ok()?,
            offset_body: u32::try_from(offset_body).ok()?,
            offset_end: u32::try_from(offset_end).ok()?,
        });
        Some(())
    }

    /// A multipart's closing boundary was read: an alternative with only HTML (or only text)
    /// has that part filed as both, and the multipart's part lists its children.
    fn close(&mut self, level: Level) {
        let message = &mut self.message;
        if level.kind == Kind::Alternative && level.need_html && level.need_text {
            if level.text_before == message.text_body.len() && level.html_before != message.html_body.len() {
                let htmls = message.html_body[level.html_before..].to_vec();
                message.text_body.extend(htmls);
            }
            if level.html_before == message.html_body.len() && level.text_before != message.text_body.len() {
                let texts = message.text_body[level.text_before..].to_vec();
                message.html_body.extend(texts);
            }
        }
        message.parts[level.id].body = PartType::Multipart(level.children);
    }
}
