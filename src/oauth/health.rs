//! What an operator must know about each OAuth2 account, in one place for `uketsuke status`,
//! `uketsuke auth status`, `/healthz`, `/metrics` and the daemon's log: when the access token
//! expires, whether a person must sign in again, and when the client secret or certificate
//! runs out (warned at 30, 14 and 7 days, an error once expired). Pure: the stored state,
//! the configuration and the time are passed in.

use super::jwt::Certificate;
use crate::config::oauth::{ClientCredential, OAuthAccount};
use crate::record::OAuthState;
use chrono::{DateTime, NaiveTime, Utc};

/// Days before a credential's expiry at which uketsuke warns.
pub const WARN_DAYS: [i64; 3] = [30, 14, 7];

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountHealth {
    pub account: String,
    pub provider: &'static str,
    pub user: String,
    /// Whether the account lives on a refresh token a person obtained (`auth login`).
    #[serde(skip)]
    pub uses_refresh_token: bool,
    pub refresh_token_stored: bool,
    pub access_expires: Option<DateTime<Utc>>,
    pub refreshed_at: Option<DateTime<Utc>>,
    pub needs_reauthorization: Option<String>,
    /// What the app authenticates with ("client secret", "certificate") and when it expires.
    pub credential: Option<String>,
    pub credential_expires: Option<DateTime<Utc>>,
    /// Whole days left; negative once expired.
    pub credential_days_left: Option<i64>,
    /// The warning threshold crossed (30, 14, 7) or 0 once expired.
    pub credential_warning: Option<i64>,
}

/// When the app's own credential expires: the configured date of a secret, or the
/// certificate's notAfter.
pub fn credential_expiry(account: &OAuthAccount) -> (Option<String>, Option<DateTime<Utc>>) {
    match &account.credential {
        ClientCredential::Secret(_) => {
            (Some("client secret".into()), account.secret_expires.map(|d| d.and_time(NaiveTime::MIN).and_utc()))
        }
        ClientCredential::Certificate { certificate, .. } => {
            (Some("certificate".into()), Certificate::from_file(certificate).ok().and_then(|c| c.not_after()))
        }
        ClientCredential::None => (None, None),
    }
}

/// The smallest threshold the expiry is within, or 0 once expired.
pub fn warning(expires: DateTime<Utc>, now: DateTime<Utc>) -> Option<i64> {
    if expires <= now {
        return Some(0);
    }
    let left = expires - now;
    WARN_DAYS.iter().rev().find(|days| left <= chrono::Duration::days(**days)).copied()
}

pub fn account_health(
    account: &OAuthAccount,
    state: Option<&OAuthState>,
    credential: (Option<String>, Option<DateTime<Utc>>),
    now: DateTime<Utc>,
) -> AccountHealth {
    let (credential, credential_expires) = credential;
    AccountHealth {
        account: account.name.clone(),
        provider: account.provider.name(),
        user: account.user.clone(),
        uses_refresh_token: account.provider.uses_refresh_token(),
        refresh_token_stored: state.is_some_and(|s| s.sealed_refresh.is_some()),
        access_expires: state.and_then(|s| s.access_expires),
        refreshed_at: state.and_then(|s| s.refreshed_at),
        needs_reauthorization: state.and_then(|s| s.needs_reauth.clone()),
        credential,
        credential_expires,
        credential_days_left: credential_expires.map(|e| (e - now).num_days()),
        credential_warning: credential_expires.and_then(|e| warning(e, now)),
    }
}

/// The health of every configured account, from the store's status.
pub fn accounts(
    config: &crate::config::Config,
    status: &crate::record::StoreStatus,
    now: DateTime<Utc>,
) -> Vec<AccountHealth> {
    config
        .oauth
        .iter()
        .map(|a| account_health(a, status.oauth.iter().find(|s| s.account == a.name), credential_expiry(a), now))
        .collect()
}

impl AccountHealth {
    /// What is wrong, in sentences an operator can act on; each is logged once while it lasts.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let name = &self.account;
        if let Some(reason) = &self.needs_reauthorization {
            out.push(format!("OAuth2 account {name} needs re-authorization, mail on it has stopped: {reason}; run `uketsuke auth login {name}`"));
        } else if self.uses_refresh_token && !self.refresh_token_stored {
            out.push(format!("OAuth2 account {name} has no refresh token yet: run `uketsuke auth login {name}`"));
        }
        if let (Some(what), Some(expires), Some(level)) =
            (&self.credential, self.credential_expires, self.credential_warning)
        {
            if level == 0 {
                out.push(format!(
                    "the {what} of OAuth2 account {name} expired on {}: create a new one and update the configuration",
                    expires.format("%Y-%m-%d")
                ));
            } else {
                out.push(format!("the {what} of OAuth2 account {name} expires within {level} days (on {}): create a new one and update the configuration", expires.format("%Y-%m-%d")));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn warnings_come_at_30_14_and_7_days_and_when_expired() {
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 12, 0, 0).unwrap();
        let at = |days: i64, hours: i64| now + chrono::Duration::days(days) + chrono::Duration::hours(hours);
        assert_eq!(warning(at(31, 0), now), None);
        assert_eq!(warning(at(30, 0), now), Some(30));
        assert_eq!(warning(at(14, 1), now), Some(30));
        assert_eq!(warning(at(14, 0), now), Some(14));
        assert_eq!(warning(at(7, 1), now), Some(14));
        assert_eq!(warning(at(6, 0), now), Some(7));
        assert_eq!(warning(at(0, 1), now), Some(7));
        assert_eq!(warning(now, now), Some(0));
        assert_eq!(warning(at(-3, 0), now), Some(0));
    }
}
