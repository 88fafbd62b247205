//! Sealing the token store's secrets: each token is encrypted with AES-256-GCM (aws-lc-rs,
//! the TLS provider's crypto, already in the tree) under a key kept in the platform's
//! keyring (the kernel's user keyring on Linux, Keychain on macOS, Credential Manager on
//! Windows).
//! The file alone then reveals nothing, and a value moved to another entry or field, or
//! altered, fails to open rather than turning into a wrong token.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::{Error, Result};

/// The prefix of a sealed value in the file.
const PREFIX: &str = "sealed:v1:";

/// The keyring service name the key is kept under.
pub const KEYRING_SERVICE: &str = "ccc-token-store";

/// Where the key comes from.
enum KeySource {
    /// The platform keyring, under [`KEYRING_SERVICE`] and this account (the store's path).
    Keyring(String),
    /// Given (tests, or a caller with its own key management).
    Fixed([u8; 32]),
}

/// Seals and opens token values; the key is read (or created) on first use.
pub(crate) struct Sealer {
    source: KeySource,
    key: OnceLock<std::result::Result<[u8; 32], String>>,
}

impl Sealer {
    pub(crate) fn keyring(account: String) -> Self {
        Self { source: KeySource::Keyring(account), key: OnceLock::new() }
    }

    pub(crate) fn fixed(key: [u8; 32]) -> Self {
        Self { source: KeySource::Fixed(key), key: OnceLock::new() }
    }

    /// What `ccc doctor` says about it.
    pub(crate) fn describe(&self) -> String {
        match &self.source {
            KeySource::Keyring(_) if cfg!(target_os = "linux") => format!(
                "sealed (AES-256-GCM, key in the platform keyring as {KEYRING_SERVICE}: the kernel's user keyring, cleared at reboot)"
            ),
            KeySource::Keyring(_) => format!("sealed (AES-256-GCM, key in the platform keyring as {KEYRING_SERVICE})"),
            KeySource::Fixed(_) => "sealed (AES-256-GCM, key given by the caller)".to_owned(),
        }
    }

    fn key(&self) -> Result<[u8; 32]> {
        self.key
            .get_or_init(|| match &self.source {
                KeySource::Fixed(k) => Ok(*k),
                KeySource::Keyring(account) => keyring_key(account),
            })
            .clone()
            .map_err(Error::NotConfigured)
    }

    /// `plain`, sealed for `slot` (the entry and field it belongs to: the value opens only there).
    pub(crate) fn seal(&self, plain: &str, slot: &str) -> Result<String> {
        let sealed = crate::aead::seal(&self.key()?, plain.as_bytes(), slot.as_bytes())
            .ok_or_else(|| Error::InvalidInput("sealing failed: no randomness for a nonce".into()))?;
        Ok(format!("{PREFIX}{}", STANDARD.encode(sealed)))
    }

    /// Opens a sealed value for `slot`. A plain one is refused: once sealing is on, a value
    /// that is not sealed was planted by someone who can write the file (or written before
    /// sealing was turned on), and sending it would hand them the sign-in.
    pub(crate) fn open(&self, text: &str, slot: &str) -> Result<String> {
        let Some(b64) = text.strip_prefix(PREFIX) else {
            return Err(Error::InvalidInput(format!(
                "the token {slot} is not sealed although this store seals every token (it was written before sealing was turned on, or put there by someone else); it is not used: remove the entry and sign in again"
            )));
        };
        let refused = || {
            Error::InvalidInput(format!(
                "a sealed token ({slot}) does not open with the keyring's key: the key changed or the file was altered; remove the entry and sign in again"
            ))
        };
        let raw = STANDARD.decode(b64).map_err(|_| refused())?;
        let plain = crate::aead::open(&self.key()?, &raw, slot.as_bytes()).ok_or_else(refused)?;
        String::from_utf8(plain).map_err(|_| refused())
    }
}

/// The store's key from the keyring, created (random, 256 bits) on first use, under a lock
/// next to the store so two first uses cannot each make their own.
fn keyring_key(account: &str) -> std::result::Result<[u8; 32], String> {
    let ring = Ring::open(account)?;
    if let Some(key) = ring.get()? {
        return Ok(key);
    }
    let _lock = crate::fsutil::lock_within(
        &std::path::PathBuf::from(format!("{account}.keyring-key")),
        std::time::Duration::from_secs(10),
    )
    .map_err(|e| e.to_string())?;
    if let Some(key) = ring.get()? {
        return Ok(key);
    }
    let key = crate::aead::random_key().ok_or_else(|| "no randomness for a key".to_owned())?;
    ring.set(&key)?;
    Ok(key)
}

fn unavailable(e: impl std::fmt::Display) -> String {
    format!("the platform keyring is not available ({e}); unset CCC_TOKEN_STORE to keep tokens in the plain 0600 file")
}

fn wrong_size(account: &str) -> String {
    format!(
        "the keyring's {KEYRING_SERVICE} key for {account} is not 32 bytes; remove it from the keyring and sign in again"
    )
}

/// Linux: the kernel's user keyring (shared by the user's processes, headless included;
/// cleared at reboot, after which sealed tokens must be obtained again).
#[cfg(target_os = "linux")]
struct Ring {
    ring: linux_keyutils::KeyRing,
    description: String,
    account: String,
}

#[cfg(target_os = "linux")]
impl Ring {
    fn open(account: &str) -> std::result::Result<Self, String> {
        let ring = linux_keyutils::KeyRing::from_special_id(linux_keyutils::KeyRingIdentifier::User, false)
            .map_err(|e| unavailable(format!("{e:?}")))?;
        Ok(Self { ring, description: format!("{KEYRING_SERVICE}:{account}"), account: account.to_owned() })
    }

    fn get(&self) -> std::result::Result<Option<[u8; 32]>, String> {
        match self.ring.search(&self.description) {
            Ok(key) => {
                let bytes = key.read_to_vec().map_err(|e| unavailable(format!("{e:?}")))?;
                bytes.try_into().map(Some).map_err(|_| wrong_size(&self.account))
            }
            Err(linux_keyutils::KeyError::KeyDoesNotExist) => Ok(None),
            Err(e) => Err(unavailable(format!("{e:?}"))),
        }
    }

    fn set(&self, key: &[u8; 32]) -> std::result::Result<(), String> {
        self.ring.add_key(&self.description, key).map(|_| ()).map_err(|e| unavailable(format!("{e:?}")))
    }
}

/// Elsewhere: the keyring crate (Keychain on macOS, Credential Manager on Windows).
#[cfg(not(target_os = "linux"))]
struct Ring {
    entry: keyring::Entry,
    account: String,
}

#[cfg(not(target_os = "linux"))]
impl Ring {
    fn open(account: &str) -> std::result::Result<Self, String> {
        let entry = keyring::Entry::new(KEYRING_SERVICE, account).map_err(unavailable)?;
        Ok(Self { entry, account: account.to_owned() })
    }

    fn get(&self) -> std::result::Result<Option<[u8; 32]>, String> {
        match self.entry.get_secret() {
            Ok(bytes) => bytes.try_into().map(Some).map_err(|_| wrong_size(&self.account)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn set(&self, key: &[u8; 32]) -> std::result::Result<(), String> {
        self.entry.set_secret(key).map_err(unavailable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_slot_with_their_key() {
        let s = Sealer::fixed([7; 32]);
        let sealed = s.seal("refresh-token-value", "oauth|a|b/refresh_token").unwrap();
        assert!(sealed.starts_with(PREFIX) && !sealed.contains("refresh-token-value"));
        assert_eq!(s.open(&sealed, "oauth|a|b/refresh_token").unwrap(), "refresh-token-value");
        assert_ne!(s.seal("x", "slot").unwrap(), s.seal("x", "slot").unwrap(), "a fresh nonce each time");
        // moved to another slot, another key, or altered: refused, never garbage
        assert!(s.open(&sealed, "oauth|a|b/access_token").is_err());
        assert!(Sealer::fixed([8; 32]).open(&sealed, "oauth|a|b/refresh_token").is_err());
        let mut bytes = STANDARD.decode(sealed.strip_prefix(PREFIX).unwrap()).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let tampered = format!("{PREFIX}{}", STANDARD.encode(bytes));
        let e = s.open(&tampered, "oauth|a|b/refresh_token").unwrap_err().to_string();
        assert!(e.contains("does not open") && !e.contains("refresh-token-value"), "{e}");
        // a plain value in a sealing store is refused, never sent (it may be planted)
        let e = s.open("planted-refresh-token", "slot").unwrap_err().to_string();
        assert!(e.contains("not sealed") && !e.contains("planted-refresh-token"), "{e}");
    }
}
