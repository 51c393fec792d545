//! Signed JWT assertions (RS256) for the two grants that prove the app's identity with a
//! private key instead of a secret: Microsoft's certificate credential (a client assertion)
//! and Google's service account (a JWT bearer grant acting as the mailbox user). Also reads a
//! certificate's expiry, so uketsuke can warn before the credential stops working.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeZone, Utc};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use std::path::Path;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// An RSA private key, from PEM text (PKCS#8 or PKCS#1).
pub struct SigningKey(RsaKeyPair);

impl SigningKey {
    pub fn from_pem(pem: &str, what: &str) -> Result<SigningKey, String> {
        let key =
            PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| format!("{what} holds no PEM private key"))?;
        let pair = match &key {
            PrivateKeyDer::Pkcs8(der) => RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()),
            PrivateKeyDer::Pkcs1(der) => RsaKeyPair::from_der(der.secret_pkcs1_der()),
            _ => return Err(format!("{what} is not an RSA key (PKCS#8 or PKCS#1 PEM)")),
        };
        pair.map(SigningKey).map_err(|e| format!("{what} is not a usable RSA key: {e}"))
    }

    pub fn from_file(path: &Path) -> Result<SigningKey, String> {
        let pem = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the private key file {}: {e}", path.display()))?;
        SigningKey::from_pem(&pem, &format!("the private key file {}", path.display()))
    }

    /// `header.claims.signature`, each base64url.
    pub fn sign(&self, header: &serde_json::Value, claims: &serde_json::Value) -> Result<String, String> {
        let mut text =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let mut signature = vec![0u8; self.0.public().modulus_len()];
        self.0
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), text.as_bytes(), &mut signature)
            .map_err(|_| "signing the assertion failed".to_string())?;
        text.push('.');
        text.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(text)
    }
}

/// A certificate as the app registration knows it: its DER bytes.
pub struct Certificate(Vec<u8>);

impl Certificate {
    pub fn from_file(path: &Path) -> Result<Certificate, String> {
        let der = CertificateDer::from_pem_file(path)
            .map_err(|e| format!("cannot read a PEM certificate from {}: {e}", path.display()))?;
        Ok(Certificate(der.to_vec()))
    }

    pub fn from_der(der: Vec<u8>) -> Certificate {
        Certificate(der)
    }

    /// The header Microsoft matches against the uploaded certificate: its SHA-1 thumbprint
    /// (`x5t`) and its SHA-256 one (`x5t#S256`).
    pub fn thumbprints(&self) -> (String, String) {
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &self.0);
        let sha256 = ring::digest::digest(&ring::digest::SHA256, &self.0);
        (URL_SAFE_NO_PAD.encode(sha1), URL_SAFE_NO_PAD.encode(sha256))
    }

    /// The end of the validity period (notAfter).
    pub fn not_after(&self) -> Option<DateTime<Utc>> {
        not_after(&self.0)
    }
}

/// One DER element: (tag, content, rest).
fn element(der: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = der.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        (rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | *b as usize), &rest[n..])
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version?, serial, signature,
/// issuer, validity SEQUENCE { notBefore, notAfter }, ... }, ... }
fn not_after(der: &[u8]) -> Option<DateTime<Utc>> {
    let (_, certificate, _) = element(der)?;
    let (_, tbs, _) = element(certificate)?;
    let mut rest = tbs;
    let (tag, _, after) = element(rest)?;
    if tag == 0xa0 {
        rest = after;
    }
    for _ in 0..3 {
        rest = element(rest)?.2; // serial, signature algorithm, issuer
    }
    let (_, validity, _) = element(rest)?;
    let (_, _, after_not_before) = element(validity)?;
    let (tag, time, _) = element(after_not_before)?;
    let text = std::str::from_utf8(time).ok().filter(|t| t.is_ascii())?.trim_end_matches('Z');
    let (year, rest) = match tag {
        0x17 if text.len() >= 12 => {
            let yy: i32 = text[..2].parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        0x18 if text.len() >= 14 => (text[..4].parse().ok()?, &text[4..]),
        _ => return None,
    };
    let n = |i: usize| rest.get(i..i + 2).and_then(|s| s.parse::<u32>().ok());
    Utc.with_ymd_and_hms(year, n(0)?, n(2)?, n(4)?, n(6)?, n(8)?).single()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_not_after_from_utc_and_generalized_time() {
        // A minimal certificate shape: SEQ { SEQ { [0]{INT 2}, INT 1, SEQ{}, SEQ{}, SEQ { UTCTime, time } } }
        fn cert(not_after: (u8, &str)) -> Vec<u8> {
            let tlv = |tag: u8, body: &[u8]| {
                let mut v = vec![tag, body.len() as u8];
                v.extend_from_slice(body);
                v
            };
            let validity = [tlv(0x17, b"250101000000Z"), tlv(not_after.0, not_after.1.as_bytes())].concat();
            let tbs =
                [tlv(0xa0, &tlv(0x02, &[2])), tlv(0x02, &[1]), tlv(0x30, &[]), tlv(0x30, &[]), tlv(0x30, &validity)]
                    .concat();
            tlv(0x30, &tlv(0x30, &tbs))
        }
        assert_eq!(not_after(&cert((0x17, "261207153000Z"))), Utc.with_ymd_and_hms(2026, 12, 7, 15, 30, 0).single());
        assert_eq!(not_after(&cert((0x18, "20510301000000Z"))), Utc.with_ymd_and_hms(2051, 3, 1, 0, 0, 0).single());
        assert_eq!(not_after(&cert((0x17, "9912"))), None);
        assert_eq!(not_after(&cert((0x17, "2é0101000000Z"))), None);
        assert_eq!(not_after(&cert((0x18, "20261301000000Z"))), None, "month 13");
        assert_eq!(not_after(&[0x30, 0x82, 0xff]), None);
    }
}
