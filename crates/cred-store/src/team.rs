//! The team store: the refreshing cache's fleet level on PostgreSQL.
//!
//! Machines that share one credential (a CI fleet using one OAuth client, workers assuming one
//! role) keep its current value here, so that one of them refreshes it and the others read
//! the result: with rotating refresh tokens a second machine spending the same token gets the
//! whole family revoked. PostgreSQL does the coordinating with its own primitives: each entry
//! has a transaction-scoped advisory lock (`pg_advisory_xact_lock` on the key's hash), held
//! while the holder re-reads, refreshes upstream and writes the next version; a holder that
//! dies (kill -9, a lost connection) releases it with its session, and one stuck in its
//! transaction is ended by the server after [`IDLE_IN_TRANSACTION`].
//!
//! Values are sealed with AES-256-GCM under a key the operator supplies ([`TeamKey`]); the
//! additional data binds each value to its key, version and times, so a database dump alone
//! reveals nothing, and a row altered or moved fails to open instead of turning into a wrong
//! credential. The store records a sealed check value on first use, so a wrong key is told
//! apart from an altered row.

use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use core_types::{ErrorKind, Expiring};
use secrecy::{ExposeSecret, SecretBox};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Row, Transaction};

use crate::codec::CacheCodec;
use crate::error::{Error, Result};
use crate::redact::redact_url;
use crate::shared::{BoxFuture, FleetEntry, FleetHold};

/// How long the server lets a holder sit in its transaction without a word before ending its
/// session (and so releasing the lock): longer than any bounded refresh.
pub const IDLE_IN_TRANSACTION: Duration = Duration::from_secs(120);

/// The default bound on reaching the store (connecting, or a query's answer).
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS ccc_team_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS ccc_team_entries (
        key TEXT PRIMARY KEY,
        version BIGINT NOT NULL,
        expires_at_ms BIGINT,
        written_at_ms BIGINT NOT NULL,
        written_by TEXT NOT NULL,
        sealed TEXT NOT NULL
    )",
];

/// Serialises schema creation across every process and host using this database.
const SCHEMA_LOCK: i64 = 7_312_046_692;
const KEY_CHECK_AAD: &[u8] = b"ccc-team/v1 key check";
/// The schema this code reads and writes, recorded in `ccc_team_meta`: a store a newer
/// version changed is refused rather than misread.
const SCHEMA_VERSION: i64 = 1;
const KEY_CHECK_TEXT: &[u8] = b"ccc team store";

/// The operator's 256-bit key that seals the team store's values. Never printed: `Debug`
/// shows nothing of it.
pub struct TeamKey(SecretBox<[u8; 32]>);

impl fmt::Debug for TeamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TeamKey(****)")
    }
}

impl Clone for TeamKey {
    fn clone(&self) -> Self {
        Self(SecretBox::new(Box::new(*self.0.expose_secret())))
    }
}

impl TeamKey {
    /// A key from its base64 text (32 bytes, standard alphabet; surrounding space ignored).
    pub fn from_base64(text: &str) -> Result<Self> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| {
            Error::InvalidInput("the team key is not base64: a team key is 32 random bytes, base64-encoded".into())
        })?;
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            Error::InvalidInput(format!(
                "the team key is {} bytes, not 32: a team key is 32 random bytes, base64-encoded",
                b.len()
            ))
        })?;
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    /// A key from a file holding its base64 text. The file must be private (no group or other
    /// permission bits): a key anyone on the machine can read protects nothing.
    pub fn from_file(path: &Path) -> Result<Self> {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| Error::io("read", path, e))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::InvalidInput(format!(
                "the team key file {} has mode {mode:03o}: others may read it; chmod 600 it",
                path.display()
            )));
        }
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
        Self::from_base64(&text).map_err(|e| Error::InvalidInput(format!("{}: {e}", path.display())))
    }

    /// A new random key (OS randomness).
    pub fn generate() -> Result<Self> {
        let key = crate::aead::random_key().ok_or_else(|| Error::InvalidInput("no randomness for a key".into()))?;
        Ok(Self(SecretBox::new(Box::new(key))))
    }

    /// Writes the key's base64 text to a new file, 0600; refuses to overwrite one.
    pub fn write_new(&self, path: &Path) -> Result<()> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(crate::fsutil::FILE_MODE)
            .open(path)
            .map_err(|e| Error::io("create", path, e))?;
        let text = format!("{}\n", STANDARD.encode(self.0.expose_secret()));
        file.write_all(text.as_bytes()).map_err(|e| Error::io("write", path, e))
    }

    fn bytes(&self) -> &[u8; 32] {
        self.0.expose_secret()
    }
}

/// A shared credential store on PostgreSQL: the fleet level of refreshing caches. Cheap to
/// clone. Creating it does no I/O; the first use connects, creates the schema and checks the
/// key, so a process that finds its value on its own machine never reaches the database.
#[derive(Clone)]
pub struct TeamStore {
    inner: Arc<StoreInner>,
}

#[derive(Clone)]
struct StoreInner {
    options: PgConnectOptions,
    location: String,
    key: TeamKey,
    who: String,
    connect_timeout: Duration,
    pool: tokio::sync::OnceCell<PgPool>,
    /// Where this machine remembers the highest version of each entry it has read or written.
    versions: Option<std::path::PathBuf>,
}

impl fmt::Debug for TeamStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TeamStore").field("location", &self.inner.location).finish_non_exhaustive()
    }
}

/// One entry of the team store as `ccc team status` shows it: no secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TeamEntryStatus {
    /// The entry's key.
    pub key: String,
    /// How many times it was written.
    pub version: i64,
    /// When its value expires.
    pub expires_at: Option<SystemTime>,
    /// When it was written.
    pub written_at: SystemTime,
    /// Who wrote it (`ccc@host pid N`).
    pub written_by: String,
    /// Who holds its lock now (refreshing it) and for how long.
    pub held_by: Option<(String, Duration)>,
}

impl TeamStore {
    /// A store at `url` (`postgres://…`), sealing with `key`. Only parses the URL.
    pub fn new(url: &str, key: TeamKey) -> Result<Self> {
        let location = redact_url(url);
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(Error::InvalidInput(format!(
                "the team store must be a PostgreSQL URL (postgres://user@host/db), not {location}"
            )));
        }
        let who = format!("ccc@{} pid {}", hostname(), std::process::id());
        let options: PgConnectOptions = url
            .parse::<PgConnectOptions>()
            .map_err(|e| Error::InvalidInput(format!("the team store URL {location} is not valid: {e}")))?;
        // TLS that someone on the path cannot strip: verified unless the server is this
        // machine, and anything weaker must be written in the URL
        let options = match (url.contains("sslmode="), is_loopback_host(options.get_host())) {
            (true, _) | (false, true) => options,
            (false, false) => options.ssl_mode(sqlx::postgres::PgSslMode::VerifyFull),
        };
        let options = options
            .application_name(&who)
            .options([("idle_in_transaction_session_timeout", format!("{}s", IDLE_IN_TRANSACTION.as_secs()))]);
        Ok(Self {
            inner: Arc::new(StoreInner {
                options,
                location,
                key,
                who,
                connect_timeout: DEFAULT_CONNECT_TIMEOUT,
                pool: tokio::sync::OnceCell::new(),
                versions: None,
            }),
        })
    }

    /// How long to wait for the server to connect or answer a query (default 5 s), beyond
    /// any lock wait; then the store counts as unreachable.
    #[must_use]
    pub fn connect_timeout(self, timeout: Duration) -> Self {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        inner.connect_timeout = timeout;
        // a pool of its own: a pool's bounds are set when it connects
        inner.pool = tokio::sync::OnceCell::new();
        Self { inner: Arc::new(inner) }
    }

    /// Remembers in `file` (0600, under its lock) the highest version of each entry this
    /// machine has read or written, and refuses an older one afterwards: a row restored from a
    /// backup, or put back by someone with access to the table, would make a machine spend a
    /// refresh token the provider has already rotated (and revoke the whole family).
    #[must_use]
    pub fn remember_versions_in(self, file: impl Into<std::path::PathBuf>) -> Self {
        let mut inner = Arc::unwrap_or_clone(self.inner);
        inner.versions = Some(file.into());
        Self { inner: Arc::new(inner) }
    }

    /// The highest version of `key` this machine saw (0: none, or not remembered).
    fn seen_version(&self, key: &str) -> Result<i64> {
        let Some(file) = &self.inner.versions else { return Ok(0) };
        let text = crate::fsutil::read_optional(file)?.unwrap_or_default();
        let map: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        Ok(map.get(key).and_then(serde_json::Value::as_i64).unwrap_or(0))
    }

    /// Records that this machine saw `version` of `key` (never lowers it; `None` forgets).
    fn see_version(&self, key: &str, version: Option<i64>) -> Result<()> {
        let Some(file) = &self.inner.versions else { return Ok(()) };
        crate::fsutil::update(file, |text| {
            let mut map: serde_json::Map<String, serde_json::Value> =
                text.as_deref().and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default();
            match version {
                Some(v) if map.get(key).and_then(serde_json::Value::as_i64).is_none_or(|old| old < v) => {
                    map.insert(key.to_owned(), v.into());
                }
                Some(_) => return Ok((None, ())),
                None => {
                    if map.remove(key).is_none() {
                        return Ok((None, ()));
                    }
                }
            }
            Ok((Some(serde_json::Value::Object(map).to_string()), ()))
        })
    }

    /// The store's URL with any password hidden.
    pub fn location(&self) -> &str {
        &self.inner.location
    }

    /// The entry under `key` (machine-independent: e.g. the token store's key, or a profile's
    /// cache name), for [`crate::RefreshingBuilder::fleet`].
    pub fn entry(&self, key: impl Into<String>) -> TeamEntry {
        TeamEntry { store: self.clone(), key: key.into() }
    }

    fn error(&self, e: &sqlx::Error) -> Error {
        team_error(&self.inner.location, e)
    }

    fn unreachable(&self, what: &str) -> Error {
        Error::Team {
            location: self.inner.location.clone(),
            message: format!(
                "no answer {what} within {} s; check the server is up and reachable",
                self.inner.connect_timeout.as_secs_f32()
            ),
            kind: ErrorKind::Unavailable,
        }
    }

    /// Bounds `work` by the connect timeout plus `extra`.
    async fn bounded<T>(
        &self,
        extra: Duration,
        what: &str,
        work: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        tokio::time::timeout(self.inner.connect_timeout + extra, work)
            .await
            .unwrap_or_else(|_| Err(self.unreachable(what)))
    }

    /// The pool, connected, with the schema in place and the key checked (once).
    async fn pool(&self) -> Result<&PgPool> {
        self.inner.pool.get_or_try_init(|| self.bounded(Duration::ZERO, "when connecting", self.open())).await
    }

    async fn open(&self) -> Result<PgPool> {
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(self.inner.connect_timeout)
            .connect_with(self.inner.options.clone())
            .await
            .map_err(|e| self.error(&e))?;
        let mut tx = pool.begin().await.map_err(|e| self.error(&e))?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SCHEMA_LOCK)
            .execute(&mut *tx)
            .await
            .map_err(|e| self.error(&e))?;
        for stmt in SCHEMA {
            sqlx::query(*stmt).execute(&mut *tx).await.map_err(|e| self.error(&e))?;
        }
        let schema = self.meta(&mut tx, "schema_version", SCHEMA_VERSION.to_string()).await?;
        if schema.parse::<i64>().map_or(true, |v| v > SCHEMA_VERSION) {
            return Err(Error::Team {
                location: self.inner.location.clone(),
                message: format!(
                    "the store's schema is version {schema}, newer than this program's ({SCHEMA_VERSION}); upgrade it on this machine"
                ),
                kind: ErrorKind::NotConfigured,
            });
        }
        let check = crate::aead::seal(self.inner.key.bytes(), KEY_CHECK_TEXT, KEY_CHECK_AAD)
            .ok_or_else(|| Error::InvalidInput("no randomness for a nonce".into()))?;
        let kept = self.meta(&mut tx, "key_check", STANDARD.encode(check)).await?;
        tx.commit().await.map_err(|e| self.error(&e))?;
        let opens = STANDARD
            .decode(kept)
            .ok()
            .and_then(|raw| crate::aead::open(self.inner.key.bytes(), &raw, KEY_CHECK_AAD))
            .is_some_and(|plain| plain == KEY_CHECK_TEXT);
        if !opens {
            return Err(Error::Team {
                location: self.inner.location.clone(),
                message: "the team key does not open this store: it was set up with another key; use the key the store was set up with".into(),
                kind: ErrorKind::NotConfigured,
            });
        }
        Ok(pool)
    }

    /// Connects now (the first use does otherwise), creating the schema and checking the key:
    /// for a health check, or to have the connection ready before a burst of work.
    pub async fn connect(&self) -> Result<()> {
        self.pool().await.map(|_| ())
    }

    /// The store's `name` setting, `value` when it has none yet (the first writer's wins).
    async fn meta(&self, tx: &mut Transaction<'static, Postgres>, name: &str, value: String) -> Result<String> {
        sqlx::query("INSERT INTO ccc_team_meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(value)
            .execute(&mut **tx)
            .await
            .map_err(|e| self.error(&e))?;
        sqlx::query_scalar("SELECT value FROM ccc_team_meta WHERE name = $1")
            .bind(name)
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| self.error(&e))
    }

    /// Every entry, with who holds its lock now: for `ccc team status`. No secret.
    pub async fn status(&self) -> Result<Vec<TeamEntryStatus>> {
        self.bounded(Duration::ZERO, "listing the entries", async {
            let pool = self.pool().await?;
            let rows = sqlx::query(
                "SELECT key, version, expires_at_ms, written_at_ms, written_by, hashtextextended(key, 0) AS h
                 FROM ccc_team_entries ORDER BY key",
            )
            .fetch_all(pool)
            .await
            .map_err(|e| self.error(&e))?;
            let holders = sqlx::query(
                "SELECT l.classid::text::bigint AS hi, l.objid::text::bigint AS lo, a.application_name,
                        EXTRACT(EPOCH FROM (now() - a.xact_start))::float8 AS held
                 FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                 WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1",
            )
            .fetch_all(pool)
            .await
            .map_err(|e| self.error(&e))?;
            let holders: Vec<(u64, String, f64)> = holders
                .iter()
                .map(|r| {
                    let (hi, lo): (i64, i64) = (r.get("hi"), r.get("lo"));
                    let key = ((hi.cast_unsigned() & 0xffff_ffff) << 32) | (lo.cast_unsigned() & 0xffff_ffff);
                    (
                        key,
                        r.get::<Option<String>, _>("application_name").unwrap_or_default(),
                        r.get::<Option<f64>, _>("held").unwrap_or(0.0),
                    )
                })
                .collect();
            Ok(rows
                .iter()
                .map(|r| {
                    let h: i64 = r.get("h");
                    let held_by = holders
                        .iter()
                        .find(|(k, _, _)| *k == h.cast_unsigned())
                        .map(|(_, who, secs)| (who.clone(), Duration::from_secs_f64(secs.max(0.0))));
                    TeamEntryStatus {
                        key: r.get("key"),
                        version: r.get("version"),
                        expires_at: r.get::<Option<i64>, _>("expires_at_ms").map(from_millis),
                        written_at: from_millis(r.get("written_at_ms")),
                        written_by: r.get("written_by"),
                        held_by,
                    }
                })
                .collect())
        })
        .await
    }

    /// Removes an entry (under its lock); whether there was one. The next refresh on any
    /// machine then starts from that machine's own value, or a sign-in.
    pub async fn forget(&self, key: &str) -> Result<bool> {
        self.bounded(crate::DEFAULT_REFRESH_LOCK_WAIT, "removing the entry", async {
            let pool = self.pool().await?;
            let mut tx = pool.begin().await.map_err(|e| self.error(&e))?;
            lock_entry(&mut tx, key, crate::DEFAULT_REFRESH_LOCK_WAIT, self).await?;
            let gone = sqlx::query("DELETE FROM ccc_team_entries WHERE key = $1")
                .bind(key)
                .execute(&mut *tx)
                .await
                .map_err(|e| self.error(&e))?
                .rows_affected();
            tx.commit().await.map_err(|e| self.error(&e))?;
            // this machine starts over with the entry (others keep their marks until they
            // forget it too)
            self.see_version(key, None)?;
            Ok(gone > 0)
        })
        .await
    }
}

/// Takes `key`'s advisory lock in `tx`: at once or not at all when `wait` is zero, otherwise
/// waiting at most `wait` (the server's `lock_timeout`).
async fn lock_entry(
    tx: &mut Transaction<'static, Postgres>,
    key: &str,
    wait: Duration,
    store: &TeamStore,
) -> Result<()> {
    let busy = || Error::TeamBusy { location: format!("{} ({key})", store.inner.location), waited: wait };
    if wait.is_zero() {
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(key)
            .fetch_one(&mut **tx)
            .await
            .map_err(|e| store.error(&e))?;
        return if got { Ok(()) } else { Err(busy()) };
    }
    // SET LOCAL, as a function that takes a parameter
    sqlx::query("SELECT set_config('lock_timeout', $1, true)")
        .bind(format!("{}ms", wait.as_millis().max(1)))
        .execute(&mut **tx)
        .await
        .map_err(|e| store.error(&e))?;
    match sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))").bind(key).execute(&mut **tx).await {
        Ok(_) => Ok(()),
        Err(e) if db_code(&e).as_deref() == Some("55P03") => Err(busy()),
        Err(e) => Err(store.error(&e)),
    }
}

fn db_code(e: &sqlx::Error) -> Option<String> {
    e.as_database_error().and_then(|d| d.code()).map(|c| c.into_owned())
}

/// A sqlx error as the store's: unreachable kinds are `Unavailable` (the cache then carries on
/// at the machine level); sign-in refused is `NotConfigured`.
fn team_error(location: &str, e: &sqlx::Error) -> Error {
    let code = db_code(e);
    let kind = match (e, code.as_deref()) {
        (sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed, _) => {
            ErrorKind::Unavailable
        }
        (_, Some(c)) if c.starts_with("08") || c.starts_with("57") || c == "25P03" => ErrorKind::Unavailable,
        (_, Some(c)) if c.starts_with("28") || c == "3D000" => ErrorKind::NotConfigured,
        (sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed, _) => ErrorKind::Unavailable,
        _ => ErrorKind::Io,
    };
    let what = match kind {
        ErrorKind::Unavailable => "cannot reach the server; check it is up and reachable",
        ErrorKind::NotConfigured => "the server refused this user or database; check CCC_TEAM_STORE",
        _ => "the database failed",
    };
    // sqlx's messages carry no connection password
    Error::Team { location: location.to_owned(), message: format!("{what} ({e})"), kind }
}

/// One entry of the [`TeamStore`], keyed alike on every machine: a [`FleetEntry`] for the
/// refreshing cache.
#[derive(Clone, Debug)]
pub struct TeamEntry {
    store: TeamStore,
    key: String,
}

impl TeamEntry {
    /// The entry's key.
    pub fn key(&self) -> &str {
        &self.key
    }

    fn location(&self) -> String {
        format!("{} ({})", self.store.inner.location, self.key)
    }

    /// The value the entry holds and when it was obtained (read under its lock, so never half
    /// of another machine's write).
    pub async fn get<T: CacheCodec + Expiring + Send + Sync + 'static>(&self) -> Result<Option<(T, SystemTime)>> {
        let mut hold = FleetEntry::<T>::lock(self, crate::DEFAULT_REFRESH_LOCK_WAIT).await?;
        let current = hold.current();
        hold.release().await;
        current
    }

    /// Stores `value`, obtained at `at`, as the entry's next version under its lock (a
    /// sign-in's tokens, say, for the rest of the fleet to take from here).
    pub async fn put<T: CacheCodec + Expiring + Send + Sync + 'static>(&self, value: &T, at: SystemTime) -> Result<()> {
        let hold = FleetEntry::<T>::lock(self, crate::DEFAULT_REFRESH_LOCK_WAIT).await?;
        hold.publish(value, at).await
    }

    async fn hold<T>(&self, wait: Duration) -> Result<TeamHold<T>> {
        let store = &self.store;
        let pool = store.pool().await?;
        let mut tx = pool.begin().await.map_err(|e| store.error(&e))?;
        lock_entry(&mut tx, &self.key, wait, store).await?;
        let row =
            sqlx::query("SELECT version, expires_at_ms, written_at_ms, sealed FROM ccc_team_entries WHERE key = $1")
                .bind(&self.key)
                .fetch_optional(&mut *tx)
                .await
                .map_err(|e| store.error(&e))?
                .map(|r| Stored {
                    version: r.get("version"),
                    expires_at_ms: r.get("expires_at_ms"),
                    written_at_ms: r.get("written_at_ms"),
                    sealed: r.get("sealed"),
                });
        Ok(TeamHold { entry: self.clone(), tx, row, _value: PhantomData })
    }
}

impl<T: CacheCodec + Expiring + Send + Sync + 'static> FleetEntry<T> for TeamEntry {
    fn location(&self) -> String {
        TeamEntry::location(self)
    }

    fn lock(&self, wait: Duration) -> BoxFuture<'_, Result<Box<dyn FleetHold<T>>>> {
        Box::pin(async move {
            let hold = self.store.bounded(wait, "taking the entry's lock", self.hold::<T>(wait)).await?;
            Ok(Box::new(hold) as Box<dyn FleetHold<T>>)
        })
    }
}

struct Stored {
    version: i64,
    expires_at_ms: Option<i64>,
    written_at_ms: i64,
    sealed: String,
}

/// The sealed value's additional data: its key, version and times, so a value moved to
/// another row, or a row whose version or times were edited, fails to open.
fn aad(key: &str, version: i64, expires_at_ms: Option<i64>, written_at_ms: i64) -> Vec<u8> {
    let expires = expires_at_ms.map_or_else(|| "-".to_owned(), |e| e.to_string());
    format!("ccc-team/v1\n{key}\n{version}\n{expires}\n{written_at_ms}").into_bytes()
}

struct TeamHold<T> {
    entry: TeamEntry,
    tx: Transaction<'static, Postgres>,
    row: Option<Stored>,
    _value: PhantomData<fn() -> T>,
}

impl<T: CacheCodec + Expiring + Send + Sync + 'static> FleetHold<T> for TeamHold<T> {
    fn current(&mut self) -> Result<Option<(T, SystemTime)>> {
        let Some(row) = &self.row else { return Ok(None) };
        let key = &self.entry.key;
        let refused = || Error::Team {
            location: self.entry.location(),
            message: format!(
                "version {} does not open with the team key: the row was altered in the database, or written with another key; \
                 remove the entry {key} from the team store, then sign in again",
                row.version
            ),
            kind: ErrorKind::InvalidInput,
        };
        let raw = STANDARD.decode(&row.sealed).map_err(|_| refused())?;
        let plain = crate::aead::open(
            self.entry.store.inner.key.bytes(),
            &raw,
            &aad(key, row.version, row.expires_at_ms, row.written_at_ms),
        )
        .ok_or_else(refused)?;
        let value =
            serde_json::from_slice::<serde_json::Value>(&plain).ok().and_then(|v| T::decode(&v)).ok_or_else(|| {
                Error::Team {
                    location: self.entry.location(),
                    message: format!(
                        "version {} holds a value this program cannot read; upgrade it, or remove the entry {key} from the team store",
                        row.version
                    ),
                    kind: ErrorKind::InvalidInput,
                }
            })?;
        // versions only increase: an older one than this machine saw is a restored row
        let seen = self.entry.store.seen_version(key)?;
        if row.version < seen {
            return Err(Error::Team {
                location: self.entry.location(),
                message: format!(
                    "version {} is older than version {seen}, which this machine already saw: the row was put back from an older copy (a backup, or someone with access to the table), and its refresh token may already be spent; forget the entry on this machine and sign in again",
                    row.version
                ),
                kind: ErrorKind::InvalidInput,
            });
        }
        self.entry.store.see_version(key, Some(row.version))?;
        Ok(Some((value, from_millis(row.written_at_ms))))
    }

    fn publish<'a>(self: Box<Self>, value: &'a T, at: SystemTime) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let TeamHold { entry, mut tx, row, .. } = *self;
            let store = &entry.store;
            // past any version this machine saw, so no machine takes the new one for a restore
            let version = row.map_or(0, |r| r.version).max(store.seen_version(&entry.key)?) + 1;
            let expires_at_ms = value.expiry().map(millis);
            let written_at_ms = millis(at);
            let plain = value.encode().to_string();
            let sealed = crate::aead::seal(
                store.inner.key.bytes(),
                plain.as_bytes(),
                &aad(&entry.key, version, expires_at_ms, written_at_ms),
            )
            .ok_or_else(|| Error::InvalidInput("no randomness for a nonce".into()))?;
            let work = async {
                sqlx::query(
                    "INSERT INTO ccc_team_entries (key, version, expires_at_ms, written_at_ms, written_by, sealed)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (key) DO UPDATE SET version = EXCLUDED.version, expires_at_ms = EXCLUDED.expires_at_ms,
                         written_at_ms = EXCLUDED.written_at_ms, written_by = EXCLUDED.written_by, sealed = EXCLUDED.sealed",
                )
                .bind(&entry.key)
                .bind(version)
                .bind(expires_at_ms)
                .bind(written_at_ms)
                .bind(&store.inner.who)
                .bind(STANDARD.encode(sealed))
                .execute(&mut *tx)
                .await
                .map_err(|e| store.error(&e))?;
                tx.commit().await.map_err(|e| store.error(&e))
            };
            store.bounded(Duration::ZERO, "storing the new version", work).await?;
            store.see_version(&entry.key, Some(version))
        })
    }

    fn release(self: Box<Self>) -> BoxFuture<'static, ()> {
        Box::pin(async move {
            let bound = self.entry.store.inner.connect_timeout;
            // a failed rollback leaves the session to the server, which ends it (and the lock)
            let _ = tokio::time::timeout(bound, self.tx.rollback()).await;
        })
    }
}

fn millis(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).ok().and_then(|d| i64::try_from(d.as_millis()).ok()).unwrap_or(0)
}

fn from_millis(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(ms.max(0).cast_unsigned())
}

/// Whether a PostgreSQL host is this machine (a loopback name or address, or a unix socket
/// directory): there TLS protects nothing and is not required.
fn is_loopback_host(host: &str) -> bool {
    host.starts_with('/')
        || host.eq_ignore_ascii_case("localhost")
        || host.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn hostname() -> String {
    let name = rustix::system::uname().nodename().to_string_lossy().trim().to_owned();
    if name.is_empty() { "unknown-host".to_owned() } else { name }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_32_base64_bytes_and_never_shown() {
        let key = TeamKey::generate().unwrap();
        let text = STANDARD.encode(key.bytes());
        assert_eq!(TeamKey::from_base64(&format!(" {text}\n")).unwrap().bytes(), key.bytes());
        assert_eq!(format!("{key:?}"), "TeamKey(****)");
        let e = TeamKey::from_base64(&STANDARD.encode([1u8; 16])).unwrap_err().to_string();
        assert!(e.contains("16 bytes, not 32"), "{e}");
        assert!(TeamKey::from_base64("not base64 at all!").is_err());
    }

    #[test]
    fn a_key_file_must_be_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("team.key");
        let key = TeamKey::generate().unwrap();
        key.write_new(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(TeamKey::from_file(&path).unwrap().bytes(), key.bytes());
        assert!(key.write_new(&path).is_err(), "never overwrites a key");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = TeamKey::from_file(&path).unwrap_err().to_string();
        assert!(e.contains("mode 644") && e.contains("chmod 600"), "{e}");
    }

    #[test]
    fn values_open_only_in_their_row() {
        let key = [9u8; 32];
        let sealed = crate::aead::seal(&key, b"{\"v\":1}", &aad("k", 3, Some(10), 5)).unwrap();
        assert!(crate::aead::open(&key, &sealed, &aad("k", 3, Some(10), 5)).is_some());
        for other in
            [aad("k2", 3, Some(10), 5), aad("k", 4, Some(10), 5), aad("k", 3, Some(11), 5), aad("k", 3, None, 5)]
        {
            assert!(crate::aead::open(&key, &sealed, &other).is_none());
        }
    }

    #[test]
    fn only_postgres_urls_and_no_password_in_the_location() {
        assert!(TeamStore::new("sqlite:///tmp/x", TeamKey::generate().unwrap()).is_err());
        let store = TeamStore::new("postgres://team:hunter2@db.example/creds", TeamKey::generate().unwrap()).unwrap();
        assert!(!store.location().contains("hunter2") && !format!("{store:?}").contains("hunter2"));
    }

    /// A server elsewhere is reached over verified TLS unless the URL says otherwise; this
    /// machine's needs none.
    #[test]
    fn a_remote_store_defaults_to_verified_tls() {
        use sqlx::postgres::PgSslMode;
        let mode = |url: &str| {
            let store = TeamStore::new(url, TeamKey::generate().unwrap()).unwrap();
            format!("{:?}", store.inner.options.get_ssl_mode())
        };
        assert_eq!(mode("postgres://u@db.example/creds"), format!("{:?}", PgSslMode::VerifyFull));
        assert_eq!(mode("postgres://u@10.0.0.7:5432/creds"), format!("{:?}", PgSslMode::VerifyFull));
        assert_eq!(mode("postgres://u@db.example/creds?sslmode=require"), format!("{:?}", PgSslMode::Require));
        assert_eq!(mode("postgres://u@127.0.0.1:5432/creds"), format!("{:?}", PgSslMode::Prefer));
        assert_eq!(mode("postgres://u@localhost/creds"), format!("{:?}", PgSslMode::Prefer));
    }
}
