//! The settings of one support desk, read from TOML under `config/` and checked strictly.
//!
//! Operators edit these files by hand, so loading never stops at the first mistake: every
//! problem is collected with its file, line and a sentence on how to fix it
//! (`uketsuke check-config`). Word lists, label patterns, hours and holidays are all data here,
//! so changing them needs no rebuild.

pub mod channels;
pub mod customers;
pub mod oauth;
pub mod policy;
pub mod reader;
pub mod understanding;

use std::path::{Path, PathBuf};

pub use customers::{Customer, Customers};
pub use policy::Policy;
pub use reader::Problem;
pub use understanding::Understanding;

use reader::{Section, Source, TableRef};

/// Everything uketsuke needs to understand and decide, loaded and validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// The main configuration file.
    pub path: PathBuf,
    pub policy: Policy,
    pub profiles_dir: PathBuf,
    pub customers: Customers,
    pub understanding: Understanding,
    pub mail: MailIdentity,
    pub cases: CaseNumbering,
    pub store: StoreSettings,
    /// The mailbox to watch; `None` when IMAP intake is off.
    /// The mailboxes watched (`[imap]`, or several `[[imap]]`), each its own channel.
    pub imap: Vec<channels::ImapSettings>,
    /// The server to send through; `None` when sending is off (the outbox waits).
    pub smtp: Option<channels::SmtpSettings>,
    pub outbox: channels::OutboxSettings,
    pub alerts: channels::AlertSettings,
    /// The HTTP listener (intake page, webhook, health, metrics); `None` when off.
    pub http: Option<channels::HttpSettings>,
    /// OAuth2 accounts the mail channels log in with (`[oauth.NAME]`).
    pub oauth: Vec<oauth::OAuthAccount>,
    /// The folder of the message templates; `None`: the templates built into the binary.
    pub templates_dir: Option<PathBuf>,
}

/// Who we are in mail: our address, the domain of our Message-IDs and our loop header.
#[derive(Debug, Clone)]
pub struct MailIdentity {
    pub support_address: String,
    pub message_id_domain: String,
    pub loop_header: String,
    pub team_address: String,
    pub oncall_address: String,
    pub ack_rate_per_hour: u32,
}

/// Where the durable record lives.
#[derive(Debug, Clone)]
pub struct StoreSettings {
    /// A SQLite file (`path`, the default) or a PostgreSQL database (`url`).
    pub location: crate::record::StoreLocation,
    /// The key that seals OAuth2 refresh tokens in the store (32 bytes, raw or base64).
    pub token_key: Option<PathBuf>,
    /// How long a mailbox or the scheduler stays with an instance that stops renewing it.
    pub lease: std::time::Duration,
}

/// How case numbers are written: `{prefix}-{year}-{seq}`.
#[derive(Debug, Clone)]
pub struct CaseNumbering {
    pub prefix: String,
    pub width: usize,
    /// Finds a case tag in a (normalised) subject or Message-ID, in any bracket style.
    pub tag: regex::Regex,
    /// Our tag at the very start of a (normalised) subject, with its brackets and the spaces
    /// after it: what our acknowledgment's subject does not repeat.
    pub leading_tag: regex::Regex,
}

impl CaseNumbering {
    pub fn new(prefix: String, width: usize) -> CaseNumbering {
        let escaped = regex::escape(&prefix);
        let tag = regex::Regex::new(&format!(
            r"(?i)(?:^|[^A-Z0-9])({escaped})\s*-\s*([0-9]{{4}})\s*-\s*([0-9]{{1,12}})(?:[^0-9]|$)"
        ))
        .expect("an escaped prefix makes a valid pattern");
        let leading_tag =
            regex::Regex::new(&format!(r"^\s*[\[【(（#＃]?\s*{escaped}-[0-9]{{4}}-[0-9]+\s*[\]】)）]?\s*"))
                .expect("an escaped prefix makes a valid pattern");
        CaseNumbering { prefix, width, tag, leading_tag }
    }
}

/// The configuration that ships in the binary, used when no file is given: the files under
/// `config/` of the source tree, so the embedded defaults and the shipped files never drift.
pub mod embedded {
    pub const MAIN: &str = include_str!("../../config/uketsuke.toml");
    pub const CUSTOMERS: &str = include_str!("../../config/customers.toml");
    pub const UNDERSTANDING: &str = include_str!("../../config/understanding.toml");
    pub const PROFILES: [(&str, &str); 2] = [
        ("three-priority", include_str!("../../config/policies/three-priority.toml")),
        ("four-severity", include_str!("../../config/policies/four-severity.toml")),
    ];
}

/// Where configuration text comes from: files on disk, or the embedded defaults.
#[derive(Debug, Clone)]
enum Origin {
    Disk(PathBuf),
    Embedded,
}

impl Origin {
    fn read(&self, relative: &str, embedded: Option<&'static str>) -> Result<(PathBuf, String), (PathBuf, String)> {
        match self {
            Origin::Disk(dir) => {
                let path = dir.join(relative);
                std::fs::read_to_string(&path).map(|text| (path.clone(), text)).map_err(|e| (path, e.to_string()))
            }
            Origin::Embedded => {
                let path = PathBuf::from("(embedded)").join(relative);
                embedded.map(|t| (path.clone(), t.to_string())).ok_or((path, "no such embedded file".into()))
            }
        }
    }
}

/// Options that override the main file: `--policy` and `--customers` on the command line.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub profile: Option<String>,
    pub customers: Option<PathBuf>,
}

impl Config {
    /// Loads the main file at `path` (or the embedded defaults when `None`) and every file it
    /// names. Returns every problem found when there is any.
    pub fn load(path: Option<&Path>, overrides: &Overrides) -> Result<Config, Vec<Problem>> {
        let (origin, main_path, text) = match path {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => {
                    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
                    (Origin::Disk(dir), path.to_path_buf(), text)
                }
                Err(e) => return Err(vec![unreadable(path, &e.to_string())]),
            },
            None => (Origin::Embedded, PathBuf::from("(embedded)/uketsuke.toml"), embedded::MAIN.to_string()),
        };
        let mut problems = Vec::new();
        let mut source = Source::new(&main_path, text.clone());
        let main = read_main(&mut source, &text);
        problems.append(&mut source.problems);
        let Some(main) = main else { return Err(problems) };

        let profile = overrides.profile.clone().unwrap_or(main.profile.clone());
        let profiles_dir = PathBuf::from(&main.profiles_dir);
        let known_profiles = list_profiles(&origin, &profiles_dir);
        let policy = if known_profiles.contains(&profile) {
            let file = format!("{}/{profile}.toml", main.profiles_dir);
            let embedded = embedded::PROFILES.iter().find(|(n, _)| *n == profile).map(|(_, t)| *t);
            load_file(&origin, &file, embedded, &mut problems, |s, t| policy::read(s, t, &origin_dir(&origin)))
        } else {
            let fix = if known_profiles.is_empty() {
                format!("Put a profile file such as three-priority.toml in {}.", main.profiles_dir)
            } else {
                format!("Use one of: {}.", known_profiles.join(", "))
            };
            problems.push(Problem {
                file: main_path.clone(),
                line: main.profile_line,
                column: 1,
                message: format!("unknown policy profile `{profile}`"),
                fix,
            });
            None
        };
        let customers = match &overrides.customers {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => {
                    let mut source = Source::new(path, text.clone());
                    let c = customers::read(&mut source, &text, policy.as_ref());
                    problems.append(&mut source.problems);
                    c
                }
                Err(e) => {
                    problems.push(unreadable(path, &e.to_string()));
                    None
                }
            },
            None => load_file(&origin, &main.customers, Some(embedded::CUSTOMERS), &mut problems, |s, t| {
                customers::read(s, t, policy.as_ref())
            }),
        };
        let understanding =
            load_file(&origin, &main.understanding, Some(embedded::UNDERSTANDING), &mut problems, understanding::read);
        if let (Some(customers), Some(understanding)) = (&customers, &understanding) {
            customers.check_ids(&understanding.customer_id_pattern, &mut problems);
        }
        match (policy, customers, understanding) {
            (Some(policy), Some(customers), Some(understanding)) if problems.is_empty() => Ok(Config {
                path: main_path,
                policy,
                profiles_dir,
                customers,
                understanding,
                mail: main.mail,
                cases: main.cases,
                store: main.store,
                imap: main.imap,
                smtp: main.smtp,
                oauth: main.oauth,
                outbox: main.outbox,
                alerts: main.alerts,
                http: main.http,
                templates_dir: match &origin {
                    Origin::Disk(dir) => Some(dir.join(&main.templates)),
                    Origin::Embedded => None,
                },
            }),
            _ => Err(problems),
        }
    }

    /// Checks a main file and everything it names, including every profile in its profiles
    /// directory (not only the selected one), so a profile an operator switches to later is
    /// already known to be good.
    pub fn check(path: &Path) -> Vec<Problem> {
        let mut problems = match Config::load(Some(path), &Overrides::default()) {
            Ok(config) => {
                // Every template renders once against sample cases.
                let dir = config.templates_dir.clone().unwrap_or_default();
                let mut found = match crate::act::compose::Templates::from_dir(&dir) {
                    Ok(t) => t.check(&config, &dir),
                    Err(problems) => problems,
                };
                if let Err(e) = crate::http::page::Pages::load(Some(&dir)) {
                    found.push(format!("the intake page: {e}"));
                }
                let mut problems: Vec<Problem> = found
                    .into_iter()
                    .map(|message| Problem {
                        file: dir.clone(),
                        line: 0,
                        column: 0,
                        message,
                        fix: "Templates are minijinja text files; see the shipped templates/ folder.".into(),
                    })
                    .collect();
                // The OAuth2 credentials and the token key, read as the daemon will.
                let credential = |message: String| Problem {
                    file: config.path.clone(),
                    line: 0,
                    column: 0,
                    message,
                    fix: "See \"Microsoft 365 and Google: OAuth2\" in the README.".into(),
                };
                if let Some(key) = &config.store.token_key
                    && let Err(e) = crate::oauth::vault::Vault::from_file(key)
                {
                    problems.push(credential(e));
                }
                problems.extend(config.oauth.iter().flat_map(crate::oauth::grant::check_files).map(credential));
                problems
            }
            Err(p) => p,
        };
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let origin = Origin::Disk(dir.clone());
        if let Ok(text) = std::fs::read_to_string(path) {
            let mut source = Source::new(path, text.clone());
            if let Some(main) = read_main(&mut source, &text) {
                for name in list_profiles(&origin, Path::new(&main.profiles_dir)) {
                    if name == main.profile {
                        continue;
                    }
                    let file = format!("{}/{name}.toml", main.profiles_dir);
                    load_file(&origin, &file, None, &mut problems, |s, t| policy::read(s, t, &dir));
                }
            }
        }
        problems
    }
}

fn origin_dir(origin: &Origin) -> PathBuf {
    match origin {
        Origin::Disk(dir) => dir.clone(),
        Origin::Embedded => PathBuf::from("."),
    }
}

fn unreadable(path: &Path, error: &str) -> Problem {
    Problem {
        file: path.to_path_buf(),
        line: 0,
        column: 0,
        message: format!("cannot read the file: {error}"),
        fix: "Check the path (relative paths are taken from the main configuration file's folder) and its permissions."
            .into(),
    }
}

fn load_file<T>(
    origin: &Origin,
    relative: &str,
    embedded: Option<&'static str>,
    problems: &mut Vec<Problem>,
    read: impl FnOnce(&mut Source, &str) -> Option<T>,
) -> Option<T> {
    match origin.read(relative, embedded) {
        Ok((path, text)) => {
            let mut source = Source::new(&path, text.clone());
            let value = read(&mut source, &text);
            problems.append(&mut source.problems);
            value
        }
        Err((path, error)) => {
            problems.push(unreadable(&path, &error));
            None
        }
    }
}

/// The names of the profiles available: `*.toml` files in the profiles directory.
fn list_profiles(origin: &Origin, dir: &Path) -> Vec<String> {
    match origin {
        Origin::Embedded => embedded::PROFILES.iter().map(|(n, _)| n.to_string()).collect(),
        Origin::Disk(base) => {
            let mut names: Vec<String> = std::fs::read_dir(base.join(dir))
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    name.strip_suffix(".toml").map(str::to_string)
                })
                .collect();
            names.sort();
            names
        }
    }
}

struct Main {
    profile: String,
    profile_line: usize,
    profiles_dir: String,
    customers: String,
    understanding: String,
    mail: MailIdentity,
    cases: CaseNumbering,
    store: StoreSettings,
    imap: Vec<channels::ImapSettings>,
    smtp: Option<channels::SmtpSettings>,
    outbox: channels::OutboxSettings,
    alerts: channels::AlertSettings,
    http: Option<channels::HttpSettings>,
    oauth: Vec<oauth::OAuthAccount>,
    templates: String,
}

/// Ties each `[oauth.NAME]` account to the mailbox whose channel names it, and checks that
/// every name resolves and that refresh tokens have a key to be sealed with.
fn bind_oauth<'a>(
    source: &mut Source,
    accounts: &mut [oauth::OAuthAccount],
    servers: impl Iterator<Item = &'a channels::Server>,
    have_key: bool,
) {
    for server in servers {
        let Some(login) = &server.oauth else { continue };
        match accounts.iter_mut().find(|a| a.name == login.account) {
            Some(account) if account.user.is_empty() || account.user.eq_ignore_ascii_case(&login.username) => {
                account.user = login.username.clone()
            }
            Some(account) => {
                let fix = format!(
                    "Use the same username in [imap] and [smtp], or give each its own [oauth.*] account (now {} and {}).",
                    account.user, login.username
                );
                source.problem(0..0, format!("[oauth.{}] is named by two different usernames", account.name), fix);
            }
            None => {
                let known: Vec<String> = accounts.iter().map(|a| a.name.clone()).collect();
                let fix = if known.is_empty() {
                    format!("Add an [oauth.{}] table with provider and client_id.", login.account)
                } else {
                    format!("Known accounts: {}.", known.join(", "))
                };
                source.problem(
                    0..0,
                    format!("oauth = \"{}\" names no [oauth.{}] table", login.account, login.account),
                    fix,
                );
            }
        }
    }
    for account in accounts.iter() {
        if account.provider.uses_refresh_token() && !have_key {
            source.problem(
                0..0,
                format!("[oauth.{}] keeps a refresh token, but [store] has no token_key_file to seal it with", account.name),
                "Add token_key_file = \"secrets/token-key\" under [store] and create it: (umask 077; openssl rand -base64 32 > secrets/token-key)",
            );
        }
    }
}

fn read_main(source: &mut Source, text: &str) -> Option<Main> {
    let doc = reader::parse(source, text);
    let root = TableRef { table: doc.get_ref(), span: 0..0 };
    let mut top = Section::new(
        source,
        root,
        "the main configuration",
        &["policy", "files", "mail", "store", "cases", "imap", "smtp", "outbox", "alerts", "http", "oauth"],
    );
    let policy = top.table("policy");
    let files = top.table("files");
    let mail = top.table("mail");
    let cases = top.table("cases");
    let store = top.table("store");
    // One mailbox ([imap]) or several ([[imap]]).
    let imap: Vec<(TableRef<'_, '_>, bool)> = match top.value("imap").map(|v| v.get_ref().is_array()) {
        Some(true) => top.tables("imap").into_iter().map(|t| (t, true)).collect(),
        _ => top.table("imap").into_iter().map(|t| (t, false)).collect(),
    };
    let smtp = top.table("smtp");
    let outbox = top.table("outbox");
    let alerts = top.table("alerts");
    let http = top.table("http");
    let oauth = top.table("oauth");

    let (profile, profile_line, profiles_dir) = match policy {
        Some(t) => {
            let mut s = Section::new(source, t, "[policy]", &["profile", "profiles_dir"]);
            let profile = s.string("profile", true, "\"three-priority\"");
            let dir = s.string("profiles_dir", false, "\"policies\"").map(|(d, _)| d).unwrap_or("policies".into());
            let line = profile.as_ref().map_or(0, |(_, span)| line_of(text, span.start));
            (profile.map(|(p, _)| p), line, dir)
        }
        None => {
            source.problem(
                0..0,
                "the main configuration has no [policy] section",
                "Add [policy] with profile = \"three-priority\" or \"four-severity\".",
            );
            (None, 0, "policies".into())
        }
    };
    let (customers, understanding, templates) = match files {
        Some(t) => {
            let mut s = Section::new(source, t, "[files]", &["customers", "understanding", "templates"]);
            (
                s.string("customers", false, "\"customers.toml\"").map(|(v, _)| v),
                s.string("understanding", false, "\"understanding.toml\"").map(|(v, _)| v),
                s.string("templates", false, "\"../templates\"").map(|(v, _)| v),
            )
        }
        None => (None, None, None),
    };
    let mail = match mail {
        Some(t) => {
            let mut s = Section::new(
                source,
                t,
                "[mail]",
                &[
                    "support_address",
                    "message_id_domain",
                    "loop_header",
                    "team_address",
                    "oncall_address",
                    "ack_rate_per_hour",
                ],
            );
            let support_address = s.string("support_address", true, "\"support@example.jp\"");
            let address = |s: &mut Section, key: &str| {
                let value = s.string(key, true, "\"team@example.jp\"");
                if let Some((addr, span)) = &value
                    && (!addr.contains('@') || addr.contains(char::is_whitespace))
                {
                    s.source.problem(
                        span.clone(),
                        format!("{key} `{addr}` is not an e-mail address"),
                        "Write a full address, like \"team@example.jp\".",
                    );
                }
                value.map(|(v, _)| v.to_ascii_lowercase()).unwrap_or_default()
            };
            let team_address = address(&mut s, "team_address");
            let oncall_address = address(&mut s, "oncall_address");
            let ack_rate_per_hour = s.integer("ack_rate_per_hour", 5, 0..10_001) as u32;
            let domain = s.string("message_id_domain", true, "\"example.jp\"");
            let loop_header = s.string("loop_header", false, "\"X-Uketsuke-Loop\"");
            if let Some((addr, span)) = &support_address
                && (!addr.contains('@') || addr.contains(char::is_whitespace))
            {
                s.source.problem(
                    span.clone(),
                    format!("support_address `{addr}` is not an e-mail address"),
                    "Write the address customers send reports to, like \"support@example.jp\".",
                );
            }
            if let Some((header, span)) = &loop_header
                && (header.is_empty() || !header.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
            {
                s.source.problem(
                    span.clone(),
                    format!("loop_header `{header}` is not a header name"),
                    "Use letters, digits and '-' only, like \"X-Uketsuke-Loop\".",
                );
            }
            Some(MailIdentity {
                support_address: support_address.map(|(v, _)| v.to_ascii_lowercase()).unwrap_or_default(),
                message_id_domain: domain.map(|(v, _)| v.to_ascii_lowercase()).unwrap_or_default(),
                loop_header: loop_header.map(|(v, _)| v).unwrap_or("X-Uketsuke-Loop".into()),
                team_address,
                oncall_address,
                ack_rate_per_hour,
            })
        }
        None => {
            source.problem(
                0..0,
                "the main configuration has no [mail] section",
                "Add [mail] with support_address and message_id_domain.",
            );
            None
        }
    };
    let cases = match cases {
        Some(t) => {
            let mut s = Section::new(source, t, "[cases]", &["prefix", "width"]);
            let prefix = s.string("prefix", false, "\"CASE\"");
            if let Some((p, span)) = &prefix
                && (p.is_empty() || p.len() > 16 || !p.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()))
            {
                s.source.problem(
                    span.clone(),
                    format!("case prefix `{p}` must be 1-16 capital letters or digits"),
                    "Use something like \"CASE\" or \"SUP\"; customers quote it in replies.",
                );
            }
            let width = s.integer("width", 6, 3..13) as usize;
            CaseNumbering::new(prefix.map(|(p, _)| p).unwrap_or("CASE".into()), width)
        }
        None => CaseNumbering::new("CASE".into(), 6),
    };
    let base = source.path.parent().map(Path::to_path_buf).unwrap_or_default();
    let store = match store {
        Some(t) => {
            let mut s = Section::new(
                source,
                t,
                "[store]",
                &["path", "url", "password_file", "ca_file", "token_key_file", "lease_seconds"],
            );
            let path = s.string("path", false, "\"state/uketsuke.db\"");
            let url = s.string("url", false, "\"postgres://uketsuke@db.example.jp/uketsuke\"");
            let password_file = s.string("password_file", false, "\"secrets/pg-password\"").map(|(p, _)| base.join(p));
            let ca_file = s.string("ca_file", false, "\"/etc/ssl/certs/db-ca.pem\"").map(|(p, _)| base.join(p));
            let token_key = s.string("token_key_file", false, "\"secrets/token-key\"").map(|(p, _)| base.join(p));
            let lease = std::time::Duration::from_secs(s.integer("lease_seconds", 15, 3..3601) as u64);
            let sqlite = |path: Option<String>| {
                crate::record::StoreLocation::Sqlite(PathBuf::from(path.unwrap_or("state/uketsuke.db".into())))
            };
            let location = match (path, url) {
                (Some((_, span)), Some(_)) => {
                    source.problem(
                        span,
                        "[store] has both `path` (SQLite) and `url` (PostgreSQL)",
                        "Keep one: path = \"state/uketsuke.db\" for one instance, url = \"postgres://...\" for several.",
                    );
                    sqlite(None)
                }
                (_, Some((url, span))) => {
                    match crate::record::StoreLocation::postgres(&url, password_file.as_deref(), ca_file.as_deref()) {
                        Ok(location) => location,
                        Err(e) => {
                            source.problem(
                                span,
                                e,
                                "Write it like: url = \"postgres://uketsuke@db.example.jp/uketsuke\"",
                            );
                            sqlite(None)
                        }
                    }
                }
                (path, None) => sqlite(path.map(|(p, _)| p)),
            };
            StoreSettings { location, token_key, lease }
        }
        None => StoreSettings {
            location: crate::record::StoreLocation::Sqlite(PathBuf::from("state/uketsuke.db")),
            token_key: None,
            lease: std::time::Duration::from_secs(15),
        },
    };
    let imap: Vec<channels::ImapSettings> =
        imap.into_iter().filter_map(|(t, several)| channels::read_imap(source, t, &base, several)).collect();
    let place = |m: &channels::ImapSettings| {
        (m.server.username().to_ascii_lowercase(), m.server.host.to_ascii_lowercase(), m.server.port, m.mailbox.clone())
    };
    for (i, mailbox) in imap.iter().enumerate() {
        if imap[..i].iter().any(|m| m.channel == mailbox.channel) {
            source.problem(
                0..0,
                format!("two [[imap]] mailboxes are both named {}", mailbox.channel),
                "Give each [[imap]] its own name.",
            );
        } else if let Some(other) = imap[..i].iter().find(|m| place(m) == place(mailbox)) {
            source.problem(
                0..0,
                format!("{} and {} watch the same mailbox", other.channel, mailbox.channel),
                "Keep one [[imap]] per mailbox: two would fetch the same messages side by side.",
            );
        }
    }
    let smtp = smtp.and_then(|t| channels::read_smtp(source, t, &base));
    let outbox = outbox.map(|t| channels::read_outbox(source, t)).unwrap_or_default();
    let alerts = alerts.map(|t| channels::read_alerts(source, t)).unwrap_or_default();
    let http = http.and_then(|t| channels::read_http(source, t, &base));
    let mut oauth = oauth.map(|t| oauth::read(source, t, &base)).unwrap_or_default();
    bind_oauth(
        source,
        &mut oauth,
        imap.iter().map(|i| &i.server).chain(smtp.as_ref().map(|s| &s.server)),
        store.token_key.is_some(),
    );
    Some(Main {
        oauth,
        http,
        store,
        imap,
        smtp,
        outbox,
        alerts,
        profile: profile?,
        profile_line,
        profiles_dir,
        customers: customers.unwrap_or("customers.toml".into()),
        understanding: understanding.unwrap_or("understanding.toml".into()),
        templates: templates.unwrap_or("../templates".into()),
        mail: mail?,
        cases,
    })
}

fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())].iter().filter(|b| **b == b'\n').count() + 1
}
