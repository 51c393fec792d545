//! The mail channels' settings: the IMAP mailbox uketsuke watches, the SMTP server it sends
//! through, the outbox's retry policy, and when a stalled channel is reported.
//!
//! Passwords are never written in the configuration: they are read from a file or an
//! environment variable at connect time (so a rotated password needs no restart), and they
//! never appear in logs or errors.

use super::reader::{Section, Source, TableRef};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How a connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Tls,
    /// Plain, then STARTTLS before anything else (IMAP 143, submission 587).
    StartTls,
    /// No TLS at all: only for servers on loopback.
    Plain,
}

/// Where a password comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSource {
    File(PathBuf),
    Env(String),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::File(p) => write!(f, "file {}", p.display()),
            SecretSource::Env(v) => write!(f, "environment variable {v}"),
        }
    }
}

impl SecretSource {
    /// Reads the secret. The error names where it was looked for, never the secret.
    pub fn read(&self) -> Result<String, String> {
        match self {
            SecretSource::File(p) => std::fs::read_to_string(p)
                .map(|s| s.trim_end_matches(['\r', '\n']).to_string())
                .map_err(|e| format!("cannot read the password file {}: {e}", p.display())),
            SecretSource::Env(v) => std::env::var(v)
                .map_err(|_| format!("the environment variable {v} that should hold the password is not set")),
        }
    }
}

/// Login to a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub username: String,
    pub password: SecretSource,
}

/// The SASL mechanism that carries an OAuth2 access token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaslMechanism {
    /// Google's and Microsoft's XOAUTH2 (IMAP and SMTP).
    XOAuth2,
    /// RFC 7628 OAUTHBEARER (IMAP).
    OAuthBearer,
}

impl SaslMechanism {
    /// The name the servers know it by.
    pub fn name(self) -> &'static str {
        match self {
            SaslMechanism::XOAuth2 => "XOAUTH2",
            SaslMechanism::OAuthBearer => "OAUTHBEARER",
        }
    }
}

/// Login with an OAuth2 access token from the `[oauth.NAME]` account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthLogin {
    pub username: String,
    pub account: String,
    pub mechanism: SaslMechanism,
}

/// A server and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Trust this CA file instead of the public roots (self-signed test servers).
    pub ca_file: Option<PathBuf>,
    pub login: Option<Login>,
    /// Login with an OAuth2 token instead of a password.
    pub oauth: Option<OAuthLogin>,
}

impl Server {
    /// The user uketsuke logs in as, whichever way it logs in.
    pub fn username(&self) -> &str {
        self.login
            .as_ref()
            .map(|l| l.username.as_str())
            .or(self.oauth.as_ref().map(|o| o.username.as_str()))
            .unwrap_or("")
    }
}

/// What happens to a message in the mailbox once it is on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterRecording {
    /// Set this keyword flag (never relies on \Seen: people read the mailbox).
    Flag(String),
    /// Move it to this folder.
    Move(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImapSettings {
    /// The channel's name in `status`, `/healthz` and the logs: `imap` for a single `[imap]`,
    /// `imap:NAME` for each of several `[[imap]]` mailboxes (`name = "security"`).
    pub channel: String,
    pub server: Server,
    pub mailbox: String,
    pub after: AfterRecording,
    /// Poll at this interval when the server offers no IDLE.
    pub poll_interval: Duration,
    /// Re-issue IDLE after this long (servers drop IDLE after 30 minutes).
    pub idle_interval: Duration,
    /// Messages fetched and recorded per transaction.
    pub batch: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpSettings {
    pub server: Server,
    pub timeout: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxSettings {
    pub retry_first: Duration,
    pub retry_max: Duration,
    /// After this many temporary failures an entry is parked for an operator.
    pub max_attempts: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertSettings {
    /// A channel with no success for this long is reported as stalled.
    pub stalled_after: Duration,
    /// A channel that has been down (refused, unreachable, failing its login) for this long
    /// is reported as down: long enough for a server restart or a dropped connection that the
    /// channel mends on its next try not to flap health red and green.
    pub down_after: Duration,
    /// An outbox entry pending this long is reported.
    pub outbox_late_after: Duration,
    /// Mail the on-call address when an OAuth2 account needs re-authorization or its secret
    /// or certificate is about to expire.
    pub auth_notice: bool,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        OutboxSettings { retry_first: Duration::from_secs(30), retry_max: Duration::from_secs(3600), max_attempts: 30 }
    }
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            stalled_after: Duration::from_secs(600),
            down_after: Duration::from_secs(30),
            outbox_late_after: Duration::from_secs(900),
            auth_notice: false,
        }
    }
}

fn seconds(s: &mut Section, key: &str, default: u64, max: u64) -> Duration {
    Duration::from_secs(s.integer(key, default as i64, 1..(max as i64 + 1)) as u64)
}

const SERVER_KEYS: [&str; 10] = [
    "enabled",
    "host",
    "port",
    "security",
    "ca_file",
    "username",
    "password_file",
    "password_env",
    "oauth",
    "mechanism",
];

/// A secret named by a file key or an environment-variable key (never both); file paths are
/// relative to the configuration's folder.
pub fn secret_source(
    s: &mut Section,
    base: &Path,
    file: (&str, &str),
    env: (&str, &str),
    what: &str,
) -> Option<SecretSource> {
    match (s.string(file.0, false, file.1), s.string(env.0, false, env.1)) {
        (Some((f, _)), None) => Some(SecretSource::File(base.join(f))),
        (None, Some((v, _))) => Some(SecretSource::Env(v)),
        (None, None) => None,
        (Some(_), Some((_, span))) => {
            s.source.problem(
                span,
                format!("both {} and {} are set", file.0, env.0),
                format!("Keep one: the {what} comes from a file or from an environment variable."),
            );
            None
        }
    }
}

/// Reads the server keys of a channel section; `None` when the channel is disabled.
fn server(s: &mut Section, base: &Path, default_port: (u16, u16, u16)) -> Option<Server> {
    if !s.boolean("enabled", false) {
        return None;
    }
    let host = s.string("host", true, "\"imap.example.jp\"").map(|(h, _)| h);
    let security = match s.string("security", false, "\"tls\"") {
        None => Some(Security::Tls),
        Some((v, span)) => match v.as_str() {
            "tls" => Some(Security::Tls),
            "starttls" => Some(Security::StartTls),
            "plain" => Some(Security::Plain),
            _ => {
                s.source.problem(
                    span,
                    format!("security `{v}` is not known"),
                    "Use \"tls\" (implicit TLS), \"starttls\", or \"plain\" (loopback only).",
                );
                None
            }
        },
    }?;
    let port = match security {
        Security::Tls => default_port.0,
        Security::StartTls => default_port.1,
        Security::Plain => default_port.2,
    };
    let port = s.integer("port", port as i64, 1..65536) as u16;
    let ca_file = s.string("ca_file", false, "\"tls/ca.pem\"").map(|(p, _)| base.join(p));
    let password = secret_source(
        s,
        base,
        ("password_file", "\"secrets/imap-password\""),
        ("password_env", "\"UKETSUKE_IMAP_PASSWORD\""),
        "password",
    );
    let username = s.string("username", false, "\"support@example.jp\"");
    let oauth = s.string("oauth", false, "\"support\"");
    let mechanism = match s.string("mechanism", false, "\"xoauth2\"") {
        None => SaslMechanism::XOAuth2,
        Some((m, span)) => match m.to_ascii_lowercase().as_str() {
            "xoauth2" => SaslMechanism::XOAuth2,
            "oauthbearer" => SaslMechanism::OAuthBearer,
            _ => {
                s.source.problem(
                    span,
                    format!("mechanism `{m}` is not known"),
                    "Use \"xoauth2\" or \"oauthbearer\" (with oauth = \"NAME\").",
                );
                SaslMechanism::XOAuth2
            }
        },
    };
    let mut oauth_login = None;
    let login = match (username, password, oauth) {
        (Some((username, _)), Some(password), None) => Some(Login { username, password }),
        (Some((username, _)), None, Some((account, _))) => {
            oauth_login = Some(OAuthLogin { username, account, mechanism });
            None
        }
        (_, Some(_), Some((_, span))) => {
            s.source.problem(
                span,
                "both a password source and oauth are set",
                "Keep one: oauth = \"NAME\" for Microsoft 365 and Google, or a password where the server allows it.",
            );
            None
        }
        (None, None, None) => None,
        (Some((_, span)), None, None) => {
            s.source.problem(span, "a username without a password source or oauth account", "Add oauth = \"NAME\" (an [oauth.NAME] table), or password_file = \"...\" / password_env = \"...\" (never the password itself).");
            None
        }
        (None, _, _) => {
            let span = s.span.clone();
            s.source.problem(
                span,
                "a password source or oauth account without a username",
                "Add username = \"...\" (the mailbox address).",
            );
            None
        }
    };
    if security == Security::Plain
        && !matches!(host.as_deref(), Some("127.0.0.1" | "localhost" | "::1"))
        && let Some(v) = s.value("security")
    {
        s.source.problem(
            v.span(),
            "security = \"plain\" to a server that is not on this machine",
            "Use \"tls\" or \"starttls\"; plain connections are only for loopback test servers.",
        );
    }
    Some(Server { host: host?, port, security, ca_file, login, oauth: oauth_login })
}

/// One mailbox to watch: `[imap]`, or one of several `[[imap]]` blocks (`several`), each of
/// which must then have a `name` of its own.
pub fn read_imap(source: &mut Source, t: TableRef<'_, '_>, base: &Path, several: bool) -> Option<ImapSettings> {
    let mut keys: Vec<&str> = SERVER_KEYS.to_vec();
    keys.extend(["name", "mailbox", "after", "folder", "flag", "poll_seconds", "idle_seconds", "batch"]);
    let whole = t.span.clone();
    let mut s = Section::new(source, t, if several { "[[imap]]" } else { "[imap]" }, &keys);
    let name = s.string("name", false, "\"security\"");
    let channel = match name {
        Some((n, span)) if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') => {
            s.source.problem(
                span,
                format!("the mailbox name `{n}` is not a plain name"),
                "Use letters, digits, - and _ (it names the channel: imap:NAME).",
            );
            return None;
        }
        Some((n, _)) => format!("imap:{n}"),
        None if several => {
            s.source.problem(
                whole,
                "each of several [[imap]] mailboxes needs a name",
                "Add name = \"support\" (or \"security\", ...): status and /healthz show the mailbox as imap:NAME.",
            );
            return None;
        }
        None => "imap".to_string(),
    };
    let server = server(&mut s, base, (993, 143, 143))?;
    let mailbox = s.string("mailbox", false, "\"INBOX\"").map(|(m, _)| m).unwrap_or("INBOX".into());
    let after = match s.string("after", false, "\"flag\"") {
        None => {
            AfterRecording::Flag(s.string("flag", false, "\"$Uketsuke\"").map(|(f, _)| f).unwrap_or("$Uketsuke".into()))
        }
        Some((a, _)) if a == "flag" => {
            AfterRecording::Flag(s.string("flag", false, "\"$Uketsuke\"").map(|(f, _)| f).unwrap_or("$Uketsuke".into()))
        }
        Some((a, span)) if a == "move" => match s.string("folder", false, "\"uketsuke/recorded\"") {
            Some((f, _)) => AfterRecording::Move(f),
            None => {
                s.source.problem(
                    span,
                    "after = \"move\" needs a folder",
                    "Add folder = \"uketsuke/recorded\" (the folder must exist).",
                );
                return None;
            }
        },
        Some((a, span)) => {
            s.source.problem(
                span,
                format!("after `{a}` is not known"),
                "Use \"flag\" (set a keyword) or \"move\" (to `folder`).",
            );
            return None;
        }
    };
    Some(ImapSettings {
        channel,
        server,
        mailbox,
        after,
        poll_interval: seconds(&mut s, "poll_seconds", 60, 86_400),
        idle_interval: seconds(&mut s, "idle_seconds", 25 * 60, 29 * 60),
        batch: s.integer("batch", 100, 1..10_001) as usize,
    })
}

pub fn read_smtp(source: &mut Source, t: TableRef<'_, '_>, base: &Path) -> Option<SmtpSettings> {
    let mut keys: Vec<&str> = SERVER_KEYS.to_vec();
    keys.push("timeout_seconds");
    let mut s = Section::new(source, t, "[smtp]", &keys);
    let server = server(&mut s, base, (465, 587, 25))?;
    if server.oauth.as_ref().is_some_and(|o| o.mechanism != SaslMechanism::XOAuth2)
        && let Some(v) = s.value("mechanism")
    {
        s.source.problem(
            v.span(),
            "SMTP sends OAuth2 tokens with XOAUTH2 only",
            "Remove mechanism from [smtp] (or set it to \"xoauth2\").",
        );
    }
    Some(SmtpSettings { server, timeout: seconds(&mut s, "timeout_seconds", 30, 600) })
}

pub fn read_outbox(source: &mut Source, t: TableRef<'_, '_>) -> OutboxSettings {
    let mut s = Section::new(source, t, "[outbox]", &["retry_first_seconds", "retry_max_seconds", "max_attempts"]);
    OutboxSettings {
        retry_first: seconds(&mut s, "retry_first_seconds", 30, 86_400),
        retry_max: seconds(&mut s, "retry_max_seconds", 3600, 7 * 86_400),
        max_attempts: s.integer("max_attempts", 30, 1..10_001) as u32,
    }
}

pub fn read_alerts(source: &mut Source, t: TableRef<'_, '_>) -> AlertSettings {
    let mut s = Section::new(
        source,
        t,
        "[alerts]",
        &["stalled_after_seconds", "down_after_seconds", "outbox_late_after_seconds", "auth_notice"],
    );
    AlertSettings {
        stalled_after: seconds(&mut s, "stalled_after_seconds", 600, 7 * 86_400),
        down_after: Duration::from_secs(s.integer("down_after_seconds", 30, 0..3_601) as u64),
        outbox_late_after: seconds(&mut s, "outbox_late_after_seconds", 900, 7 * 86_400),
        auth_notice: s.boolean("auth_notice", false),
    }
}

/// The HTTP listener: the intake page, the signed webhook, health and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    pub listen: std::net::SocketAddr,
    /// Secrets other sites sign submissions with; several at once so keys can be rotated.
    pub signing_secrets: Vec<SecretSource>,
    /// How old a signature's timestamp may be (and how far in the future).
    pub replay_window: Duration,
    pub max_body_bytes: usize,
    pub max_attachments: usize,
    pub max_attachment_bytes: usize,
    /// Submissions per hour from one client address, and for one customer.
    pub rate_per_address: u32,
    pub rate_per_customer: u32,
    /// Reverse proxies whose X-Forwarded-For names the client (everyone else's is ignored).
    pub trusted_proxies: Vec<IpRange>,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// A client must send the whole request head within this time.
    pub header_timeout: Duration,
    /// A connection is closed when one request (head and body) takes longer than this.
    pub request_timeout: Duration,
}

/// An address or a network (`10.0.0.0/8`, `::1`), for `trusted_proxies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpRange {
    pub network: std::net::IpAddr,
    pub prefix: u8,
}

impl IpRange {
    pub fn parse(s: &str) -> Option<IpRange> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (s.trim(), None),
        };
        let network: std::net::IpAddr = addr.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpRange { network, prefix })
    }

    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        let bits = |ip: std::net::IpAddr| match ip {
            std::net::IpAddr::V4(v4) => (u128::from(u32::from(v4)), 32u32),
            std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => (u128::from(u32::from(v4)), 32),
                None => (u128::from(v6), 128),
            },
        };
        let ((net, width), (addr, addr_width)) = (bits(self.network), bits(ip));
        if width != addr_width {
            return false;
        }
        let shift = width - u32::from(self.prefix);
        shift >= width || (net >> shift) == (addr >> shift)
    }
}

pub fn read_http(source: &mut Source, t: TableRef<'_, '_>, base: &Path) -> Option<HttpSettings> {
    let mut s = Section::new(
        source,
        t,
        "[http]",
        &[
            "enabled",
            "listen",
            "signing_secret_files",
            "signing_secret_envs",
            "replay_window_seconds",
            "max_body_bytes",
            "max_attachments",
            "max_attachment_bytes",
            "rate_per_address_per_hour",
            "rate_per_customer_per_hour",
            "trusted_proxies",
            "max_connections",
            "header_timeout_seconds",
            "request_timeout_seconds",
        ],
    );
    if !s.boolean("enabled", false) {
        return None;
    }
    let listen = match s.string("listen", false, "\"127.0.0.1:8080\"") {
        None => Some(std::net::SocketAddr::from(([127, 0, 0, 1], 8080))),
        Some((v, span)) => v.parse().ok().or_else(|| {
            s.source.problem(
                span,
                format!("listen `{v}` is not an address and port"),
                "Write it like \"127.0.0.1:8080\" or \"[::1]:8080\".",
            );
            None
        }),
    }?;
    // A signing secret anyone can guess is no secret: an empty file (or an empty variable)
    // would let every sender sign. Files are read here, so `check-config` refuses them; a
    // variable that is not set now may be set for the service, so only an empty one is refused.
    let mut signing_secrets: Vec<SecretSource> = Vec::new();
    for (file, span) in s.strings("signing_secret_files", "[\"secrets/form-key\"]") {
        let source = SecretSource::File(base.join(&file));
        match source.read() {
            Ok(secret) if secret.trim().len() >= 16 => signing_secrets.push(source),
            Ok(secret) => s.source.problem(
                span,
                format!(
                    "the signing secret file {} is {}",
                    base.join(&file).display(),
                    if secret.trim().is_empty() { "empty" } else { "shorter than 16 characters" }
                ),
                "Put a long random secret in it, e.g. `openssl rand -hex 32 > FILE`, and give the same one to the site that signs.",
            ),
            Err(e) => s.source.problem(
                span,
                e.replace("password file", "signing secret file"),
                "Create the file with the secret the signing site uses, readable by uketsuke only.",
            ),
        }
    }
    for (var, span) in s.strings("signing_secret_envs", "[\"UKETSUKE_FORM_KEY\"]") {
        if std::env::var(&var).is_ok_and(|v| v.trim().is_empty()) {
            s.source.problem(
                span,
                format!("the environment variable {var} that should hold a signing secret is empty"),
                "Set it to the long random secret the signing site uses.",
            );
        } else {
            signing_secrets.push(SecretSource::Env(var));
        }
    }
    Some(HttpSettings {
        listen,
        signing_secrets,
        replay_window: seconds(&mut s, "replay_window_seconds", 300, 3600),
        max_body_bytes: s.integer("max_body_bytes", 10 << 20, 1024..(200 << 20)) as usize,
        max_attachments: s.integer("max_attachments", 5, 0..101) as usize,
        max_attachment_bytes: s.integer("max_attachment_bytes", 5 << 20, 1..(100 << 20)) as usize,
        rate_per_address: s.integer("rate_per_address_per_hour", 20, 1..1_000_001) as u32,
        rate_per_customer: s.integer("rate_per_customer_per_hour", 60, 1..1_000_001) as u32,
        trusted_proxies: s
            .strings("trusted_proxies", "[\"127.0.0.1\", \"10.0.0.0/8\"]")
            .into_iter()
            .filter_map(|(p, span)| {
                IpRange::parse(&p).or_else(|| {
                    s.source.problem(
                        span,
                        format!("trusted proxy `{p}` is not an address or a network"),
                        "Write an address (\"127.0.0.1\", \"::1\") or a network (\"10.0.0.0/8\").",
                    );
                    None
                })
            })
            .collect(),
        max_connections: s.integer("max_connections", 256, 1..100_001) as usize,
        header_timeout: seconds(&mut s, "header_timeout_seconds", 10, 600),
        request_timeout: seconds(&mut s, "request_timeout_seconds", 60, 3600),
    })
}
