//! Atomic, locked file writes (docs/ARCHITECTURE.md, invariant 4).
//!
//! Every write goes to a temp file in the same directory, is fsynced, renamed over the
//! target and the directory fsynced, so a crash leaves the old file or the new one, never a
//! torn one. Read-modify-write cycles hold an exclusive advisory lock on a sibling
//! `<name>.lock` file (std's `File::lock`, flock(2) on Linux) so concurrent writers in any
//! number of processes serialise instead of losing each other's edits.

use std::fs::{self, DirBuilder, File, OpenOptions, TryLockError};
use std::io::{ErrorKind as IoKind, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Mode of files we create: owner read/write only.
pub const FILE_MODE: u32 = 0o600;
/// Mode of directories we create: owner only.
pub const DIR_MODE: u32 = 0o700;

/// An exclusive advisory lock, released when dropped.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
    path: PathBuf,
}

impl FileLock {
    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The lock file guarding `path`.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    path.with_file_name(name)
}

/// Creates `dir` (and parents) with mode 0700 where missing.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new().recursive(true).mode(DIR_MODE).create(dir).map_err(|e| Error::io("create directory", dir, e))
}

/// How long a file edit waits for another process's lock before giving up.
pub const DEFAULT_LOCK_WAIT: Duration = Duration::from_secs(30);

/// Takes the exclusive lock for `path`, waiting at most [`DEFAULT_LOCK_WAIT`] for other
/// holders to release it.
pub fn lock(path: &Path) -> Result<FileLock> {
    lock_within(path, DEFAULT_LOCK_WAIT)
}

/// Takes the exclusive lock for `path`, waiting at most `wait` for other holders: then
/// [`Error::LockTimeout`]. A holder that dies releases the lock with its file descriptor.
pub fn lock_within(path: &Path, wait: Duration) -> Result<FileLock> {
    let lock_path = lock_path(path);
    if let Some(dir) = lock_path.parent() {
        ensure_dir(dir)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(FILE_MODE)
        .open(&lock_path)
        .map_err(|e| Error::io("open lock file", &lock_path, e))?;
    let started = Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(FileLock { _file: file, path: lock_path }),
            Err(TryLockError::WouldBlock) => {
                let waited = started.elapsed();
                if waited >= wait {
                    return Err(Error::LockTimeout { path: lock_path, waited });
                }
                std::thread::sleep(pause.min(wait - waited));
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Err(TryLockError::Error(e)) => return Err(Error::io("lock", &lock_path, e)),
        }
    }
}

/// The controlling terminal (`/dev/tty`), when the process has one: where a prompt goes when
/// stdin and stdout belong to someone else (a credential_process run by an AWS tool).
pub fn controlling_terminal() -> Option<std::fs::File> {
    std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").ok()
}

/// What tells a file's versions apart cheaply: its modification time (nanoseconds since the
/// epoch), size and inode; `None` if it is not there.
pub fn stamp(path: &Path) -> Option<(u128, u64, u64)> {
    let meta = fs::metadata(path).ok()?;
    let mtime = meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?.as_nanos();
    Some((mtime, meta.len(), meta.ino()))
}

/// Whether `path` is a unix socket (`None`: nothing is there).
pub fn is_socket(path: &Path) -> Result<Option<bool>> {
    use std::os::unix::fs::FileTypeExt;
    match std::fs::symlink_metadata(path) {
        Ok(m) => Ok(Some(m.file_type().is_socket())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("inspect", path, e)),
    }
}

/// Whether `path` is a regular file someone may execute (a program to run).
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Removes a file; one already gone is fine. Whether it was there.
pub fn remove_optional(path: &Path) -> Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("remove", path, e)),
    }
}

/// Makes a file (a unix socket just bound, say) readable and writable by its owner only.
pub fn make_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(FILE_MODE)).map_err(|e| Error::io("chmod", path, e))
}

/// Reads a UTF-8 text file (a missing one is an error naming it).
pub fn read_text(path: &Path) -> Result<String> {
    read_optional(path)?.ok_or_else(|| Error::io("read", path, std::io::Error::from(IoKind::NotFound)))
}

/// Reads a file, `None` if it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<String>> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| Error::Parse {
            path: path.to_owned(),
            line: 0,
            message: "file is not valid UTF-8".into(),
        }),
        Err(e) if e.kind() == IoKind::NotFound => Ok(None),
        Err(e) => Err(Error::io("read", path, e)),
    }
}

/// Whether `path` may be trusted to say what to serve: a regular file (not a link) owned by
/// this user and writable by nobody else, in a directory that is the same. A file someone
/// else could have planted or changed is not read (the warm path falls back to the full
/// program, which checks everything again).
pub(crate) fn is_trusted_file(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let private = |m: &fs::Metadata| m.uid() == my_uid() && m.mode() & 0o022 == 0;
    let file_ok = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file() && private(&m));
    let dir_ok = path.parent().is_some_and(|d| fs::metadata(d).is_ok_and(|m| m.is_dir() && private(&m)));
    file_ok && dir_ok
}

pub(crate) fn my_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

/// Where a write to `path` must land: the file itself, or the target of a symlink we own
/// that points to a file we own (a link someone else planted, or a link to their file,
/// could hand our secrets to them or let them plant credentials).
fn resolve_target(path: &Path) -> Result<PathBuf> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            if meta.uid() != my_uid() {
                return Err(Error::ForeignSymlink { path: path.to_owned(), owner: meta.uid() });
            }
            let target = fs::canonicalize(path).map_err(|e| Error::io("resolve symlink", path, e))?;
            let owner = fs::metadata(&target).map_err(|e| Error::io("inspect", &target, e))?.uid();
            if owner != my_uid() {
                return Err(Error::ForeignSymlink { path: path.to_owned(), owner });
            }
            Ok(target)
        }
        _ => Ok(path.to_owned()),
    }
}

/// Refuses a directory someone else could swap our files in: owned by another user, or
/// writable by others.
fn check_dir(dir: &Path) -> Result<()> {
    let meta = fs::metadata(dir).map_err(|e| Error::io("inspect", dir, e))?;
    if meta.uid() != my_uid() {
        return Err(Error::UnsafeDirectory {
            path: dir.to_owned(),
            reason: format!("it is owned by uid {}, not by you (uid {})", meta.uid(), my_uid()),
        });
    }
    if meta.permissions().mode() & 0o002 != 0 {
        return Err(Error::UnsafeDirectory { path: dir.to_owned(), reason: "anyone may write into it".into() });
    }
    Ok(())
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with `contents` atomically. A new file gets mode 0600; an existing file
/// keeps a narrower mode (0400 stays 0400) but loses any group or other bits: what we write
/// may hold secrets. The directory must be ours and not writable by others. Takes no lock:
/// see [`update`] for read-modify-write.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let target = resolve_target(path)?;
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_owned();
    ensure_dir(&dir)?;
    check_dir(&dir)?;
    let mode = match fs::metadata(&target) {
        Ok(meta) => meta.permissions().mode() & FILE_MODE,
        Err(_) => FILE_MODE,
    };
    let name = target.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let temp = dir.join(format!(".{name}.tmp.{}.{}", std::process::id(), TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp)
            .map_err(|e| Error::io("create temp file", &temp, e))?;
        // the umask may have narrowed the mode; an existing file's exact mode is kept
        file.set_permissions(fs::Permissions::from_mode(mode)).map_err(|e| Error::io("set mode of", &temp, e))?;
        file.write_all(contents).map_err(|e| Error::io("write", &temp, e))?;
        file.sync_all().map_err(|e| Error::io("fsync", &temp, e))?;
        fs::rename(&temp, &target).map_err(|e| Error::io("replace", &target, e))?;
        File::open(&dir).and_then(|d| d.sync_all()).map_err(|e| Error::io("fsync directory", &dir, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Read-modify-write under the file's lock: `edit` gets the current text (`None` if the file
/// does not exist) and returns the new text, or `None` to leave the file alone. An error
/// from `edit` leaves the file untouched.
pub fn update<T>(path: &Path, edit: impl FnOnce(Option<String>) -> Result<(Option<String>, T)>) -> Result<T> {
    let _lock = lock(path)?;
    let current = read_optional(path)?;
    let (new, out) = edit(current)?;
    if let Some(text) = new {
        write_atomic(path, text.as_bytes())?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn new_files_are_0600_in_0700_dirs() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("a/b/creds");
        write_atomic(&p, b"x").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "x");
        assert_eq!(mode(&p), 0o600);
        assert_eq!(mode(&tmp.path().join("a/b")), 0o700);
        assert_eq!(mode(lock(&p).unwrap().path()), 0o600);
    }

    #[test]
    fn existing_mode_is_kept_not_widened() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("f");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o400)).unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(mode(&p), 0o400);
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
    }

    #[test]
    fn writes_through_own_symlink_keep_the_link() {
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        fs::write(&real, "old").unwrap();
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
    }

    #[test]
    fn a_held_lock_is_waited_for_only_so_long() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("f");
        let held = lock(&p).unwrap();
        let started = Instant::now();
        let e = lock_within(&p, Duration::from_millis(200)).unwrap_err();
        assert!(matches!(e, Error::LockTimeout { .. }), "{e}");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(e.to_string().contains("another process has held the lock"), "{e}");
        drop(held);
        lock_within(&p, Duration::from_millis(200)).unwrap();
    }

    #[test]
    fn an_existing_readable_file_is_narrowed_to_0600() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("credentials");
        fs::write(&p, "old").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        write_atomic(&p, b"secret").unwrap();
        assert_eq!(mode(&p), 0o600);
    }

    #[test]
    fn a_directory_others_may_write_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("shared");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o777)).unwrap();
        let e = write_atomic(&dir.join("credentials"), b"secret").unwrap_err();
        assert!(matches!(e, Error::UnsafeDirectory { .. }), "{e}");
        assert!(!dir.join("credentials").exists());
    }

    /// Changing an owner needs root (CI runs as root); elsewhere these cases cannot be made.
    fn as_root() -> bool {
        rustix::process::getuid().is_root()
    }

    #[test]
    fn a_link_someone_else_owns_is_refused_even_to_our_file() {
        if !as_root() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let real = tmp.path().join("real");
        fs::write(&real, "mine").unwrap();
        let link = tmp.path().join("credentials");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        std::os::unix::fs::lchown(&link, Some(4242), Some(4242)).unwrap();
        let e = write_atomic(&link, b"secret").unwrap_err();
        assert!(matches!(e, Error::ForeignSymlink { owner: 4242, .. }), "{e}");
        assert_eq!(fs::read_to_string(&real).unwrap(), "mine");
    }

    #[test]
    fn a_directory_someone_else_owns_is_refused() {
        if !as_root() {
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(".aws");
        fs::create_dir(&dir).unwrap();
        std::os::unix::fs::chown(&dir, Some(4242), Some(4242)).unwrap();
        let e = write_atomic(&dir.join("credentials"), b"secret").unwrap_err();
        assert!(matches!(e, Error::UnsafeDirectory { .. }), "{e}");
        assert!(e.to_string().contains("uid 4242"), "{e}");
        assert!(!dir.join("credentials").exists());
    }

    #[test]
    fn no_temp_files_are_left_behind() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("f");
        for i in 0..5 {
            write_atomic(&p, format!("{i}").as_bytes()).unwrap();
        }
        let names: Vec<_> = fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn update_error_leaves_file_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("f");
        fs::write(&p, "keep").unwrap();
        let r: Result<()> = update(&p, |_| Err(Error::InvalidInput("no".into())));
        assert!(r.is_err());
        assert_eq!(fs::read_to_string(&p).unwrap(), "keep");
        update(&p, |old| Ok((Some(format!("{}+", old.unwrap_or_default())), ()))).unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "keep+");
    }
}
