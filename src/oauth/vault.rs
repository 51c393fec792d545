//! Sealing refresh tokens at rest. A refresh token is a password to the support mailbox for
//! months: the store keeps it only encrypted (ChaCha20-Poly1305) with a key read from the file
//! `[store] token_key_file`, which the store's backups do not contain. The account name is
//! bound in as associated data, so a sealed token cannot be moved to another account.

use base64::Engine;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use std::path::Path;

pub struct Vault {
    key: LessSafeKey,
    random: SystemRandom,
}

impl Vault {
    /// Reads the key: exactly 32 bytes, raw or base64 (`openssl rand -base64 32`). Errors
    /// name the file, never its content.
    pub fn from_file(path: &Path) -> Result<Vault, String> {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            return Err(format!(
                "the token key file {} can be read by other users; make it private: chmod 600 {}",
                path.display(),
                path.display()
            ));
        }
        let bytes =
            std::fs::read(path).map_err(|e| format!("cannot read the token key file {}: {e}", path.display()))?;
        let key = if bytes.len() == 32 {
            bytes
        } else {
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("the token key file {} must hold 32 bytes or their base64", path.display()))?;
            base64::engine::general_purpose::STANDARD
                .decode(text.trim())
                .ok()
                .filter(|k| k.len() == 32)
                .ok_or_else(|| format!("the token key file {} must hold 32 bytes or their base64; make one with: (umask 077; openssl rand -base64 32 > {})", path.display(), path.display()))?
        };
        Vault::from_key(&key)
    }

    pub fn from_key(key: &[u8]) -> Result<Vault, String> {
        let key = UnboundKey::new(&CHACHA20_POLY1305, key).map_err(|_| "the token key must be 32 bytes".to_string())?;
        Ok(Vault { key: LessSafeKey::new(key), random: SystemRandom::new() })
    }

    /// nonce || ciphertext || tag.
    pub fn seal(&self, account: &str, secret: &str) -> Result<Vec<u8>, String> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random.fill(&mut nonce).map_err(|_| "the system random source failed".to_string())?;
        let mut data = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(account.as_bytes()), &mut data)
            .map_err(|_| "sealing the token failed".to_string())?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(out)
    }

    pub fn open(&self, account: &str, sealed: &[u8]) -> Result<String, String> {
        if sealed.len() < NONCE_LEN {
            return Err(format!("the stored token of {account} is damaged"));
        }
        let (nonce, data) = sealed.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| format!("the stored token of {account} is damaged"))?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(account.as_bytes()), &mut data)
            .map_err(|_| format!("the stored token of {account} cannot be opened with this token key (was token_key_file changed?); run `uketsuke auth login {account}`"))?;
        String::from_utf8(plain.to_vec()).map_err(|_| format!("the stored token of {account} is damaged"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_tokens_open_only_with_the_same_key_and_account() {
        let vault = Vault::from_key(&[7u8; 32]).unwrap();
        let sealed = vault.seal("support", "1.refresh-token").unwrap();
        assert!(!sealed.windows(7).any(|w| w == b"refresh"), "the token must not be stored in clear");
        assert_eq!(vault.open("support", &sealed).unwrap(), "1.refresh-token");
        assert!(vault.open("other", &sealed).is_err());
        assert!(Vault::from_key(&[8u8; 32]).unwrap().open("support", &sealed).is_err());
        let mut damaged = sealed.clone();
        damaged[20] ^= 1;
        assert!(vault.open("support", &damaged).is_err());
        assert_ne!(vault.seal("support", "1.refresh-token").unwrap(), sealed, "each seal has its own nonce");
    }
}
