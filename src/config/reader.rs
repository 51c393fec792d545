//! Reading TOML with every problem reported at once, with its file, line and a fix.
//!
//! Operators edit `config/` by hand. A daemon that stops at the first mistake, or says
//! "invalid type: string, expected u32" without a line, costs them a restart per typo. The
//! reader walks the parsed document with spans, collects every problem (syntax, unknown keys,
//! wrong types, bad values) and lets each section's loader add its own checks.

use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One thing wrong in a configuration file, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub fix: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}: {}. {}", self.file.display(), self.line, self.column, self.message, self.fix)
    }
}

/// A configuration file being read: its text, for turning byte spans into lines, and the
/// problems found so far.
pub struct Source {
    pub path: PathBuf,
    text: String,
    pub problems: Vec<Problem>,
}

pub type Table<'i> = DeTable<'i>;
pub type Value<'i> = Spanned<DeValue<'i>>;

impl Source {
    pub fn new(path: &Path, text: String) -> Self {
        Source { path: path.to_path_buf(), text, problems: Vec::new() }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Records a problem at a byte span of the file.
    pub fn problem(&mut self, span: Range<usize>, message: impl Into<String>, fix: impl Into<String>) {
        let (line, column) = self.line_column(span.start);
        self.problems.push(Problem { file: self.path.clone(), line, column, message: message.into(), fix: fix.into() });
    }

    fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text.as_bytes()[..offset];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|b| *b == b'\n').map_or(0, |p| p + 1);
        let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
        (line, column)
    }
}

/// Parses `text` as TOML, recording syntax errors as problems of `source`.
pub fn parse<'i>(source: &mut Source, text: &'i str) -> Spanned<Table<'i>> {
    let (table, errors) = DeTable::parse_recoverable(text);
    for error in errors {
        let span = error.span().unwrap_or(0..0);
        let message = error.message().trim().trim_end_matches('.').to_string();
        source.problem(
            span,
            format!("TOML syntax error: {message}"),
            "Fix the syntax on this line (strings need quotes, tables need [brackets]).",
        );
    }
    table
}

/// Checks that `table` has only the `allowed` keys, naming the closest allowed one.
pub fn check_keys(source: &mut Source, table: &Table<'_>, section: &str, allowed: &[&str]) {
    for key in table.keys() {
        let name: &str = key.get_ref();
        if !allowed.contains(&name) {
            let fix = match closest(name, allowed) {
                Some(near) => format!("Did you mean `{near}`? Allowed keys in {section}: {}.", allowed.join(", ")),
                None => format!("Allowed keys in {section}: {}.", allowed.join(", ")),
            };
            source.problem(key.span(), format!("unknown key `{name}` in {section}"), fix);
        }
    }
}

fn closest<'a>(name: &str, allowed: &[&'a str]) -> Option<&'a str> {
    allowed.iter().map(|a| (edit_distance(name, a), *a)).filter(|(d, a)| *d <= 2.max(a.len() / 3)).min().map(|(_, a)| a)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(row[j + 1] + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// Typed access to the keys of one table, recording a problem for every wrong type.
pub struct Section<'s, 't, 'i> {
    pub source: &'s mut Source,
    pub table: &'t Table<'i>,
    pub name: String,
    /// Span of the table itself, for "missing key" problems.
    pub span: Range<usize>,
}

impl<'s, 't, 'i> Section<'s, 't, 'i> {
    pub fn new(source: &'s mut Source, table: TableRef<'t, 'i>, name: &str, allowed: &[&str]) -> Self {
        check_keys(source, table.table, name, allowed);
        Section { source, table: table.table, name: name.to_string(), span: table.span }
    }

    pub fn value(&self, key: &str) -> Option<&'t Value<'i>> {
        self.table.get(key)
    }

    fn wrong_type(&mut self, key: &str, value: &Value<'_>, expected: &str, example: &str) {
        let found = value.get_ref().type_str();
        self.source.problem(
            value.span(),
            format!("`{key}` in {} must be {expected}, not {found}", self.name),
            format!("Write it like: {key} = {example}"),
        );
    }

    pub fn missing(&mut self, key: &str, example: &str) {
        let span = self.span.clone();
        self.source.problem(
            span,
            format!("{} has no `{key}`", self.name),
            format!("Add it, for example: {key} = {example}"),
        );
    }

    /// A string value and its span.
    pub fn string(&mut self, key: &str, required: bool, example: &str) -> Option<(String, Range<usize>)> {
        let Some(value) = self.value(key) else {
            if required {
                self.missing(key, example);
            }
            return None;
        };
        match value.get_ref().as_str() {
            Some(s) => Some((s.to_string(), value.span())),
            None => {
                self.wrong_type(key, value, "a string in quotes", example);
                None
            }
        }
    }

    pub fn boolean(&mut self, key: &str, default: bool) -> bool {
        let Some(value) = self.value(key) else { return default };
        match value.get_ref().as_bool() {
            Some(b) => b,
            None => {
                self.wrong_type(key, value, "true or false", "true");
                default
            }
        }
    }

    pub fn integer(&mut self, key: &str, default: i64, range: Range<i64>) -> i64 {
        let Some(value) = self.value(key) else { return default };
        let parsed = value.get_ref().as_integer().and_then(|i| i64::from_str_radix(i.as_str(), i.radix()).ok());
        match parsed {
            Some(n) if range.contains(&n) => n,
            Some(n) => {
                self.source.problem(
                    value.span(),
                    format!("`{key}` in {} is {n}, out of range", self.name),
                    format!("Use a whole number from {} to {}.", range.start, range.end - 1),
                );
                default
            }
            None => {
                self.wrong_type(key, value, "a whole number", &default.to_string());
                default
            }
        }
    }

    /// A list of strings, each with its span.
    pub fn strings(&mut self, key: &str, example: &str) -> Vec<(String, Range<usize>)> {
        let Some(value) = self.value(key) else { return Vec::new() };
        let Some(array) = value.get_ref().as_array() else {
            self.wrong_type(key, value, "a list of strings", example);
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in array.iter() {
            match item.get_ref().as_str() {
                Some(s) => out.push((s.to_string(), item.span())),
                None => {
                    let found = item.get_ref().type_str();
                    self.source.problem(
                        item.span(),
                        format!("`{key}` in {} must hold only strings, not a {found}", self.name),
                        format!("Put the value in quotes, as in {key} = {example}"),
                    );
                }
            }
        }
        out
    }

    /// A sub-table by key.
    pub fn table(&mut self, key: &str) -> Option<TableRef<'t, 'i>> {
        let value = self.value(key)?;
        match value.get_ref() {
            DeValue::Table(table) => Some(TableRef { table, span: value.span() }),
            _ => {
                self.wrong_type(key, value, "a table", &format!("[{key}] on its own line"));
                None
            }
        }
    }

    /// An array of tables (`[[key]]`).
    pub fn tables(&mut self, key: &str) -> Vec<TableRef<'t, 'i>> {
        let Some(value) = self.value(key) else { return Vec::new() };
        let Some(array) = value.get_ref().as_array() else {
            self.wrong_type(key, value, "a list of tables", &format!("[[{key}]] blocks"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in array.iter() {
            match item.get_ref() {
                DeValue::Table(table) => out.push(TableRef { table, span: item.span() }),
                other => {
                    let found = other.type_str();
                    self.source.problem(
                        item.span(),
                        format!("each entry of `{key}` in {} must be a table, not a {found}", self.name),
                        format!("Write each entry as a [[{key}]] block."),
                    );
                }
            }
        }
        out
    }
}

/// A table of the document and where it is.
#[derive(Clone)]
pub struct TableRef<'t, 'i> {
    pub table: &'t Table<'i>,
    pub span: Range<usize>,
}
