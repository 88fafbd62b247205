//! Where a refreshing cache keeps its value between processes: the `SharedEntry` contract
//! and the entry file of its own.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde_json::{Value, json};

use crate::codec::CacheCodec;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::timefmt::format_rfc3339;

/// Where a refreshing cache keeps its value between processes, and the lock that lets one
/// process at a time refresh it. [`crate::RefreshingBuilder::persist_to`] keeps it in an entry file
/// of its own; [`crate::TokenEntry`] keeps it in the token store, so a rotating refresh token
/// has one home that every process reads under the same lock.
pub trait SharedEntry<T>: Send + Sync + 'static {
    /// Where it lives, for logs and errors (never a secret).
    fn location(&self) -> String;
    /// The file whose lock (`<file>.lock`) serialises refreshes of this entry. It must not be
    /// a lock that [`SharedEntry::store`] itself takes.
    fn refresh_lock(&self) -> PathBuf;
    /// The stored value and when it was obtained, `None` if there is none (or it is damaged:
    /// then a refresh replaces it).
    fn load(&self) -> Result<Option<(T, Option<SystemTime>)>>;
    /// Stores a value obtained at `at`.
    fn store(&self, value: &T, at: SystemTime) -> Result<()>;
    /// Forgets the value.
    fn remove(&self) -> Result<()>;
}

/// A shared entry behind an `Arc` (e.g. `Arc<dyn SharedEntry<T>>` handed out by a store of
/// many entries) is one too.
impl<T: 'static, E: SharedEntry<T> + ?Sized> SharedEntry<T> for std::sync::Arc<E> {
    fn location(&self) -> String {
        (**self).location()
    }
    fn refresh_lock(&self) -> PathBuf {
        (**self).refresh_lock()
    }
    fn load(&self) -> Result<Option<(T, Option<SystemTime>)>> {
        (**self).load()
    }
    fn store(&self, value: &T, at: SystemTime) -> Result<()> {
        (**self).store(value, at)
    }
    fn remove(&self) -> Result<()> {
        (**self).remove()
    }
}

/// An entry file of its own (0600) holding one cached value.
pub(crate) struct EntryFile {
    pub(crate) path: PathBuf,
    pub(crate) name: String,
}

impl<T: CacheCodec + Send + Sync + 'static> SharedEntry<T> for EntryFile {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn refresh_lock(&self) -> PathBuf {
        self.path.clone()
    }

    fn load(&self) -> Result<Option<(T, Option<SystemTime>)>> {
        Ok(read_entry_at(&self.path))
    }

    fn store(&self, value: &T, at: SystemTime) -> Result<()> {
        let entry = json!({
            "version": 1,
            "source": self.name,
            "written_at": format_rfc3339(at),
            "value": value.encode(),
        });
        fsutil::write_atomic(&self.path, entry.to_string().as_bytes())
    }

    fn remove(&self) -> Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io("remove", &self.path, e)),
            _ => Ok(()),
        }
    }
}

/// The entry and when it was written.
pub(crate) fn read_entry_at<T: CacheCodec>(file: &Path) -> Option<(T, Option<SystemTime>)> {
    let text = match fsutil::read_optional(file) {
        Ok(Some(t)) => t,
        Ok(None) => return None,
        Err(e) => {
            tracing::warn!(file = %file.display(), error = %e, "cannot read cache entry; refreshing instead");
            return None;
        }
    };
    let value: Value = serde_json::from_str(&text).ok()?;
    let decoded = value.get("value").and_then(T::decode);
    if decoded.is_none() {
        tracing::warn!(file = %file.display(), "cache entry is damaged; refreshing instead");
    }
    let written = value.get("written_at").and_then(Value::as_str).and_then(crate::timefmt::parse_rfc3339);
    decoded.map(|d| (d, written))
}

/// When an entry was last written, for status displays.
pub fn entry_written_at(file: &Path) -> Option<SystemTime> {
    std::fs::metadata(file).ok()?.modified().ok()
}

/// A boxed future, for the object-safe [`FleetEntry`] and [`FleetHold`].
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The fleet level of a refreshing cache (docs/ARCHITECTURE.md, "three levels"): where
/// machines that share one credential coordinate its refresh, so one of them refreshes and
/// the others read its result. [`crate::RefreshingBuilder::fleet`] adds it above the process
/// and the machine; the cache reaches it only when the machine's entry is due, so a warm
/// call never touches it. cred-store's `TeamStore` (feature `team-store`) keeps it in
/// PostgreSQL.
pub trait FleetEntry<T>: Send + Sync + 'static {
    /// Where it lives, for logs and errors (never a secret).
    fn location(&self) -> String;
    /// Takes the entry's fleet-wide lock, waiting at most `wait` (zero: only if it is free),
    /// and reads the entry under it. Errors: [`Error::TeamBusy`] when another holder kept it
    /// past `wait`; [`Error::Team`] with kind `Unavailable` when the fleet cannot be reached
    /// (the cache then carries on at the machine level), any other kind to fail the call.
    fn lock(&self, wait: std::time::Duration) -> BoxFuture<'_, Result<Box<dyn FleetHold<T>>>>;
}

/// A fleet entry behind an `Arc` (handed out by a store of many) is one too.
impl<T: 'static, E: FleetEntry<T> + ?Sized> FleetEntry<T> for std::sync::Arc<E> {
    fn location(&self) -> String {
        (**self).location()
    }
    fn lock(&self, wait: std::time::Duration) -> BoxFuture<'_, Result<Box<dyn FleetHold<T>>>> {
        (**self).lock(wait)
    }
}

/// A fleet entry's lock, held: the entry as read under it, and the way to publish the next
/// version. Dropped or [released](FleetHold::release) without publishing, nothing changes.
pub trait FleetHold<T>: Send {
    /// The value the fleet keeps and when it was obtained; an error when it does not open
    /// (sealed with another key, or altered).
    fn current(&mut self) -> Result<Option<(T, SystemTime)>>;
    /// Stores `value`, obtained at `at`, as the entry's next version and releases the lock.
    fn publish<'a>(self: Box<Self>, value: &'a T, at: SystemTime) -> BoxFuture<'a, Result<()>>;
    /// Releases the lock without changing the entry.
    fn release(self: Box<Self>) -> BoxFuture<'static, ()>;
}
