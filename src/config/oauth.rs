//! OAuth2 accounts (`[oauth.NAME]`): how uketsuke gets access tokens for a mailbox on
//! Microsoft 365 or Google instead of a password, which `[imap]` and `[smtp]` name with
//! `oauth = "NAME"`.
//!
//! Four kinds of account, the ones the providers offer for a daemon:
//! - `microsoft_app`: app-only (client credentials). No refresh token; the client secret or
//!   certificate is what expires, so its expiry is watched.
//! - `microsoft_delegated`: the support mailbox's own sign-in (device code), refresh tokens
//!   rotated on every use.
//! - `google`: a refresh token from a Desktop OAuth client (loopback sign-in with PKCE).
//! - `google_service_account`: Workspace domain-wide delegation; a signed JWT per token.
//!
//! Secrets come from files or environment variables, never from this file.

use super::channels::{SecretSource, secret_source};
use super::reader::{Section, Source, TableRef};
use chrono::NaiveDate;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    MicrosoftApp,
    MicrosoftDelegated,
    Google,
    GoogleServiceAccount,
}

impl Provider {
    pub fn name(self) -> &'static str {
        match self {
            Provider::MicrosoftApp => "microsoft_app",
            Provider::MicrosoftDelegated => "microsoft_delegated",
            Provider::Google => "google",
            Provider::GoogleServiceAccount => "google_service_account",
        }
    }

    /// Whether the account lives on a refresh token that a person obtained by signing in.
    pub fn uses_refresh_token(self) -> bool {
        matches!(self, Provider::MicrosoftDelegated | Provider::Google)
    }
}

/// How the app proves who it is to the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientCredential {
    /// A public client (device code sign-in): no secret.
    None,
    Secret(SecretSource),
    /// A certificate uploaded to the app registration and its private key (PKCS#8 or PKCS#1 RSA).
    Certificate {
        certificate: PathBuf,
        private_key: PathBuf,
    },
}

/// One `[oauth.NAME]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthAccount {
    pub name: String,
    pub provider: Provider,
    pub client_id: String,
    pub tenant: Option<String>,
    pub credential: ClientCredential,
    /// When the client secret expires, as the portal shows it (a secret cannot tell).
    pub secret_expires: Option<NaiveDate>,
    pub service_account_key: Option<PathBuf>,
    pub scopes: Vec<String>,
    pub token_url: String,
    /// Microsoft delegated: where `uketsuke auth login` starts the device code flow.
    pub device_url: String,
    /// Google: where `uketsuke auth login` sends the browser.
    pub authorize_url: String,
    /// Google: the loopback port `uketsuke auth login` listens on for the browser's redirect.
    pub login_port: u16,
    /// The mailbox the tokens are for (the `username` of the `[imap]`/`[smtp]` that names
    /// this account); the service account acts as this user.
    pub user: String,
}

const KEYS: [&str; 14] = [
    "provider",
    "tenant",
    "client_id",
    "client_secret_file",
    "client_secret_env",
    "client_secret_expires",
    "certificate_file",
    "private_key_file",
    "service_account_key_file",
    "scopes",
    "token_url",
    "device_authorization_url",
    "authorize_url",
    "login_port",
];

/// An endpoint must be https, except on loopback (a test or a local proxy).
fn endpoint(s: &mut Section, key: &str, default: String) -> String {
    match s.string(key, false, "\"https://login.microsoftonline.com/common/oauth2/v2.0/token\"") {
        None => default,
        Some((url, span)) => {
            let loopback =
                ["http://127.0.0.1:", "http://127.0.0.1/", "http://localhost:", "http://localhost/", "http://[::1]:"]
                    .iter()
                    .any(|p| url.starts_with(p));
            if !url.starts_with("https://") && !loopback {
                s.source.problem(
                    span,
                    format!("{key} `{url}` is not an https address"),
                    "Token endpoints are reached over https (plain http only on loopback).",
                );
            }
            url
        }
    }
}

/// Reads every `[oauth.NAME]` table; each account's `user` is filled in by the channel
/// that names it.
pub fn read(source: &mut Source, t: TableRef<'_, '_>, base: &Path) -> Vec<OAuthAccount> {
    let mut out = Vec::new();
    for (key, value) in t.table.iter() {
        let name: &str = key.get_ref();
        let toml::de::DeValue::Table(table) = value.get_ref() else {
            source.problem(
                value.span(),
                format!("`oauth.{name}` must be a table"),
                format!("Write it as [oauth.{name}] with provider, client_id, ... below it."),
            );
            continue;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            source.problem(
                key.span(),
                format!("OAuth account name `{name}` must be letters, digits, '-' or '_'"),
                "Name it like [oauth.support].",
            );
            continue;
        }
        if let Some(account) = read_account(source, TableRef { table, span: value.span() }, name, base) {
            out.push(account);
        }
    }
    out
}

fn read_account(source: &mut Source, t: TableRef<'_, '_>, name: &str, base: &Path) -> Option<OAuthAccount> {
    let section = format!("[oauth.{name}]");
    let mut s = Section::new(source, t, &section, &KEYS);
    let provider = match s.string("provider", true, "\"microsoft_delegated\"") {
        None => None,
        Some((p, span)) => match p.as_str() {
            "microsoft_app" => Some(Provider::MicrosoftApp),
            "microsoft_delegated" => Some(Provider::MicrosoftDelegated),
            "google" => Some(Provider::Google),
            "google_service_account" => Some(Provider::GoogleServiceAccount),
            _ => {
                s.source.problem(
                    span,
                    format!("provider `{p}` is not known"),
                    "Use \"microsoft_app\", \"microsoft_delegated\", \"google\" or \"google_service_account\".",
                );
                None
            }
        },
    }?;
    let microsoft = matches!(provider, Provider::MicrosoftApp | Provider::MicrosoftDelegated);
    let tenant = s.string("tenant", microsoft, "\"contoso.onmicrosoft.com\"").map(|(t, _)| t);
    let client_id = s
        .string("client_id", provider != Provider::GoogleServiceAccount, "\"00000000-0000-0000-0000-000000000000\"")
        .map(|(c, _)| c)
        .unwrap_or_default();
    let secret = secret_source(
        &mut s,
        base,
        ("client_secret_file", "\"secrets/oauth-client-secret\""),
        ("client_secret_env", "\"UKETSUKE_OAUTH_SECRET\""),
        "secret",
    );
    let certificate = s.string("certificate_file", false, "\"secrets/app.pem\"").map(|(c, span)| (base.join(c), span));
    let private_key = s.string("private_key_file", false, "\"secrets/app.key\"").map(|(k, _)| base.join(k));
    let credential = match (secret, certificate, private_key) {
        (Some(secret), None, None) => ClientCredential::Secret(secret),
        (None, Some((certificate, _)), Some(private_key)) => ClientCredential::Certificate { certificate, private_key },
        (None, None, None) => ClientCredential::None,
        (None, Some((_, span)), None) => {
            s.source.problem(
                span,
                "certificate_file without private_key_file",
                "Add private_key_file = \"...\" (the certificate's PKCS#8 private key).",
            );
            ClientCredential::None
        }
        _ => {
            let span = s.span.clone();
            s.source.problem(
                span,
                format!("{section} sets both a client secret and a certificate, or a private key alone"),
                "Keep one credential: client_secret_file/env, or certificate_file with private_key_file.",
            );
            ClientCredential::None
        }
    };
    if provider == Provider::MicrosoftApp && credential == ClientCredential::None {
        let span = s.span.clone();
        s.source.problem(
            span,
            format!("{section} (microsoft_app) has no client credential"),
            "Add client_secret_file = \"...\" (or client_secret_env), or certificate_file and private_key_file.",
        );
    }
    if provider == Provider::Google && !matches!(credential, ClientCredential::Secret(_)) {
        let span = s.span.clone();
        s.source.problem(
            span,
            format!("{section} (google) has no client secret"),
            "Add client_secret_file = \"...\": a Desktop OAuth client's secret from the Google Cloud console.",
        );
    }
    if matches!(credential, ClientCredential::Certificate { .. }) && provider != Provider::MicrosoftApp {
        let span = s.span.clone();
        s.source.problem(
            span,
            format!("{section}: a certificate credential is for microsoft_app only"),
            "Remove certificate_file and private_key_file, or use provider = \"microsoft_app\".",
        );
    }
    let secret_expires = match s.string("client_secret_expires", false, "\"2027-05-31\"") {
        None => None,
        Some((d, span)) => match NaiveDate::parse_from_str(&d, "%Y-%m-%d") {
            Ok(date) => Some(date),
            Err(_) => {
                s.source.problem(
                    span,
                    format!("client_secret_expires `{d}` is not a date"),
                    "Write the expiry date the portal shows, like \"2027-05-31\".",
                );
                None
            }
        },
    };
    let service_account_key = s
        .string(
            "service_account_key_file",
            provider == Provider::GoogleServiceAccount,
            "\"secrets/service-account.json\"",
        )
        .map(|(f, _)| base.join(f));
    let mut scopes: Vec<String> =
        s.strings("scopes", "[\"https://mail.google.com/\"]").into_iter().map(|(v, _)| v).collect();
    if scopes.is_empty() {
        scopes = match provider {
            Provider::MicrosoftApp => vec!["https://outlook.office365.com/.default".into()],
            Provider::MicrosoftDelegated => {
                vec![
                    "https://outlook.office.com/IMAP.AccessAsUser.All".into(),
                    "https://outlook.office.com/SMTP.Send".into(),
                    "offline_access".into(),
                ]
            }
            Provider::Google | Provider::GoogleServiceAccount => vec!["https://mail.google.com/".into()],
        };
    }
    let tenant_path = tenant.clone().unwrap_or_else(|| "common".into());
    let (token_default, device_default, authorize_default) = if microsoft {
        (
            format!("https://login.microsoftonline.com/{tenant_path}/oauth2/v2.0/token"),
            format!("https://login.microsoftonline.com/{tenant_path}/oauth2/v2.0/devicecode"),
            format!("https://login.microsoftonline.com/{tenant_path}/oauth2/v2.0/authorize"),
        )
    } else {
        (
            "https://oauth2.googleapis.com/token".into(),
            "https://oauth2.googleapis.com/device/code".into(),
            "https://accounts.google.com/o/oauth2/v2/auth".into(),
        )
    };
    let token_url = endpoint(&mut s, "token_url", token_default);
    let device_url = endpoint(&mut s, "device_authorization_url", device_default);
    let authorize_url = endpoint(&mut s, "authorize_url", authorize_default);
    let login_port = s.integer("login_port", 8765, 1024..65536) as u16;
    Some(OAuthAccount {
        name: name.to_string(),
        provider,
        client_id,
        tenant,
        credential,
        secret_expires,
        service_account_key,
        scopes,
        token_url,
        device_url,
        authorize_url,
        login_port,
        user: String::new(),
    })
}
