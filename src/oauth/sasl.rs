//! The two SASL mechanisms that carry an OAuth2 access token: XOAUTH2 (Google's, also
//! Microsoft's) and OAUTHBEARER (RFC 7628). When the server rejects a token it sends a JSON
//! error as one more challenge; the client must answer it (an empty response for XOAUTH2,
//! `\x01` for OAUTHBEARER) to get the final NO. The JSON is kept: it says why (expired,
//! revoked, wrong user) and goes into the log.

use crate::config::channels::SaslMechanism;

/// `user=...^Aauth=Bearer ...^A^A`
pub fn xoauth2(user: &str, token: &str) -> String {
    format!("user={user}\x01auth=Bearer {token}\x01\x01")
}

/// `n,a=...,^Aauth=Bearer ...^A^A` (GS2 header with the authorization identity; commas and
/// '=' in the user are escaped as RFC 5801 says).
pub fn oauthbearer(user: &str, token: &str) -> String {
    let user = user.replace('=', "=3D").replace(',', "=2C");
    format!("n,a={user},\x01auth=Bearer {token}\x01\x01")
}

/// One IMAP AUTHENTICATE exchange.
pub struct SaslClient {
    mechanism: SaslMechanism,
    initial: Option<String>,
    /// The server's error challenge, when it rejected the token.
    pub error: Option<String>,
}

impl SaslClient {
    pub fn new(mechanism: SaslMechanism, user: &str, token: &str) -> SaslClient {
        let initial = match mechanism {
            SaslMechanism::XOAuth2 => xoauth2(user, token),
            SaslMechanism::OAuthBearer => oauthbearer(user, token),
        };
        SaslClient { mechanism, initial: Some(initial), error: None }
    }

    /// The answer to one server challenge: the token to the first (empty) one; anything
    /// after it, or any JSON, is the server's error: keep it (printable, bounded) and end the
    /// exchange the way the mechanism says.
    pub fn respond(&mut self, challenge: &[u8]) -> Vec<u8> {
        if !looks_like_error(challenge)
            && let Some(initial) = self.initial.take()
        {
            return initial.into_bytes();
        }
        self.initial = None;
        self.error = Some(String::from_utf8_lossy(challenge).chars().filter(|c| !c.is_control()).take(500).collect());
        match self.mechanism {
            SaslMechanism::XOAuth2 => Vec::new(),
            SaslMechanism::OAuthBearer => vec![0x01],
        }
    }
}

fn looks_like_error(challenge: &[u8]) -> bool {
    challenge.first() == Some(&b'{')
}

impl async_imap::Authenticator for &mut SaslClient {
    type Response = Vec<u8>;

    fn process(&mut self, challenge: &[u8]) -> Vec<u8> {
        self.respond(challenge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_responses_are_as_the_specifications_write_them() {
        assert_eq!(xoauth2("support@example.jp", "ya29.t"), "user=support@example.jp\x01auth=Bearer ya29.t\x01\x01");
        assert_eq!(oauthbearer("a,b=c@example.jp", "t"), "n,a=a=2Cb=3Dc@example.jp,\x01auth=Bearer t\x01\x01");
    }

    #[test]
    fn a_rejected_token_is_answered_and_its_reason_kept() {
        let mut x = SaslClient::new(SaslMechanism::XOAuth2, "u@example.jp", "tok");
        assert_eq!(x.respond(b""), xoauth2("u@example.jp", "tok").into_bytes());
        assert_eq!(x.respond(br#"{"status":"401","schemes":"bearer"}"#), b"");
        assert_eq!(x.error.as_deref(), Some(r#"{"status":"401","schemes":"bearer"}"#));

        let mut b = SaslClient::new(SaslMechanism::OAuthBearer, "u@example.jp", "tok");
        assert_eq!(b.respond(b""), oauthbearer("u@example.jp", "tok").into_bytes());
        assert_eq!(b.respond(br#"{"status":"invalid_token"}"#), vec![1u8]);
        assert!(b.error.as_deref().unwrap().contains("invalid_token"));
    }

    #[test]
    fn an_error_as_the_first_challenge_is_not_answered_with_the_token() {
        let mut x = SaslClient::new(SaslMechanism::XOAuth2, "u@example.jp", "tok");
        assert_eq!(x.respond(br#"{"status":"400"}"#), b"");
        assert!(x.error.is_some());
    }
}
