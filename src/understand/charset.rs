//! Turning the bytes of a mail into text, whatever its charset label says.
//!
//! Japanese mail arrives as ISO-2022-JP (often with the NEC and IBM extension characters that
//! Outlook sends, i.e. really CP50220/CP50221), Shift_JIS (really CP932), EUC-JP or UTF-8, and
//! the label is missing or wrong often enough that trusting it produces mojibake, the most
//! common complaint against today's help desks. This module decodes by the label when the bytes
//! agree with it, and otherwise detects the charset from the bytes and says so in a warning.
//!
//! A label is not thrown away for a few bad bytes: a UTF-8 part with one stray byte is UTF-8
//! with one replacement character (and a warning), not a whole part of mojibake. Detection
//! weighs Chinese (GB18030, Big5), Korean (EUC-KR) and western (windows-1252) readings beside
//! the Japanese ones, by how much each reads like its language, so a Chinese mail without a
//! label is not taken for EUC-JP. UTF-16 and UTF-7 parts are decoded, not left as bytes.

use std::borrow::Cow;

use encoding_rs::{BIG5, EUC_JP, EUC_KR, Encoding, GB18030, SHIFT_JIS, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

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
    /// UTF-16 (the encoding is the one to use without a byte-order mark).
    Utf16(&'static Encoding),
    /// UTF-7 (RFC 2152), which some old mailers and gateways still send.
    Utf7,
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
        "utf-16" | "utf16" | "utf-16be" | "unicodefffe" | "ucs-2" | "iso-10646-ucs-2" | "csunicode" => {
            Family::Utf16(UTF_16BE)
        }
        "utf-16le" | "unicode" | "unicodefeff" | "ucs-2le" => Family::Utf16(UTF_16LE),
        "utf-7" | "utf7" | "unicode-1-1-utf-7" | "csunicode11utf7" | "x-unicode20utf7" => Family::Utf7,
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
    decode_cow(Cow::Borrowed(bytes), label)
}

/// [`decode`] of bytes that are already the caller's own (a part just freed of its transfer
/// encoding): UTF-8 and ASCII text becomes the string without being copied.
pub fn decode_owned(bytes: Vec<u8>, label: Option<&str>) -> Decoded {
    decode_cow(Cow::Owned(bytes), label)
}

fn decode_cow(owned: Cow<'_, [u8]>, label: Option<&str>) -> Decoded {
    let bytes: &[u8] = &owned;
    let declared = family(label);
    let seven_bit = bytes.is_ascii();
    let has_jis_escape = seven_bit && looks_like_iso2022jp(bytes);
    let shown = label.unwrap_or("none");
    let fits = |charset: &'static str| Decoded { text: String::new(), charset, warning: None };

    match declared {
        Family::Utf16(default) => {
            // The byte-order mark decides; without one, the label's order (RFC 2781: big
            // endian), unless the bytes plainly say otherwise.
            let enc = Encoding::for_bom(bytes).map(|(e, _)| e).unwrap_or_else(|| utf16_order(bytes).unwrap_or(default));
            let (text, _, errors) = enc.decode(bytes);
            let warning =
                errors.then(|| "a UTF-16 part has bytes that are not UTF-16; they are shown as U+FFFD".to_string());
            return Decoded { text: text.into_owned(), charset: enc.name(), warning };
        }
        Family::Utf7 if seven_bit => return Decoded { text: decode_utf7(bytes), charset: "UTF-7", warning: None },
        _ => {}
    }

    // The label agrees with the bytes: use it.
    let trusted = match declared {
        Family::Iso2022Jp if seven_bit => Some(fits("ISO-2022-JP (CP50221)")),
        Family::ShiftJis if !has_jis_escape && clean(SHIFT_JIS, bytes) => Some(fits("CP932")),
        Family::EucJp if !has_jis_escape && clean(EUC_JP, bytes) => Some(fits("EUC-JP")),
        Family::Utf8 if !has_jis_escape && std::str::from_utf8(bytes).is_ok() => Some(fits("UTF-8")),
        // UTF-8 with a few stray bytes is still UTF-8: the label wins, the bytes are replaced.
        Family::Utf8 if !has_jis_escape && mostly_utf8(bytes) => {
            let bad = bytes.utf8_chunks().filter(|c| !c.invalid().is_empty()).count();
            Some(Decoded {
                text: String::new(),
                charset: "UTF-8",
                warning: Some(format!("{bad} byte sequences of this UTF-8 part are not UTF-8; shown as U+FFFD")),
            })
        }
        Family::ShiftJis | Family::EucJp if !has_jis_escape => {
            let enc = if declared == Family::ShiftJis { SHIFT_JIS } else { EUC_JP };
            let (text, _) = enc.decode_without_bom_handling(bytes);
            let bad = text.matches('\u{FFFD}').count();
            let (score, kana) = japanese_score(&text);
            (bad * 100 <= text.chars().count().max(300) && kana >= 2 && score > 0).then(|| Decoded {
                text: String::new(),
                charset: if declared == Family::ShiftJis { "CP932" } else { "EUC-JP" },
                warning: Some(format!("{bad} characters of this part are not {}; shown as U+FFFD", enc.name())),
            })
        }
        Family::Ascii | Family::Unknown if seven_bit && !has_jis_escape => Some(fits("US-ASCII")),
        Family::Other(_) if seven_bit && !has_jis_escape => Some(fits("US-ASCII")),
        Family::Other(enc) if !seven_bit => {
            // A western label on Japanese bytes is the classic wrong label. Only override it
            // when the bytes read as Japanese with kana in them, not merely as valid CP932.
            match sniff_eight_bit(bytes) {
                Some(found) if found.confident && found.charset != WINDOWS_1252.name() => None,
                _ => Some(Decoded { text: String::new(), charset: enc.name(), warning: None }),
            }
        }
        _ => None,
    };
    if let Some(mut decoded) = trusted {
        decoded.text = decode_as(decoded.charset, owned);
        return decoded;
    }

    // The label is missing, unknown or wrong: detect from the bytes.
    let charset = if has_jis_escape {
        "ISO-2022-JP (CP50221)"
    } else if seven_bit {
        "US-ASCII"
    } else if std::str::from_utf8(bytes).is_ok() {
        "UTF-8"
    } else if let Some(enc) = utf16_order(bytes) {
        enc.name()
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
    Decoded { text: decode_as(charset, owned), charset, warning }
}

fn decode_as(charset: &str, owned: Cow<'_, [u8]>) -> String {
    let bytes: &[u8] = &owned;
    match charset {
        "ISO-2022-JP (CP50221)" => decode_iso2022jp(bytes),
        // Valid text (nearly always) is checked by the standard library's fast path, which
        // reads ASCII a word at a time, and owned bytes become the string without a copy.
        "US-ASCII" | "UTF-8" => match owned {
            Cow::Owned(bytes) => {
                String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
            }
            Cow::Borrowed(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => text.to_owned(),
                Err(_) => String::from_utf8_lossy(bytes).into_owned(),
            },
        },
        "CP932" => SHIFT_JIS.decode_without_bom_handling(bytes).0.into_owned(),
        "EUC-JP" => EUC_JP.decode_without_bom_handling(bytes).0.into_owned(),
        "UTF-16LE" | "UTF-16BE" => {
            let enc = if charset == "UTF-16LE" { UTF_16LE } else { UTF_16BE };
            enc.decode(bytes).0.into_owned()
        }
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
    memchr::memchr_iter(0x1b, bytes).any(|at| {
        matches!(
            (bytes.get(at + 1), bytes.get(at + 2)),
            (Some(b'$'), Some(b'B' | b'@' | b'(')) | (Some(b'('), Some(b'I'))
        )
    })
}

/// UTF-8 with at most a few broken sequences: real multi-byte characters, and at most one
/// bad sequence in fifty of them (never more than a handful in a short part).
fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut good, mut bad) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        good += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        bad += usize::from(!chunk.invalid().is_empty());
    }
    good > 0 && (bad <= 3 || bad * 50 <= good) && bad * 4 <= good
}

/// UTF-16 without a byte-order mark, told by its zero bytes: text that is mostly ASCII has one
/// in every pair, on the high side.
fn utf16_order(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let pairs = bytes.len() / 2;
    let even = bytes.iter().step_by(2).filter(|b| **b == 0).count();
    let odd = bytes.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
    if odd * 10 >= pairs * 3 && even * 20 < pairs {
        Some(UTF_16LE)
    } else if even * 10 >= pairs * 3 && odd * 20 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// Decodes UTF-7 (RFC 2152): `+` opens modified base64 of UTF-16, `-` or any other character
/// closes it, `+-` is a plus sign. Broken input becomes U+FFFD, never a panic.
pub fn decode_utf7(bytes: &[u8]) -> String {
    let value = |b: u8| match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = String::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if b != b'+' {
            out.push(b as char);
            continue;
        }
        if bytes.get(i) == Some(&b'-') {
            out.push('+');
            i += 1;
            continue;
        }
        let (mut bits, mut nbits, mut units) = (0u32, 0u32, Vec::new());
        while let Some(v) = bytes.get(i).copied().and_then(value) {
            bits = (bits << 6) | u32::from(v);
            nbits += 6;
            if nbits >= 16 {
                nbits -= 16;
                units.push((bits >> nbits) as u16);
                bits &= (1 << nbits) - 1;
            }
            i += 1;
        }
        if bytes.get(i) == Some(&b'-') {
            i += 1;
        }
        out.extend(char::decode_utf16(units).map(|c| c.unwrap_or('\u{FFFD}')));
    }
    out
}

struct Sniffed {
    charset: &'static str,
    /// The text reads plainly as its language (kana for Japanese, frequent hanzi for Chinese,
    /// hangul for Korean): not merely bytes that happen to be valid.
    confident: bool,
}

/// Chooses a charset for eight-bit bytes that are not UTF-8: every candidate that decodes them
/// cleanly is read, and the one that reads most like its own language wins.
fn sniff_eight_bit(bytes: &[u8]) -> Option<Sniffed> {
    type Score = fn(&str) -> (i64, bool);
    let candidates: [(&'static Encoding, &'static str, Score); 6] = [
        (SHIFT_JIS, "CP932", |t| {
            let (s, kana) = japanese_score(t);
            (s, kana >= 2 && s > 0)
        }),
        (EUC_JP, "EUC-JP", |t| {
            let (s, kana) = japanese_score(t);
            (s, kana >= 2 && s > 0)
        }),
        (GB18030, "gb18030", chinese_score),
        (BIG5, "Big5", chinese_score),
        (EUC_KR, "EUC-KR", korean_score),
        (WINDOWS_1252, "windows-1252", western_score),
    ];
    let mut best: Option<(i64, Sniffed)> = None;
    for (encoding, charset, score) in candidates {
        let Some(text) = encoding.decode_without_bom_handling_and_without_replacement(bytes) else {
            continue;
        };
        let (points, confident) = score(&text);
        if best.as_ref().is_none_or(|(s, _)| points > *s) {
            best = Some((points, Sniffed { charset, confident }));
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

/// The characters that fill Chinese prose, simplified and traditional. A wrong decoder turns
/// Japanese or Korean bytes into hanzi too, but seldom into these.
const FREQUENT_HANZI: &str = "的一是不了在人有我他这个们中来上大为和国地到以说时要就出会可也你对生能而子那得于着下自之年过发后作里用道行所然家种事成方多经么去法学如都同现当没动面起看定天分还进好小部其些主样理心本前开但因只从想实日者意无力它与长把机十民第公此已工使情明性知全三又关点正业外将两高间由问很最重并物手应向头文体政美相见被利什二等产或新己制身果加系统请谢您问题设置登录用户邮件服务器错误显示無這個們來為國說時會對於後麼過還點現開關發經學樣與進動種話當兩問題設定錯誤顯示帳號電腦";

fn chinese_score(text: &str) -> (i64, bool) {
    let (mut score, mut frequent) = (0i64, 0usize);
    let mut prev_cjk = false;
    let chars: Vec<char> = text.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let cjk = ('\u{4E00}'..='\u{9FFF}').contains(&c);
        match c {
            _ if cjk && FREQUENT_HANZI.contains(c) => {
                score += 3;
                frequent += 1;
            }
            _ if cjk => {
                // A hanzi alone between Latin letters is a decoding accident, not Chinese.
                let next_cjk = chars.get(i + 1).is_some_and(|n| !n.is_ascii());
                score += if prev_cjk || next_cjk { 1 } else { -2 };
            }
            '\u{3000}'..='\u{303F}' | '\u{FF01}'..='\u{FF5E}' => score += 1,
            '\u{3041}'..='\u{30FF}' | '\u{AC00}'..='\u{D7A3}' => score -= 3,
            c if !c.is_ascii() => score -= 2,
            _ => {}
        }
        prev_cjk = cjk;
    }
    (score, frequent >= 2 && score > 0)
}

/// The syllables that fill Korean prose. Japanese or Chinese bytes read as EUC-KR become
/// hangul too, but rare syllables (`궓맊쁞`), seldom these.
const FREQUENT_HANGUL: &str = "이다는의에가을를하고지서한로기사니습요세수시안녕인정있없되대어나도해오류메스템그할합보주것게리자면만여우일전상제문경부들위내모저중등용화원발결생동입력확실패접속번호계정비밀영업께드립감";

fn korean_score(text: &str) -> (i64, bool) {
    let (mut score, mut hangul) = (0i64, 0usize);
    for c in text.chars() {
        match c {
            _ if FREQUENT_HANGUL.contains(c) => {
                score += 3;
                hangul += 1;
            }
            '\u{AC00}'..='\u{D7A3}' => score -= 1,
            '\u{4E00}'..='\u{9FFF}' | '\u{3000}'..='\u{303F}' | '\u{FF01}'..='\u{FF5E}' => {}
            c if !c.is_ascii() => score -= 2,
            _ => {}
        }
    }
    (score, hangul >= 2 && score > 0)
}

/// Western text: accented letters inside words count for it; runs of symbols and letters with
/// no ASCII beside them (the bytes of a multi-byte charset read one by one) against it.
fn western_score(text: &str) -> (i64, bool) {
    let chars: Vec<char> = text.chars().collect();
    let mut score = 0i64;
    let mut run = 0usize;
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii() {
            run = 0;
            continue;
        }
        run += 1;
        let letter = c.is_alphabetic() && ('\u{C0}'..='\u{17F}').contains(&c);
        let beside_ascii = i.checked_sub(1).and_then(|p| chars.get(p)).is_some_and(|p| p.is_ascii_alphabetic())
            || chars.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic());
        score += match (letter, beside_ascii, run) {
            (_, _, 3..) => -3,
            (true, true, _) => 2,
            (true, false, _) => 0,
            _ => -2,
        };
    }
    (score, score > 0)
}

/// Decodes ISO-2022-JP as Microsoft's CP50221 does, so the NEC special characters (①, ㈱, Ⅲ),
/// the NEC-selected IBM extension kanji and half-width katakana (ESC ( I, SO/SI, or raw
/// eight-bit) survive. JIS X 0208 pairs are converted to Shift_JIS and decoded as CP932 in one
/// pass, which is where those extension characters live.
pub fn decode_iso2022jp(bytes: &[u8]) -> String {
    iso2022jp(bytes, true)
}

/// [`decode_iso2022jp`]; `runs`: ASCII and JIS X 0208 runs are taken whole rather than a byte
/// at a time (the same text either way, which a test checks).
fn iso2022jp(bytes: &[u8], runs: bool) -> String {
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
        // The runs most of a text is made of, taken whole: ASCII up to the next escape, shift
        // or eight-bit byte, and JIS X 0208 pairs up to the next byte outside 0x21-0x7E.
        if runs && !shifted && mode == Mode::Ascii {
            let run = bytes[i..].iter().position(|&b| b >= 0x80 || matches!(b, 0x1b | 0x0e | 0x0f));
            let end = run.map_or(bytes.len(), |n| i + n);
            sjis.extend_from_slice(&bytes[i..end]);
            i = end;
            if i == bytes.len() {
                break;
            }
        } else if runs && !shifted && mode == Mode::Jis0208 {
            while let [j1 @ 0x21..=0x7e, j2 @ 0x21..=0x7e, ..] = bytes[i..] {
                let (s1, s2) = jis_to_sjis(j1, j2);
                sjis.push(s1);
                sjis.push(s2);
                i += 2;
            }
            if i == bytes.len() {
                break;
            }
        }
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

    #[test]
    fn iso2022jp_read_in_runs_gives_what_reading_byte_by_byte_gives() {
        // Pieces a sender could put together in any order, the broken ones too.
        let pieces: [&[u8]; 24] = [
            b"\x1b$B",
            b"\x1b(B",
            b"\x1b(J",
            b"\x1b(I",
            b"\x1b$(D",
            b"\x1b&@\x1b$B",
            b"\x1b$(Q",
            b"\x1b",
            b"\x1b$",
            b"\x0e",
            b"\x0f",
            b"\r\n",
            b"\n",
            b"ascii text ",
            b"~\\",
            b"0123",
            b">c32",
            b"%m%0",
            b"-!-\"",
            b"y!",
            b"\x7f\x21",
            b"\xb1\xb2",
            b"\x80\xff",
            b"6@6E",
        ];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let n = (next() % 12) as usize;
            let text: Vec<u8> = (0..n).flat_map(|_| pieces[(next() % pieces.len() as u64) as usize].to_vec()).collect();
            assert_eq!(decode_iso2022jp(&text), iso2022jp(&text, false), "{text:?}");
        }
    }

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
    fn a_valid_label_wins_over_a_few_stray_bytes() {
        for text in
            ["Здравствуйте! Не могу войти в систему, ошибка при входе.", "ログインできません。エラーが表示されます。"]
        {
            let mut bytes = text.as_bytes().to_vec();
            bytes.insert(bytes.len() / 2 - (bytes.len() / 2) % 3, 0xff);
            let decoded = decode(&bytes, Some("utf-8"));
            assert_eq!(decoded.charset, "UTF-8", "{text}");
            assert_eq!(decoded.text.matches('\u{FFFD}').count(), 1, "{}", decoded.text);
            assert!(decoded.warning.as_deref().is_some_and(|w| w.contains("not UTF-8")), "{:?}", decoded.warning);
            assert_eq!(decoded.text.replace('\u{FFFD}', ""), text.replace('\u{FFFD}', ""));
        }
        // Shift_JIS with one byte lost in transit: still Shift_JIS.
        let mut bytes = SHIFT_JIS.encode("お世話になっております。ログインできない件です。").0.into_owned();
        bytes.truncate(bytes.len() - 1);
        let decoded = decode(&bytes, Some("shift_jis"));
        assert_eq!(decoded.charset, "CP932");
        assert!(decoded.text.starts_with("お世話になっております。"), "{}", decoded.text);
    }

    #[test]
    fn chinese_korean_and_western_bytes_without_a_label() {
        let rows: [(&Encoding, &str, &str); 6] = [
            (GB18030, "您好，我们的系统无法登录，显示错误信息。请帮忙处理这个问题，谢谢。", "gb18030"),
            (BIG5, "您好，我們的系統無法登入，顯示錯誤訊息。請幫忙處理這個問題，謝謝。", "Big5"),
            (EUC_KR, "안녕하세요. 시스템에 로그인할 수 없습니다. 오류 메시지가 표시됩니다.", "EUC-KR"),
            (WINDOWS_1252, "Grüße aus Köln: die Anmeldung schlägt fehl, größere Dateien gehen nicht.", "windows-1252"),
            (SHIFT_JIS, "お世話になっております。ログインできない件でご連絡しました。", "CP932"),
            (EUC_JP, "お世話になっております。ログインできない件でご連絡しました。", "EUC-JP"),
        ];
        for (encoding, text, charset) in rows {
            let bytes = encoding.encode(text).0.into_owned();
            let decoded = decode(&bytes, None);
            assert_eq!((decoded.charset, decoded.text.as_str()), (charset, text), "{charset}");
        }
        // A Latin-1 label on Latin-1 letters stays; on Chinese bytes it gives way.
        let bytes = GB18030.encode("我们的系统无法登录，请帮忙处理这个问题。").0.into_owned();
        assert_eq!(decode(&bytes, Some("iso-8859-1")).charset, "gb18030");
    }

    #[test]
    fn utf16_and_utf7_parts_are_decoded() {
        let text = "Login fails: エラー E-4012";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let with_bom: Vec<u8> = [0xFF, 0xFE].into_iter().chain(le.iter().copied()).collect();
        for (bytes, label) in
            [(&with_bom, Some("utf-16")), (&le, Some("utf-16le")), (&be, Some("utf-16")), (&le, None), (&be, None)]
        {
            let decoded = decode(bytes, label);
            assert_eq!(decoded.text, text, "{label:?}");
            assert!(!decoded.text.contains('\0'));
        }
        assert_eq!(decode(b"Hi Mom -+Jjo--!", Some("utf-7")).text, "Hi Mom -\u{263A}-!");
        assert_eq!(decode(b"+ZeVnLIqe-", Some("UTF-7")).text, "日本語");
        assert_eq!(decode(b"1 +- 1 = 2", Some("utf-7")).text, "1 + 1 = 2");
        // A lone half of a surrogate pair.
        assert_eq!(decode_utf7(b"+2D0-"), "\u{FFFD}");
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
