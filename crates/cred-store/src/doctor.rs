//! What `ccc doctor` checks: every file and directory the toolkit owns, whether it exists, its
//! mode and owner, and whether that is safe for what it holds.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::paths::Paths;

/// What a location holds, which decides the modes that are safe for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Holds {
    /// Secrets (keys, tokens): nobody else may read it (no group or other bits).
    Secrets,
    /// Settings without secrets: nobody else may change it.
    Settings,
    /// A directory of secret files: nobody else may list or change it.
    SecretDir,
}

/// The finding for one location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status")]
#[non_exhaustive]
pub enum Finding {
    /// Not there (nothing has written it yet).
    Missing,
    /// Fine.
    Ok,
    /// Its mode lets others read or change what it holds; `fix` says how to repair it.
    TooOpen {
        /// The command that fixes it.
        fix: String,
    },
    /// Another user owns it.
    NotOwned {
        /// The owner.
        uid: u32,
    },
    /// It could not be examined.
    Unreadable {
        /// Why.
        error: String,
    },
}

/// One checked location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FileCheck {
    /// What it is, for people (`token store`, `SSO token cache entry`, ...).
    pub what: String,
    /// Where.
    pub path: PathBuf,
    /// What it holds.
    pub holds: Holds,
    /// Its permission bits, when it exists (`0o600`).
    pub mode: Option<u32>,
    /// The verdict.
    pub finding: Finding,
}

impl FileCheck {
    /// Whether the finding needs the user's attention.
    pub fn is_problem(&self) -> bool {
        matches!(self.finding, Finding::TooOpen { .. } | Finding::NotOwned { .. } | Finding::Unreadable { .. })
    }
}

fn check(what: &str, path: &Path, holds: Holds, uid: u32) -> FileCheck {
    let mut out = FileCheck { what: what.to_owned(), path: path.to_owned(), holds, mode: None, finding: Finding::Ok };
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            out.finding = Finding::Missing;
            return out;
        }
        Err(e) => {
            out.finding = Finding::Unreadable { error: e.to_string() };
            return out;
        }
    };
    let mode = meta.permissions().mode() & 0o777;
    out.mode = Some(mode);
    if meta.uid() != uid {
        out.finding = Finding::NotOwned { uid: meta.uid() };
        return out;
    }
    let (bad, wanted) = match holds {
        Holds::Secrets => (0o077, mode & 0o700),
        Holds::Settings => (0o022, mode & !0o022),
        Holds::SecretDir => (0o077, mode & 0o700),
    };
    if mode & bad != 0 {
        out.finding = Finding::TooOpen { fix: format!("chmod {wanted:o} {}", path.display()) };
    }
    out
}

/// Every location the toolkit owns under `paths`, checked (the files of the refreshing
/// cache and the SSO token cache one by one; `ledger` is the SQLite ledger file when there
/// is one).
pub fn check_files(paths: &Paths, ledger: Option<&Path>) -> Vec<FileCheck> {
    let uid = crate::fsutil::my_uid();
    let mut out = vec![
        check("ccc directory", &paths.ccc_dir, Holds::SecretDir, uid),
        check("ccc config", &paths.ccc_config_file(), Holds::Secrets, uid),
        check("token store", &paths.token_store_file(), Holds::Secrets, uid),
        check("refreshing cache", &paths.cache_dir(), Holds::SecretDir, uid),
    ];
    out.extend(entries(&paths.cache_dir(), "refreshing cache entry", uid));
    if let Some(db) = ledger {
        out.push(check("ledger", db, Holds::Secrets, uid));
    }
    out.push(check("AWS credentials file", &paths.credentials_file, Holds::Secrets, uid));
    out.push(check("AWS config file", &paths.config_file, Holds::Settings, uid));
    out.push(check("SSO token cache", &paths.sso_cache_dir, Holds::SecretDir, uid));
    out.extend(entries(&paths.sso_cache_dir, "SSO token cache entry", uid));
    out
}

/// The `.json` files of a cache directory (lock files hold nothing).
fn entries(dir: &Path, what: &str, uid: u32) -> Vec<FileCheck> {
    let Ok(read) = fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> =
        read.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|x| x == "json")).collect();
    files.sort();
    files.iter().map(|p| check(what, p, Holds::Secrets, uid)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_modes_are_found_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(dir.path());
        fs::create_dir_all(&paths.ccc_dir).unwrap();
        fs::set_permissions(&paths.ccc_dir, fs::Permissions::from_mode(0o700)).unwrap();
        fs::write(paths.token_store_file(), "{}").unwrap();
        fs::set_permissions(paths.token_store_file(), fs::Permissions::from_mode(0o644)).unwrap();
        fs::create_dir_all(paths.config_file.parent().unwrap()).unwrap();
        fs::write(&paths.config_file, "[default]\n").unwrap();
        fs::set_permissions(&paths.config_file, fs::Permissions::from_mode(0o644)).unwrap();
        let checks = check_files(&paths, None);
        let by = |what: &str| checks.iter().find(|c| c.what == what).unwrap().clone();
        assert_eq!(by("ccc directory").finding, Finding::Ok);
        assert_eq!(
            by("token store").finding,
            Finding::TooOpen { fix: format!("chmod 600 {}", paths.token_store_file().display()) }
        );
        assert_eq!(by("AWS config file").finding, Finding::Ok, "settings may be world-readable");
        assert_eq!(by("AWS credentials file").finding, Finding::Missing);
        assert!(by("token store").is_problem() && !by("AWS credentials file").is_problem());
    }
}
