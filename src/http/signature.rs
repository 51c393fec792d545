//! Signed submissions from forms hosted elsewhere: `Uketsuke-Signature: t=UNIX,v1=HEX` where
//! HEX is HMAC-SHA256 over `"{t}." + body` with one of the configured secrets (several at once,
//! so keys can be rotated). The timestamp must be inside the replay window; signatures are
//! compared in constant time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// No signature header at all (401).
    Missing,
    /// A header that cannot be read (401).
    Malformed,
    /// Outside the replay window (403).
    Stale { age_seconds: i64 },
    /// No configured secret produces it (403).
    Mismatch,
}

/// The header value for a body signed at `t` with `secret` (what a sending site computes).
pub fn sign(secret: &[u8], t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex(&mac(secret, t, body)))
}

fn mac(secret: &[u8], t: i64, body: &[u8]) -> Vec<u8> {
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

/// Verifies a signature header against every secret.
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[Vec<u8>],
    now: i64,
    window_seconds: i64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.trim().parse::<i64>().ok(),
            Some(("v1", v)) => sigs.push(unhex(v.trim()).ok_or(SignatureError::Malformed)?),
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if sigs.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let age = now - t;
    if age.abs() > window_seconds {
        return Err(SignatureError::Stale { age_seconds: age });
    }
    for secret in secrets {
        for sig in &sigs {
            let mut m = <HmacSha256 as KeyInit>::new_from_slice(secret).expect("HMAC takes keys of any length");
            m.update(t.to_string().as_bytes());
            m.update(b".");
            m.update(body);
            if m.verify_slice(sig).is_ok() {
                return Ok(());
            }
        }
    }
    Err(SignatureError::Mismatch)
}

/// The same-origin token of the intake page: `UNIX.HEX`, HEX = HMAC(page key, UNIX).
pub fn page_token(key: &[u8], t: i64) -> String {
    format!("{t}.{}", hex(&mac(key, t, b"form")))
}

pub fn verify_page_token(key: &[u8], token: &str, now: i64, max_age_seconds: i64) -> bool {
    let Some((t, sig)) = token.split_once('.') else { return false };
    let (Ok(t), Some(sig)) = (t.parse::<i64>(), unhex(sig)) else { return false };
    if now - t > max_age_seconds || t - now > 60 {
        return false;
    }
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(b"form");
    m.verify_slice(&sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        let body = br#"{"email":"a@b.example"}"#;
        let header = sign(b"k2", 1000, body);
        let secrets = vec![b"k1".to_vec(), b"k2".to_vec()];
        assert_eq!(verify(Some(&header), body, &secrets, 1100, 300), Ok(()));
        assert_eq!(verify(Some(&header), b"{}", &secrets, 1100, 300), Err(SignatureError::Mismatch));
        assert_eq!(verify(Some(&header), body, &secrets, 2000, 300), Err(SignatureError::Stale { age_seconds: 1000 }));
        assert_eq!(verify(None, body, &secrets, 1000, 300), Err(SignatureError::Missing));
        assert_eq!(verify(Some("t=1000,v1=zz"), body, &secrets, 1000, 300), Err(SignatureError::Malformed));
        assert_eq!(verify(Some(&header), body, &[b"k3".to_vec()], 1000, 300), Err(SignatureError::Mismatch));
    }

    #[test]
    fn page_tokens() {
        let token = page_token(b"key", 5000);
        assert!(verify_page_token(b"key", &token, 5100, 3600));
        assert!(!verify_page_token(b"other", &token, 5100, 3600));
        assert!(!verify_page_token(b"key", &token, 9000, 3600));
        assert!(!verify_page_token(b"key", "5000.00", 5100, 3600));
        assert!(!verify_page_token(b"key", "nonsense", 5100, 3600));
    }
}
