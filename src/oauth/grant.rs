//! Asking a token endpoint for an access token, for each kind of account, and reading its
//! answer. The one distinction that matters to the daemon: an error a retry can fix (the
//! network, the endpoint's 5xx) against one only a person can fix (a revoked or expired
//! grant, missing consent, a wrong or expired client secret), after which uketsuke stops
//! asking and says so.

use super::http;
use super::jwt::{Certificate, SigningKey};
use crate::config::oauth::{ClientCredential, OAuthAccount, Provider};
use chrono::{DateTime, Duration, Utc};

/// A new access token (and, when the provider rotates it, a new refresh token).
pub struct Granted {
    pub access_token: String,
    pub expires_at: DateTime<Utc>,
    pub lifetime: Duration,
    pub refresh_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GrantError {
    /// Only a person can fix it: sign in again, renew the secret, grant consent.
    Final(String),
    /// Try again later.
    Temporary(String),
}

impl std::fmt::Display for GrantError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GrantError::Final(e) | GrantError::Temporary(e) => f.write_str(e),
        }
    }
}

/// OAuth2 error codes that no retry will fix.
const FINAL_ERRORS: [&str; 8] = [
    "invalid_grant",
    "interaction_required",
    "consent_required",
    "login_required",
    "invalid_client",
    "unauthorized_client",
    "access_denied",
    "invalid_scope",
];

/// Reads a token endpoint's answer.
pub fn read_answer(status: u16, body: &[u8], now: DateTime<Utc>) -> Result<Granted, GrantError> {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| json.as_ref().and_then(|j| j.get(name)).and_then(|v| v.as_str()).map(str::to_string);
    if (200..300).contains(&status) {
        let access_token = field("access_token").filter(|t| !t.is_empty()).ok_or_else(|| {
            GrantError::Temporary(format!("the token endpoint answered {status} without an access_token"))
        })?;
        let seconds = json
            .as_ref()
            .and_then(|j| j.get("expires_in"))
            .and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
            .filter(|s| *s > 0)
            .unwrap_or(3600)
            // A nonsense lifetime from the endpoint must not overflow the clock arithmetic.
            .min(366 * 86_400);
        let lifetime = Duration::seconds(seconds);
        return Ok(Granted {
            access_token,
            expires_at: now + lifetime,
            lifetime,
            refresh_token: field("refresh_token").filter(|t| !t.is_empty()),
        });
    }
    let code = field("error").unwrap_or_default();
    let description: String =
        field("error_description").unwrap_or_default().chars().filter(|c| !c.is_control()).take(300).collect();
    let what = match (code.is_empty(), description.is_empty()) {
        (true, _) => format!("the token endpoint answered HTTP {status}"),
        (false, true) => format!("the token endpoint answered {code} (HTTP {status})"),
        (false, false) => format!("the token endpoint answered {code} (HTTP {status}): {description}"),
    };
    if FINAL_ERRORS.contains(&code.as_str()) { Err(GrantError::Final(what)) } else { Err(GrantError::Temporary(what)) }
}

/// A Google service account key file (the JSON the console downloads).
#[derive(serde::Deserialize)]
struct ServiceAccountKey {
    client_email: String,
    private_key: String,
    #[serde(default)]
    private_key_id: String,
}

/// Reads a service account key file and its private key.
fn service_account(path: &std::path::Path) -> Result<(ServiceAccountKey, SigningKey), GrantError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        GrantError::Temporary(format!("cannot read the service account key file {}: {e}", path.display()))
    })?;
    let key: ServiceAccountKey = serde_json::from_str(&text)
        .map_err(|_| GrantError::Final(format!("the service account key file {} is not a Google service account key (JSON with client_email and private_key)", path.display())))?;
    let signer = SigningKey::from_pem(&key.private_key, &format!("the service account key file {}", path.display()))
        .map_err(GrantError::Final)?;
    Ok((key, signer))
}

/// Checks, without asking the provider, that the files an account's credential lives in can
/// be read and used: for `check-config`. Secrets in environment variables are not checked
/// (the daemon's environment is not this shell's).
pub fn check_files(account: &OAuthAccount) -> Vec<String> {
    let mut problems = Vec::new();
    match &account.credential {
        ClientCredential::Secret(crate::config::channels::SecretSource::File(path)) => {
            match std::fs::read_to_string(path) {
                Ok(text) if !text.trim().is_empty() => {}
                Ok(_) => problems.push(format!(
                    "[oauth.{}]: the client secret file {} is empty",
                    account.name,
                    path.display()
                )),
                Err(e) => problems.push(format!(
                    "[oauth.{}]: cannot read the client secret file {}: {e}",
                    account.name,
                    path.display()
                )),
            }
        }
        ClientCredential::Certificate { certificate, private_key } => {
            match Certificate::from_file(certificate) {
                Ok(c) if c.not_after().is_some() => {}
                Ok(_) => problems.push(format!(
                    "[oauth.{}]: the certificate {} has no readable expiry date",
                    account.name,
                    certificate.display()
                )),
                Err(e) => problems.push(format!("[oauth.{}]: {e}", account.name)),
            }
            if let Err(e) = SigningKey::from_file(private_key) {
                problems.push(format!("[oauth.{}]: {e}", account.name));
            }
        }
        _ => {}
    }
    if let Some(path) = &account.service_account_key
        && let Err(e) = service_account(path)
    {
        problems.push(format!("[oauth.{}]: {e}", account.name));
    }
    problems
}

fn random_id() -> String {
    let mut bytes = [0u8; 16];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Asks for a new access token. `refresh_token` is the stored one, for the accounts that
/// have one. Secrets and keys are read from their files now, so rotating them needs no
/// restart.
pub async fn request(
    account: &OAuthAccount,
    refresh_token: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Granted, GrantError> {
    let scope = account.scopes.join(" ");
    let mut form: Vec<(&str, String)> = Vec::new();
    match account.provider {
        Provider::MicrosoftApp => {
            form.push(("grant_type", "client_credentials".into()));
            form.push(("client_id", account.client_id.clone()));
            form.push(("scope", scope));
        }
        Provider::MicrosoftDelegated | Provider::Google => {
            let refresh_token = refresh_token.ok_or_else(|| {
                GrantError::Final(format!("no refresh token is stored; run `uketsuke auth login {}`", account.name))
            })?;
            form.push(("grant_type", "refresh_token".into()));
            form.push(("client_id", account.client_id.clone()));
            form.push(("refresh_token", refresh_token.to_string()));
            if account.provider == Provider::MicrosoftDelegated {
                form.push(("scope", scope));
            }
        }
        Provider::GoogleServiceAccount => {
            let path = account
                .service_account_key
                .as_ref()
                .ok_or_else(|| GrantError::Final("no service_account_key_file".into()))?;
            let (key, signer) = service_account(path)?;
            if account.user.is_empty() {
                return Err(GrantError::Final(format!(
                    "[oauth.{}] is not named by [imap] or [smtp], so there is no mailbox to act as",
                    account.name
                )));
            }
            let iat = now.timestamp();
            let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": key.private_key_id});
            let claims = serde_json::json!({"iss": key.client_email, "sub": account.user, "scope": scope, "aud": account.token_url, "iat": iat, "exp": iat + 3600});
            form.push(("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer".into()));
            form.push(("assertion", signer.sign(&header, &claims).map_err(GrantError::Temporary)?));
        }
    }
    match &account.credential {
        ClientCredential::None => {}
        ClientCredential::Secret(source) => form.push(("client_secret", source.read().map_err(GrantError::Temporary)?)),
        ClientCredential::Certificate { certificate, private_key } => {
            let certificate = Certificate::from_file(certificate).map_err(GrantError::Temporary)?;
            let signer = SigningKey::from_file(private_key).map_err(GrantError::Temporary)?;
            let (x5t, x5t256) = certificate.thumbprints();
            let iat = now.timestamp();
            let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "x5t": x5t, "x5t#S256": x5t256});
            let claims = serde_json::json!({"aud": account.token_url, "iss": account.client_id, "sub": account.client_id, "jti": random_id(), "nbf": iat, "iat": iat, "exp": iat + 600});
            form.push(("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into()));
            form.push(("client_assertion", signer.sign(&header, &claims).map_err(GrantError::Temporary)?));
        }
    }
    post(&account.token_url, &form, now).await
}

/// POSTs a grant and reads the answer.
pub async fn post(url: &str, form: &[(&str, String)], now: DateTime<Utc>) -> Result<Granted, GrantError> {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let answer = http::post_form(url, &pairs).await.map_err(GrantError::Temporary)?;
    read_answer(answer.status, &answer.body, now)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn answers_are_read_and_errors_sorted_into_final_and_temporary() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 0, 0, 0).unwrap();
        let ok = read_answer(
            200,
            br#"{"access_token":"a","expires_in":"3599","refresh_token":"r2","token_type":"Bearer"}"#,
            now,
        )
        .ok()
        .unwrap();
        assert_eq!(
            (ok.access_token.as_str(), ok.refresh_token.as_deref(), ok.expires_at),
            ("a", Some("r2"), now + Duration::seconds(3599))
        );
        let no_rotation = read_answer(200, br#"{"access_token":"a","expires_in":60}"#, now).ok().unwrap();
        assert_eq!((no_rotation.refresh_token, no_rotation.lifetime), (None, Duration::seconds(60)));
        let revoked = read_answer(
            400,
            br#"{"error":"invalid_grant","error_description":"AADSTS700082: The refresh token has expired"}"#,
            now,
        );
        assert!(
            matches!(revoked, Err(GrantError::Final(ref e)) if e.contains("invalid_grant") && e.contains("AADSTS700082"))
        );
        assert!(matches!(read_answer(401, br#"{"error":"invalid_client"}"#, now), Err(GrantError::Final(_))));
        assert!(matches!(read_answer(400, br#"{"error":"consent_required"}"#, now), Err(GrantError::Final(_))));
        assert!(matches!(read_answer(503, b"<html>busy</html>", now), Err(GrantError::Temporary(_))));
        assert!(matches!(
            read_answer(400, br#"{"error":"temporarily_unavailable"}"#, now),
            Err(GrantError::Temporary(_))
        ));
        assert!(matches!(read_answer(200, br#"{"token_type":"Bearer"}"#, now), Err(GrantError::Temporary(_))));
        let huge = read_answer(200, br#"{"access_token":"a","expires_in":9223372036854775807}"#, now).ok().unwrap();
        assert_eq!(huge.lifetime, Duration::days(366));
        let negative = read_answer(200, br#"{"access_token":"a","expires_in":-5}"#, now).ok().unwrap();
        assert_eq!(negative.lifetime, Duration::seconds(3600));
    }
}
