//! The refreshing cache (docs/ARCHITECTURE.md): serves a cached credential while it is
//! outside the refresh window, and otherwise refreshes it exactly once however many tasks
//! and processes ask at the same moment.
//!
//! In-process, callers queue on one async mutex, so the first refreshes and the rest find the
//! fresh value. Across processes, the refresher takes an advisory lock on the entry's lock
//! file and re-reads the entry: another process may have refreshed it while we waited.
//! Upstream failure inside the window serves the still-valid value (and logs a warning);
//! after expiry it is an `ExpiredToken` error.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use core_types::{Clock, CredentialSource, ErrorKind, Freshness, Kinded, RefreshPolicy, SystemClock};

pub use crate::codec::CacheCodec;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::shared::{EntryFile, FleetEntry, SharedEntry};
use crate::timefmt::format_rfc3339;

type Shared<T> = Arc<dyn SharedEntry<T>>;
type Fleet<T> = Arc<dyn FleetEntry<T>>;

/// How long a refresh waits for another process's refresh before giving up (default).
pub const DEFAULT_REFRESH_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(45);

/// After the fleet level failed to answer, how long this process goes without asking it again
/// (serving what is valid, or refreshing at the machine level).
pub const FLEET_RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(15);

/// The refreshing cache's verdict on a value that expires at `expiry` and was obtained at
/// `obtained`: the policy's, except that a value whose whole life is shorter than the window
/// stays fresh for the first half of its life (otherwise every call would refresh it). One
/// rule for the cache and for anything that reads its entries without it (the
/// credential_process warm path).
pub fn verdict(
    policy: &RefreshPolicy,
    expiry: Option<SystemTime>,
    obtained: Option<SystemTime>,
    now: SystemTime,
) -> Freshness {
    let verdict = policy.freshness_at(expiry, now);
    if verdict == Freshness::RefreshDue
        && let (Some(at), Some(e)) = (obtained, expiry)
    {
        let half_life = at + e.duration_since(at).unwrap_or_default() / 2;
        if now < half_life {
            return Freshness::Fresh;
        }
    }
    verdict
}

/// Builds a [`Refreshing`] cache.
pub struct RefreshingBuilder<S: CredentialSource> {
    source: S,
    policy: RefreshPolicy,
    clock: Arc<dyn Clock>,
    file: Option<PathBuf>,
    shared: Option<Shared<S::Output>>,
    fleet: Option<Fleet<S::Output>>,
    alone_when_fleet_down: Option<bool>,
    lock_wait: std::time::Duration,
}

impl<S: CredentialSource> fmt::Debug for RefreshingBuilder<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshingBuilder")
            .field("source", &self.source.name())
            .field("policy", &self.policy)
            .field("file", &self.file)
            .field("shared", &self.shared.as_ref().map(|s| s.location()))
            .field("fleet", &self.fleet.as_ref().map(|s| s.location()))
            .finish_non_exhaustive()
    }
}

impl<S: CredentialSource> RefreshingBuilder<S> {
    /// Coordinates refreshes with other machines through `entry` (the fleet level, e.g.
    /// `TeamStore::entry` on PostgreSQL): when this machine's value is due, the cache takes
    /// the entry's fleet-wide lock, serves the fleet's value if another machine refreshed it,
    /// and otherwise refreshes from it (a rotating refresh token is spent once fleet-wide) and
    /// publishes the result. A warm call never reaches it. When the fleet cannot be reached,
    /// a still-valid value is served and an expired one is refreshed on this machine alone
    /// (docs/ARCHITECTURE.md says what that risks).
    #[must_use]
    pub fn fleet(mut self, entry: impl FleetEntry<S::Output>) -> Self {
        self.fleet = Some(Arc::new(entry));
        self
    }

    /// Whether an expired value is refreshed on this machine alone while the fleet level
    /// cannot be reached. Default: yes, unless the source spends a rotating token
    /// (`CredentialSource::spends_rotating_token`): then the call fails (`Unavailable`, naming
    /// the store and this setting) until the fleet answers, so the token is never spent twice
    /// — at the price of every machine stopping once its value expires while the fleet is down.
    #[must_use]
    pub fn refresh_alone_when_fleet_down(mut self, alone: bool) -> Self {
        self.alone_when_fleet_down = Some(alone);
        self
    }

    /// The refresh window (default five minutes).
    #[must_use]
    pub fn refresh_window(mut self, window: RefreshPolicy) -> Self {
        self.policy = window;
        self
    }

    /// The clock (default the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Persists the entry in this file (0600) and coordinates refreshes across processes
    /// through its lock file. Without it (or [`RefreshingBuilder::shared`]) the cache is in
    /// memory only.
    #[must_use]
    pub fn persist_to(mut self, file: impl Into<PathBuf>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// Keeps the value in `entry` (e.g. the token store) and coordinates refreshes across
    /// processes through its refresh lock.
    #[must_use]
    pub fn shared(mut self, entry: impl SharedEntry<S::Output>) -> Self {
        self.shared = Some(Arc::new(entry));
        self
    }

    /// How long a refresh waits for another process that is refreshing the same entry
    /// (default [`DEFAULT_REFRESH_LOCK_WAIT`]); then an `Unavailable`-kind error.
    #[must_use]
    pub fn lock_wait(mut self, wait: std::time::Duration) -> Self {
        self.lock_wait = wait;
        self
    }
}

impl<S> RefreshingBuilder<S>
where
    S: CredentialSource,
    S::Output: CacheCodec,
{
    /// The cache.
    pub fn build(self) -> Refreshing<S> {
        let name = self.source.name().into_owned();
        // an entry of its own is used only where no shared entry was given
        let file = if self.shared.is_none() { self.file } else { None };
        let alone = self.alone_when_fleet_down.unwrap_or(!self.source.spends_rotating_token());
        let shared =
            self.shared.or_else(|| file.clone().map(|path| Arc::new(EntryFile { path, name }) as Shared<S::Output>));
        Refreshing {
            inner: Arc::new(Inner {
                file,
                source: self.source,
                policy: self.policy,
                clock: self.clock,
                shared,
                fleet: self.fleet,
                alone_when_fleet_down: alone,
                lock_wait: self.lock_wait,
                state: tokio::sync::Mutex::new(None),
                fleet_down_until: std::sync::Mutex::new(None),
                obtained: std::sync::Mutex::new(None),
            }),
        }
    }
}

struct Inner<S: CredentialSource> {
    /// The entry file of its own, if that is where the value is kept.
    file: Option<PathBuf>,
    source: S,
    policy: RefreshPolicy,
    clock: Arc<dyn Clock>,
    shared: Option<Shared<S::Output>>,
    fleet: Option<Fleet<S::Output>>,
    alone_when_fleet_down: bool,
    lock_wait: std::time::Duration,
    state: tokio::sync::Mutex<Option<S::Output>>,
    /// Until when the fleet level counts as unreachable without asking again (it just failed
    /// to answer): callers in this process do not each wait out the connect timeout.
    fleet_down_until: std::sync::Mutex<Option<std::time::Instant>>,
    /// When the current value was obtained, and its expiry (to recognise it).
    obtained: std::sync::Mutex<Option<(SystemTime, Option<SystemTime>)>>,
}

/// A credential that keeps itself valid. Cheap to clone: clones share the cache.
pub struct Refreshing<S: CredentialSource> {
    inner: Arc<Inner<S>>,
}

impl<S: CredentialSource> Clone for Refreshing<S> {
    fn clone(&self) -> Self {
        Self { inner: Arc::clone(&self.inner) }
    }
}

impl<S: CredentialSource> fmt::Debug for Refreshing<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refreshing")
            .field("source", &self.inner.source.name())
            .field("policy", &self.inner.policy)
            .field("shared", &self.inner.shared.as_ref().map(|s| s.location()))
            .field("fleet", &self.inner.fleet.as_ref().map(|s| s.location()))
            .finish_non_exhaustive()
    }
}

impl<S> Refreshing<S>
where
    S: CredentialSource,
    S::Output: CacheCodec,
{
    /// A builder around `source`.
    pub fn builder(source: S) -> RefreshingBuilder<S> {
        RefreshingBuilder {
            source,
            policy: RefreshPolicy::default(),
            clock: Arc::new(SystemClock),
            file: None,
            shared: None,
            fleet: None,
            alone_when_fleet_down: None,
            lock_wait: DEFAULT_REFRESH_LOCK_WAIT,
        }
    }

    /// The wrapped source.
    pub fn source(&self) -> &S {
        &self.inner.source
    }

    /// [`verdict`] on `v`, with when it was obtained if this cache saw that.
    fn freshness(&self, v: &S::Output) -> Freshness {
        let expiry = core_types::Expiring::expiry(v);
        let obtained = match *self.inner.obtained.lock().unwrap_or_else(std::sync::PoisonError::into_inner) {
            Some((at, exp)) if exp == expiry => Some(at),
            _ => None,
        };
        verdict(&self.inner.policy, expiry, obtained, self.inner.clock.now())
    }

    /// The entry file the value is kept in, when it is one of its own
    /// ([`RefreshingBuilder::persist_to`]): what the credential_process warm path reads.
    pub fn entry_file(&self) -> Option<&std::path::Path> {
        self.inner.file.as_deref()
    }

    /// The refresh window.
    pub fn policy(&self) -> RefreshPolicy {
        self.inner.policy
    }

    /// Reads the shared entry, remembering when its value was obtained. A damaged or
    /// unreadable entry counts as absent (a refresh replaces it), with a warning.
    fn read_noting(&self, shared: &Shared<S::Output>) -> Option<S::Output> {
        let (v, written) = match shared.load() {
            Ok(found) => found?,
            Err(e) => {
                tracing::warn!(entry = %shared.location(), error = %e, "cannot read the cached entry; refreshing instead");
                return None;
            }
        };
        if let Some(at) = written {
            self.note_obtained(&v, at);
        }
        Some(v)
    }

    fn note_obtained(&self, v: &S::Output, at: SystemTime) {
        *self.inner.obtained.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((at, core_types::Expiring::expiry(v)));
    }

    /// Runs blocking file work off the async runtime.
    async fn blocking<T: Send + 'static>(&self, work: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|e| self.error(ErrorKind::Other, format!("file task failed: {e}")))?
    }

    /// A valid credential: the cached one while fresh, otherwise refreshed (once, however
    /// many callers and processes ask together).
    pub async fn get(&self) -> Result<S::Output> {
        self.obtain(false).await
    }

    /// Refreshes now, whatever is left of the current value, under the same locks as
    /// [`Refreshing::get`] (so a rotating token is never spent by two processes at once: a
    /// second caller refreshes from the first one's result). Fails rather than serve the
    /// old value.
    pub async fn refresh_now(&self) -> Result<S::Output> {
        self.obtain(true).await
    }

    /// Whether `v`, due for a refresh, may be served without waiting for another process's
    /// refresh: more than a third of the refresh window is left before it expires.
    fn serve_while_refreshing(&self, v: &S::Output) -> bool {
        let left = core_types::Expiring::expiry(v).map(|e| e.duration_since(self.inner.clock.now()));
        match left {
            None => true,
            Some(Ok(left)) => left > self.inner.policy.window() / 3,
            Some(Err(_)) => false,
        }
    }

    fn fresh_enough(&self, v: &S::Output, force: bool) -> bool {
        !force && self.freshness(v) == Freshness::Fresh
    }

    async fn obtain(&self, force: bool) -> Result<S::Output> {
        let mut state = self.inner.state.lock().await;
        if let Some(v) = state.as_ref()
            && self.fresh_enough(v, force)
        {
            return Ok(v.clone());
        }
        let Some(shared) = self.inner.shared.clone() else {
            let (v, obtained) = self.refresh_above(state.clone(), force).await?;
            if let Some(at) = obtained {
                self.note_obtained(&v, at);
            }
            *state = Some(v.clone());
            return Ok(v);
        };
        let current = self.read_noting(&shared);
        if let Some(v) = &current
            && self.fresh_enough(v, force)
        {
            *state = Some(v.clone());
            return Ok(v.clone());
        }
        // Cross-process single flight: wait (boundedly) for the entry's refresh lock, then
        // look again: another process may have refreshed it while we waited. While the value
        // on hand still has more than a third of the window left, nobody waits: when another
        // process holds the lock (it is refreshing), the value is served at once, as botocore's
        // advisory refresh does; only a value nearly or fully expired waits for the refresh.
        let advisory = current.or_else(|| state.clone()).filter(|v| !force && self.serve_while_refreshing(v));
        let (target, wait) = (shared.refresh_lock(), self.inner.lock_wait);
        let wait = if advisory.is_some() { std::time::Duration::ZERO } else { wait };
        let locked = self.blocking(move || fsutil::lock_within(&target, wait)).await;
        if let (Err(Error::LockTimeout { .. }), Some(v)) = (&locked, advisory) {
            tracing::debug!(entry = %shared.location(), "another process is refreshing; serving the still-valid value");
            *state = Some(v.clone());
            return Ok(v);
        }
        let _lock = locked.map_err(|e| match e {
            Error::LockTimeout { waited, .. } => self.error(
                ErrorKind::Unavailable,
                format!(
                    "another process has been refreshing this credential for {} s without finishing; try again, or end that process",
                    waited.as_secs()
                ),
            ),
            other => other,
        })?;
        let on_disk = self.read_noting(&shared);
        if let Some(v) = &on_disk
            && self.fresh_enough(v, force)
        {
            *state = Some(v.clone());
            return Ok(v.clone());
        }
        let stale = on_disk.or_else(|| state.clone());
        let (mut value, obtained) = self.refresh_above(stale, force).await?;
        if let Some(at) = obtained {
            self.note_obtained(&value, at);
            match store_kept(shared.as_ref(), &value, at) {
                Ok(kept) => value = kept,
                Err(e) => {
                    // The refresh happened upstream (a rotating token is already spent): the
                    // caller gets the fresh value, and the failure to keep it is said loudly.
                    tracing::error!(
                        entry = %shared.location(), error = %e,
                        "refreshed, but could NOT SAVE the new credential; it is used now but will be lost when this process ends — free disk space or fix the permissions"
                    );
                }
            }
        }
        *state = Some(value.clone());
        Ok(value)
    }

    /// The cached credential, fresh or not, without refreshing (memory first, then the
    /// shared entry). For status displays and refresh decisions.
    pub async fn peek(&self) -> Option<S::Output> {
        if let Some(v) = self.inner.state.lock().await.as_ref() {
            return Some(v.clone());
        }
        self.inner.shared.as_ref().and_then(|s| s.load().ok().flatten()).map(|(v, _)| v)
    }

    /// Stores a credential obtained elsewhere (e.g. by an interactive sign-in) as the
    /// current value, in memory and in the shared entry.
    pub async fn seed(&self, value: S::Output) -> Result<()> {
        let mut state = self.inner.state.lock().await;
        let now = self.inner.clock.now();
        let mut value = value;
        if let Some(shared) = self.inner.shared.clone() {
            let (v, wait) = (value.clone(), self.inner.lock_wait);
            let kept = self
                .blocking(move || {
                    let _lock = fsutil::lock_within(&shared.refresh_lock(), wait)?;
                    store_kept(shared.as_ref(), &v, now)
                })
                .await?;
            value = kept;
        }
        if let Some(fleet) = self.inner.fleet.clone() {
            // other machines take it from here; the fleet's lock keeps it from landing in the
            // middle of another machine's refresh
            match fleet.lock(self.inner.lock_wait).await {
                Ok(hold) => hold.publish(&value, now).await?,
                Err(e @ Error::Team { kind: ErrorKind::Unavailable, .. }) => {
                    tracing::warn!(entry = %fleet.location(), error = %e, "team store unreachable; the credential is kept on this machine only");
                }
                Err(e) => return Err(e),
            }
        }
        self.note_obtained(&value, now);
        *state = Some(value);
        Ok(())
    }

    /// Drops the cached value so the next [`Refreshing::get`] asks upstream (unless another
    /// process refreshed it meanwhile).
    pub async fn invalidate(&self) -> Result<()> {
        *self.inner.state.lock().await = None;
        if let Some(shared) = self.inner.shared.clone() {
            let wait = self.inner.lock_wait;
            self.blocking(move || {
                let _lock = fsutil::lock_within(&shared.refresh_lock(), wait)?;
                shared.remove()
            })
            .await?;
        }
        Ok(())
    }

    /// A new value from the level above the machine: the fleet when there is one, otherwise
    /// upstream. Returns it and when it was obtained, `None` when it is the value on hand
    /// (served because the refresh failed while it is still valid): nothing new to keep.
    async fn refresh_above(&self, local: Option<S::Output>, force: bool) -> Result<(S::Output, Option<SystemTime>)> {
        match self.inner.fleet.clone() {
            Some(fleet) => self.through_fleet(fleet.as_ref(), local, force).await,
            None => self.upstream_noting(local, force).await,
        }
    }

    async fn upstream_noting(&self, stale: Option<S::Output>, force: bool) -> Result<(S::Output, Option<SystemTime>)> {
        let (v, from_upstream) = self.refresh_from_upstream(stale, force).await?;
        Ok((v, from_upstream.then(|| self.inner.clock.now())))
    }

    fn fleet_down_until(&self) -> std::sync::MutexGuard<'_, Option<std::time::Instant>> {
        self.inner.fleet_down_until.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the fleet level failed to answer less than [`FLEET_RETRY_AFTER`] ago.
    fn fleet_is_down(&self) -> bool {
        self.fleet_down_until().is_some_and(|t| std::time::Instant::now() < t)
    }

    /// The fleet level just failed to answer: not asked again for [`FLEET_RETRY_AFTER`].
    fn mark_fleet_down(&self) {
        *self.fleet_down_until() = Some(std::time::Instant::now() + FLEET_RETRY_AFTER);
    }

    /// The fleet level: under the entry's fleet-wide lock, the fleet's value if another
    /// machine refreshed it, otherwise a refresh from it (never from an older local copy: a
    /// rotating refresh token is spent once fleet-wide), published as the next version.
    async fn through_fleet(
        &self,
        fleet: &dyn FleetEntry<S::Output>,
        local: Option<S::Output>,
        force: bool,
    ) -> Result<(S::Output, Option<SystemTime>)> {
        // as at the machine level: a value with more than a third of the window left is
        // served at once while another machine refreshes
        let advisory = local.clone().filter(|v| !force && self.serve_while_refreshing(v));
        let wait = if advisory.is_some() { std::time::Duration::ZERO } else { self.inner.lock_wait };
        let lock = if self.fleet_is_down() {
            Err(Error::Team {
                location: fleet.location(),
                message: "did not answer moments ago; not asked again yet".into(),
                kind: ErrorKind::Unavailable,
            })
        } else {
            fleet.lock(wait).await
        };
        let mut hold = match (lock, advisory) {
            (Ok(hold), _) => hold,
            (Err(Error::TeamBusy { .. }), Some(v)) => {
                tracing::debug!(entry = %fleet.location(), "another machine is refreshing; serving the still-valid value");
                return Ok((v, None));
            }
            (Err(e @ Error::Team { kind: ErrorKind::Unavailable, .. }), _) => {
                if !self.fleet_is_down() {
                    self.mark_fleet_down();
                }
                if let Some(v) = local.clone().filter(|v| !force && self.freshness(v) != Freshness::Expired) {
                    tracing::warn!(entry = %fleet.location(), error = %e, "team store unreachable; serving the still-valid credential this machine has");
                    return Ok((v, None));
                }
                if !self.inner.alone_when_fleet_down {
                    let why = match self.inner.source.spends_rotating_token() {
                        true => "its refresh spends a rotating token, which a second machine would spend again",
                        false => "it is set to refresh only there",
                    };
                    return Err(self.error(
                        ErrorKind::Unavailable,
                        format!(
                            "{e}; this credential is refreshed only through the team store ({why}): retry when it answers, or allow per-machine refreshes (refresh_alone_when_fleet_down)"
                        ),
                    ));
                }
                tracing::warn!(entry = %fleet.location(), error = %e, "team store unreachable; refreshing on this machine alone");
                return self.upstream_noting(local, force).await;
            }
            (Err(e), _) => return Err(e),
        };
        let theirs = match hold.current() {
            Ok(theirs) => theirs,
            Err(e) => {
                hold.release().await;
                return Err(e);
            }
        };
        if let Some((v, at)) = &theirs {
            self.note_obtained(v, *at);
            if self.fresh_enough(v, force) {
                hold.release().await;
                return Ok((v.clone(), Some(*at)));
            }
        }
        let stale = theirs.map(|(v, _)| v).or(local);
        let (value, from_upstream) = match self.refresh_from_upstream(stale, force).await {
            Ok(done) => done,
            Err(e) => {
                hold.release().await;
                return Err(e);
            }
        };
        if !from_upstream {
            hold.release().await;
            return Ok((value, None));
        }
        let now = self.inner.clock.now();
        if let Err(e) = hold.publish(&value, now).await {
            // spent upstream already: used here, and said loudly (other machines will refresh
            // again from the fleet's older value)
            tracing::error!(
                entry = %fleet.location(), error = %e,
                "refreshed, but could NOT PUBLISH the new credential to the team store; other machines will refresh it again"
            );
        }
        Ok((value, Some(now)))
    }

    fn error(&self, kind: ErrorKind, message: String) -> Error {
        Error::Refresh { name: self.inner.source.name().into_owned(), message, kind, source: None }
    }

    /// A failure of the source, said in this cache's words, the source's error kept as the
    /// cause.
    fn failed(&self, kind: ErrorKind, message: String, cause: S::Error) -> Error {
        Error::Refresh { name: self.inner.source.name().into_owned(), message, kind, source: Some(Box::new(cause)) }
    }

    /// Calls upstream; on failure falls back to a still-valid stale value. Returns the value
    /// and whether it came from upstream.
    async fn refresh_from_upstream(&self, stale: Option<S::Output>, force: bool) -> Result<(S::Output, bool)> {
        let name = self.inner.source.name();
        tracing::debug!(source = %name, "refreshing credential from upstream");
        match self.inner.source.refresh(stale.as_ref()).await {
            Ok(v) => Ok((v, true)),
            Err(e) => match stale {
                Some(v) if !force && self.freshness(&v) != Freshness::Expired => {
                    tracing::warn!(source = %name, error = %e, kind = %e.kind(), "refresh failed; serving the cached credential until it expires");
                    Ok((v, false))
                }
                // a cache of the same source inside this one (a sign-in's tokens under its AWS
                // credentials) has said what failed and what to do: said once, not twice
                _ if let Some((message, kind)) = same_source_report(&e, &name) => Err(self.failed(kind, message, e)),
                Some(v) => {
                    let at = core_types::Expiring::expiry(&v).map(format_rfc3339).unwrap_or_default();
                    // upstream unreachable is not a reason to sign in again: the kind says
                    // which it is (ExpiredToken: sign in again), so a caller can retry the one
                    // and prompt for the other
                    if e.kind().is_retryable() {
                        let message =
                            format!("expired at {at} and could not be renewed: {e}; retry when the service answers");
                        Err(self.failed(e.kind(), message, e))
                    } else {
                        let message = format!("expired at {at} and the renewal was refused: {e}");
                        Err(self.failed(ErrorKind::ExpiredToken, message, e))
                    }
                }
                None => {
                    let message = format!("could not obtain a credential: {e}");
                    Err(self.failed(e.kind(), message, e))
                }
            },
        }
    }
}

/// What a refreshing cache of the source `name` that `e` is, or forwards whole, said (found
/// by type, never by its text).
fn same_source_report(e: &dyn Kinded, name: &str) -> Option<(String, ErrorKind)> {
    let inner: &(dyn std::error::Error + 'static) = match e.wrapped() {
        Some(w) => w,
        None => e,
    };
    match inner.downcast_ref::<Error>()? {
        Error::Refresh { name: n, message, kind, .. } if n == name => Some((message.clone(), *kind)),
        _ => None,
    }
}

/// Stores `value` and returns what the entry kept of it: what every other process will read.
/// The entry may keep less than the value holds (expiry to the millisecond), and a caller
/// must never see time go back. The value itself when the entry cannot be read back.
fn store_kept<T: Clone + 'static>(shared: &dyn SharedEntry<T>, value: &T, at: SystemTime) -> Result<T> {
    shared.store(value, at)?;
    Ok(shared.load().ok().flatten().map_or_else(|| value.clone(), |(kept, _)| kept))
}

#[cfg(test)]
mod tests;
