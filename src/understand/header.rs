//! Decoding header text: RFC 2047 encoded-words and raw eight-bit bytes.
//!
//! Japanese subjects are commonly split over several encoded-words, and mailers split them
//! in the middle of a character (or of an ISO-2022-JP escape sequence). Decoding each word on
//! its own, as most libraries do, leaves the broken halves as mojibake. Here adjacent words in
//! the same charset are joined as bytes first and decoded once. Raw eight-bit headers (a
//! Shift_JIS subject sent without encoding) go through the same charset detection as bodies.

use super::charset;
use mail_parser::decoders::{base64::base64_decode, quoted_printable::quoted_printable_decode};

/// Decodes a raw header value (unfolded or not) into text.
pub fn decode_header(raw: &[u8]) -> String {
    let unfolded = unfold(raw);
    let mut out = String::new();
    // Runs of bytes waiting to be decoded together: (charset of the encoded words or None for
    // plain text, bytes).
    let mut pending: Option<(Option<String>, Vec<u8>)> = None;
    let mut rest = unfolded.as_slice();
    while !rest.is_empty() {
        if let Some((charset, bytes, used)) = encoded_word(rest) {
            let same = matches!(&pending, Some((Some(c), _)) if c.eq_ignore_ascii_case(&charset));
            if !same {
                flush(&mut pending, &mut out);
                pending = Some((Some(charset), Vec::new()));
            }
            if let Some((_, buf)) = pending.as_mut() {
                buf.extend_from_slice(&bytes);
            }
            rest = &rest[used..];
            continue;
        }
        // Whitespace between two encoded-words is dropped (RFC 2047 section 6.2).
        let ws = rest.iter().take_while(|b| **b == b' ' || **b == b'\t').count();
        if ws > 0 && matches!(pending, Some((Some(_), _))) && encoded_word(&rest[ws..]).is_some() {
            rest = &rest[ws..];
            continue;
        }
        // Plain text up to the next possible encoded-word.
        let len = rest[1..].windows(2).position(|w| w == b"=?").map(|p| p + 1).unwrap_or(rest.len());
        if matches!(pending, Some((Some(_), _))) {
            flush(&mut pending, &mut out);
        }
        match pending.as_mut() {
            Some((None, buf)) => buf.extend_from_slice(&rest[..len]),
            _ => pending = Some((None, rest[..len].to_vec())),
        }
        rest = &rest[len..];
    }
    flush(&mut pending, &mut out);
    out.trim().to_string()
}

fn flush(pending: &mut Option<(Option<String>, Vec<u8>)>, out: &mut String) {
    if let Some((charset, bytes)) = pending.take() {
        let decoded = charset::decode_owned(bytes, charset.as_deref());
        if out.is_empty() {
            *out = decoded.text;
        } else {
            out.push_str(&decoded.text);
        }
    }
}

fn unfold(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'\r' | b'\n' => {
                // CRLF followed by whitespace is a fold: it becomes nothing but the whitespace.
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// The longest encoded-word looked for. RFC 2047 allows 75 characters; mailers write longer
/// ones, but never this long. The bound keeps a header of unterminated `=?` words linear.
const MAX_WORD: usize = 1024;

/// Where `?=` starts in `text`.
fn end_of_word(text: &[u8]) -> Option<usize> {
    let mut from = 0;
    loop {
        let q = from + text.get(from..)?.iter().position(|b| *b == b'?')?;
        if text.get(q + 1) == Some(&b'=') {
            return Some(q);
        }
        from = q + 1;
    }
}

/// Parses `=?charset[*lang]?B|Q?text?=` at the start of `s`: (charset, decoded bytes, length).
/// Spaces inside the text are not allowed by RFC 2047 but some mailers write them: in Q they
/// are spaces, in B they are dropped.
fn encoded_word(s: &[u8]) -> Option<(String, Vec<u8>, usize)> {
    let body = s.strip_prefix(b"=?")?;
    let body = &body[..body.len().min(MAX_WORD)];
    let q1 = body.iter().take(64).position(|b| *b == b'?')?;
    let charset =
        std::str::from_utf8(&body[..q1]).ok().filter(|c| !c.is_empty() && !c.contains(char::is_whitespace))?;
    let charset = charset.split('*').next().unwrap_or(charset).to_string();
    let enc = *body.get(q1 + 1)?;
    if body.get(q1 + 2) != Some(&b'?') {
        return None;
    }
    let text_start = q1 + 3;
    let text_len = end_of_word(body.get(text_start..)?)?;
    let text = &body[text_start..text_start + text_len];
    let bytes = match enc.to_ascii_uppercase() {
        // mail-parser's decoder also accepts words without their '=' padding.
        b'B' => {
            let packed: Vec<u8> = text.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
            base64_decode(&packed)?
        }
        b'Q' => {
            let spaced: Vec<u8> = text.iter().map(|b| if *b == b'_' { b' ' } else { *b }).collect();
            quoted_printable_decode(&spaced).unwrap_or(spaced)
        }
        _ => return None,
    };
    Some((charset, bytes, 2 + text_start + text_len + 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ascii() {
        assert_eq!(decode_header(b"Login fails\r\n since today"), "Login fails since today");
    }

    #[test]
    fn utf8_base64_split_mid_character() {
        // "障害" is e9 9a 9c e5 ae b3; split after the fourth byte.
        let a = "=?UTF-8?B?6Zqc5Q==?=";
        let b = "=?UTF-8?B?rrM=?=";
        assert_eq!(decode_header(format!("{a}\r\n {b}").as_bytes()), "障害");
    }

    #[test]
    fn iso2022jp_split_inside_escape_sequence() {
        // ESC $ B 8N>c (故障) ESC ( B, split after "ESC $".
        let first = b"\x1b$";
        let second = b"B8N>c\x1b(B";
        let enc = |b: &[u8]| {
            let mut s = String::new();
            for chunk in b.chunks(3) {
                let n = u32::from_be_bytes([
                    0,
                    *chunk.first().unwrap_or(&0),
                    *chunk.get(1).unwrap_or(&0),
                    *chunk.get(2).unwrap_or(&0),
                ]);
                let table = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
                for k in 0..4 {
                    if k <= chunk.len() {
                        s.push(table[((n >> (18 - 6 * k)) & 63) as usize] as char);
                    } else {
                        s.push('=');
                    }
                }
            }
            s
        };
        let header = format!("=?ISO-2022-JP?B?{}?= =?iso-2022-jp?B?{}?=", enc(first), enc(second));
        assert_eq!(decode_header(header.as_bytes()), "故障");
    }

    #[test]
    fn raw_shift_jis_subject() {
        let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode("ログインできません");
        assert_eq!(decode_header(&bytes), "ログインできません");
    }

    #[test]
    fn q_encoding_and_text_around_words() {
        assert_eq!(decode_header(b"Re: =?utf-8?Q?caf=C3=A9_au_lait?= ok"), "Re: café au lait ok");
    }

    #[test]
    fn malformed_words_are_kept_as_text() {
        assert_eq!(decode_header(b"=?utf-8?X?abc?= =?broken"), "=?utf-8?X?abc?= =?broken");
    }

    #[test]
    fn raw_chinese_and_latin1_headers() {
        let gb = encoding_rs::GB18030.encode("系统无法登录，请帮忙处理").0.into_owned();
        assert_eq!(decode_header(&gb), "系统无法登录，请帮忙处理");
        let latin1 = encoding_rs::WINDOWS_1252.encode("Anmeldung schlägt fehl: größere Dateien").0.into_owned();
        assert_eq!(decode_header(&latin1), "Anmeldung schlägt fehl: größere Dateien");
    }

    #[test]
    fn words_with_spaces_inside_are_decoded() {
        // Q with a literal space, as some web mailers write it.
        assert_eq!(decode_header(b"=?utf-8?Q?Login fails?="), "Login fails");
        // B broken by a space (a mailer that folded inside the word).
        assert_eq!(decode_header(b"=?UTF-8?B?44Ot44Kw44Kk 44Oz?="), "ログイン");
        assert_eq!(decode_header(b"=?iso-8859-1?q?Gr=FC=DFe aus K=F6ln?="), "Grüße aus Köln");
    }

    #[test]
    fn unterminated_words_cost_one_pass() {
        // A megabyte of `=?` that never ends: kept as text, and decoded at all (the old scan
        // looked to the end of the header from every `=?`).
        let raw = "=?utf-8?B?QUJD".repeat(70_000);
        let out = decode_header(raw.as_bytes());
        assert_eq!(out.len(), raw.len());
        let raw = format!("{}=?utf-8?Q?end?=", "=?".repeat(500_000));
        assert!(decode_header(raw.as_bytes()).ends_with("end"));
    }
}
