//! Reading the incident items (a)-(e) out of the text a customer wrote.
//!
//! Real reports label their items in many layouts: `Label: value` lines, headings with the
//! content below, 【見出し】 and ■ 見出し blocks, numbered steps with no label at all, error
//! output pasted without a word of introduction. Quoted earlier messages and signatures are
//! cut off first, so nothing from them lands in a field. Greetings and closings of business
//! mail belong to no field.

use super::text::{fold, normalize_cow};
use crate::config::Understanding;
use crate::config::understanding::{LabelKind, normalized_label_key as label_key, normalized_label_key_start};
use crate::terms::Item;
use crate::understand::line_gate::LineGate;
use serde::Serialize;

/// The incident items found, as the customer wrote them (after NFKC normalisation).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Fields {
    pub repro_steps: Option<String>,
    pub error_messages: Vec<String>,
    pub description: Option<String>,
    pub expected_result: Option<String>,
    pub circumstances: Option<String>,
}

/// What the text says beyond the fields.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reading {
    pub fields: Fields,
    pub customer_id: Option<String>,
    /// The declared priority word, folded (e.g. "高", "high", "1").
    pub declared_priority: Option<String>,
    /// The customer's own text: quotes and signature removed, normalised.
    pub own_text: String,
}

/// A line that opens a labelled block.
struct LabelLine {
    kind: LabelKind,
    priority: bool,
    /// Text after the label on the same line.
    rest: String,
}

/// One line of the customer's text, looked at once: which kinds of line it is and the label it
/// opens. Every later step reads these instead of matching the line again.
struct Line<'a> {
    text: &'a str,
    /// The same, trimmed at both ends (trimmed once: most steps look at it).
    trimmed: &'a str,
    kinds: Kinds,
    label: Option<LabelLine>,
}

/// Which of the configured line patterns a line matches (one pass of the combined set).
#[derive(Debug, Clone, Copy, Default)]
struct Kinds {
    /// The header of a quoted earlier message (matched on the trimmed line).
    reply: bool,
    /// A short line that starts the signature (trimmed).
    signature: bool,
    /// A short greeting or closing (trimmed).
    courtesy: bool,
    /// Error output (the line as written, indentation included).
    error: bool,
    /// A numbered step (as written).
    step: bool,
}

/// `gated`: the line gate stopped on this line, so it matches (when it is not indented);
/// otherwise a plain search first says whether anything matches, at less cost than
/// collecting every pattern that matches (most lines are prose and match nothing).
fn kinds(line: &str, trimmed: &str, gated: bool, rules: &Understanding) -> Kinds {
    if trimmed.is_empty() {
        return Kinds::default();
    }
    let k = &rules.line_kinds;
    let indented = trimmed.len() != line.len();
    if (!gated || indented) && !k.set.is_match(line) && (!indented || !k.set.is_match(trimmed)) {
        return Kinds::default();
    }
    let raw = k.set.matches(line);
    // Most lines have no indentation: then one pass serves the trimmed kinds too.
    let indented = (trimmed.len() != line.len()).then(|| k.set.matches(trimmed));
    let t = indented.as_ref().unwrap_or(&raw);
    let any = |m: &regex::SetMatches, r: &std::ops::Range<usize>| r.clone().any(|i| m.matched(i));
    let short = is_short(trimmed);
    Kinds {
        reply: any(t, &k.reply),
        signature: short && any(t, &k.signature),
        courtesy: short && any(t, &k.courtesy),
        error: any(&raw, &k.error),
        step: raw.matched(k.step),
    }
}

/// The lines of a text as the line gate sees them: joined by line feeds, with where each
/// starts, and where the gate stops next. Without a gate every line may match.
struct Gated<'r> {
    gate: Option<&'r LineGate>,
    joined: String,
    starts: Vec<usize>,
    next: Option<usize>,
}

impl<'r> Gated<'r> {
    fn new(lines: &[&str], rules: &'r Understanding) -> Self {
        let gate = rules.line_kinds.gate.as_ref();
        let (mut joined, mut starts) = (String::new(), Vec::new());
        if let Some(gate) = gate {
            joined.reserve(lines.iter().map(|l| l.len() + 1).sum());
            starts.reserve(lines.len());
            for line in lines {
                starts.push(joined.len());
                joined.push_str(line);
                joined.push('\n');
            }
            let next = gate.next_hit(&joined, 0);
            return Gated { gate: Some(gate), joined, starts, next };
        }
        Gated { gate: None, joined, starts, next: None }
    }

    /// Whether line `i` may match a line pattern; asked of every line in order.
    fn may_match(&mut self, i: usize) -> bool {
        let Some(gate) = self.gate else { return true };
        // The line feed after line `i`: a match in the line ends at most there.
        let end = self.starts.get(i + 1).copied().unwrap_or(self.joined.len()) - 1;
        if self.next.is_some_and(|hit| hit <= end) {
            self.next = gate.next_hit(&self.joined, end + 1);
            return true;
        }
        false
    }
}

pub fn read(body: &str, rules: &Understanding) -> Reading {
    // Normalised once, whole: NFKC and the dash rule never reach across a line break.
    let normalized = normalize_cow(body);
    let all = trimmed_lines(&normalized);
    let mut gated = Gated::new(&all, rules);
    // Each line up to the first quoted earlier message, classified once.
    let mut lines: Vec<Line<'_>> = Vec::with_capacity(all.len());
    for (i, &text) in all.iter().enumerate() {
        let trimmed = text.trim();
        // An indented line is also matched trimmed, which the gate does not see.
        let may_match = gated.may_match(i);
        let kinds = if may_match || trimmed.len() != text.len() {
            kinds(text, trimmed, may_match && gated.gate.is_some(), rules)
        } else {
            Kinds::default()
        };
        if kinds.reply || outlook_header_block(&all, i) {
            break;
        }
        lines.push(Line { text, trimmed, kinds, label: parse_label(trimmed, rules) });
    }
    let end = own_text_end(&lines, rules);
    let own: Vec<&Line<'_>> = lines[..end]
        .iter()
        .filter(|l| !rules.quote_prefixes.iter().any(|p| l.trimmed.starts_with(p.as_str())))
        .collect();

    let mut own_text = own.iter().map(|l| l.text).collect::<Vec<_>>().join("\n");
    trim_in_place(&mut own_text);
    let mut reading = Reading { own_text, ..Reading::default() };
    // Each block's lines, with whether the line is a courtesy line.
    let mut blocks: Vec<(LabelKind, Vec<(&str, bool)>)> = Vec::new();
    let mut free: Vec<&str> = Vec::new();
    let mut free_kinds: Vec<Kinds> = Vec::new();
    // The block being filled, and whether it ends at the next blank line (an inline value).
    let mut open: Option<(usize, bool)> = None;
    let mut pending_customer_id = false;
    let mut pending_priority = false;

    for entry in own.iter() {
        let line = entry.text;
        let trimmed = entry.trimmed;
        if pending_customer_id && !trimmed.is_empty() {
            pending_customer_id = false;
            if reading.customer_id.is_none() {
                reading.customer_id = find_customer_id(trimmed, rules);
                if reading.customer_id.is_some() {
                    continue;
                }
            }
        }
        if pending_priority && !trimmed.is_empty() {
            pending_priority = false;
            // The value under a 【重要度】 heading may repeat the label ("重要度レベル 1",
            // "重要度レベル: 1"): the declaration is what follows it.
            let value = match &entry.label {
                Some(label) if label.priority && !label.rest.is_empty() => label.rest.as_str(),
                _ => trimmed,
            };
            reading.declared_priority = declared_word(value);
            continue;
        }
        if let Some(label) = &entry.label {
            if label.priority {
                if reading.declared_priority.is_none() {
                    if label.rest.is_empty() {
                        pending_priority = true;
                    } else {
                        reading.declared_priority = declared_word(&label.rest);
                    }
                }
                open = None;
                continue;
            }
            match label.kind {
                LabelKind::Item(Item::CustomerId) => {
                    if reading.customer_id.is_none() {
                        reading.customer_id = find_customer_id(&label.rest, rules);
                        pending_customer_id = reading.customer_id.is_none() && label.rest.is_empty();
                    }
                    open = None;
                }
                LabelKind::Other => open = None,
                kind => {
                    let inline = !label.rest.is_empty();
                    // The value is the end of the line: keep it as a slice of the line.
                    let value = trimmed.len().checked_sub(label.rest.len()).and_then(|start| trimmed.get(start..));
                    let value = value.filter(|v| inline && *v == label.rest);
                    blocks.push((kind, value.map(|v| (v, is_courtesy(v, rules))).into_iter().collect()));
                    open = Some((blocks.len() - 1, inline));
                }
            }
            continue;
        }
        if reading.customer_id.is_none() {
            reading.customer_id = inline_customer_id(trimmed, rules);
        }
        match open {
            Some((_, true)) if trimmed.is_empty() => {
                open = None;
                free.push(line);
                free_kinds.push(entry.kinds);
            }
            Some((b, _)) => blocks[b].1.push((line, entry.kinds.courtesy)),
            None => {
                free.push(line);
                free_kinds.push(entry.kinds);
            }
        }
    }

    // Labelled blocks.
    let mut labelled_errors = Vec::new();
    for (kind, content) in &blocks {
        let text = tidy(content.iter().filter(|(_, courtesy)| !courtesy).map(|(l, _)| *l));
        if text.is_empty() {
            continue;
        }
        let slot = match kind {
            LabelKind::Item(Item::ReproSteps) => &mut reading.fields.repro_steps,
            LabelKind::Item(Item::Description) => &mut reading.fields.description,
            LabelKind::Item(Item::Circumstances) => &mut reading.fields.circumstances,
            LabelKind::ExpectedResult => &mut reading.fields.expected_result,
            LabelKind::Item(Item::ErrorMessages) => {
                labelled_errors.push(text);
                continue;
            }
            _ => continue,
        };
        append(slot, text);
    }

    // Unlabelled text: error output, numbered steps, and the rest is the description.
    let mut errors: Vec<String> = Vec::new();
    let mut prose: Vec<&str> = Vec::new();
    let mut steps: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < free.len() {
        let line = free[i];
        let trimmed = line.trim();
        if trimmed.is_empty() {
            prose.push("");
            i += 1;
            continue;
        }
        if free_kinds[i].courtesy {
            i += 1;
            continue;
        }
        // A run of error output (a stack trace is one message, all its lines).
        let mut run: Vec<&str> = Vec::new();
        let mut captured = Vec::new();
        let mut j = i;
        // The run holds a Python traceback (its exception line closes it).
        let mut traceback = false;
        while j < free.len() {
            if let Some(&last) = run.last() {
                if let Some(next) = trace_continues(last, traceback, &free[j..]) {
                    run.extend(free[j..j + next].iter().map(|l| l.trim_end()));
                    j += next;
                    continue;
                }
                if free[j].trim().is_empty() {
                    break;
                }
            }
            match error_line(free[j], free_kinds[j], rules) {
                Some(ErrorLine::Whole) => {
                    traceback |= free[j].trim_start().starts_with("Traceback (most recent call last)");
                    run.push(free[j].trim_end());
                }
                Some(ErrorLine::Part(text)) => {
                    captured.push(text);
                    break;
                }
                None => break,
            }
            j += 1;
        }
        if !run.is_empty() {
            errors.push(run.join("\n").trim().to_string());
            i = j;
            continue;
        }
        if !captured.is_empty() {
            errors.extend(captured);
            prose.push(line);
            i += 1;
            continue;
        }
        // A run of two or more numbered lines is the steps.
        let mut k = i;
        while k < free.len() && free_kinds[k].step {
            k += 1;
        }
        if k - i >= 2 {
            steps.extend(&free[i..k]);
            i = k;
            continue;
        }
        prose.push(line);
        i += 1;
    }
    if reading.fields.repro_steps.is_none() && !steps.is_empty() {
        reading.fields.repro_steps = Some(tidy(steps.into_iter()));
    } else if !steps.is_empty() {
        prose.extend(steps);
    }
    let prose = tidy(prose.into_iter());
    if reading.fields.description.is_none() && !prose.is_empty() {
        reading.fields.description = Some(prose);
    }
    labelled_errors.extend(errors);
    let mut seen = std::collections::HashSet::new();
    labelled_errors.retain(|e| !e.is_empty() && seen.insert(e.clone()));
    reading.fields.error_messages = labelled_errors;
    reading
}

fn append(slot: &mut Option<String>, text: String) {
    match slot {
        Some(existing) => {
            existing.push('\n');
            existing.push_str(&text);
        }
        None => *slot = Some(text),
    }
}

/// Joins lines, trimming each and collapsing blank runs.
fn tidy<'a>(lines: impl Iterator<Item = &'a str>) -> String {
    let mut out = String::new();
    let mut blank = false;
    for line in lines {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line.trim_start_matches(['\u{3000}']));
    }
    trim_in_place(&mut out);
    out
}

/// `text.trim()`, without a copy.
fn trim_in_place(text: &mut String) {
    text.truncate(text.trim_end().len());
    let lead = text.len() - text.trim_start().len();
    text.drain(..lead);
}

/// Courtesy lines and signature starts are short; a long line is content whatever it ends
/// with. (The patterns are unbounded so the regex engine's DFA can run them; the bound is here.)
const SHORT_LINE: usize = 60;

fn is_short(line: &str) -> bool {
    line.len() <= SHORT_LINE || line.chars().count() <= SHORT_LINE
}

fn is_courtesy(line: &str, rules: &Understanding) -> bool {
    let line = line.trim();
    is_short(line) && rules.courtesy.is_match(line)
}

enum ErrorLine {
    /// The whole line is error output.
    Whole,
    /// Only this part of the line is the error text (「...」と表示されます).
    Part(String),
}

fn error_line(line: &str, kinds: Kinds, rules: &Understanding) -> Option<ErrorLine> {
    if !kinds.error {
        return None;
    }
    let matches = rules.error_lines.matches(line);
    for i in matches.iter() {
        if let Some(caps) = rules.error_patterns.get(i).and_then(|r| r.as_ref()).and_then(|r| r.captures(line))
            && let Some(text) = caps.name("text")
        {
            return Some(ErrorLine::Part(text.as_str().trim().to_string()));
        }
    }
    Some(ErrorLine::Whole)
}

/// How many of `rest`'s first lines continue the stack trace whose line so far is `last`
/// (`traceback`: a Python traceback), when they do:
/// - an indented line after an indented line (`\t... 5 more`, the source line under a Python
///   `File` line, `^^^^` markers, `\tSuppressed:`): the frames of a trace are indented;
/// - a Python traceback's last line, the exception, not indented (`KeyboardInterrupt`,
///   `mod.CustomFailure: text`), after its indented frames;
/// - blank lines around Python's "During handling of the above exception ..." line, which
///   joins two tracebacks into one, and before a Go panic's `goroutine 1 [running]:`.
fn trace_continues(last: &str, traceback: bool, rest: &[&str]) -> Option<usize> {
    let line = *rest.first()?;
    let indented = |l: &str| (l.starts_with('\t') || l.starts_with("  ")) && !l.trim().is_empty();
    if indented(line) && indented(last) {
        return Some(1);
    }
    if traceback && indented(last) && python_exception_line(line) {
        return Some(1);
    }
    if line.trim().is_empty() {
        let blanks = rest.iter().take_while(|l| l.trim().is_empty()).count();
        let next = rest.get(blanks)?;
        if traceback && (chains_tracebacks(last) || chains_tracebacks(next)) {
            return Some(blanks);
        }
        // A Go panic: its message, a blank line, then the goroutines' stacks.
        if is_goroutine_header(next) {
            return Some(blanks);
        }
    }
    None
}

/// `goroutine 1 [running]:`, which opens each goroutine's stack in a Go panic.
fn is_goroutine_header(line: &str) -> bool {
    line.strip_prefix("goroutine ")
        .and_then(|rest| rest.split_once(' '))
        .is_some_and(|(id, state)| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && state.starts_with('['))
}

/// Python's line between the tracebacks of chained exceptions.
fn chains_tracebacks(line: &str) -> bool {
    let line = line.trim();
    line == "During handling of the above exception, another exception occurred:"
        || line == "The above exception was the direct cause of the following exception:"
}

/// The exception line that closes a Python traceback: a (dotted) class name, alone or before
/// `: message`.
fn python_exception_line(line: &str) -> bool {
    let name = line.split_once(':').map_or(line, |(name, _)| name).trim_end();
    !name.is_empty()
        && !line.starts_with(char::is_whitespace)
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
}

/// Where the customer's own text ends: at the first quoted earlier message or the signature.
/// (`lines` already ends before any quoted earlier message.)
fn own_text_end(lines: &[Line<'_>], rules: &Understanding) -> usize {
    let end = lines.len();
    // The signature: the first signature start after which no labelled item follows. That is
    // the first start at or after the last labelled line, found with one backward look from
    // the first start (linear however many separators a text has: asking, for each start,
    // whether a label follows it was quadratic).
    let is_start = |l: &Line<'_>| l.kinds.signature;
    if let Some(first) = (0..end).find(|&i| is_start(&lines[i])) {
        let labelled = |l: &Line<'_>| l.label.as_ref().is_some_and(|l| !matches!(l.kind, LabelKind::Other));
        let from = (first + 1..end).rev().find(|&i| labelled(&lines[i])).unwrap_or(first);
        if let Some(i) = (from..end).find(|&i| is_start(&lines[i])) {
            return i;
        }
    }
    trailing_name_block(lines, rules).unwrap_or(end)
}

/// A signature with no separator: a last block of one to four short lines, after a blank line
/// or a closing courtesy line, that reads like a name, a company or contact details ("森",
/// "渡辺 健太 / パートナーコンサルティング株式会社").
fn trailing_name_block(lines: &[Line<'_>], rules: &Understanding) -> Option<usize> {
    let last = lines.iter().rposition(|l| !l.trimmed.is_empty())?;
    let mut start = last;
    while start > 0 && !lines[start - 1].trimmed.is_empty() && !lines[start - 1].kinds.courtesy {
        start -= 1;
    }
    let block: Vec<&str> = lines[start..=last].iter().map(|l| l.text).collect();
    if start == 0 || block.len() > 4 {
        return None;
    }
    let plain = |l: &str| {
        let t = l.trim();
        t.chars().count() <= 40
            && !t.contains(['。', '!', '?', ':', '「', '」'])
            && !t.ends_with('.')
            && parse_label(t, rules).is_none()
            && !rules.error_lines.is_match(t)
            && !rules.step_line.is_match(t)
    };
    let name_like = |l: &str| {
        let t = l.trim();
        let short_japanese = t.chars().count() <= 10
            && t.chars().all(|c| {
                c == ' '
                    || c == '\u{3000}'
                    || ('\u{3040}'..='\u{30FF}').contains(&c)
                    || ('\u{4E00}'..='\u{9FFF}').contains(&c)
                    || ('\u{F900}'..='\u{FAFF}').contains(&c)
            });
        let company =
            ["株式会社", "(株)", "有限会社", "合同会社", "部", "課", "Inc", "Ltd", "Corp", "K.K.", "TEL", "Tel", "@"]
                .iter()
                .any(|w| t.contains(w));
        let western_name = t.split_whitespace().count() <= 3
            && t.split_whitespace().all(|w| {
                w.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                    && w.chars().all(|c| c.is_ascii_alphabetic() || c == '-' || c == '.')
            });
        short_japanese || company || western_name
    };
    (block.iter().all(|l| plain(l)) && block.iter().any(|l| name_like(l))).then_some(start)
}

/// The lines of `text` as `str::lines` gives them, each trimmed at the end; found with a
/// vectorised search for line breaks, and trimmed byte-wise where a line ends in ASCII.
fn trimmed_lines<'a>(text: &'a str) -> Vec<&'a str> {
    let mut lines: Vec<&str> = Vec::with_capacity(text.len() / 32 + 1);
    let mut start = 0;
    let mut push = |line: &'a str| {
        let bytes = line.as_bytes();
        let mut end = bytes.len();
        while end > 0 && matches!(bytes[end - 1], b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C) {
            end -= 1;
        }
        // A line ending in a non-ASCII character may end in Unicode white space (U+3000).
        let kept = &line[..end];
        lines.push(if end > 0 && bytes[end - 1] >= 0x80 { kept.trim_end() } else { kept });
    };
    for newline in memchr::memchr_iter(b'\n', text.as_bytes()) {
        push(&text[start..newline]);
        start = newline + 1;
    }
    if start < text.len() {
        push(&text[start..]);
    }
    lines
}

/// Outlook's quoted header: `From:`/`差出人:` followed closely by `Sent:`/`送信日時:` etc.
fn outlook_header_block(lines: &[&str], i: usize) -> bool {
    const FROM: [&str; 3] = ["from:", "差出人:", "送信者:"];
    const NEXT: [&str; 10] =
        ["sent:", "date:", "to:", "subject:", "送信日時:", "日時:", "宛先:", "件名:", "cc:", "送信:"];
    let starts = |l: &str, set: &[&str]| {
        let f = l.trim_start().as_bytes();
        set.iter().any(|p| f.len() >= p.len() && f[..p.len()].eq_ignore_ascii_case(p.as_bytes()))
    };
    starts(lines[i], &FROM) && lines[i + 1..].iter().take(3).any(|l| starts(l, &NEXT))
}

/// Recognises a label at the start of a line in any of the layouts customers use.
fn parse_label(line: &str, rules: &Understanding) -> Option<LabelLine> {
    if line.is_empty() {
        return None;
    }
    // A label is short: it stands alone, before a ':' or in brackets near the start. A long
    // line with none of those is prose (most lines), and is passed over at once.
    let head_end = char_start(line, 44).unwrap_or(line.len());
    let long = head_end < line.len();
    if long && !closes_label(&line.as_bytes()[..head_end]) {
        return None;
    }
    let stripped = strip_marker(line);
    // 【Label】rest, [Label] rest, <Label> rest, 〔Label〕, 《Label》, 〈Label〉
    let opened = stripped.chars().next().and_then(|first| {
        [('【', '】'), ('[', ']'), ('<', '>'), ('〔', '〕'), ('《', '》'), ('〈', '〉'), ('〖', '〗')]
            .into_iter()
            .find(|&(open, _)| open == first)
    });
    // Outside brackets every way below reads the label from the start of the line, so a line
    // whose first letter begins no label is none (most prose), whatever follows.
    if opened.is_none()
        && !stripped.starts_with('#')
        && normalized_label_key_start(stripped).is_none_or(|c| rules.label_starts.binary_search(&c).is_err())
    {
        return None;
    }
    if let Some((open, close)) = opened {
        let inner = &stripped[open.len_utf8()..];
        if let Some(end) = inner.find(close) {
            let label = &inner[..end];
            let rest = inner[end + close.len_utf8()..].trim().trim_start_matches(':').trim();
            if let Some(l) = classify(label, rest, rules) {
                return Some(l);
            }
        }
    }
    // Label: value
    if let Some(colon) = stripped.find(':') {
        let (label, rest) = stripped.split_at(colon);
        if let Some(l) = classify(label, rest[1..].trim(), rules) {
            return Some(l);
        }
    }
    // A heading alone on its line (## Label, Label, Label（必須）).
    if let Some(l) = classify(stripped, "", rules) {
        return Some(l);
    }
    // "重要度レベル 1": a priority label followed by its value after a space. Most lines
    // start with no priority label's first letter and are passed over without a key.
    let first = normalized_label_key_start(stripped);
    if !rules.priority_labels.iter().any(|p| p.chars().next() == first) {
        return None;
    }
    let key = label_key(stripped);
    for p in &rules.priority_labels {
        if let Some(rest) = key.strip_prefix(p.as_str())
            && !rest.is_empty()
            && rest.chars().count() <= 12
        {
            return Some(LabelLine { kind: LabelKind::Other, priority: true, rest: rest.to_string() });
        }
    }
    None
}

/// Where the `n`th character (from 0) of `text` starts, counted on the bytes (a character
/// starts at every byte that is not a UTF-8 continuation byte).
fn char_start(text: &str, n: usize) -> Option<usize> {
    if text.len() <= n {
        return None;
    }
    let mut seen = 0;
    for (i, &b) in text.as_bytes().iter().enumerate() {
        if (b as i8) >= -0x40 {
            if seen == n {
                return Some(i);
            }
            seen += 1;
        }
    }
    None
}

/// Whether the bytes hold a character that ends a label: ':', ']' or '>', or one of
/// 】〕》〉〗 (E3 80 91, 95, 8B, 89, 97 in UTF-8).
fn closes_label(head: &[u8]) -> bool {
    head.iter().any(|&b| matches!(b, b':' | b']' | b'>'))
        || head.windows(3).any(|w| w[0] == 0xE3 && w[1] == 0x80 && matches!(w[2], 0x91 | 0x95 | 0x8B | 0x89 | 0x97))
}

fn classify(label: &str, rest: &str, rules: &Understanding) -> Option<LabelLine> {
    let label = label.trim().trim_start_matches('#').trim();
    // The key's first character (lower case) must begin some label: most lines fail here,
    // before anything else is counted or built.
    let first = normalized_label_key_start(label);
    if first.is_none_or(|c| rules.label_starts.binary_search(&c).is_err()) || label.chars().count() > 40 {
        return None;
    }
    // Longer than any label even without its spaces, once the trailing parenthetical and
    // stops the key loses are cut as below: prose ("お世話になっております。"), passed over
    // without a key. (The text is NFKC already, so its bytes are the key's, spaces aside.)
    let mut core = label;
    if core.ends_with(')')
        && let Some(open) = core.rfind('(')
    {
        core = &core[..open];
    }
    let core = core.trim_end_matches(|c: char| c == '.' || c == '。' || c.is_whitespace());
    if core.len() > rules.longest_label
        && core.bytes().filter(|b| !b.is_ascii_whitespace()).count() > rules.longest_label
    {
        return None;
    }
    let mut key = label_key(label);
    // "再現手順（必須）", "Error message (full text)": a trailing parenthetical is not the label.
    if key.ends_with(')')
        && let Some(open) = key.rfind('(')
    {
        key.truncate(open);
    }
    let key = key.trim_end_matches(['.', '。']);
    let priority = rules.priority_labels.iter().any(|p| p == key);
    let kind = rules.label(key);
    if !priority && kind.is_none() {
        return None;
    }
    Some(LabelLine { kind: kind.unwrap_or(LabelKind::Other), priority, rest: rest.to_string() })
}

/// Removes heading markers and item numbering: ■ ◆ ● ▼ □ ◇ ▽ ・ # *, "1." "(1)" "(a)" "a)".
fn strip_marker(line: &str) -> &str {
    let mut s = line
        .trim_start_matches(['■', '◆', '●', '▼', '□', '◇', '▽', '・', '#', '*', '◎', '○', '★', '☆', '▶', '►', '→'])
        .trim();
    // Numbering: up to two digits or one letter, followed by '.', ')' or wrapped in ().
    let bytes = s.as_bytes();
    let mut n = 0;
    let wrapped = bytes.first() == Some(&b'(');
    if wrapped {
        n += 1;
    }
    let start = n;
    while n < bytes.len()
        && n - start < 2
        && (bytes[n].is_ascii_digit()
            || (n == start
                && bytes[n].is_ascii_lowercase()
                && bytes.get(n + 1).is_some_and(|b| matches!(b, b')' | b'.'))))
    {
        n += 1;
    }
    if n > start {
        let close = bytes.get(n).copied();
        if (wrapped && close == Some(b')')) || (!wrapped && matches!(close, Some(b'.') | Some(b')'))) {
            s = s[n + 1..].trim();
        }
    }
    s
}

/// The customer ID after a label on the same line, if it fits the configured pattern.
fn find_customer_id(text: &str, rules: &Understanding) -> Option<String> {
    let upper = text.to_uppercase();
    rules.customer_id_pattern.find(&upper).map(|m| m.as_str().to_string())
}

/// "お客様番号はACME-0012です": an ID label inside a sentence.
fn inline_customer_id(line: &str, rules: &Understanding) -> Option<String> {
    // An ID has a '-' between letters and digits; most lines have none and are skipped.
    if !line.contains('-') || !line.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let folded = fold(line);
    let compact: String = folded.chars().filter(|c| !c.is_whitespace()).collect();
    for (label, kind) in &rules.labels {
        if *kind != LabelKind::Item(Item::CustomerId) || label.chars().count() < 3 {
            continue;
        }
        if let Some(pos) = memchr::memmem::find(compact.as_bytes(), label.as_bytes()) {
            return find_customer_id(&compact[pos + label.len()..], rules);
        }
    }
    None
}

/// The declaration word of a priority value: "高（業務停止）" -> "高", "Severity 2" -> "2".
fn declared_word(value: &str) -> Option<String> {
    let folded = fold(value);
    let folded = folded.trim_matches(|c: char| c == '「' || c == '」' || c == '"' || c.is_whitespace() || c == ':');
    let compact: String = folded.chars().filter(|c| !c.is_whitespace() && *c != '-' && *c != '_').collect();
    // sev1, severity1, level1, レベル1, s1, p1, 重要度1 -> the digit
    for prefix in ["severity", "sev", "level", "レベル", "priority", "s", "p", ""] {
        if let Some(rest) = compact.strip_prefix(prefix) {
            let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
            let after = rest[digits.len()..].chars().next();
            if digits.len() == 1 && after.is_none_or(|c| !c.is_alphanumeric() || !c.is_ascii()) {
                return Some(digits);
            }
        }
    }
    let word: String = folded
        .split(|c: char| {
            c.is_whitespace() || matches!(c, '(' | ')' | '/' | '、' | ',' | '。' | '.' | '・' | '[' | ']' | '【' | '】')
        })
        .find(|w| !w.is_empty())?
        .to_string();
    // 高い/高め -> 高; 低い -> 低; 中程度 -> 中
    let first = word.chars().next()?;
    if matches!(first, '高' | '中' | '低') && word.chars().count() <= 3 && word != "中止" {
        return Some(first.to_string());
    }
    Some(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Understanding {
        crate::config::Config::load(None, &Default::default()).expect("embedded config").understanding
    }

    #[test]
    fn lines_are_split_and_trimmed_as_str_lines_would() {
        let texts = [
            "",
            "\n",
            "a",
            "a\n",
            "a\r\nb\r\n",
            "a\n\n\nb",
            "  x  \t\n\x0b\n",
            "全角\u{3000}\u{3000}\nNEL\u{85}\n",
            "\r\n\r",
            "末尾 \u{3000} ",
            "x\u{2003}y\u{2003}",
        ];
        for text in texts {
            let expected: Vec<&str> = text.lines().map(str::trim_end).collect();
            assert_eq!(trimmed_lines(text), expected, "{text:?}");
        }
    }

    #[test]
    fn declared_words() {
        assert_eq!(declared_word("高（業務停止）").as_deref(), Some("高"));
        assert_eq!(declared_word("High - everyone is affected").as_deref(), Some("high"));
        assert_eq!(declared_word("Severity 2").as_deref(), Some("2"));
        assert_eq!(declared_word("Sev1").as_deref(), Some("1"));
        assert_eq!(declared_word("１").as_deref(), Some("1"));
        assert_eq!(declared_word("レベル１").as_deref(), Some("1"));
    }

    #[test]
    fn a_heading_with_a_parenthetical_or_a_stop_is_still_its_label_and_a_sentence_is_none() {
        let rules = rules();
        // The body is NFKC-normalised before labels are read: （必須） arrives as (必須).
        for (line, kind) in [
            ("再現手順(必須)", LabelKind::Item(Item::ReproSteps)),
            ("再現手順 。", LabelKind::Item(Item::ReproSteps)),
            (
                "発生している問題(できるだけ詳しくご記入ください、画面名や操作の順番も含めて)",
                LabelKind::Item(Item::Description),
            ),
            ("Special circumstances (if any)", LabelKind::Item(Item::Circumstances)),
            ("Expected result.", LabelKind::ExpectedResult),
        ] {
            assert_eq!(parse_label(line, &rules).map(|l| l.kind), Some(kind), "{line:?}");
        }
        for line in [
            "お世話になっております。",
            "本日朝から以下の事象が発生しており、業務に影響が出ております。",
            "Thanks (really).",
        ] {
            assert!(parse_label(line, &rules).is_none(), "{line:?}");
        }
    }

    #[test]
    fn a_long_line_is_a_label_only_with_a_closing_mark_near_its_start() {
        let text = "あいうえおかきくけこ";
        assert_eq!(char_start(text, 3), Some(9));
        assert_eq!(char_start(text, 10), None);
        assert_eq!(char_start("abc", 2), Some(2));
        assert_eq!(char_start("abc", 3), None);
        for mark in [":", "]", ">", "】", "〕", "》", "〉", "〗"] {
            assert!(closes_label(format!("再現手順{mark}").as_bytes()), "{mark}");
        }
        for other in ["「」【", "。、・", "〜（）"] {
            assert!(!closes_label(format!("再現手順{other}").as_bytes()), "{other}");
        }
        // A long line with its label closed near the start is read; without, passed over.
        let rules = rules();
        let long = "エラー内容】".to_string() + &"長い説明".repeat(20);
        assert!(parse_label(&format!("【{long}"), &rules).is_some());
        assert!(parse_label(&"長い説明".repeat(20), &rules).is_none());
    }

    #[test]
    fn markers() {
        assert_eq!(strip_marker("■ 再現手順"), "再現手順");
        assert_eq!(strip_marker("(2) エラー内容"), "エラー内容");
        assert_eq!(strip_marker("b) Description"), "Description");
        assert_eq!(strip_marker("1. ログインする"), "ログインする");
    }

    #[test]
    fn labelled_report_with_quote_and_signature() {
        let body = "いつもお世話になっております。\n\nお客様番号：ＡＣＭＥ－００１２\n\n【現象】\n管理画面にログインできません。\n\n【再現手順】\n１．ログイン画面を開く\n２．IDを入力する\n\n【エラーメッセージ】\n認証に失敗しました（E-4012）\n\n■ 発生状況\n本日9時から全員\n\nよろしくお願いいたします。\n--\n山田 太郎\nTEL 03-1234-5678\n\n2026年11月24日(火) 10:00 サポート <support@uketsuke.example.jp>:\n> 【再現手順】古い手順\n";
        let r = read(body, &rules());
        assert_eq!(r.customer_id.as_deref(), Some("ACME-0012"));
        assert_eq!(r.fields.description.as_deref(), Some("管理画面にログインできません。"));
        assert_eq!(r.fields.repro_steps.as_deref(), Some("1.ログイン画面を開く\n2.IDを入力する"));
        assert_eq!(r.fields.error_messages, vec!["認証に失敗しました(E-4012)".to_string()]);
        assert_eq!(r.fields.circumstances.as_deref(), Some("本日9時から全員"));
        assert!(!r.own_text.contains("古い手順"));
        assert!(!r.own_text.contains("03-1234"));
    }

    #[test]
    fn unlabelled_english_report() {
        let body = "Hi team,\n\nSince this morning our users cannot export reports.\n\n1. Open Reports\n2. Click Export\n\nError: java.lang.IllegalStateException: export queue full\n\tat com.example.Export.run(Export.java:42)\n\nThanks,\nJane\n";
        let r = read(body, &rules());
        assert_eq!(r.fields.description.as_deref(), Some("Since this morning our users cannot export reports."));
        assert_eq!(r.fields.repro_steps.as_deref(), Some("1. Open Reports\n2. Click Export"));
        assert_eq!(r.fields.error_messages.len(), 1);
        assert!(r.fields.error_messages[0].contains("Export.java:42"));
    }

    #[test]
    fn an_unlabelled_java_stack_trace_is_one_error_message_whole() {
        let trace = "Exception in thread \"main\" java.lang.NullPointerException: customer is null\n\tat com.example.billing.Invoice.total(Invoice.java:88)\n\tat java.base/java.util.ArrayList.forEach(ArrayList.java:1596)\n\tat app//com.example.billing.Main.main(Main.java:12)\nCaused by: java.lang.IllegalStateException: cache closed\n\tat com.example.cache.Store.get(Store.java:40)\n\t... 5 more";
        let body = format!(
            "Hello,\n\nThe invoice batch crashed tonight with this:\n\n{trace}\n\nIt worked until yesterday's update.\n\nThanks,\nKen\n"
        );
        let r = read(&body, &rules());
        assert_eq!(r.fields.error_messages, vec![trace.to_string()]);
        assert_eq!(
            r.fields.description.as_deref(),
            Some("The invoice batch crashed tonight with this:\n\nIt worked until yesterday's update.")
        );
    }

    #[test]
    fn an_unlabelled_python_traceback_is_one_error_message_whole() {
        let trace = "Traceback (most recent call last):\n  File \"sync.py\", line 3, in <module>\n    run()\n  File \"sync.py\", line 9, in run\n    raise ValueError(\"bad\")\nValueError: bad";
        let body = format!("同期スクリプトが毎回止まります。\n{trace}\n手動で実行しても同じです。\n");
        let r = read(&body, &rules());
        assert_eq!(r.fields.error_messages, vec![trace.to_string()]);
        assert_eq!(
            r.fields.description.as_deref(),
            Some("同期スクリプトが毎回止まります。\n手動で実行しても同じです。")
        );
        // An exception whose name has no "Error" in it ends its traceback too; a chained one
        // stays one message.
        let chained = "Traceback (most recent call last):\n  File \"w.py\", line 2, in <module>\n    loop()\nKeyError: 'id'\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File \"w.py\", line 4, in <module>\n    stop()\nKeyboardInterrupt";
        let body = format!("The worker dies:\n\n{chained}\n\nPlease check.\n");
        let r = read(&body, &rules());
        assert_eq!(r.fields.error_messages, vec![chained.to_string()]);
        assert_eq!(r.fields.description.as_deref(), Some("The worker dies:\n\nPlease check."));
    }

    #[test]
    fn unlabelled_dotnet_and_go_traces_are_one_error_message_whole() {
        let dotnet = "Unhandled exception. System.NullReferenceException: Object reference not set to an instance of an object.\n   at Acme.Billing.Invoice.Total() in C:\\src\\Billing\\Invoice.cs:line 88\n   at Acme.Billing.Program.Main(String[] args) in C:\\src\\Billing\\Program.cs:line 12";
        let go = "panic: runtime error: invalid memory address or nil pointer dereference\n[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a1b2c]\n\ngoroutine 1 [running]:\nmain.(*Exporter).Run(0x0)\n\t/srv/exporter/main.go:42 +0x1d\nmain.main()\n\t/srv/exporter/main.go:12 +0x25\nexit status 2";
        for trace in [dotnet, go] {
            let body = format!("The nightly export stopped:\n\n{trace}\n\nIt ran fine last week.\n");
            let r = read(&body, &rules());
            assert_eq!(r.fields.error_messages, vec![trace.to_string()], "{trace}");
            assert_eq!(
                r.fields.description.as_deref(),
                Some("The nightly export stopped:\n\nIt ran fine last week."),
                "{trace}"
            );
        }
    }

    #[test]
    fn indented_prose_after_an_error_code_is_not_error_text() {
        // Only a stack trace's own indented lines continue it.
        let r = read("ERR-5003 が表示されました。\n  再度ログインしても同じです。\n", &rules());
        assert_eq!(r.fields.error_messages, vec!["ERR-5003 が表示されました。".to_string()]);
        assert_eq!(r.fields.description.as_deref(), Some("再度ログインしても同じです。"));
    }

    #[test]
    fn a_severity_under_its_heading_is_a_declaration() {
        for value in ["重要度レベル 1", "レベル1", "重要度レベル:1", "レベル 1(業務停止)"] {
            let body = format!(
                "【お客様番号】\nACME-0012\n\n【重要度】\n{value}\n\n【現象】\n本番環境にログインできません。\n"
            );
            let r = read(&body, &rules());
            assert_eq!(r.declared_priority.as_deref(), Some("1"), "{value:?}");
            assert_eq!(r.fields.description.as_deref(), Some("本番環境にログインできません。"), "{value:?}");
        }
    }
}
