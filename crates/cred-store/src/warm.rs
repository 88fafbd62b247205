//! The credential_process warm path without the rest of the program.
//!
//! A credential helper starts before every AWS call that uses its profile, so its warm path
//! is paid thousands of times a day, and most of it was the loader mapping a binary that
//! links every SDK client. After the full program served a profile from a refreshing cache's
//! entry file, it leaves a *note*: which entry serves the profile, its refresh window, and the
//! stamps (modification time, size, inode) of the files that decided that (`~/.ccc/config.json`,
//! `~/.aws/config`, `~/.aws/credentials`). A small program reads the note, checks the stamps,
//! reads the entry and serves it while the refreshing cache would (by [`crate::Refreshing`]'s
//! own freshness rule); anything else — no note, a file changed, the entry due, missing or
//! damaged — is "ask the full program", which refreshes and writes the note again. The note
//! holds no secret; the entry is the cache's own file, so signing out (which removes it)
//! ends the warm path too.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use core_types::{AwsCredentials, Freshness, RefreshPolicy};
use serde_json::{Value, json};

use crate::error::Result;
use crate::fsutil;
use crate::paths::Paths;
use crate::shared::read_entry_at;

/// Where the note of `profile` lives.
fn note_file(paths: &Paths, profile: &str) -> PathBuf {
    paths.cache_entry("warm", &[profile])
}

/// The files whose change may change what serves a profile.
fn inputs(paths: &Paths) -> [PathBuf; 3] {
    [paths.ccc_config_file(), paths.config_file.clone(), paths.credentials_file.clone()]
}

/// What serves a profile on the warm path: a refreshing cache's entry file, the window it is
/// kept under, and the sign-in files its value came from (an SSO token cache entry: when it
/// is gone or replaced, a sign-out or another sign-in, the full program decides again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The refreshing cache's entry file.
    pub file: PathBuf,
    /// The window it is refreshed within.
    pub policy: RefreshPolicy,
    /// Files whose change or removal means the entry may no longer be the one to serve.
    pub depends_on: Vec<PathBuf>,
}

impl Entry {
    /// An entry that depends on the profile files alone.
    pub fn new(file: PathBuf, policy: RefreshPolicy) -> Self {
        Self { file, policy, depends_on: Vec::new() }
    }

    /// The same entry, also depending on `file`.
    pub fn depending_on(mut self, file: PathBuf) -> Self {
        self.depends_on.push(file);
        self
    }
}

fn stamps(paths: &Paths, also: &[PathBuf]) -> Value {
    let stamp = |p: &Path| match fsutil::stamp(p) {
        Some((mtime_ns, len, inode)) => json!([mtime_ns.to_string(), len, inode]),
        None => Value::Null,
    };
    Value::Array(
        inputs(paths).iter().chain(also).map(|p| json!({"path": p.display().to_string(), "stamp": stamp(p)})).collect(),
    )
}

/// Notes that `entry` serves `profile` as things stand. Written only when it says something
/// new.
pub fn note(paths: &Paths, profile: &str, entry: &Entry) -> Result<()> {
    let note = json!({
        "version": 2,
        "profile": profile,
        "entry": entry.file.display().to_string(),
        "window_secs": entry.policy.window().as_secs(),
        "files": stamps(paths, &entry.depends_on),
    });
    let file = note_file(paths, profile);
    let text = note.to_string();
    if fsutil::read_optional(&file).ok().flatten().as_deref() == Some(text.as_str()) {
        return Ok(());
    }
    fsutil::write_atomic(&file, text.as_bytes())
}

/// The credentials the refreshing cache would serve for `profile` at `now` without
/// refreshing, if the note says which and nothing it depends on changed; `None`: ask the full
/// program.
pub fn serve(paths: &Paths, profile: &str, now: SystemTime) -> Option<AwsCredentials> {
    // read only what this user wrote where only this user writes, as every write checks
    let note_path = note_file(paths, profile);
    if !fsutil::is_trusted_file(&note_path) {
        return None;
    }
    let text = fsutil::read_optional(&note_path).ok()??;
    let note: Value = serde_json::from_str(&text).ok()?;
    // the files after the profile files are the entry's sign-in files (`Entry::depends_on`);
    // all of them, paths and stamps, must be as they were noted
    let files = note.get("files")?;
    let also: Vec<PathBuf> = files
        .as_array()?
        .iter()
        .skip(inputs(paths).len())
        .map(|f| f.get("path")?.as_str().map(PathBuf::from))
        .collect::<Option<_>>()?;
    if note.get("version")? != 2 || note.get("profile")?.as_str()? != profile || files != &stamps(paths, &also) {
        return None;
    }
    let entry = PathBuf::from(note.get("entry")?.as_str()?);
    // the entry is a cache file of this user's, in the cache directory
    if entry.parent() != Some(paths.cache_dir().as_path()) || !fsutil::is_trusted_file(&entry) {
        return None;
    }
    let policy = RefreshPolicy::new(Duration::from_secs(note.get("window_secs")?.as_u64()?));
    let (creds, written) = read_entry_at::<AwsCredentials>(&entry)?;
    let verdict = crate::refreshing::verdict(&policy, creds.expiration(), written, now);
    (verdict == Freshness::Fresh).then_some(creds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SharedEntry as _;

    /// A note or entry someone else could have written is never read: one writable by others,
    /// or an entry outside the cache directory (a planted note naming another account's keys).
    #[test]
    fn a_note_or_entry_others_could_write_is_not_trusted() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(tmp.path());
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let entry = paths.cache_entry("role", &["p"]);
        fsutil::ensure_dir(&paths.cache_dir()).unwrap();
        entry_at(&entry, &creds(now + Duration::from_secs(3600)), now);
        note(&paths, "p", &Entry::new(entry, RefreshPolicy::new(Duration::from_secs(300)))).unwrap();
        assert!(serve(&paths, "p", now).is_some(), "the honest note serves");
        let note_path = note_file(&paths, "p");
        std::fs::set_permissions(&note_path, std::fs::Permissions::from_mode(0o622)).unwrap();
        assert!(serve(&paths, "p", now).is_none(), "a note others may write is not read");
        std::fs::set_permissions(&note_path, std::fs::Permissions::from_mode(0o600)).unwrap();
        // an entry elsewhere (a planted note pointing at another account's file)
        let elsewhere = tmp.path().join("planted.json");
        entry_at(&elsewhere, &creds(now + Duration::from_secs(3600)), now);
        note(&paths, "p", &Entry::new(elsewhere, RefreshPolicy::new(Duration::from_secs(300)))).unwrap();
        assert!(serve(&paths, "p", now).is_none(), "an entry outside the cache directory is not read");
    }
    use core_types::ExposeSecret as _;

    fn creds(expires: SystemTime) -> AwsCredentials {
        AwsCredentials::new("ASIAWARM", "warm-secret", Some("warm-token".to_owned()), Some(expires))
    }

    fn entry_at(path: &Path, c: &AwsCredentials, at: SystemTime) {
        let e = crate::shared::EntryFile { path: path.to_owned(), name: "test".into() };
        e.store(c, at).unwrap();
    }

    /// Served while the cache would serve it, with its half-life rule; refused when a file it
    /// depends on changes, when the entry is due, gone, or the note is for another profile.
    #[test]
    fn the_note_serves_exactly_what_the_cache_would() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(tmp.path());
        std::fs::create_dir_all(tmp.path().join(".aws")).unwrap();
        std::fs::write(&paths.config_file, "[profile p]\n").unwrap();
        let entry = paths.cache_entry("role", &["p"]);
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let window = RefreshPolicy::new(Duration::from_secs(300));
        let sign_in = tmp.path().join("sso-token.json");
        std::fs::write(&sign_in, "{}").unwrap();
        let warm = Entry::new(entry.clone(), window).depending_on(sign_in.clone());
        entry_at(&entry, &creds(now + Duration::from_secs(3600)), now);
        assert!(serve(&paths, "p", now).is_none(), "no note yet");
        note(&paths, "p", &warm).unwrap();
        let served = serve(&paths, "p", now).unwrap();
        assert_eq!(served.access_key_id().expose_secret(), "ASIAWARM");
        assert!(serve(&paths, "q", now).is_none(), "another profile");
        // inside the window: the cache would refresh, so the full program must
        assert!(serve(&paths, "p", now + Duration::from_secs(3400)).is_none());
        // a value living less than the window is fresh for half its life
        entry_at(&entry, &creds(now + Duration::from_secs(120)), now);
        assert!(serve(&paths, "p", now + Duration::from_secs(50)).is_some());
        assert!(serve(&paths, "p", now + Duration::from_secs(70)).is_none());
        // a changed config file
        entry_at(&entry, &creds(now + Duration::from_secs(3600)), now);
        assert!(serve(&paths, "p", now).is_some());
        std::fs::write(&paths.config_file, "[profile p]\nregion = eu-west-1\n").unwrap();
        assert!(serve(&paths, "p", now).is_none(), "the config changed");
        note(&paths, "p", &warm).unwrap();
        assert!(serve(&paths, "p", now).is_some());
        // the sign-in it came from ended elsewhere (`aws sso logout` removed the token)
        std::fs::remove_file(&sign_in).unwrap();
        assert!(serve(&paths, "p", now).is_none(), "the sign-in it depends on is gone");
        std::fs::write(&sign_in, "{}").unwrap();
        note(&paths, "p", &warm).unwrap();
        assert!(serve(&paths, "p", now).is_some());
        // signed out: the entry is gone
        std::fs::remove_file(&entry).unwrap();
        assert!(serve(&paths, "p", now).is_none());
        // the note holds no secret
        let text = std::fs::read_to_string(note_file(&paths, "p")).unwrap();
        assert!(!text.contains("warm-secret") && !text.contains("ASIAWARM"), "{text}");
    }
}
