//! Turning the bytes of a Japanese or English mail into text, whatever its charset label says.
//!
//! Japanese mail arrives as ISO-2022-JP (often with the NEC and IBM extension characters that
//! Outlook sends, i.e. really CP50220/CP50221), Shift_JIS (really CP932), EUC-JP or UTF-8, and
//! the label is missing or wrong often enough that trusting it produces mojibake, the most
//! common complaint against today's help desks. This module decodes by the label when the bytes
//! agree with it, and otherwise detects the charset from the bytes and says so in a warning.

use encoding_rs::{EUC_JP, Encoding, SHIFT_JIS, UTF_8};

/// What a charset label names, after aliases are resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    /// ISO-2022-JP and its Microsoft supersets (CP50220/50221/50222, ISO-2022-JP-MS).
    Iso2022Jp,
    /// Shift_JIS and its supersets; decoded as CP932 (Windows-31J) in every case.
    ShiftJis,
    /// EUC-JP (and eucJP-ms, CP51932).
    EucJp,
    Utf8,
    /// US-ASCII: seven-bit text, so any eight-bit or escape byte means the label is wrong.
    Ascii,
    /// A label the WHATWG encoding registry knows (Latin-1, windows-1252, ...).
    Other(&'static Encoding),
    /// No label, or one nobody knows.
    Unknown,
}

fn family(label: Option<&str>) -> Family {
    let Some(label) = label else { return Family::Unknown };
    let label = label.trim().trim_matches(|c| c == '"' || c == '\'').to_ascii_lowercase();
    match label.as_str() {
        "" => Family::Unknown,
        "iso-2022-jp"
        | "iso2022jp"
        | "iso-2022-jp-ms"
        | "iso-2022-jp-1"
        | "iso-2022-jp-2"
        | "iso-2022-jp-3"
        | "iso-2022-jp-ext"
        | "cp50220"
        | "cp50221"
        | "cp50222"
        | "csiso2022jp"
        | "jis"
        | "x-windows-iso2022jp" => Family::Iso2022Jp,
        "shift_jis" | "shift-jis" | "sjis" | "x-sjis" | "s-jis" | "cp932" | "ms932" | "windows-31j" | "csshiftjis"
        | "ms_kanji" | "cswindows31j" | "x-ms-cp932" | "windows-932" | "ibm-943" | "shift_jisx0213" => Family::ShiftJis,
        "euc-jp"
        | "eucjp"
        | "x-euc-jp"
        | "eucjp-ms"
        | "euc-jp-ms"
        | "cp51932"
        | "cseucpkdfmtjapanese"
        | "euc-jis-2004" => Family::EucJp,
        "utf-8" | "utf8" | "unicode-1-1-utf-8" | "x-unicode20utf8" => Family::Utf8,
        "us-ascii" | "ascii" | "ansi_x3.4-1968" | "iso646-us" | "7bit" => Family::Ascii,
        other => match Encoding::for_label(other.as_bytes()) {
            Some(enc) if enc == SHIFT_JIS => Family::ShiftJis,
            Some(enc) if enc == EUC_JP => Family::EucJp,
            Some(enc) if enc == UTF_8 => Family::Utf8,
            Some(enc) if enc == encoding_rs::ISO_2022_JP => Family::Iso2022Jp,
            Some(enc) => Family::Other(enc),
            None => Family::Unknown,
        },
    }
}

/// Text decoded from bytes, with a note when the label could not be trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// The charset the text was actually decoded as.
    pub charset: &'static str,
    /// Set when the label was missing, unknown or contradicted by the bytes.
    pub warning: Option<String>,
}

/// Decodes `bytes` declared as `label`, detecting the real charset when the label is missing,
/// unknown or contradicted by the bytes. Never fails: undecodable bytes become U+FFFD.
pub fn decode(bytes: &[u8], label: Option<&str>) -> Decoded {
    let declared = family(label);
    let seven_bit = bytes.is_ascii();
    let has_jis_escape = seven_bit && looks_like_iso2022jp(bytes);
    let shown = label.unwrap_or("none");
    let fits = |charset: &'static str| Decoded { text: String::new(), charset, warning: None };

    // The label agrees with the bytes: use it.
    let trusted = match declared {
        Family::Iso2022Jp if seven_bit => Some(fits("ISO-2022-JP (CP50221)")),
        Family::ShiftJis if !has_jis_escape && clean(SHIFT_JIS, bytes) => Some(fits("CP932")),
        Family::EucJp if !has_jis_escape && clean(EUC_JP, bytes) => Some(fits("EUC-JP")),
        Family::Utf8 if !has_jis_escape && std::str::from_utf8(bytes).is_ok() => Some(fits("UTF-8")),
        Family::Ascii | Family::Unknown if seven_bit && !has_jis_escape => Some(fits("US-ASCII")),
        Family::Other(_) if seven_bit && !has_jis_escape => Some(fits("US-ASCII")),
        Family::Other(enc) if !seven_bit => {
            // A western label on Japanese bytes is the classic wrong label. Only override it
            // when the bytes read as Japanese with kana in them, not merely as valid CP932.
            match sniff_eight_bit(bytes) {
                Some(found) if found.japanese => None,
                _ => Some(Decoded { text: String::new(), charset: enc.name(), warning: None }),
            }
        }
        _ => None,
    };
    if let Some(mut decoded) = trusted {
        decoded.text = decode_as(decoded.charset, bytes);
        return decoded;
    }

    // The label is missing, unknown or wrong: detect from the bytes.
    let charset = if has_jis_escape {
        "ISO-2022-JP (CP50221)"
    } else if seven_bit {
        "US-ASCII"
    } else if std::str::from_utf8(bytes).is_ok() {
        "UTF-8"
    } else {
        match sniff_eight_bit(bytes) {
            Some(found) => found.charset,
            None => "CP932",
        }
    };
    let warning = match declared {
        Family::Unknown if label.is_none() => {
            (!seven_bit || has_jis_escape).then(|| format!("no charset label; detected {charset}"))
        }
        Family::Unknown => Some(format!("unknown charset label {shown:?}; detected {charset}")),
        _ => Some(format!("charset label {shown:?} does not fit the bytes; decoded as {charset}")),
    };
    Decoded { text: decode_as(charset, bytes), charset, warning }
}

fn decode_as(charset: &str, bytes: &[u8]) -> String {
    match charset {
        "ISO-2022-JP (CP50221)" => decode_iso2022jp(bytes),
        "US-ASCII" | "UTF-8" => String::from_utf8_lossy(bytes).into_owned(),
        "CP932" => SHIFT_JIS.decode_without_bom_handling(bytes).0.into_owned(),
        "EUC-JP" => EUC_JP.decode_without_bom_handling(bytes).0.into_owned(),
        other => Encoding::for_label(other.as_bytes())
            .unwrap_or(encoding_rs::WINDOWS_1252)
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

fn clean(encoding: &'static Encoding, bytes: &[u8]) -> bool {
    encoding.decode_without_bom_handling_and_without_replacement(bytes).is_some()
}

/// ESC sequences that designate JIS character sets in ISO-2022-JP.
fn looks_like_iso2022jp(bytes: &[u8]) -> bool {
    bytes
        .windows(3)
        .any(|w| w[0] == 0x1b && matches!((w[1], w[2]), (b'$', b'B') | (b'$', b'@') | (b'(', b'I') | (b'$', b'(')))
}

struct Sniffed {
    charset: &'static str,
    /// The text has kana in it: it is Japanese, not just bytes that happen to be valid.
    japanese: bool,
}

/// Chooses between CP932 and EUC-JP for eight-bit bytes that are not UTF-8, by which decodes
/// cleanly and reads most like Japanese.
fn sniff_eight_bit(bytes: &[u8]) -> Option<Sniffed> {
    let mut best: Option<(i64, Sniffed)> = None;
    for (encoding, charset) in [(SHIFT_JIS, "CP932"), (EUC_JP, "EUC-JP")] {
        let Some(text) = encoding.decode_without_bom_handling_and_without_replacement(bytes) else {
            continue;
        };
        let (score, kana) = japanese_score(&text);
        if best.as_ref().is_none_or(|(s, _)| score > *s) {
            best = Some((score, Sniffed { charset, japanese: kana >= 2 && score > 0 }));
        }
    }
    best.map(|(_, s)| s)
}

/// Scores how much a text reads like Japanese: kana and common kanji count for it, half-width
/// katakana and rare symbols (what the wrong decoder produces) against it.
fn japanese_score(text: &str) -> (i64, usize) {
    let mut score = 0i64;
    let mut kana = 0usize;
    for c in text.chars() {
        match c {
            '\u{3041}'..='\u{309F}' | '\u{30A0}'..='\u{30FF}' => {
                score += 2;
                kana += 1;
            }
            '\u{4E00}'..='\u{9FFF}' | '\u{3000}'..='\u{303F}' | '\u{FF01}'..='\u{FF5E}' => score += 1,
            '\u{FF61}'..='\u{FF9F}' => score -= 1,
            c if !c.is_ascii() => score -= 2,
            _ => {}
        }
    }
    (score, kana)
}

/// Decodes ISO-2022-JP as Microsoft's CP50221 does, so the NEC special characters (①, ㈱, Ⅲ),
/// the NEC-selected IBM extension kanji and half-width katakana (ESC ( I, SO/SI, or raw
/// eight-bit) survive. JIS X 0208 pairs are converted to Shift_JIS and decoded as CP932 in one
/// pass, which is where those extension characters live.
pub fn decode_iso2022jp(bytes: &[u8]) -> String {
    #[derive(Clone, Copy, PartialEq)]
    enum Mode {
        Ascii,
        Jis0208,
        Jis0212,
        Katakana,
    }
    let mut out = String::with_capacity(bytes.len());
    let mut sjis: Vec<u8> = Vec::with_capacity(bytes.len());
    let flush = |sjis: &mut Vec<u8>, out: &mut String| {
        if !sjis.is_empty() {
            out.push_str(&SHIFT_JIS.decode_without_bom_handling(sjis).0);
            sjis.clear();
        }
    };
    let mut mode = Mode::Ascii;
    let mut shifted = false; // SO ... SI: half-width katakana (CP50222)
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == 0x1b {
            let rest = &bytes[i + 1..];
            let (next, len) = match rest {
                [b'(', b'B' | b'J' | b'H', ..] => (Mode::Ascii, 3),
                [b'(', b'I', ..] => (Mode::Katakana, 3),
                [b'$', b'@' | b'B', ..] => (Mode::Jis0208, 3),
                [b'&', b'@', 0x1b, b'$', b'B', ..] => (Mode::Jis0208, 6),
                [b'$', b'(', b'D', ..] => (Mode::Jis0212, 4),
                [b'$', b'(', b'B' | b'Q' | b'O', ..] => (Mode::Jis0208, 4),
                _ => {
                    // An escape we do not know: drop the ESC byte and read on.
                    i += 1;
                    continue;
                }
            };
            mode = next;
            i += len;
            continue;
        }
        match b {
            0x0e => shifted = true,
            0x0f => shifted = false,
            b'\r' | b'\n' => {
                // RFC 1468: every line starts in ASCII; tolerate senders that forget to return.
                mode = Mode::Ascii;
                shifted = false;
                sjis.push(b);
            }
            0xa1..=0xdf => sjis.push(b), // raw eight-bit half-width katakana
            0x21..=0x5f if shifted || mode == Mode::Katakana => sjis.push(b + 0x80),
            0x21..=0x7e if mode == Mode::Jis0208 || mode == Mode::Jis0212 => {
                let Some(&b2) = bytes.get(i + 1).filter(|b2| (0x21..=0x7e).contains(*b2)) else {
                    flush(&mut sjis, &mut out);
                    out.push('\u{FFFD}');
                    i += 1;
                    continue;
                };
                if mode == Mode::Jis0208 {
                    let (s1, s2) = jis_to_sjis(b, b2);
                    sjis.push(s1);
                    sjis.push(s2);
                } else {
                    flush(&mut sjis, &mut out);
                    let euc = [0x8f, b | 0x80, b2 | 0x80];
                    out.push_str(&EUC_JP.decode_without_bom_handling(&euc).0);
                }
                i += 2;
                continue;
            }
            _ if b < 0x80 => sjis.push(b),
            _ => {
                flush(&mut sjis, &mut out);
                out.push('\u{FFFD}');
            }
        }
        i += 1;
    }
    flush(&mut sjis, &mut out);
    out
}

fn jis_to_sjis(j1: u8, j2: u8) -> (u8, u8) {
    let s1 = ((j1 + 1) >> 1) + if j1 <= 0x5e { 0x70 } else { 0xb0 };
    let s2 = if j1 % 2 == 1 { j2 + if j2 >= 0x60 { 0x20 } else { 0x1f } } else { j2 + 0x7e };
    (s1, s2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jis(text: &str) -> Vec<u8> {
        // Encode through CP932 and on to JIS, as Outlook's CP50220 encoder does: IBM extension
        // kanji (CP932 0xFA-0xFC) have no JIS code, so they go as their NEC-selected twins
        // (CP932 0xED-0xEE, JIS rows 89-92).
        let mut sjis = Vec::new();
        for c in text.chars() {
            let mut utf8 = [0; 4];
            let (bytes, _, _) = SHIFT_JIS.encode(c.encode_utf8(&mut utf8));
            let twin = (bytes.len() == 2 && bytes[0] >= 0xfa).then(|| {
                (0xedu8..=0xee)
                    .flat_map(|a| (0x40u8..=0xfc).map(move |b| [a, b]))
                    .find(|pair| SHIFT_JIS.decode_without_bom_handling(pair).0.chars().eq(std::iter::once(c)))
            });
            match twin.flatten() {
                Some(pair) => sjis.extend_from_slice(&pair),
                None => sjis.extend_from_slice(&bytes),
            }
        }
        let mut out = Vec::new();
        let mut in_kanji = false;
        let mut i = 0;
        while i < sjis.len() {
            let b = sjis[i];
            if b < 0x80 {
                if in_kanji {
                    out.extend_from_slice(b"\x1b(B");
                    in_kanji = false;
                }
                out.push(b);
                i += 1;
            } else {
                if !in_kanji {
                    out.extend_from_slice(b"\x1b$B");
                    in_kanji = true;
                }
                let (s1, s2) = (sjis[i] as u16, sjis[i + 1] as u16);
                let adjust = if s2 < 0x9f { 1 } else { 0 };
                let row = if s1 < 0xa0 { s1 - 0x70 } else { s1 - 0xb0 };
                let j1 = (row << 1) - adjust;
                let j2 = if adjust == 1 { if s2 > 0x7f { s2 - 0x20 } else { s2 - 0x1f } } else { s2 - 0x7e };
                out.push(j1 as u8);
                out.push(j2 as u8);
                i += 2;
            }
        }
        if in_kanji {
            out.extend_from_slice(b"\x1b(B");
        }
        out
    }

    #[test]
    fn iso2022jp_keeps_nec_and_ibm_extension_characters() {
        let text = "①株式会社㈱のⅢ期、髙﨑様 №12 ㍉";
        let decoded = decode(&jis(text), Some("ISO-2022-JP"));
        assert_eq!(decoded.text, text);
        assert!(decoded.warning.is_none());
    }

    #[test]
    fn iso2022jp_without_label_is_detected() {
        let decoded = decode(&jis("ログインできません"), None);
        assert_eq!(decoded.text, "ログインできません");
        assert!(decoded.warning.unwrap().contains("ISO-2022-JP"));
    }

    #[test]
    fn shift_jis_with_a_western_label_is_detected() {
        let (bytes, _, _) = SHIFT_JIS.encode("お世話になっております。①の件です");
        let decoded = decode(&bytes, Some("iso-8859-1"));
        assert_eq!(decoded.text, "お世話になっております。①の件です");
        assert_eq!(decoded.charset, "CP932");
        assert!(decoded.warning.is_some());
    }

    #[test]
    fn euc_jp_without_label_is_told_from_shift_jis() {
        let (bytes, _, _) = EUC_JP.encode("エラーが発生しました。再現手順は以下の通りです");
        let decoded = decode(&bytes, None);
        assert_eq!(decoded.charset, "EUC-JP");
        assert_eq!(decoded.text, "エラーが発生しました。再現手順は以下の通りです");
    }

    #[test]
    fn latin1_with_accents_stays_latin1() {
        let decoded = decode(b"Caf\xe9 cr\xe8me br\xfbl\xe9e", Some("iso-8859-1"));
        assert_eq!(decoded.text, "Café crème brûlée");
        assert!(decoded.warning.is_none());
    }

    #[test]
    fn cp932_labels_and_half_width_katakana() {
        let (bytes, _, _) = SHIFT_JIS.encode("ｶﾀｶﾅとかな");
        for label in ["CP932", "x-sjis", "Windows-31J", "shift_jis", "MS_Kanji"] {
            assert_eq!(decode(&bytes, Some(label)).text, "ｶﾀｶﾅとかな", "{label}");
        }
        assert_eq!(decode_iso2022jp(b"\x1b(I6@6E\x1b(B"), "ｶﾀｶﾅ");
        assert_eq!(decode_iso2022jp(b"\x0e6@6E\x0f!"), "ｶﾀｶﾅ!");
    }

    #[test]
    fn utf8_labelled_as_iso2022jp_is_read_as_utf8() {
        let decoded = decode("障害報告".as_bytes(), Some("ISO-2022-JP"));
        assert_eq!(decoded.text, "障害報告");
    }

    #[test]
    fn truncated_iso2022jp_does_not_panic() {
        for cut in 0..12 {
            let bytes = jis("障害報告");
            let _ = decode(&bytes[..cut.min(bytes.len())], Some("iso-2022-jp"));
        }
        assert_eq!(decode_iso2022jp(b"\x1b$B%"), "\u{FFFD}");
        assert_eq!(decode_iso2022jp(b"\x1b"), "");
    }
}
