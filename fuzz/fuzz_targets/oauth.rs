//! What uketsuke reads from OAuth2 endpoints, mail servers and credential files must never
//! panic: token endpoint answers (any status), SASL challenges, certificate DER (expiry), PEM
//! private keys.
#![no_main]

use libfuzzer_sys::fuzz_target;
use uketsuke::config::channels::SaslMechanism;
use uketsuke::oauth::grant::read_answer;
use uketsuke::oauth::jwt::{Certificate, SigningKey};
use uketsuke::oauth::sasl::SaslClient;

fuzz_target!(|data: &[u8]| {
    let now = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
    for status in [200, 400, 503] {
        let _ = read_answer(status, data, now);
    }
    for mechanism in [SaslMechanism::XOAuth2, SaslMechanism::OAuthBearer] {
        let mut sasl = SaslClient::new(mechanism, "support@example.jp", "token");
        let _ = sasl.respond(data);
        let _ = sasl.respond(data);
    }
    let _ = Certificate::from_der(data.to_vec()).not_after();
    let _ = SigningKey::from_pem(&String::from_utf8_lossy(data), "fuzz input");
});
