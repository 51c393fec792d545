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

/// At most this many `v1=` values are looked at: one per key a site signs with while keys are
/// rotated. A header with more is refused before any HMAC is computed.
pub const MAX_SIGNATURES: usize = 4;
/// A longer header is refused unread.
const MAX_HEADER: usize = 1024;

/// A signature header that reads well and is inside the replay window: what is left is the
/// HMAC over the body, which costs a pass over it per secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub t: i64,
    sigs: Vec<[u8; 32]>,
}

/// Reads the header and checks the timestamp, without touching the body: everything that can
/// refuse a request cheaply comes first.
pub fn claim(header: Option<&str>, now: i64, window_seconds: i64) -> Result<Claimed, SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    if header.len() > MAX_HEADER {
        return Err(SignatureError::Malformed);
    }
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", v)) => t = v.trim().parse::<i64>().ok(),
            Some(("v1", v)) => {
                let sig: [u8; 32] = unhex(v.trim()).and_then(|b| b.try_into().ok()).ok_or(SignatureError::Malformed)?;
                if sigs.len() == MAX_SIGNATURES {
                    return Err(SignatureError::Malformed);
                }
                sigs.push(sig);
            }
            _ => {}
        }
    }
    let t = t.ok_or(SignatureError::Malformed)?;
    if sigs.is_empty() {
        return Err(SignatureError::Malformed);
    }
    let age = now.saturating_sub(t);
    if age.unsigned_abs() > window_seconds.unsigned_abs() {
        return Err(SignatureError::Stale { age_seconds: age });
    }
    Ok(Claimed { t, sigs })
}

/// Checks a claimed signature over `body`: one HMAC per secret, compared in constant time with
/// every claimed value. Returns the value that matched, in hex: it depends only on the secret,
/// the timestamp and the body, so it names the request whatever else the header holds (a
/// replay with extra values added is still the same request). CPU-bound: the HTTP listener
/// runs it off the async workers.
pub fn check(claimed: &Claimed, body: &[u8], secrets: &[Vec<u8>]) -> Result<String, SignatureError> {
    let mut matched = None;
    for secret in secrets {
        let expected = mac(secret, claimed.t, body);
        for sig in &claimed.sigs {
            if constant_time_eq(&expected, sig) && matched.is_none() {
                matched = Some(hex(sig));
            }
        }
    }
    matched.ok_or(SignatureError::Mismatch)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Verifies a signature header against every secret (`claim`, then `check`).
pub fn verify(
    header: Option<&str>,
    body: &[u8],
    secrets: &[Vec<u8>],
    now: i64,
    window_seconds: i64,
) -> Result<(), SignatureError> {
    check(&claim(header, now, window_seconds)?, body, secrets).map(|_| ())
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
    fn too_many_or_odd_values_are_refused_before_any_hmac() {
        let body = b"{}";
        let good = sign(b"k1", 1000, body);
        let bogus = format!(",v1={}", "ab".repeat(32));
        // Up to MAX_SIGNATURES values, the good one among them, is fine.
        let four = format!("{good}{}", bogus.repeat(MAX_SIGNATURES - 1));
        assert_eq!(verify(Some(&four), body, &[b"k1".to_vec()], 1000, 300), Ok(()));
        let five = format!("{good}{}", bogus.repeat(MAX_SIGNATURES));
        assert_eq!(claim(Some(&five), 1000, 300), Err(SignatureError::Malformed));
        let thousand = format!("t=1000{}", bogus.repeat(1000));
        assert_eq!(claim(Some(&thousand), 1000, 300), Err(SignatureError::Malformed));
        // A value that is not 32 bytes of hex cannot be an HMAC-SHA256.
        assert_eq!(claim(Some("t=1000,v1=abcd"), 1000, 300), Err(SignatureError::Malformed));
        // Stale is known from the header alone.
        assert_eq!(claim(Some(&good), 5000, 300), Err(SignatureError::Stale { age_seconds: 4000 }));
        assert!(claim(Some(&format!("t={},v1={}", i64::MIN, "ab".repeat(32))), i64::MAX, 300).is_err());
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
