//! The reporter's e-mail address, read one way for mail and for the form.
//!
//! Every acknowledgment goes to this address, and the per-recipient acknowledgment rate counts
//! it, so it must be one bare address in one spelling: `"n0"<victim@example.com>`,
//! `Victim@Example.COM` and `victim@example.com` are one recipient or none. Only a plain
//! addr-spec is taken (dot-atom local part, a domain of two or more labels): display names,
//! quotes, comments, lists and anything else a mail header allows but a reply address does
//! not need are refused, with the reason.

/// Why a string is not an address uketsuke will write to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressError {
    Empty,
    /// More than RFC 5321's 254 characters (or a part too long).
    TooLong,
    /// A display name, angle brackets, quotes, a comment or a list: write only the address.
    NotBare,
    /// No `@`, or more than one.
    NoSingleAt,
    /// The local part is not a dot-atom.
    BadLocalPart,
    /// The domain is not a host name of two or more labels.
    BadDomain,
}

impl std::fmt::Display for AddressError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AddressError::Empty => "it is empty",
            AddressError::TooLong => "it is too long",
            AddressError::NotBare => "it holds more than one bare address (a name, brackets, quotes or a list)",
            AddressError::NoSingleAt => "it needs exactly one @",
            AddressError::BadLocalPart => "the part before @ has characters an address cannot have",
            AddressError::BadDomain => "the part after @ is not a domain name",
        })
    }
}

/// Characters of an RFC 5322 atom besides letters and digits (non-ASCII letters are allowed
/// too, RFC 6531).
const ATEXT: &str = "!#$%&'*+-/=?^_`{|}~";

/// The address in the one spelling uketsuke keeps: trimmed and in lower case.
pub fn normalize(raw: &str) -> Result<String, AddressError> {
    let address = raw.trim();
    if address.is_empty() {
        return Err(AddressError::Empty);
    }
    if address.len() > 254 {
        return Err(AddressError::TooLong);
    }
    if address.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"(),;:[]\\".contains(c)) {
        return Err(AddressError::NotBare);
    }
    let mut parts = address.split('@');
    let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(AddressError::NoSingleAt);
    };
    let atom = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || ATEXT.contains(c));
    if local.len() > 64 || !local.split('.').all(atom) {
        return Err(AddressError::BadLocalPart);
    }
    let label = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 || !labels.iter().all(|l| label(l)) || labels.last().is_some_and(|tld| tld.len() < 2) {
        return Err(AddressError::BadDomain);
    }
    Ok(address.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_or_a_reason() {
        assert_eq!(normalize("  Yamada.Taro@ACME.example.jp "), Ok("yamada.taro@acme.example.jp".into()));
        assert_eq!(normalize("o'brien+support@example.com"), Ok("o'brien+support@example.com".into()));
        assert_eq!(normalize("山田@例え.テスト"), Ok("山田@例え.テスト".into()));
        for (raw, why) in [
            ("", AddressError::Empty),
            ("\"n0\"<victim@evil.example>", AddressError::NotBare),
            ("Victim <victim@evil.example>", AddressError::NotBare),
            ("a@evil.example, b@evil.example", AddressError::NotBare),
            ("a@evil.example;b@evil.example", AddressError::NotBare),
            ("victim@evil.example (comment)", AddressError::NotBare),
            ("\"john.doe\"@example.com", AddressError::NotBare),
            ("a\r\nBcc: x@evil.example", AddressError::NotBare),
            ("victim", AddressError::NoSingleAt),
            ("a@b@evil.example", AddressError::NoSingleAt),
            ("@example.com", AddressError::BadLocalPart),
            (".a@example.com", AddressError::BadLocalPart),
            ("a..b@example.com", AddressError::BadLocalPart),
            ("a@localhost", AddressError::BadDomain),
            ("a@-evil.example", AddressError::BadDomain),
            ("a@evil..example", AddressError::BadDomain),
            ("a@evil.example.", AddressError::BadDomain),
            ("a@evil.x", AddressError::BadDomain),
        ] {
            assert_eq!(normalize(raw), Err(why), "{raw:?}");
        }
        assert_eq!(normalize(&format!("{}@example.com", "a".repeat(65))), Err(AddressError::BadLocalPart));
        assert_eq!(normalize(&format!("a@{}.com", "b".repeat(260))), Err(AddressError::TooLong));
    }
}
