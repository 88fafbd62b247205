//! The validity ledger: for each credential (source + profile), when it was obtained, when it
//! expires, the last refresh attempt and its outcome, and a row per attempt. SQLite file by
//! default, PostgreSQL (`postgres://…`) for a team sharing one view.
//!
//! One code path serves both through sqlx's `Any` driver: timestamps are Unix seconds
//! (`BIGINT`), statements are portable SQL with `$n` parameters (SQLite accepts them), and
//! only the schema differs (identity columns), applied once under a lock.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::outcome::Outcome;
use crate::paths::Paths;
use crate::redact::redact_url;
use crate::timefmt::{from_unix_seconds, unix_seconds};

const SQLITE_SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS ccc_credential_status (
        source TEXT NOT NULL,
        profile TEXT NOT NULL,
        obtained_at BIGINT,
        expires_at BIGINT,
        last_attempt_at BIGINT,
        last_outcome TEXT,
        last_error_kind TEXT,
        last_error TEXT,
        attempt_count BIGINT NOT NULL DEFAULT 0,
        failure_count BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (source, profile)
    )",
    "CREATE TABLE IF NOT EXISTS ccc_credential_attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        profile TEXT NOT NULL,
        at BIGINT NOT NULL,
        outcome TEXT NOT NULL,
        error_kind TEXT,
        message TEXT,
        expires_at BIGINT
    )",
    "CREATE INDEX IF NOT EXISTS ccc_attempts_by_credential ON ccc_credential_attempts (source, profile, at)",
];

const POSTGRES_SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS ccc_credential_status (
        source TEXT NOT NULL,
        profile TEXT NOT NULL,
        obtained_at BIGINT,
        expires_at BIGINT,
        last_attempt_at BIGINT,
        last_outcome TEXT,
        last_error_kind TEXT,
        last_error TEXT,
        attempt_count BIGINT NOT NULL DEFAULT 0,
        failure_count BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (source, profile)
    )",
    "CREATE TABLE IF NOT EXISTS ccc_credential_attempts (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        source TEXT NOT NULL,
        profile TEXT NOT NULL,
        at BIGINT NOT NULL,
        outcome TEXT NOT NULL,
        error_kind TEXT,
        message TEXT,
        expires_at BIGINT
    )",
    "CREATE INDEX IF NOT EXISTS ccc_attempts_by_credential ON ccc_credential_attempts (source, profile, at)",
];

/// Which database backs the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// A SQLite file (the default).
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The ledger's current view of one credential.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LedgerEntry {
    /// The source (e.g. `sso:my-session`, `cognito:pool`).
    pub source: String,
    /// The profile.
    pub profile: String,
    /// When the last good credential was obtained.
    pub obtained_at: Option<SystemTime>,
    /// When it expires.
    pub expires_at: Option<SystemTime>,
    /// When a refresh was last tried.
    pub last_attempt_at: Option<SystemTime>,
    /// `success` or `failure`.
    pub last_outcome: Option<String>,
    /// The last failure's kind.
    pub last_error_kind: Option<String>,
    /// The last failure's message.
    pub last_error: Option<String>,
    /// Attempts recorded.
    pub attempt_count: i64,
    /// Failed attempts recorded.
    pub failure_count: i64,
}

/// One recorded attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Attempt {
    /// When.
    pub at: SystemTime,
    /// `success` or `failure`.
    pub outcome: String,
    /// The failure's kind.
    pub error_kind: Option<String>,
    /// The failure's message.
    pub message: Option<String>,
}

/// A handle on the ledger database (cheap to clone: a connection pool).
#[derive(Clone)]
pub struct Ledger {
    pool: AnyPool,
    backend: Backend,
    location: String,
}

impl fmt::Debug for Ledger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ledger").field("backend", &self.backend).field("location", &self.location).finish()
    }
}

impl Ledger {
    /// The default SQLite ledger under the ccc config directory.
    pub async fn open_default(paths: &Paths) -> Result<Self> {
        Self::open_sqlite(&paths.default_ledger_db()).await
    }

    /// Opens a ledger from a location: a `postgres://` / `postgresql://` URL, a `sqlite:` URL,
    /// or a plain file path (SQLite). Creates the schema on first use.
    pub async fn open(location: &str) -> Result<Self> {
        if location.starts_with("postgres://") || location.starts_with("postgresql://") {
            Self::open_postgres(location).await
        } else if let Some(path) = location.strip_prefix("sqlite://").or_else(|| location.strip_prefix("sqlite:")) {
            let path = path.split('?').next().unwrap_or(path);
            Self::open_sqlite(Path::new(path)).await
        } else {
            Self::open_sqlite(Path::new(location)).await
        }
    }

    /// Opens (creating if needed) a SQLite ledger file: WAL journal and a busy timeout, so
    /// writers in many processes wait for each other instead of failing "database is locked".
    pub async fn open_sqlite(path: &Path) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let db_err = |source| Error::Database { backend: "sqlite", source };
        if let Some(dir) = path.parent() {
            fsutil::ensure_dir(dir)?;
        }
        // Create the file 0600 before SQLite does: it gives its -wal and -shm files the
        // database file's mode, so they are private too (SQLite would use the umask).
        // Another process may create it at the same moment: the file existing is success.
        {
            use std::os::unix::fs::OpenOptionsExt;
            match std::fs::OpenOptions::new().write(true).create_new(true).mode(fsutil::FILE_MODE).open(path) {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(Error::io("create", path, e)),
            }
        }
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let pool = AnyPoolOptions::new()
            .max_connections(4)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::raw_sql("PRAGMA busy_timeout = 30000; PRAGMA synchronous = NORMAL;").execute(conn).await?;
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(db_err)?;
        // The schema and WAL switch are done once, under the file lock, so processes that
        // open a new ledger at the same moment do not race.
        let lock_path = PathBuf::from(format!("{}.schema", path.display()));
        let lock = tokio::task::spawn_blocking(move || fsutil::lock(&lock_path))
            .await
            .map_err(|e| Error::NotConfigured(format!("ledger lock task failed: {e}")))??;
        sqlx::raw_sql("PRAGMA journal_mode = WAL;").execute(&pool).await.map_err(db_err)?;
        for stmt in SQLITE_SCHEMA {
            sqlx::query(*stmt).execute(&pool).await.map_err(db_err)?;
        }
        drop(lock);
        if let Ok(meta) = std::fs::metadata(path) {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 && meta.len() > 0 {
                // created by sqlite with the umask's mode: narrow it, the ledger is private
                let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
            }
        }
        Ok(Self { pool, backend: Backend::Sqlite, location: path.display().to_string() })
    }

    /// Opens a PostgreSQL ledger, creating the schema under an advisory lock. Gives up after
    /// 15 s when the server cannot be reached.
    pub async fn open_postgres(url: &str) -> Result<Self> {
        Self::open_postgres_with_timeout(url, Duration::from_secs(15)).await
    }

    /// [`Ledger::open_postgres`] with an explicit connection timeout.
    pub async fn open_postgres_with_timeout(url: &str, timeout: Duration) -> Result<Self> {
        if !cfg!(feature = "ledger-postgres") {
            return Err(Error::NotConfigured(format!(
                "{} is a PostgreSQL ledger, and this build has none: build cred-store with its \
                 `ledger-postgres` feature, or use a SQLite file",
                redact_url(url)
            )));
        }
        sqlx::any::install_default_drivers();
        let db_err = |source| Error::Database { backend: "postgres", source };
        let pool =
            AnyPoolOptions::new().max_connections(8).acquire_timeout(timeout).connect(url).await.map_err(db_err)?;
        let mut tx = pool.begin().await.map_err(db_err)?;
        // serialise schema creation across every process and host using this database
        sqlx::query("SELECT pg_advisory_xact_lock(7312046691)").execute(&mut *tx).await.map_err(db_err)?;
        for stmt in POSTGRES_SCHEMA {
            sqlx::query(*stmt).execute(&mut *tx).await.map_err(db_err)?;
        }
        tx.commit().await.map_err(db_err)?;
        Ok(Self { pool, backend: Backend::Postgres, location: redact_url(url) })
    }

    /// The backend in use.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn err(&self) -> impl Fn(sqlx::Error) -> Error {
        let backend = self.backend.name();
        move |source| Error::Database { backend, source }
    }

    /// Records one attempt and updates the credential's status, atomically.
    pub async fn record_attempt(&self, source: &str, profile: &str, at: SystemTime, outcome: &Outcome) -> Result<()> {
        let err = self.err();
        let at_s = unix_seconds(at);
        let (name, kind, message, expires) = match outcome {
            Outcome::Success { expires_at } => ("success", None, None, expires_at.map(unix_seconds)),
            Outcome::Failure { kind, message } => ("failure", Some(kind.as_str()), Some(message.as_str()), None),
        };
        let failed: i64 = i64::from(name == "failure");
        let mut tx = self.pool.begin().await.map_err(&err)?;
        sqlx::query(
            "INSERT INTO ccc_credential_attempts (source, profile, at, outcome, error_kind, message, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(source)
        .bind(profile)
        .bind(at_s)
        .bind(name)
        .bind(kind)
        .bind(message)
        .bind(expires)
        .execute(&mut *tx)
        .await
        .map_err(&err)?;
        sqlx::query(
            "INSERT INTO ccc_credential_status
                (source, profile, obtained_at, expires_at, last_attempt_at, last_outcome, last_error_kind, last_error, attempt_count, failure_count)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)
             ON CONFLICT (source, profile) DO UPDATE SET
                obtained_at = COALESCE(excluded.obtained_at, ccc_credential_status.obtained_at),
                expires_at = CASE WHEN excluded.last_outcome = 'success' THEN excluded.expires_at ELSE ccc_credential_status.expires_at END,
                last_attempt_at = excluded.last_attempt_at,
                last_outcome = excluded.last_outcome,
                last_error_kind = excluded.last_error_kind,
                last_error = excluded.last_error,
                attempt_count = ccc_credential_status.attempt_count + 1,
                failure_count = ccc_credential_status.failure_count + excluded.failure_count",
        )
        .bind(source)
        .bind(profile)
        .bind(if failed == 0 { Some(at_s) } else { None })
        .bind(expires)
        .bind(at_s)
        .bind(name)
        .bind(kind)
        .bind(message)
        .bind(failed)
        .execute(&mut *tx)
        .await
        .map_err(&err)?;
        tx.commit().await.map_err(&err)
    }

    /// The status of one credential.
    pub async fn status(&self, source: &str, profile: &str) -> Result<Option<LedgerEntry>> {
        Ok(self.query_entries(Some((source, profile))).await?.pop())
    }

    /// The status of every credential, ordered by source and profile.
    pub async fn entries(&self) -> Result<Vec<LedgerEntry>> {
        self.query_entries(None).await
    }

    async fn query_entries(&self, filter: Option<(&str, &str)>) -> Result<Vec<LedgerEntry>> {
        type Row = (
            String,
            String,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
            i64,
            i64,
        );
        macro_rules! select {
            ($tail:literal) => {
                concat!(
                    "SELECT source, profile, obtained_at, expires_at, last_attempt_at, last_outcome, ",
                    "last_error_kind, last_error, attempt_count, failure_count FROM ccc_credential_status ",
                    $tail
                )
            };
        }
        let rows: Vec<Row> = match filter {
            Some((s, p)) => {
                sqlx::query_as(select!("WHERE source = $1 AND profile = $2"))
                    .bind(s)
                    .bind(p)
                    .fetch_all(&self.pool)
                    .await
            }
            None => sqlx::query_as(select!("ORDER BY source, profile")).fetch_all(&self.pool).await,
        }
        .map_err(self.err())?;
        Ok(rows
            .into_iter()
            .map(|r| LedgerEntry {
                source: r.0,
                profile: r.1,
                obtained_at: r.2.map(from_unix_seconds),
                expires_at: r.3.map(from_unix_seconds),
                last_attempt_at: r.4.map(from_unix_seconds),
                last_outcome: r.5,
                last_error_kind: r.6,
                last_error: r.7,
                attempt_count: r.8,
                failure_count: r.9,
            })
            .collect())
    }

    /// The most recent attempts for a credential, newest first.
    pub async fn attempts(&self, source: &str, profile: &str, limit: i64) -> Result<Vec<Attempt>> {
        let rows: Vec<(i64, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT at, outcome, error_kind, message FROM ccc_credential_attempts
             WHERE source = $1 AND profile = $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(source)
        .bind(profile)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(self.err())?;
        Ok(rows
            .into_iter()
            .map(|(at, outcome, error_kind, message)| Attempt {
                at: from_unix_seconds(at),
                outcome,
                error_kind,
                message,
            })
            .collect())
    }

    /// Total attempts recorded (all credentials).
    pub async fn attempt_total(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM ccc_credential_attempts")
            .fetch_one(&self.pool)
            .await
            .map_err(self.err())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
