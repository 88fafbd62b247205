//! An IAM user's long-term access key kept out of `~/.aws/credentials` (`ccc keys`), in the
//! token store (sealed under the platform keyring key when the store seals), with the journal
//! of a rotation in progress beside it, so a rotation cut at any step is finished or undone.

use std::fmt;
use std::time::SystemTime;

use core_types::SecretString;

/// A long-term key kept for one AWS profile.
#[derive(Clone)]
#[non_exhaustive]
pub struct StoredKey {
    /// The key's id (not a secret: shown by `ccc keys list`).
    pub access_key_id: String,
    /// Its secret.
    pub secret_access_key: SecretString,
    /// When it was added to the store.
    pub added_at: SystemTime,
    /// When it last replaced an older key by rotation.
    pub rotated_at: Option<SystemTime>,
    /// A rotation in progress.
    pub rotation: Option<KeyRotation>,
}

impl StoredKey {
    /// A key added now (`at`), never rotated.
    pub fn new(access_key_id: impl Into<String>, secret_access_key: SecretString, at: SystemTime) -> Self {
        Self { access_key_id: access_key_id.into(), secret_access_key, added_at: at, rotated_at: None, rotation: None }
    }
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKey")
            .field("access_key_id", &self.access_key_id)
            .field("added_at", &self.added_at)
            .field("rotated_at", &self.rotated_at)
            .field("rotation", &self.rotation)
            .finish_non_exhaustive()
    }
}

/// The journal of a rotation: when it started, the new key once IAM created it (not yet the
/// kept one), and the old key's id once the new one is kept (to delete).
#[derive(Clone)]
#[non_exhaustive]
pub struct KeyRotation {
    /// When the rotation started (a key IAM created after this that is neither kept nor
    /// journaled is the rotation's orphan: its secret was never saved).
    pub started_at: SystemTime,
    /// The created key, not yet the kept one.
    pub next: Option<(String, SecretString)>,
    /// The old key's id, replaced and still to delete.
    pub retired: Option<String>,
}

impl KeyRotation {
    /// A rotation that started at `at`, nothing created yet.
    pub fn started(at: SystemTime) -> Self {
        Self { started_at: at, next: None, retired: None }
    }
}

impl fmt::Debug for KeyRotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRotation")
            .field("started_at", &self.started_at)
            .field("next", &self.next.as_ref().map(|(id, _)| id))
            .field("retired", &self.retired)
            .finish()
    }
}
