//! `uketsuke auth login NAME`: the one time a person signs the support mailbox in.
//!
//! - Microsoft delegated: the device code flow (RFC 8628). uketsuke prints a URL and a code;
//!   the person opens it anywhere, signs in as the mailbox and consents.
//! - Google: Google's device flow does not allow the Gmail scope, so this is the installed-app
//!   flow: uketsuke prints a URL and listens on 127.0.0.1 for the browser's redirect, with
//!   PKCE (RFC 7636) so an intercepted code is useless.
//! - App-only accounts (Microsoft client credentials, Google service account) have nobody to
//!   sign in: `login` checks that a token can be had and clears "needs re-authorization".
//!
//! The refresh token is sealed and stored; nothing secret is printed.

use super::grant::{self, GrantError, Granted};
use super::http;
use super::vault::Vault;
use crate::config::oauth::{ClientCredential, OAuthAccount, Provider};
use crate::record::SqliteStore;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use std::io::Write;
use std::path::Path;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Signs `account` in and stores what it takes to keep it signed in. Returns a one-line
/// summary.
pub async fn login(
    account: &OAuthAccount,
    store_path: &Path,
    vault: Option<&Vault>,
    out: &mut (dyn Write + Send),
) -> Result<String, String> {
    let granted = match account.provider {
        Provider::MicrosoftDelegated => device_code(account, out).await?,
        Provider::Google => loopback(account, out).await?,
        Provider::MicrosoftApp | Provider::GoogleServiceAccount => {
            grant::request(account, None, Utc::now()).await.map_err(|e| format!("the provider refused: {e}"))?
        }
    };
    let sealed = match (&granted.refresh_token, account.provider.uses_refresh_token()) {
        (Some(token), true) => Some(vault.ok_or("[store] token_key_file is not set")?.seal(&account.name, token)?),
        (None, true) => {
            return Err(match account.provider {
                Provider::Google => "Google sent no refresh token (it does so only at the first consent): remove the app at https://myaccount.google.com/permissions and run this again".into(),
                _ => "the provider sent no refresh token: add the offline_access scope and run this again".into(),
            });
        }
        _ => None,
    };
    let mut store = SqliteStore::open(store_path).map_err(|e| e.to_string())?;
    store
        .save_oauth_tokens(&account.name, sealed.as_deref(), Some(granted.expires_at), true, Utc::now())
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "{}: signed in as {}; access token valid until {}{}",
        account.name,
        if account.user.is_empty() { "(no mailbox names this account)" } else { &account.user },
        granted.expires_at.to_rfc3339(),
        if sealed.is_some() { "; refresh token stored, sealed" } else { "" }
    ))
}

fn client_secret(account: &OAuthAccount) -> Result<Option<String>, String> {
    match &account.credential {
        ClientCredential::Secret(source) => source.read().map(Some),
        _ => Ok(None),
    }
}

fn json_field(body: &[u8], name: &str) -> Option<String> {
    let json: serde_json::Value = serde_json::from_slice(body).ok()?;
    let value = json.get(name)?;
    value.as_str().map(str::to_string).or_else(|| value.as_i64().map(|n| n.to_string()))
}

/// RFC 8628: ask for a code, show it, poll until the person has signed in.
async fn device_code(account: &OAuthAccount, out: &mut (dyn Write + Send)) -> Result<Granted, String> {
    let scope = account.scopes.join(" ");
    let answer = http::post_form(&account.device_url, &[("client_id", &account.client_id), ("scope", &scope)]).await?;
    if answer.status != 200 {
        let code = json_field(&answer.body, "error").unwrap_or_else(|| format!("HTTP {}", answer.status));
        let description = json_field(&answer.body, "error_description").unwrap_or_default();
        return Err(format!(
            "the device code request was refused: {code} {description}; check client_id, tenant and that public client flows are allowed"
        ));
    }
    let field = |name: &str| json_field(&answer.body, name);
    let device_code = field("device_code").ok_or("the device code answer has no device_code")?;
    let user_code = field("user_code").ok_or("the device code answer has no user_code")?;
    let uri = field("verification_uri")
        .or_else(|| field("verification_url"))
        .ok_or("the device code answer has no verification_uri")?;
    // Bounded, whatever the endpoint says: at most an hour to sign in, a minute between polls.
    let expires_in: u64 = field("expires_in").and_then(|s| s.parse().ok()).unwrap_or(900).min(3600);
    let mut interval: u64 = field("interval").and_then(|s| s.parse().ok()).unwrap_or(5).clamp(1, 60);
    let _ = writeln!(out, "To sign {} in, open {uri} and enter the code {user_code}", account.name);
    let _ = writeln!(
        out,
        "Sign in as the support mailbox{}. Waiting up to {} minutes...",
        if account.user.is_empty() { String::new() } else { format!(" ({})", account.user) },
        expires_in / 60
    );
    let _ = out.flush();
    let secret = client_secret(account)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(expires_in);
    loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        if tokio::time::Instant::now() > deadline {
            return Err("the code expired before the sign-in finished; run `uketsuke auth login` again".into());
        }
        let mut form: Vec<(&str, String)> = vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:device_code".into()),
            ("client_id", account.client_id.clone()),
            ("device_code", device_code.clone()),
        ];
        if let Some(secret) = &secret {
            form.push(("client_secret", secret.clone()));
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = http::post_form(&account.token_url, &pairs).await?;
        match json_field(&answer.body, "error").as_deref() {
            Some("authorization_pending") => continue,
            Some("slow_down") => interval = (interval + 5).min(60),
            _ => {
                return grant::read_answer(answer.status, &answer.body, Utc::now())
                    .map_err(|e| format!("sign-in failed: {e}"));
            }
        }
    }
}

/// The installed-app flow with PKCE, the browser redirected to 127.0.0.1.
async fn loopback(account: &OAuthAccount, out: &mut (dyn Write + Send)) -> Result<Granted, String> {
    let random = |n: usize| {
        let mut bytes = vec![0u8; n];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
        URL_SAFE_NO_PAD.encode(bytes)
    };
    let verifier = random(32);
    let challenge = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes()));
    let state = random(16);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", account.login_port)).await.map_err(|e| {
        format!(
            "cannot listen on 127.0.0.1:{} for the browser: {e}; set login_port in [oauth.{}]",
            account.login_port, account.name
        )
    })?;
    let redirect = format!("http://127.0.0.1:{}/", account.login_port);
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", account.client_id.as_str()),
        ("redirect_uri", redirect.as_str()),
        ("scope", account.scopes.join(" ").as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", state.as_str()),
        ("access_type", "offline"),
        ("prompt", "consent"),
        ("login_hint", account.user.as_str()),
    ])
    .map_err(|e| e.to_string())?;
    let _ = writeln!(
        out,
        "To sign {} in, open this address in a browser on this machine and sign in as the support mailbox:",
        account.name
    );
    let _ = writeln!(out, "{}?{query}", account.authorize_url);
    let _ = writeln!(
        out,
        "(From another machine: ssh -L {0}:127.0.0.1:{0} this-host, then open it there.) Waiting up to 10 minutes...",
        account.login_port
    );
    let _ = out.flush();
    let code = tokio::time::timeout(Duration::from_secs(600), receive_code(&listener, &state))
        .await
        .map_err(|_| "no sign-in within 10 minutes; run `uketsuke auth login` again".to_string())??;
    let mut form: Vec<(&str, String)> = vec![
        ("grant_type", "authorization_code".into()),
        ("code", code),
        ("client_id", account.client_id.clone()),
        ("redirect_uri", redirect),
        ("code_verifier", verifier),
    ];
    if let Some(secret) = client_secret(account)? {
        form.push(("client_secret", secret));
    }
    grant::post(&account.token_url, &form, Utc::now()).await.map_err(|e| match e {
        GrantError::Final(e) | GrantError::Temporary(e) => format!("exchanging the code failed: {e}"),
    })
}

/// Waits for the browser's `GET /?code=...&state=...`; other requests are answered and ignored.
async fn receive_code(listener: &tokio::net::TcpListener, state: &str) -> Result<String, String> {
    loop {
        let (mut socket, _) =
            listener.accept().await.map_err(|e| format!("accepting the browser's connection failed: {e}"))?;
        let mut buffer = vec![0u8; 8192];
        let n = match tokio::time::timeout(Duration::from_secs(10), socket.read(&mut buffer)).await {
            Ok(Ok(n)) => n,
            _ => continue,
        };
        let request = String::from_utf8_lossy(&buffer[..n]);
        let target =
            request.lines().next().and_then(|l| l.strip_prefix("GET ")).and_then(|l| l.split(' ').next()).unwrap_or("");
        let params: Vec<(String, String)> =
            target.split_once('?').and_then(|(_, q)| serde_urlencoded::from_str(q).ok()).unwrap_or_default();
        let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        if get("state").as_deref() != Some(state) {
            let _ = socket.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").await;
            continue;
        }
        let (page, result) = match (get("code"), get("error")) {
            (Some(code), _) => ("uketsuke: signed in. You can close this window.", Ok(code)),
            (None, error) => (
                "uketsuke: sign-in was not completed. See the terminal.",
                Err(format!("the sign-in was refused: {}", error.unwrap_or_else(|| "no code".into()))),
            ),
        };
        let response = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
            page.len()
        );
        let _ = socket.write_all(response.as_bytes()).await;
        return result;
    }
}
