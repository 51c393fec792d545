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
use crate::record::{Store, StoreLocation};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use std::io::Write;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Signs `account` in and stores what it takes to keep it signed in. Returns a one-line
/// summary.
pub async fn login(
    account: &OAuthAccount,
    store: &StoreLocation,
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
    let mut store = tokio::task::block_in_place(|| store.open()).map_err(|e| e.to_string())?;
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

/// How long a connection may take to send its request head, and how large the head may be.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
const HEAD_LIMIT: usize = 16 * 1024;
/// Connections read at once; more wait in the listen queue.
const CONNECTIONS: usize = 16;

/// Why a connection gave no request head.
#[derive(Debug, PartialEq)]
enum HeadError {
    /// Closed, silent for [`HEAD_TIMEOUT`] or a read error: nothing to answer.
    Gone,
    /// More than [`HEAD_LIMIT`] bytes without the blank line that ends a head.
    TooLarge,
}

/// Reads the HTTP request head, up to and including the blank line (CRLF CRLF), however many
/// reads it takes to arrive: a browser (or an ssh tunnel) may deliver it in pieces.
async fn read_head(socket: &mut tokio::net::TcpStream) -> Result<Vec<u8>, HeadError> {
    let mut head = Vec::with_capacity(1024);
    let read = async {
        let mut buffer = [0u8; 4096];
        loop {
            let n = socket.read(&mut buffer).await.map_err(|_| HeadError::Gone)?;
            if n == 0 {
                return Err(HeadError::Gone);
            }
            // The end may straddle two reads: look from 3 bytes before the new ones.
            let from = head.len().saturating_sub(3);
            head.extend_from_slice(&buffer[..n]);
            if let Some(end) = head[from..].windows(4).position(|w| w == b"\r\n\r\n") {
                head.truncate(from + end + 4);
                return Ok(());
            }
            if head.len() > HEAD_LIMIT {
                return Err(HeadError::TooLarge);
            }
        }
    };
    tokio::time::timeout(HEAD_TIMEOUT, read).await.map_err(|_| HeadError::Gone)??;
    Ok(head)
}

/// Waits for the browser's `GET /?code=...&state=...`; other requests are answered and ignored.
/// Connections are read side by side, so one that sends nothing (a browser's preconnect) does
/// not hold up the redirect behind it.
async fn receive_code(listener: &tokio::net::TcpListener, state: &str) -> Result<String, String> {
    use futures::StreamExt;
    let mut reading = futures::stream::FuturesUnordered::new();
    loop {
        let (mut socket, head) = tokio::select! {
            accepted = listener.accept() => {
                let (socket, _) =
                    accepted.map_err(|e| format!("accepting the browser's connection failed: {e}"))?;
                // Past the limit a connection is closed unread; the browser retries.
                if reading.len() < CONNECTIONS {
                    reading.push(async move {
                        let mut socket = socket;
                        let head = read_head(&mut socket).await;
                        (socket, head)
                    });
                }
                continue;
            }
            Some(done) = reading.next(), if !reading.is_empty() => done,
        };
        let head = match head {
            Ok(head) => head,
            Err(HeadError::TooLarge) => {
                let _ = socket
                    .write_all(b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await;
                continue;
            }
            Err(HeadError::Gone) => continue,
        };
        let request = String::from_utf8_lossy(&head);
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::{TcpListener, TcpStream};

    /// The listener as `loopback` runs it, on a port of the OS's choosing, and what it returns.
    async fn listen() -> (u16, tokio::task::JoinHandle<Result<String, String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        (port, tokio::spawn(async move { receive_code(&listener, "S7").await }))
    }

    /// Sends `pieces` as separate writes with a pause between them; returns the answer.
    async fn send(port: u16, pieces: &[&[u8]]) -> String {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        for (i, piece) in pieces.iter().enumerate() {
            if i > 0 {
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            // A listener that answered early has closed: read what it said.
            if stream.write_all(piece).await.is_err() {
                break;
            }
        }
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
        String::from_utf8_lossy(&answer).into_owned()
    }

    async fn code(handle: tokio::task::JoinHandle<Result<String, String>>) -> Result<String, String> {
        tokio::time::timeout(Duration::from_secs(5), handle).await.expect("no code within 5 s").expect("task")
    }

    #[tokio::test]
    async fn a_redirect_arriving_in_pieces_is_read_whole() {
        let (port, handle) = listen().await;
        // Split inside the query (the old single read saw `state` cut short) and before the
        // blank line that ends the head.
        let answer = send(port, &[b"GET /?code=c0de&st", b"ate=S7 HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"\r\n"]).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK") && answer.contains("signed in"), "{answer}");
        assert_eq!(code(handle).await, Ok("c0de".to_string()));
    }

    #[tokio::test]
    async fn a_silent_connection_does_not_hold_up_the_redirect() {
        let (port, handle) = listen().await;
        // A browser's preconnect: opened first, never written to, still open.
        let _idle = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
        tokio::time::sleep(Duration::from_millis(100)).await;
        let started = std::time::Instant::now();
        let answer = send(port, &[b"GET /?state=S7&code=c1 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"]).await;
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert_eq!(code(handle).await, Ok("c1".to_string()));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "waited {:?} behind the idle connection",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn a_wrong_state_or_an_endless_head_is_refused_and_the_real_redirect_still_counts() {
        let (port, handle) = listen().await;
        let answer = send(port, &[b"GET /?code=forged&state=other HTTP/1.1\r\n\r\n"]).await;
        assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
        let endless = format!("GET /?code=x&state=S7 HTTP/1.1\r\nX-Padding: {}\r\n", "a".repeat(HEAD_LIMIT));
        let answer = send(port, &[endless.as_bytes()]).await;
        assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
        // The browser says no: the person sees a page, the terminal the reason.
        let answer = send(port, &[b"GET /?error=access_denied&state=S7 HTTP/1.1\r\n\r\n"]).await;
        assert!(answer.contains("not completed"), "{answer}");
        assert_eq!(code(handle).await, Err("the sign-in was refused: access_denied".to_string()));
    }
}
