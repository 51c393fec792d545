//! Finding the lines of a text that a set of line patterns could match, in one pass.
//!
//! Most lines of a report, and nearly all lines of an attached log, match none of the
//! configured line patterns (reply headers, signatures, courtesy lines, error output, steps).
//! Asking the pattern set about every line on its own pays the cost of starting a search once
//! per line; a [`LineGate`] searches the whole text instead and stops at the first line that
//! could match, so only those lines are asked about in full.
//!
//! The gate is the same patterns made to work on a whole text: `^` and `$` match at the start
//! and end of every line, and no character class matches a line break, so that no match reaches
//! from one line into the next (every search ends within the line it stopped on, and a text is
//! read once however many lines it has). A line the patterns match on its own is always a line
//! the gate stops on; the gate may stop on more (a `^` after a lone CR), which the full check
//! then turns down.

use regex_automata::meta::{self, Regex};
use regex_automata::nfa::thompson::WhichCaptures;
use regex_automata::{Input, MatchKind};
use regex_syntax::hir::{Capture, Class, ClassBytes, ClassBytesRange, ClassUnicode, ClassUnicodeRange, Hir, HirKind};
use regex_syntax::hir::{Look, Repetition};

/// The line patterns of one set, compiled to search whole texts (see the module docs).
#[derive(Debug, Clone)]
pub struct LineGate {
    regex: Regex,
}

impl LineGate {
    /// The gate of `patterns` (written as for a `regex::RegexSet` over single lines), or `None`
    /// when a pattern does not parse or the whole set is too large; callers then ask about
    /// every line, as without a gate.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Option<Self> {
        let mut hirs = Vec::with_capacity(patterns.len());
        for pattern in patterns {
            let hir = regex_syntax::ParserBuilder::new().build().parse(pattern.as_ref()).ok()?;
            hirs.push(within_a_line(&hir));
        }
        let config = meta::Config::new()
            .match_kind(MatchKind::LeftmostFirst)
            .which_captures(WhichCaptures::Implicit)
            .nfa_size_limit(Some(64 << 20))
            .hybrid_cache_capacity(16 << 20);
        let regex = meta::Builder::new().configure(config).build_many_from_hir(&hirs).ok()?;
        Some(LineGate { regex })
    }

    /// Where the first line at or after byte `from` (a line start) that a pattern could match
    /// ends its match: an offset inside that line, or at its end. `None`: no line after `from`
    /// matches any pattern.
    pub fn next_hit(&self, text: &str, from: usize) -> Option<usize> {
        if from > text.len() {
            return None;
        }
        // The earliest match end lies in the first line that matches: no match spans lines.
        let input = Input::new(text).range(from..).earliest(true);
        self.regex.search_half(&input).map(|m| m.offset())
    }
}

/// `hir` with its anchors made line anchors and its classes without the line feed.
fn within_a_line(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Empty => Hir::empty(),
        HirKind::Literal(literal) => Hir::literal(literal.0.clone()),
        HirKind::Class(Class::Unicode(class)) => {
            let mut class = class.clone();
            class.difference(&ClassUnicode::new([ClassUnicodeRange::new('\n', '\n')]));
            Hir::class(Class::Unicode(class))
        }
        HirKind::Class(Class::Bytes(class)) => {
            let mut class = class.clone();
            class.difference(&ClassBytes::new([ClassBytesRange::new(b'\n', b'\n')]));
            Hir::class(Class::Bytes(class))
        }
        HirKind::Look(look) => Hir::look(match look {
            Look::Start => Look::StartCRLF,
            Look::End => Look::EndCRLF,
            other => *other,
        }),
        HirKind::Repetition(rep) => {
            Hir::repetition(Repetition { sub: Box::new(within_a_line(&rep.sub)), ..rep.clone() })
        }
        // The gate only says where a match ends: groups are not needed.
        HirKind::Capture(Capture { sub, .. }) => within_a_line(sub),
        HirKind::Concat(subs) => Hir::concat(subs.iter().map(within_a_line).collect()),
        HirKind::Alternation(subs) => Hir::alternation(subs.iter().map(within_a_line).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines (by index) each pattern set matches line by line, and those the gate finds.
    fn both(patterns: &[&str], text: &str) -> (Vec<usize>, Vec<usize>) {
        let set = regex::RegexSet::new(patterns).expect("patterns");
        let per_line: Vec<usize> =
            text.split('\n').enumerate().filter(|(_, l)| set.is_match(l)).map(|(i, _)| i).collect();
        let gate = LineGate::new(patterns).expect("gate");
        let starts: Vec<usize> = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        let line_of = |offset: usize| starts.iter().rposition(|&s| s <= offset).expect("a line");
        let mut hits = Vec::new();
        let mut from = 0;
        while let Some(end) = gate.next_hit(text, from) {
            let line = line_of(end);
            // The gate stops on a line; the full check decides.
            if set.is_match(text.split('\n').nth(line).expect("line")) {
                hits.push(line);
            }
            match starts.get(line + 1) {
                Some(&next) => from = next,
                None => break,
            }
        }
        (per_line, hits)
    }

    #[test]
    fn the_gate_finds_exactly_the_lines_the_patterns_match_one_by_one() {
        let patterns = [
            r"^-- ?$",
            r"^\s*(Error|Exception)(?-u:\b).*$",
            r"「(?P<text>[^」]{2,})」(という|との)(エラー|メッセージ)",
            r"^.*お願い(いた|致)?(します|いたします)[。.!！]*$",
            r"^\s+at .+ \(.*:[0-9]+\)\s*$",
            r"^\s*(\(?[0-9]{1,2}[.)、]|[-*・]\s)",
            r"\bE[0-9]{3,6}\b",
            r"^$",
        ];
        let text = "お世話になっております。\n\
                    「ログイン\n失敗」というエラー\n\
                    「接続できません」というエラーが出ます\n\
                    Error: boom\n   at x (/a.js:1)\n\
                    1. 開く\n- 押す\n\
                    code E1234 seen\nE12 short\n\
                    \n\
                    \u{3000}\n\
                    ご確認をお願いいたします。\n\
                    -- \n--  \n\
                    tail without newline";
        let (per_line, gated) = both(&patterns, text);
        assert_eq!(gated, per_line);
        // The multi-line 「...」 is not taken for one quote: no match spans a line break.
        assert!(!per_line.contains(&1) && !per_line.contains(&2), "{per_line:?}");
        assert!(per_line.contains(&3) && per_line.contains(&12), "{per_line:?}");
    }

    #[test]
    fn a_log_with_crlf_line_ends_is_gated_like_its_lines() {
        let patterns = [r"^exit status [0-9]+$", r"^(Error|FATAL)(?-u:\b).*$", r"^-{2,}$"];
        let text = "INFO start\r\nexit status 2\r\nFATAL: disk\r\n----\r\nINFO done\r\n";
        let set = regex::RegexSet::new(patterns).expect("patterns");
        let per_line: Vec<&str> = text.lines().filter(|l| set.is_match(l)).collect();
        let gate = LineGate::new(&patterns).expect("gate");
        let mut found = Vec::new();
        let mut from = 0;
        while let Some(end) = gate.next_hit(text, from) {
            let start = text[..end].rfind('\n').map_or(0, |i| i + 1);
            let stop = text[end..].find('\n').map_or(text.len(), |i| end + i);
            let line = text[start..stop].trim_end_matches('\r');
            if set.is_match(line) {
                found.push(line);
            }
            from = stop + 1;
        }
        assert_eq!(found, per_line);
        assert_eq!(per_line, ["exit status 2", "FATAL: disk", "----"]);
    }

    #[test]
    fn a_pattern_the_gate_cannot_use_gives_no_gate() {
        assert!(LineGate::new(&["(unclosed"]).is_none());
    }
}
