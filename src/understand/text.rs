//! Normalising text for matching: NFKC, so full-width letters, digits and punctuation
//! (ＡＣＭＥ－００１２, ：) match their ASCII forms, and lower case for comparisons.

use unicode_normalization::UnicodeNormalization;

/// NFKC normalisation, except that circled numbers become "1. " (they number steps). Also turns the dash look-alikes Japanese input methods produce
/// (－ ‐ – — ― ー between ASCII) into '-' where NFKC alone does not, so IDs compare equal.
pub fn normalize(text: &str) -> String {
    if !needs_normalizing(text) {
        return text.to_string();
    }
    if text.contains('\n') {
        // Line by line: NFKC (the costly part) only for the lines that need it. No rule here
        // reaches across a line break.
        let mut out = String::with_capacity(text.len());
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                out.push('\n');
            }
            if needs_normalizing(line) {
                out.push_str(&normalize_line(line));
            } else {
                out.push_str(line);
            }
        }
        return out;
    }
    normalize_line(text)
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

/// Whether [`normalize`] would change anything: ASCII, kana, common kanji and Japanese
/// punctuation (most of a Japanese mail) are left as they are, and are checked without the
/// cost of NFKC.
fn needs_normalizing(text: &str) -> bool {
    let mut prev_alnum = false;
    for c in text.chars() {
        let stable = match c {
            '\u{0}'..='\u{7F}' => true,
            // ー after an ASCII letter or digit may be a dash in an ID.
            '\u{30FC}' => !prev_alnum,
            '\u{3041}'..='\u{3096}' | '\u{30A1}'..='\u{30FA}' | '\u{4E00}'..='\u{9FFF}' => true,
            '\u{3001}' | '\u{3002}' | '\u{300C}'..='\u{3011}' | '\u{3005}' | '\u{30FB}' => true,
            _ => false,
        };
        if !stable {
            return true;
        }
        prev_alnum = c.is_ascii_alphanumeric();
    }
    false
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

pub fn is_japanese(text: &str) -> bool {
    is_japanese_chars(text.chars())
}

/// [`is_japanese`] over characters, so a caller can sample a text without copying it.
pub fn is_japanese_chars(chars: impl Iterator<Item = char>) -> bool {
    let (mut kana, mut kanji, mut latin) = (0usize, 0usize, 0usize);
    let mut simplified = false;
    for c in chars {
        match c {
            '\u{3040}'..='\u{30FF}' | '\u{FF66}'..='\u{FF9F}' => kana += 1,
            '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}' => {
                kanji += 1;
                simplified = simplified || (kana == 0 && SIMPLIFIED_ONLY.contains(c));
            }
            c if c.is_ascii_alphabetic() => latin += 1,
            _ => {}
        }
    }
    // Japanese prose has kana; an English report quoting a Japanese error has little of it
    // compared with its Latin letters. Hanzi without a single kana, more than a short
    // all-kanji subject (障害報告) has, are Chinese: answered in English, not Japanese.
    if kana == 0 && (kanji >= 16 || simplified) {
        return false;
    }
    let japanese = kana * 3 + kanji * 2;
    japanese > 0 && japanese * 2 >= latin
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

    #[test]
    fn language() {
        assert!(is_japanese("ログインできません"));
        assert!(is_japanese("請求書再発行依頼"));
        assert!(!is_japanese("Login fails with error 「認証エラー」 since this morning, all users affected"));
        assert!(!is_japanese("Hello"));
        assert!(!is_japanese(""));
    }
}
