//! Normalising text for matching: NFKC, so full-width letters, digits and punctuation
//! (ＡＣＭＥ－００１２, ：) match their ASCII forms, and lower case for comparisons.

use std::borrow::Cow;
use unicode_normalization::UnicodeNormalization;

/// NFKC normalisation, except that circled numbers become "1. " (they number steps). Also turns the dash look-alikes Japanese input methods produce
/// (－ ‐ – — ― ー between ASCII) into '-' where NFKC alone does not, so IDs compare equal.
pub fn normalize(text: &str) -> String {
    normalize_cow(text).into_owned()
}

/// [`normalize`], borrowing the text when nothing in it changes (most lines of most mail).
pub fn normalize_cow(text: &str) -> Cow<'_, str> {
    // Line by line: NFKC (the costly part) only for the lines that need it. No rule here
    // reaches across a line break.
    let mut out: Option<String> = None;
    // A changed line is mapped here, one buffer for all lines.
    let mut mapped = String::new();
    let mut offset = 0;
    for (i, line) in text.split('\n').enumerate() {
        let changed: Option<&str> = match simple_line(line, &mut mapped) {
            Some(false) => None,
            Some(true) => Some(&mapped),
            None => {
                mapped = normalize_line(line);
                Some(&mapped)
            }
        };
        match (&mut out, changed) {
            (None, None) => {}
            (None, Some(new)) => {
                let mut o = String::with_capacity(text.len() + 8);
                o.push_str(&text[..offset]);
                o.push_str(new);
                out = Some(o);
            }
            (Some(o), changed) => {
                if i > 0 {
                    o.push('\n');
                }
                o.push_str(changed.unwrap_or(line));
            }
        }
        offset += line.len() + 1;
    }
    out.map_or(Cow::Borrowed(text), Cow::Owned)
}

/// What NFKC makes of a character when that is simple: itself (ASCII, kana, common kanji,
/// Japanese punctuation and symbols, Latin-1 letters), the ASCII character of a full-width
/// form (ＡＣＭＥ－００１２, （）：), or a space for the ideographic space. `None`: NFKC proper
/// has to look at the line (half-width kana, combining marks, circled numbers ...).
fn simple_nfkc(c: char) -> Option<char> {
    match c {
        '\u{0}'..='\u{7F}'
        | '\u{C0}'..='\u{FF}'
        | '\u{2018}'..='\u{2023}'
        | '\u{203B}'
        | '\u{2190}'..='\u{21FF}'
        | '\u{25A0}'..='\u{25FF}'
        | '\u{2600}'..='\u{261F}'
        | '\u{3001}'..='\u{3029}'
        | '\u{3041}'..='\u{3098}'
        | '\u{309D}'..='\u{309E}'
        | '\u{30A0}'..='\u{30FE}'
        | '\u{3400}'..='\u{9FFF}' => Some(c),
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
        '\u{3000}' => Some(' '),
        _ => None,
    }
}

/// A line whose characters are all [`simple_nfkc`]: `Some(false)` when it stays as it is,
/// `Some(true)` when it changes, into `mapped` (cleared first); `None` when it needs
/// [`normalize_line`].
fn simple_line(line: &str, mapped: &mut String) -> Option<bool> {
    let mut out: Option<&mut String> = None;
    let mut prev: Option<char> = None;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // ASCII, most of many lines, stays as it is.
        if bytes[i].is_ascii() {
            let run = ascii_len(&bytes[i..]);
            if let Some(o) = &mut out {
                o.push_str(&line[i..i + run]);
            }
            prev = Some(bytes[i + run - 1] as char);
            i += run;
            continue;
        }
        // Kanji (U+4000-U+9FFF, lead bytes E4-E9), hiragana and katakana (U+3040-U+30FF,
        // E3 81-83) are their own NFKC and no dash: copied as bytes, without decoding the
        // character. Not so the sound marks U+3099-U+309C and U+309F (E3 82 99-9C, 9F), ヿ
        // U+30FF (E3 83 BF) and the long vowel mark ー U+30FC (E3 83 BC), a dash between
        // ASCII letters: those take the way below.
        let own = match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (0xE4..=0xE9, _, _) | (0xE3, Some(0x81), _) => true,
            (0xE3, Some(0x82), Some(&b)) => !matches!(b, 0x99..=0x9C | 0x9F),
            (0xE3, Some(0x83), Some(&b)) => !matches!(b, 0xBC | 0xBF),
            _ => false,
        };
        if own {
            let next = (i + 3).min(bytes.len());
            if let Some(o) = &mut out {
                o.push_str(line.get(i..next)?);
            }
            prev = Some('\u{4E00}');
            i = next;
            continue;
        }
        let c = line[i..].chars().next()?;
        let at = i;
        i += c.len_utf8();
        let mut m = simple_nfkc(c)?;
        // The dash rule of normalize_line: ー between ASCII letters or digits is a dash.
        if m == '\u{30FC}'
            && prev.is_some_and(|p| p.is_ascii_alphanumeric())
            && line[i..].chars().next().and_then(simple_nfkc).is_some_and(|n| n.is_ascii_alphanumeric())
        {
            m = '-';
        }
        if m != c && out.is_none() {
            mapped.clear();
            mapped.push_str(&line[..at]);
            out = Some(&mut *mapped);
        }
        if let Some(o) = &mut out {
            o.push(m);
        }
        prev = Some(m);
    }
    Some(out.is_some())
}

/// How many bytes at the start of `bytes` are ASCII, eight at a time.
fn ascii_len(bytes: &[u8]) -> usize {
    let mut i = 0;
    while let Some(word) = bytes.get(i..i + 8) {
        let word = u64::from_le_bytes([word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7]]);
        if word & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        i += 8;
    }
    while i < bytes.len() && bytes[i].is_ascii() {
        i += 1;
    }
    i
}

/// [`normalize`] of text that needs it.
fn normalize_line(text: &str) -> String {
    // A circled number (①..⑳) that opens a line numbers a step; NFKC would make "①開く"
    // "1開く" and lose that. Elsewhere (「①」が化ける) it is just a character.
    let nfkc: String = if text.contains(|c: char| ('\u{2460}'..='\u{2473}').contains(&c)) {
        let mut spelled = String::with_capacity(text.len() + 8);
        let mut line_start = true;
        for c in text.chars() {
            match c {
                '\u{2460}'..='\u{2473}' if line_start => {
                    spelled.push_str(&(c as u32 - 0x2460 + 1).to_string());
                    spelled.push('.');
                }
                c => spelled.push(c),
            }
            line_start = c == '\n' || (line_start && c.is_whitespace());
        }
        spelled.nfkc().collect()
    } else {
        text.nfkc().collect()
    };
    let mut out = String::with_capacity(nfkc.len());
    let mut prev: Option<char> = None;
    let mut chars = nfkc.chars().peekable();
    while let Some(c) = chars.next() {
        let dash_like = matches!(
            c,
            '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2014}' | '\u{2015}' | '\u{2212}' | '\u{30FC}'
        );
        // Only between ASCII letters or digits: ー inside katakana stays a long vowel mark.
        if dash_like
            && prev.is_some_and(|p| p.is_ascii_alphanumeric())
            && chars.peek().is_some_and(|n| n.is_ascii_alphanumeric())
        {
            out.push('-');
        } else {
            out.push(c);
        }
        prev = Some(c);
    }
    out
}

/// Normalised, lower case and trimmed: the form words and labels are compared in.
pub fn fold(text: &str) -> String {
    normalize(text.trim()).to_lowercase()
}

/// True when the text is mostly Japanese: kana present, or CJK ideographs with few Latin
/// letters. Word-frequency language detectors call kanji-only text Chinese; for a Japanese
/// support desk that choice is always wrong.
/// Simplified Chinese characters Japanese never writes (it has 們 or 们 in neither form, 说
/// only as 説, ...): one of them in a text without kana makes it Chinese.
const SIMPLIFIED_ONLY: &str = "们这说时会为个没对发过还关问题网络统显误请谢帮处无录码账户么";

/// [`SIMPLIFIED_ONLY`] in code point order, for a binary search.
static SIMPLIFIED_ONLY_SORTED: std::sync::LazyLock<Vec<char>> = std::sync::LazyLock::new(|| {
    let mut chars: Vec<char> = SIMPLIFIED_ONLY.chars().collect();
    chars.sort_unstable();
    chars
});

pub fn is_japanese(text: &str) -> bool {
    let mut letters = Letters::default();
    letters.count(text, usize::MAX, true);
    letters.japanese()
}

/// [`is_japanese`] of a subject and the first `limit` characters of a text, read in place.
pub fn is_japanese_sample(subject: &str, text: &str, limit: usize) -> bool {
    let mut letters = Letters::default();
    letters.count(subject, usize::MAX, false);
    letters.count(text, limit, true);
    letters.japanese()
}

/// The characters that tell Japanese from other text, counted.
#[derive(Default)]
struct Letters {
    kana: usize,
    kanji: usize,
    latin: usize,
    /// A Simplified-only hanzi came before any kana.
    simplified: bool,
}

impl Letters {
    /// Counts the first `budget` characters of `text` (ASCII a run at a time). `last`: no
    /// text is counted after this one, so the count may stop as soon as the rest cannot
    /// change [`Self::japanese`] (kana seen, and more Japanese than all the Latin letters
    /// the rest could hold).
    fn count(&mut self, text: &str, budget: usize, last: bool) {
        let bytes = text.as_bytes();
        let (mut i, mut n) = (0, 0);
        while i < bytes.len() && n < budget {
            if bytes[i].is_ascii() {
                // A run of ASCII at once (within the budget): its letters are counted by a
                // loop the compiler turns into vector compares.
                let end = bytes.len().min(i.saturating_add(budget - n));
                let run = ascii_len(&bytes[i..end]);
                self.latin += bytes[i..i + run].iter().filter(|b| b.is_ascii_alphabetic()).count();
                i += run;
                n += run;
                continue;
            }
            n += 1;
            // Kana and kanji are all three bytes long in UTF-8: their code point is read from
            // the bytes, without decoding anything else.
            let width = match bytes[i] {
                0xF0.. => 4,
                0xE0.. => 3,
                _ => 2,
            };
            if width == 3
                && let [b0, b1, b2, ..] = bytes[i..]
            {
                let c = (u32::from(b0 & 0x0F) << 12) | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F);
                match c {
                    0x3040..=0x30FF | 0xFF66..=0xFF9F => {
                        self.kana += 1;
                        let rest = (budget - n).min(bytes.len() - i);
                        if last && (self.kana * 3 + self.kanji * 2) * 2 >= self.latin.saturating_add(rest) {
                            return;
                        }
                    }
                    0x4E00..=0x9FFF | 0x3400..=0x4DBF | 0xF900..=0xFAFF => {
                        self.kanji += 1;
                        self.simplified = self.simplified
                            || (self.kana == 0
                                && char::from_u32(c).is_some_and(|c| SIMPLIFIED_ONLY_SORTED.binary_search(&c).is_ok()));
                    }
                    _ => {}
                }
            }
            i += width;
        }
    }

    fn japanese(&self) -> bool {
        // Japanese prose has kana; an English report quoting a Japanese error has little of it
        // compared with its Latin letters. Hanzi without a single kana, more than a short
        // all-kanji subject (障害報告) has, are Chinese: answered in English, not Japanese.
        if self.kana == 0 && (self.kanji >= 16 || self.simplified) {
            return false;
        }
        let japanese = self.kana * 3 + self.kanji * 2;
        japanese > 0 && japanese * 2 >= self.latin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_not_japanese() {
        assert!(is_japanese("ログインできません"));
        assert!(is_japanese("障害報告"));
        assert!(!is_japanese("您好，我们的系统无法登录，显示错误信息。请帮忙处理这个问题，谢谢。"));
        assert!(!is_japanese("您好，我們的系統無法登入，顯示錯誤訊息。"));
        assert!(!is_japanese("Login fails with 認証エラー on every attempt since this morning, for all our users"));
    }

    #[test]
    fn full_width_ids_and_colons() {
        assert_eq!(normalize("お客様番号：ＡＣＭＥ－００１２"), "お客様番号:ACME-0012");
        assert_eq!(normalize("ＡＣＭＥ‐００１２"), "ACME-0012");
        assert_eq!(normalize("ＡＣＭＥー００１２"), "ACME-0012");
        assert_eq!(normalize("ログイン"), "ログイン");
        assert_eq!(normalize("ｶﾀｶﾅ"), "カタカナ");
        assert_eq!(fold("  Steps To Reproduce "), "steps to reproduce");
        assert_eq!(normalize("①開く\n ② 押す「③」"), "1.開く\n 2. 押す「3」");
    }

    /// NFKC and the dash rule, the slow way, as normalize_line does it for every line.
    fn reference(text: &str) -> String {
        text.split('\n').map(normalize_line).collect::<Vec<_>>().join("\n")
    }

    #[test]
    fn the_quick_path_gives_what_nfkc_gives() {
        // Characters of every kind the quick path handles or hands over, mixed at random
        // (a fixed seed): the result must be what NFKC and the dash rule give.
        let pool: Vec<char> =
            "aZ09-: 　ＡＣＭＥ－０１２ｚ（）：！？ーｰｶﾞﾞ゙ か゚がガ漢字。、「」【】・※→■★éÅ×①⑳‐–—―−…℃㈱ﾟ\u{301}\u{3099}\t゛゜ゟヿ゠ヾァンヴヶヷヺ・ヽむゞ"
                .chars()
                .collect();
        let mut seed = 0x2545_f491_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let len = (next() % 12) as usize;
            let text: String = (0..len).map(|_| pool[(next() % pool.len() as u64) as usize]).collect();
            assert_eq!(normalize(&text), reference(&text), "{text:?}");
            let two = format!("{text}\nＩＤ：{text}");
            assert_eq!(normalize(&two), reference(&two), "{two:?}");
            // ASCII runs long enough to be read eight bytes at a time.
            let long = format!("Steps to reproduce:{text}then more plain ASCII text-ー{text}");
            assert_eq!(normalize(&long), reference(&long), "{long:?}");
        }
        assert!(matches!(normalize_cow("ログインできません\nError 500"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_language_count_stops_early_only_when_the_rest_cannot_change_it() {
        let pool =
            ["ログイン", "できません", "障害", "们", "Error ", "login failed again ", "。", "\n", "认证错误", "x"];
        let mut seed = 0x9e37_79b9_u64;
        for _ in 0..5_000 {
            let mut parts = Vec::new();
            for _ in 0..(seed % 24) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                parts.push(pool[(seed % pool.len() as u64) as usize]);
            }
            let text = parts.concat();
            let subject = parts.get(..2).map(|p| p.concat()).unwrap_or_default();
            for limit in [5, 40, 4000] {
                let mut full = Letters::default();
                full.count(&subject, usize::MAX, false);
                full.count(&text, limit, false);
                assert_eq!(is_japanese_sample(&subject, &text, limit), full.japanese(), "{subject:?} {text:?} {limit}");
            }
        }
    }

    #[test]
    fn language() {
        assert!(is_japanese("ログインできません"));
        assert!(is_japanese("請求書再発行依頼"));
        assert!(!is_japanese("Login fails with error 「認証エラー」 since this morning, all users affected"));
        assert!(!is_japanese("Hello"));
        assert!(!is_japanese(""));
    }
}
