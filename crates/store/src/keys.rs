//! API key secrets: how a key is written, made and checked.
//!
//! A key reads `wlk_<id>_<secret>`: the id finds the row, the secret (32
//! random bytes, hex) is checked against its stored SHA-256. A fast hash is
//! right here, unlike for passwords: the secret has 256 bits of entropy, so
//! there is nothing to guess and no need for a slow, salted hash.

use sha2::{Digest, Sha256};

const PREFIX: &str = "wlk_";

/// A key as a client presents it, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyToken {
    pub id: i64,
    secret: String,
}

impl KeyToken {
    /// Splits a presented key; `None` when it is not of our form.
    pub fn parse(raw: &str) -> Option<Self> {
        let (id, secret) = raw.strip_prefix(PREFIX)?.split_once('_')?;
        let id = id.parse::<i64>().ok().filter(|id| *id > 0)?;
        (secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| Self { id, secret: secret.to_ascii_lowercase() })
    }

    /// The hash stored for this key's secret.
    pub fn secret_hash(&self) -> String {
        hash_secret(&self.secret)
    }
}

/// A fresh secret (hex) from the operating system's generator.
pub fn new_secret() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(hex::encode(bytes))
}

pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The key a client presents, for a row id and its secret.
pub fn token(id: i64, secret: &str) -> String {
    format!("{PREFIX}{id}_{secret}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_key_parses_back_and_its_hash_matches() {
        let secret = new_secret().unwrap();
        let t = KeyToken::parse(&token(42, &secret)).unwrap();
        assert_eq!(t.id, 42);
        assert_eq!(t.secret_hash(), hash_secret(&secret));
        assert_ne!(new_secret().unwrap(), secret);
    }

    #[test]
    fn malformed_keys_are_refused() {
        let s = "a".repeat(64);
        for bad in [
            "",
            "wlk_",
            "wlk_1",
            &format!("wlk_0_{s}"),
            &format!("wlk_x_{s}"),
            &format!("wlk_1_{}", &s[1..]),
            &format!("key_1_{s}"),
            &format!("wlk_1_{}g", &s[1..]),
        ] {
            assert_eq!(KeyToken::parse(bad), None, "{bad}");
        }
    }
}
