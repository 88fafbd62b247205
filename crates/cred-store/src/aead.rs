//! AES-256-GCM with a fresh random nonce per value (aws-lc-rs, the TLS provider's crypto,
//! already in the tree): the one place values are sealed and opened, for the token store's
//! keyring sealing and the team store.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

/// `plain` sealed under `key` for `aad`: nonce, ciphertext and tag. `None` when the system
/// has no randomness (never seal with a predictable nonce).
pub(crate) fn seal(key: &[u8; 32], plain: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
    let mut nonce = [0u8; NONCE_LEN];
    aws_lc_rs::rand::fill(&mut nonce).ok()?;
    let mut data = plain.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut data).ok()?;
    let mut out = nonce.to_vec();
    out.extend_from_slice(&data);
    Some(out)
}

/// The plaintext of a value [`seal`]ed under `key` for `aad`; `None` when it does not open
/// (another key, another `aad`, or altered): never a wrong plaintext.
pub(crate) fn open(key: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
    let (nonce, data) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut data = data.to_vec();
    key.open_in_place(nonce, Aad::from(aad), &mut data).ok().map(|plain| plain.to_vec())
}

/// 32 random bytes from the OS, for a new key.
pub(crate) fn random_key() -> Option<[u8; 32]> {
    let mut key = [0u8; 32];
    aws_lc_rs::rand::fill(&mut key).ok()?;
    Some(key)
}
