//! Reading HTML-only mail as text.
//!
//! Many clients (and most phones' web mailers) send HTML with no plain-text alternative. The
//! fields of a report are read from text, so line structure matters: `<br>` and the ends of
//! block elements become line breaks, tags are dropped, `<style>`, `<script>` and `<head>`
//! contents are skipped, and entities are decoded.

/// Converts an HTML document or fragment to plain text with its line structure.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    let mut in_pre = 0usize;
    while let Some(lt) = rest.find('<') {
        push_text(&mut out, &rest[..lt], in_pre > 0);
        rest = &rest[lt..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |end| &rest[end + 3..]);
            continue;
        }
        let Some(gt) = rest.find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        match name.as_str() {
            "style" | "script" | "head" | "title" if !closing => {
                let end = format!("</{name}");
                let lower = rest.to_ascii_lowercase();
                rest = match lower.find(&end) {
                    Some(pos) => rest[pos..].find('>').map_or("", |gt| &rest[pos + gt + 1..]),
                    None => "",
                };
            }
            "br" => out.push('\n'),
            "pre" => {
                in_pre = if closing { in_pre.saturating_sub(1) } else { in_pre + 1 };
                newline(&mut out);
            }
            "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table" | "ul" | "ol"
            | "blockquote" | "hr" | "section" | "article" | "header" | "footer" | "dt" | "dd" => newline(&mut out),
            "td" | "th" if closing => out.push('\t'),
            _ => {}
        }
    }
    push_text(&mut out, rest, in_pre > 0);
    tidy(&out)
}

fn newline(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

fn push_text(out: &mut String, text: &str, preformatted: bool) {
    if text.is_empty() {
        return;
    }
    let decoded = decode_entities(text);
    if preformatted {
        out.push_str(&decoded);
        return;
    }
    // HTML collapses runs of white space (source line breaks included) to one space.
    let mut last_space = out.ends_with(' ') || out.ends_with('\n') || out.is_empty();
    for c in decoded.chars() {
        if c == '\u{a0}' {
            out.push(' ');
            last_space = true;
        } else if c.is_whitespace() && c != '\u{3000}' {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else {
            out.push(c);
            last_space = false;
        }
    }
}

/// Trims each line and collapses runs of blank lines to one.
fn tidy(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank = 0;
    for line in text.lines() {
        let line = line.trim_matches(|c: char| c == ' ' || c == '\t');
        if line.is_empty() {
            blank += 1;
            if blank > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_string()
}

/// Decodes named and numeric character references.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest[1..].find(|c: char| c == ';' || c.is_whitespace() || c == '&').map(|p| p + 1);
        let decoded = match end {
            // The longest name, `CounterClockwiseContourIntegral`, has 31 letters.
            Some(end) if rest.as_bytes()[end] == b';' && end <= 40 => entity(&rest[1..end]),
            _ => None,
        };
        match (decoded, end) {
            (Some(c), Some(end)) => {
                out.push_str(&c);
                rest = &rest[end + 1..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A character reference without its `&` and `;`: numeric, or any of HTML's named ones
/// (some name two code points, like `&NotEqualTilde;`).
fn entity(name: &str) -> Option<std::borrow::Cow<'static, str>> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0').map(|c| c.to_string().into());
    }
    let at = super::entities::ENTITIES.binary_search_by(|(n, _)| (*n).cmp(name)).ok()?;
    Some(super::entities::ENTITIES[at].1.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_entities() {
        let html = "<html><head><style>p{color:red}</style></head><body><p>お世話になっております。</p>\
            <div>再現手順：<br>1. ログイン&nbsp;する<br>2. &lt;送信&gt; を押す &amp; 待つ &#12354;&#x3042;</div>\
            <script>alert(1)</script></body></html>";
        assert_eq!(
            html_to_text(html),
            "お世話になっております。\n再現手順：\n1. ログイン する\n2. <送信> を押す & 待つ ああ"
        );
    }

    #[test]
    fn every_named_reference_of_html() {
        assert_eq!(
            decode_entities(
                "&uuml;ber &szlig; 5&euro; &Auml;&ouml; &hearts; &rarr; &frac12; &NotEqualTilde; &CounterClockwiseContourIntegral;"
            ),
            "über ß 5€ Äö ♥ → ½ \u{2242}\u{338} ∳"
        );
        // Unknown names and bare ampersands stay as written.
        assert_eq!(decode_entities("&nosuch; AT&T &amp &"), "&nosuch; AT&T &amp &");
        assert_eq!(super::super::entities::ENTITIES.len(), 2125);
    }

    #[test]
    fn broken_html_does_not_panic() {
        for html in ["<", "<p", "&#xFFFFFFFF;", "&#0;", "<style>never closed", "a & b", "<!-- x"] {
            let _ = html_to_text(html);
        }
        assert_eq!(html_to_text("a &unknown; b"), "a &unknown; b");
    }
}
