//! The access token of one OAuth2 account, shared by the IMAP and SMTP channels that log in
//! with it.
//!
//! - Refreshed ahead of expiry, one refresh at a time (callers wait on the same lock and
//!   get the token the first one fetched).
//! - A rotated refresh token is sealed and written to the store, durably, before the access
//!   token that came with it is handed out: a crash can never leave only the old one.
//! - A final error from the provider (`invalid_grant`, missing consent, a dead client
//!   secret) marks the account "needs re-authorization" in the store; from then on no
//!   request goes out until `uketsuke auth login` (after fixing the secret, for app-only accounts) clears it.
//!
//! Token lifetimes are the provider's real time, so this reads the system clock, not the
//! daemon's business clock.

use super::grant::{self, GrantError};
use super::vault::Vault;
use crate::config::oauth::OAuthAccount;
use crate::record::{AnyStore, Store, StoreLocation};
use chrono::{DateTime, Duration, Utc};
use std::sync::Arc;

/// An access token and when to stop using it.
#[derive(Clone)]
pub struct AccessToken {
    pub secret: String,
    pub expires_at: DateTime<Utc>,
    pub lifetime: Duration,
}

impl AccessToken {
    /// When to fetch the next one: a quarter of the lifetime ahead, at most 5 minutes.
    pub fn renew_at(&self) -> DateTime<Utc> {
        self.expires_at - margin(self.lifetime)
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AccessToken(expires {})", self.expires_at.to_rfc3339())
    }
}

/// How long before expiry a token is renewed (and an IDLE session re-opened).
pub fn margin(lifetime: Duration) -> Duration {
    (lifetime / 4).min(Duration::minutes(5))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// A person must act; retrying will not help and is not done.
    NeedsReauthorization(String),
    /// The endpoint or the store failed; retry with backoff.
    Unavailable(String),
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::NeedsReauthorization(e) => write!(f, "needs re-authorization: {e}"),
            TokenError::Unavailable(e) => write!(f, "no access token: {e}"),
        }
    }
}

pub struct TokenSource {
    pub account: OAuthAccount,
    store: StoreLocation,
    vault: Option<Arc<Vault>>,
    current: tokio::sync::Mutex<Option<AccessToken>>,
    /// Refreshes done, for `/metrics`.
    pub refreshes: std::sync::atomic::AtomicU64,
}

impl TokenSource {
    pub fn new(account: OAuthAccount, store: StoreLocation, vault: Option<Arc<Vault>>) -> TokenSource {
        TokenSource { account, store, vault, current: tokio::sync::Mutex::new(None), refreshes: Default::default() }
    }

    /// A token valid for a while yet: the one in hand, or a fresh one.
    pub async fn token(&self) -> Result<AccessToken, TokenError> {
        let mut current = self.current.lock().await;
        if let Some(token) = current.as_ref()
            && Utc::now() < token.renew_at()
        {
            return Ok(token.clone());
        }
        let fresh = self.refresh().await?;
        *current = Some(fresh.clone());
        Ok(fresh)
    }

    /// The server refused `token`: forget it, so the next [`token`](Self::token) refreshes.
    pub async fn rejected(&self, token: &AccessToken) {
        let mut current = self.current.lock().await;
        if current.as_ref().is_some_and(|c| c.secret == token.secret) {
            *current = None;
        }
    }

    fn store(&self) -> Result<AnyStore, TokenError> {
        self.store.open().map_err(|e| TokenError::Unavailable(e.to_string()))
    }

    async fn refresh(&self) -> Result<AccessToken, TokenError> {
        let name = self.account.name.as_str();
        let state = tokio::task::block_in_place(|| {
            self.store()?.oauth_account(name).map_err(|e| TokenError::Unavailable(e.to_string()))
        })?;
        if let Some(reason) = state.as_ref().and_then(|s| s.needs_reauth.clone()) {
            return Err(TokenError::NeedsReauthorization(reason));
        }
        let refresh_token = if self.account.provider.uses_refresh_token() {
            let sealed = state.as_ref().and_then(|s| s.sealed_refresh.clone());
            match (sealed, &self.vault) {
                (Some(sealed), Some(vault)) => Some(vault.open(name, &sealed).map_err(TokenError::Unavailable)?),
                (None, _) => {
                    return Err(self.needs_reauthorization(format!(
                        "no refresh token is stored; run `uketsuke auth login {name}`"
                    )));
                }
                (Some(_), None) => return Err(TokenError::Unavailable("[store] token_key_file is not set".into())),
            }
        } else {
            None
        };
        let now = Utc::now();
        let started = std::time::Instant::now();
        match grant::request(&self.account, refresh_token.as_deref(), now).await {
            Ok(granted) => {
                let sealed = match (&granted.refresh_token, &self.vault) {
                    (Some(rotated), Some(vault)) => Some(vault.seal(name, rotated).map_err(TokenError::Unavailable)?),
                    _ => None,
                };
                // On disk before the access token is used: the provider has already retired
                // the old refresh token.
                // If that fails the new tokens are not used; the provider may have retired the
                // old refresh token already, and then only a new sign-in helps: say so.
                tokio::task::block_in_place(|| {
                    self.store().and_then(|mut store| store.save_oauth_tokens(name, sealed.as_deref(), Some(granted.expires_at), false, now).map_err(|e| TokenError::Unavailable(e.to_string())))
                })
                .map_err(|e| {
                    if sealed.is_some() {
                        tracing::error!(account = name, "the rotated refresh token could not be saved, so it is not used ({e}); if the account then needs re-authorization, run `uketsuke auth login {name}`");
                    }
                    e
                })?;
                self.refreshes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let took_ms = started.elapsed().as_millis() as u64;
                tracing::info!(account = name, expires = %granted.expires_at.to_rfc3339(), rotated = sealed.is_some(), took_ms, "OAuth2 access token refreshed");
                Ok(AccessToken {
                    secret: granted.access_token,
                    expires_at: granted.expires_at,
                    lifetime: granted.lifetime,
                })
            }
            Err(GrantError::Final(reason)) => Err(self.needs_reauthorization(reason)),
            Err(GrantError::Temporary(reason)) => Err(TokenError::Unavailable(reason)),
        }
    }

    fn needs_reauthorization(&self, reason: String) -> TokenError {
        let name = &self.account.name;
        tracing::error!(account = %name, "OAuth2 account needs re-authorization, mail on it has stopped until then: {reason}; run `uketsuke auth login {name}`");
        let _ =
            tokio::task::block_in_place(|| self.store().map(|mut s| s.mark_needs_reauth(name, &reason, Utc::now())));
        TokenError::NeedsReauthorization(reason)
    }

    /// Waits, without asking the provider anything, until the account is usable again (a
    /// person ran `uketsuke auth login`) or `shutdown` fires.
    pub async fn wait_for_reauthorization(&self, shutdown: &mut tokio::sync::watch::Receiver<bool>) {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
            let state = tokio::task::block_in_place(|| {
                self.store().ok().and_then(|mut s| s.oauth_account(&self.account.name).ok().flatten())
            });
            if state.is_some_and(|s| s.needs_reauth.is_none()) {
                *self.current.lock().await = None;
                tracing::info!(account = %self.account.name, "OAuth2 account signed in again; mail resumes");
                return;
            }
        }
    }
}

/// The token sources of a configuration, one per account.
pub fn sources(config: &crate::config::Config, store: &StoreLocation) -> Result<Vec<Arc<TokenSource>>, String> {
    let vault = match &config.store.token_key {
        Some(path) => Some(Arc::new(Vault::from_file(path)?)),
        None => None,
    };
    Ok(config.oauth.iter().map(|a| Arc::new(TokenSource::new(a.clone(), store.clone(), vault.clone()))).collect())
}
