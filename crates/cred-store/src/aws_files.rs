//! `~/.aws/credentials` and `~/.aws/config`, read as the AWS CLI reads them and edited
//! losslessly (only the touched section changes; comments, order and unknown keys stay).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::SystemTime;

use core_types::{AwsCredentials, ExposeSecret};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::ini::IniDocument;
use crate::paths::Paths;
use crate::timefmt::{format_rfc3339, parse_rfc3339};

/// The key some tools (saml2aws, gimme-aws-creds) use for the expiry of temporary keys in
/// the credentials file; botocore ignores it, we read and write it.
pub const EXPIRATION_KEY: &str = "x_security_token_expires";
const EXPIRATION_KEYS: &[&str] = &[EXPIRATION_KEY, "aws_expiration", "expiration"];

/// A profile of `~/.aws/config`, with the keys the AWS CLI acts on and every other key kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Profile {
    /// The profile name (without the `profile ` prefix).
    pub name: String,
    /// `region`.
    pub region: Option<String>,
    /// `role_arn`.
    pub role_arn: Option<String>,
    /// `source_profile`.
    pub source_profile: Option<String>,
    /// `duration_seconds`.
    pub duration_seconds: Option<u32>,
    /// `credential_process`.
    pub credential_process: Option<String>,
    /// `sso_session`.
    pub sso_session: Option<String>,
    /// `sso_start_url` (legacy profiles; sessions keep it in `[sso-session x]`).
    pub sso_start_url: Option<String>,
    /// `sso_region`.
    pub sso_region: Option<String>,
    /// `sso_account_id`.
    pub sso_account_id: Option<String>,
    /// `sso_role_name`.
    pub sso_role_name: Option<String>,
    /// Every other key of the section.
    pub other: BTreeMap<String, String>,
}

impl Profile {
    fn from_settings(name: &str, settings: &crate::profiles::Settings, paths: &Paths) -> Result<Self> {
        let mut p = Profile { name: name.to_owned(), ..Profile::default() };
        for (k, v) in settings {
            let v = v.clone();
            match k.as_str() {
                "region" => p.region = Some(v),
                "role_arn" => p.role_arn = Some(v),
                "source_profile" => p.source_profile = Some(v),
                "duration_seconds" => {
                    p.duration_seconds = Some(v.parse().map_err(|_| Error::Parse {
                        path: paths.config_file.clone(),
                        line: 0,
                        message: format!("profile {name}: duration_seconds {v:?} is not a whole number of seconds"),
                    })?);
                }
                "credential_process" => p.credential_process = Some(v),
                "sso_session" => p.sso_session = Some(v),
                "sso_start_url" => p.sso_start_url = Some(v),
                "sso_region" => p.sso_region = Some(v),
                "sso_account_id" => p.sso_account_id = Some(v),
                "sso_role_name" => p.sso_role_name = Some(v),
                // secrets stay out of a value that is cloned and logged about
                "aws_secret_access_key" | "aws_session_token" => {}
                _ => {
                    p.other.insert(k.clone(), v);
                }
            }
        }
        Ok(p)
    }

    /// Whether IAM Identity Center serves it (`sso_session`, or a legacy `sso_start_url`).
    pub fn is_sso(&self) -> bool {
        self.sso_session.is_some() || self.sso_start_url.is_some()
    }
}

/// Checks a profile name can be written as a section that botocore reads back as the same
/// name: `shlex.split("profile " + name) == ["profile", name]` (so no quotes, backslashes or
/// whitespace), no brackets or comment characters, no control characters and no invisible
/// or direction-changing ones (a right-to-left override makes a name read as another).
pub fn validate_profile_name(name: &str) -> Result<()> {
    let invisible = |c: char| {
        c.is_control()
            || matches!(c, '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}' | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}' | '\u{ffa0}' | '\u{fff0}'..='\u{fffb}' | '\u{e0000}'..='\u{e0fff}')
    };
    let round_trips = crate::shlex::split(&format!("profile {name}")).is_ok_and(|w| w == ["profile", name]);
    let bad = name.is_empty()
        || !round_trips
        || name.chars().any(|c| matches!(c, '[' | ']' | '#' | ';') || crate::ini::py_space(c) || invisible(c));
    if bad {
        return Err(Error::InvalidInput(format!(
            "invalid profile name {:?}: use letters, digits, '-', '_', '.', '@', '+', ':', '/' (no spaces, quotes, backslashes, brackets, comment characters or invisible characters: botocore would read it as another name)",
            name.escape_debug().to_string()
        )));
    }
    Ok(())
}

/// The config-file section botocore reads profile `profile` from: the last one whose header
/// names it (`[profile  p]` and `[profile "p"]` name `p` too), else the one we would write.
fn config_section_in(doc: &IniDocument, profile: &str) -> String {
    doc.section_names()
        .into_iter()
        .rev()
        .find(|s| crate::profiles::config_profile_name(s).as_deref() == Some(profile))
        .unwrap_or_else(|| config_section(profile))
}

/// The section name of a profile in `~/.aws/config`: `default` or `profile NAME`.
pub fn config_section(profile: &str) -> String {
    if profile == "default" { "default".to_owned() } else { format!("profile {profile}") }
}

fn parse_file(path: &Path, text: Option<String>) -> Result<IniDocument> {
    match text {
        None => Ok(IniDocument::empty()),
        Some(t) => {
            IniDocument::parse(&t).map_err(|e| Error::Parse { path: path.to_owned(), line: e.line, message: e.message })
        }
    }
}

fn read_doc(path: &Path) -> Result<IniDocument> {
    parse_file(path, fsutil::read_optional(path)?)
}

/// Lossless edits under the file's lock: a file that does not parse, or an edit that fails,
/// leaves it untouched.
fn edit_doc<T>(path: &Path, edit: impl FnOnce(&mut IniDocument) -> Result<T>) -> Result<T> {
    fsutil::update(path, |text| {
        let original = text.clone();
        let mut doc = parse_file(path, text)?;
        let out = edit(&mut doc)?;
        let new = doc.to_string();
        let changed = original.as_deref() != Some(new.as_str()) && !(original.is_none() && new.is_empty());
        Ok((changed.then_some(new), out))
    })
}

/// What [`AwsFiles::sync_profiles`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SyncReport {
    /// Profiles written for the first time.
    pub added: Vec<String>,
    /// Profiles it had written before, brought up to date.
    pub kept: Vec<String>,
    /// Names taken by profiles it did not write: left alone.
    pub skipped: Vec<String>,
    /// Profiles it had written that are gone upstream: removed (with `prune`).
    pub removed: Vec<String>,
}

/// Access to the AWS shared files at the given [`Paths`].
#[derive(Debug, Clone)]
pub struct AwsFiles {
    paths: Paths,
}

impl AwsFiles {
    /// Uses the credentials and config files of `paths`.
    pub fn new(paths: &Paths) -> Self {
        Self { paths: paths.clone() }
    }

    /// Writes a profile's keys to the credentials file, touching only that section. Keys of
    /// the section we do not manage are kept; a session token or expiry no longer present
    /// is removed (stale temporary keys must not outlive their credentials).
    pub fn save_credentials(&self, profile: &str, creds: &AwsCredentials) -> Result<()> {
        validate_profile_name(profile)?;
        edit_doc(&self.paths.credentials_file, |doc| {
            let set = |doc: &mut IniDocument, k: &str, v: &str| doc.set(profile, k, v).map_err(Error::InvalidInput);
            set(doc, "aws_access_key_id", creds.access_key_id().expose_secret())?;
            set(doc, "aws_secret_access_key", creds.secret_access_key().expose_secret())?;
            match creds.session_token() {
                Some(t) => set(doc, "aws_session_token", t.expose_secret())?,
                None => {
                    doc.remove_key(profile, "aws_session_token");
                }
            }
            for k in EXPIRATION_KEYS {
                doc.remove_key(profile, k);
            }
            if let Some(exp) = creds.expiration() {
                set(doc, EXPIRATION_KEY, &format_rfc3339(exp))?;
            }
            Ok(())
        })
    }

    /// Removes a profile from the credentials file. Returns whether it was there.
    pub fn remove_credentials(&self, profile: &str) -> Result<bool> {
        validate_profile_name(profile)?;
        edit_doc(&self.paths.credentials_file, |doc| Ok(doc.remove_section(profile)))
    }

    /// Removes a profile's static keys (key id, secret, session token, expiry) from the
    /// credentials file, keeping any other key of the section (and the section, if one is
    /// left). Returns whether there were keys to remove. A profile whose credentials come
    /// from `credential_process` must not have them: every AWS SDK reads the credentials
    /// file first, so stale keys there would shadow the process.
    pub fn remove_static_keys(&self, profile: &str) -> Result<bool> {
        validate_profile_name(profile)?;
        edit_doc(&self.paths.credentials_file, |doc| {
            let mut removed = false;
            for k in ["aws_access_key_id", "aws_secret_access_key", "aws_session_token"].iter().chain(EXPIRATION_KEYS) {
                removed |= doc.remove_key(profile, k);
            }
            if doc.section(profile).is_some_and(|s| s.is_empty()) {
                doc.remove_section(profile);
            }
            Ok(removed)
        })
    }

    /// Reads a profile's keys from the credentials file (`None` if absent or incomplete).
    pub fn load_credentials(&self, profile: &str) -> Result<Option<AwsCredentials>> {
        let doc = read_doc(&self.paths.credentials_file)?;
        let Some(section) = doc.section(profile) else { return Ok(None) };
        let get = |k: &str| section.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).filter(|v| !v.is_empty());
        let (Some(id), Some(secret)) = (get("aws_access_key_id"), get("aws_secret_access_key")) else {
            return Ok(None);
        };
        let expiry: Option<SystemTime> = EXPIRATION_KEYS.iter().find_map(|k| get(k)).and_then(|v| parse_rfc3339(&v));
        Ok(Some(AwsCredentials::new(id, secret, get("aws_session_token"), expiry)))
    }

    /// Profile names in the credentials file.
    pub fn credential_profiles(&self) -> Result<Vec<String>> {
        Ok(read_doc(&self.paths.credentials_file)?.section_names())
    }

    /// Profile names in the config file (`[default]` and `[profile x]`, read as botocore
    /// reads the header).
    pub fn config_profiles(&self) -> Result<Vec<String>> {
        let mut names: Vec<String> = read_doc(&self.paths.config_file)?
            .section_names()
            .iter()
            .filter_map(|s| crate::profiles::config_profile_name(s))
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        names.retain(|n| seen.insert(n.clone()));
        Ok(names)
    }

    /// Both files' profiles and sso-sessions, merged as botocore merges them (a profile may
    /// live in either file; the credentials file's keys win).
    pub fn profile_set(&self) -> Result<crate::profiles::ProfileSet> {
        Ok(crate::profiles::ProfileSet::from_documents(
            &read_doc(&self.paths.config_file)?,
            &read_doc(&self.paths.credentials_file)?,
        ))
    }

    /// Reads a profile as the AWS CLI does: its config-file section (`[profile x]`, or
    /// `[default]`) and its credentials-file section, merged (`None` when neither has it).
    pub fn load_profile(&self, profile: &str) -> Result<Option<Profile>> {
        self.profile_set()?.profile(profile).map(|s| Profile::from_settings(profile, s, &self.paths)).transpose()
    }

    /// The keys of `[sso-session NAME]` in the config file.
    pub fn load_sso_session(&self, name: &str) -> Result<Option<BTreeMap<String, String>>> {
        let doc = read_doc(&self.paths.config_file)?;
        Ok(doc.section(&format!("sso-session {name}")).map(|s| s.into_iter().collect()))
    }

    /// Sets keys of a config profile, creating it if needed, touching nothing else.
    pub fn set_profile_values(&self, profile: &str, values: &[(&str, &str)]) -> Result<()> {
        validate_profile_name(profile)?;
        for (k, v) in values {
            crate::ini::check_entry(k, v).map_err(Error::InvalidInput)?;
        }
        edit_doc(&self.paths.config_file, |doc| {
            let section = config_section_in(doc, profile);
            for (k, v) in values {
                doc.set(&section, k, v).map_err(Error::InvalidInput)?;
            }
            Ok(())
        })
    }

    /// Writes a set of generated profiles in one locked, atomic edit of the config file, each
    /// marked `marker.0 = marker.1` (e.g. `ccc_populated_from = SESSION`), touching nothing
    /// else: a profile of that name without the marker is someone else's and is left alone
    /// (reported as skipped); with `prune`, marked profiles not in `profiles` are removed.
    pub fn sync_profiles(
        &self,
        marker: (&str, &str),
        profiles: &[(String, Vec<(String, String)>)],
        prune: bool,
    ) -> Result<SyncReport> {
        crate::ini::check_entry(marker.0, marker.1).map_err(Error::InvalidInput)?;
        for (name, values) in profiles {
            validate_profile_name(name)?;
            for (k, v) in values {
                crate::ini::check_entry(k, v).map_err(Error::InvalidInput)?;
            }
        }
        edit_doc(&self.paths.config_file, |doc| {
            let mut report = SyncReport::default();
            let ours = |doc: &IniDocument, section: &str| doc.get(section, marker.0).as_deref() == Some(marker.1);
            for (name, values) in profiles {
                let section = config_section_in(doc, name);
                let existed = doc.has_section(&section);
                if existed && !ours(doc, &section) {
                    report.skipped.push(name.clone());
                    continue;
                }
                for (k, v) in values {
                    doc.set(&section, k, v).map_err(Error::InvalidInput)?;
                }
                doc.set(&section, marker.0, marker.1).map_err(Error::InvalidInput)?;
                if existed { &mut report.kept } else { &mut report.added }.push(name.clone());
            }
            if prune {
                let wanted: std::collections::BTreeSet<&str> = profiles.iter().map(|(n, _)| n.as_str()).collect();
                for section in doc.section_names() {
                    let Some(name) = crate::profiles::config_profile_name(&section) else { continue };
                    if name != "default" && !wanted.contains(name.as_str()) && ours(doc, &section) {
                        doc.remove_section(&section);
                        report.removed.push(name);
                    }
                }
            }
            Ok(report)
        })
    }

    /// Turns a config profile's `key` line (and its continuation lines) into comments, with
    /// `why` after them, so what another tool wrote is kept where a person finds it. Returns
    /// whether the key was there.
    pub fn comment_out(&self, profile: &str, key: &str, why: &str) -> Result<bool> {
        validate_profile_name(profile)?;
        crate::ini::check_entry(key, why).map_err(Error::InvalidInput)?;
        edit_doc(&self.paths.config_file, |doc| {
            let section = config_section_in(doc, profile);
            Ok(doc.comment_out(&section, key, why))
        })
    }

    /// Removes a profile from the config file. Returns whether it was there.
    pub fn remove_profile(&self, profile: &str) -> Result<bool> {
        validate_profile_name(profile)?;
        edit_doc(&self.paths.config_file, |doc| {
            let section = config_section_in(doc, profile);
            Ok(doc.remove_section(&section))
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn static_keys_leave_and_other_keys_stay() {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(tmp.path());
        std::fs::create_dir_all(tmp.path().join(".aws")).unwrap();
        std::fs::write(
            &paths.credentials_file,
            "[p]\naws_access_key_id = AKIA1\naws_secret_access_key = s\naws_session_token = t\nx_security_token_expires = 2001-01-01T00:00:00Z\n\n[q]\naws_access_key_id = AKIA2\naws_secret_access_key = s2\nregion = eu-west-1\n",
        )
        .unwrap();
        let files = AwsFiles::new(&paths);
        assert!(files.remove_static_keys("p").unwrap());
        assert!(files.remove_static_keys("q").unwrap());
        assert!(!files.remove_static_keys("p").unwrap(), "nothing left to remove");
        let text = std::fs::read_to_string(&paths.credentials_file).unwrap();
        assert!(!text.contains("[p]") && !text.contains("AKIA"), "{text}");
        assert!(text.contains("[q]") && text.contains("region = eu-west-1"), "{text}");
    }

    use super::*;
    use std::fs;
    use std::time::Duration;

    fn setup() -> (tempfile::TempDir, AwsFiles, Paths) {
        let tmp = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(tmp.path());
        (tmp, AwsFiles::new(&paths), paths)
    }

    fn temp_creds() -> AwsCredentials {
        AwsCredentials::new(
            "ASIATESTKEY",
            "secret/key+value",
            Some("token==".into()),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600)),
        )
    }

    #[test]
    fn save_touches_only_its_section() {
        let (_t, files, paths) = setup();
        let before = "# team creds\n[default]\naws_access_key_id = AKIAOTHER\naws_secret_access_key = other\n\n[ci] ; trailing\nregion=x\n";
        fs::create_dir_all(paths.credentials_file.parent().unwrap()).unwrap();
        fs::write(&paths.credentials_file, before).unwrap();
        files.save_credentials("work", &temp_creds()).unwrap();
        let after = fs::read_to_string(&paths.credentials_file).unwrap();
        assert!(after.starts_with(before), "{after}");
        assert_eq!(
            &after[before.len()..],
            "\n[work]\naws_access_key_id = ASIATESTKEY\naws_secret_access_key = secret/key+value\naws_session_token = token==\nx_security_token_expires = 2026-01-01T00:00:00Z\n"
        );
        assert_eq!(files.load_credentials("work").unwrap(), Some(temp_creds()));
        // long-term keys replace temporary ones: the stale token and expiry go
        files.save_credentials("work", &AwsCredentials::new("AKIALONG", "s", None, None)).unwrap();
        let text = fs::read_to_string(&paths.credentials_file).unwrap();
        assert!(!text.contains("token==") && !text.contains(EXPIRATION_KEY), "{text}");
        assert!(files.remove_credentials("work").unwrap());
        assert_eq!(fs::read_to_string(&paths.credentials_file).unwrap(), before);
    }

    #[test]
    fn malformed_file_is_an_error_and_untouched() {
        let (_t, files, paths) = setup();
        fs::create_dir_all(paths.credentials_file.parent().unwrap()).unwrap();
        let bad = "[default]\naws_access_key_id = A\nthis line is garbage\n";
        fs::write(&paths.credentials_file, bad).unwrap();
        let e = files.save_credentials("x", &temp_creds()).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("credentials:3:"), "{msg}");
        assert!(!msg.contains("secret/key"), "{msg}");
        assert_eq!(fs::read_to_string(&paths.credentials_file).unwrap(), bad);
    }

    #[test]
    fn config_profiles_use_the_profile_prefix() {
        let (_t, files, paths) = setup();
        files.set_profile_values("default", &[("region", "us-east-1")]).unwrap();
        files
            .set_profile_values(
                "dev",
                &[
                    ("region", "eu-west-1"),
                    ("credential_process", "ccc creds --profile dev"),
                    ("duration_seconds", "3600"),
                ],
            )
            .unwrap();
        let text = fs::read_to_string(&paths.config_file).unwrap();
        assert!(text.contains("[default]\nregion = us-east-1\n") && text.contains("[profile dev]\n"), "{text}");
        let dev = files.load_profile("dev").unwrap().unwrap();
        assert_eq!(dev.credential_process.as_deref(), Some("ccc creds --profile dev"));
        assert_eq!(dev.duration_seconds, Some(3600));
        assert_eq!(files.config_profiles().unwrap(), ["default", "dev"]);
        assert!(files.remove_profile("dev").unwrap());
        assert!(files.load_profile("dev").unwrap().is_none());
    }

    #[test]
    fn bad_profile_names_are_refused() {
        let (_t, files, _) = setup();
        for name in
            ["", " x", "a]b", "a\nb", "#x", "Bob's", "prod\"\"", "back\\slash", "a b", "a\u{202e}b", "x\u{200b}"]
        {
            assert!(matches!(files.save_credentials(name, &temp_creds()), Err(Error::InvalidInput(_))), "{name:?}");
        }
    }
}
