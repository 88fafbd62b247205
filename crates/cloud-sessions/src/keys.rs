//! IAM users' long-term keys kept sealed in ccc's token store (`ccc keys`, aws-vault's
//! model): a profile whose key is kept there is served as GetSessionToken sessions of it (with
//! a code from its `mfa_serial` device once per session), and a rotation replaces the key so
//! that the old one stops working: CreateAccessKey, wait (bounded) until the new key is
//! accepted, keep it, DeleteAccessKey the old one. Each step is journaled in the store beside
//! the key, so a rotation cut at any point is finished or undone by the next one: a working
//! key is always kept and no key IAM created is left behind.

use std::borrow::Cow;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use core_types::{AwsCredentials, CredentialSource, ErrorKind, ExposeSecret, SecretString};
use cred_store::{KeyRotation, StoredKey, TokenStore};

use crate::error::SessionError;
use crate::options::{ManagerOptions, MfaPrompt, base_config};
use crate::sources::{aws_error, from_sts};

/// How long a session of a kept key lasts when the profile sets no `duration_seconds`.
pub const DEFAULT_SESSION_SECONDS: u32 = 3600;

/// How long a rotation waits for IAM to accept a new key before it undoes the rotation.
pub const ACCEPT_WAIT: Duration = Duration::from_secs(30);

/// A long-term key kept in the store for `profile`, and the store, or the error that says
/// how to keep one.
pub(crate) fn kept(options: &ManagerOptions, profile: &str) -> Result<(TokenStore, StoredKey), SessionError> {
    let store = options.token_store.clone().ok_or_else(|| SessionError::Unsupported {
        name: format!("profile {profile}"),
        message: "no token store is configured, so no long-term key can be kept".into(),
    })?;
    let key = store.access_key(profile)?.ok_or_else(|| SessionError::Credentials {
        session: format!("profile {profile}"),
        kind: ErrorKind::NotConfigured,
        message: format!("no long-term key is kept for profile {profile}"),
    })?;
    Ok((store, key))
}

pub(crate) fn keys_of(key: &StoredKey) -> AwsCredentials {
    AwsCredentials::new(&key.access_key_id, key.secret_access_key.expose_secret(), None, None)
}

fn sts_with(options: &ManagerOptions, keys: &AwsCredentials) -> aws_sdk_sts::Client {
    let provider = SharedCredentialsProvider::new(cred_store::to_sdk_credentials(keys));
    aws_sdk_sts::Client::new(&base_config(&options.sts_region(), options, Some(provider), RetryConfig::standard()))
}

/// GetSessionToken with the key kept for a profile (read at each renewal, so a rotated key
/// is used from the next session on).
#[derive(Clone)]
pub(crate) struct SessionTokenSource {
    pub(crate) name: String,
    pub(crate) profile: String,
    pub(crate) options: ManagerOptions,
    pub(crate) mfa_serial: Option<String>,
    pub(crate) duration_seconds: Option<u32>,
    pub(crate) code: Option<SecretString>,
    pub(crate) prompt: Option<MfaPrompt>,
}

impl std::fmt::Debug for SessionTokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionTokenSource").field("profile", &self.profile).finish_non_exhaustive()
    }
}

impl CredentialSource for SessionTokenSource {
    type Output = AwsCredentials;
    type Error = SessionError;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.name)
    }

    async fn fetch(&self) -> Result<AwsCredentials, SessionError> {
        let (_, key) = kept(&self.options, &self.profile)?;
        let what = format!("a session of profile {}", self.profile);
        let code = crate::sources::mfa_code(
            self.mfa_serial.as_deref(),
            self.code.as_ref(),
            self.prompt.as_ref(),
            &self.name,
            &what,
        )
        .await?;
        let seconds = self.duration_seconds.unwrap_or(DEFAULT_SESSION_SECONDS);
        let out = sts_with(&self.options, &keys_of(&key))
            .get_session_token()
            .duration_seconds(i32::try_from(seconds).unwrap_or(i32::MAX))
            .set_serial_number(self.mfa_serial.clone())
            .set_token_code(code)
            .send()
            .await
            .map_err(|e| aws_error(&self.name, "sts:GetSessionToken", e))?;
        out.credentials().map(from_sts).ok_or_else(|| SessionError::Aws {
            session: self.name.clone(),
            operation: "sts:GetSessionToken",
            code: "InvalidResponse".into(),
            message: "no credentials in the response".into(),
            request_id: None,
            cause: None,
        })
    }
}

/// What a rotation did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KeyRotated {
    /// The profile.
    pub profile: String,
    /// The key replaced (now deleted in IAM).
    pub old_access_key_id: String,
    /// The key kept now.
    pub new_access_key_id: String,
    /// What an earlier, interrupted rotation left and this one finished or undid.
    pub recovered: Vec<String>,
}

/// Aborts the process at `step` when `CCC_TEST_FAILPOINT` (through the options' environment
/// lookup) names it: how the tests cut a rotation between any two steps, as a kill would.
fn failpoint(options: &ManagerOptions, step: &str) {
    if (options.env)("CCC_TEST_FAILPOINT").as_deref() == Some(step) {
        std::process::abort();
    }
}

/// The IAM user a key belongs to (from GetCallerIdentity's ARN), and an IAM client signing
/// with it.
async fn iam_as(
    options: &ManagerOptions,
    keys: &AwsCredentials,
    name: &str,
) -> Result<(aws_sdk_iam::Client, String), SessionError> {
    let who = sts_with(options, keys)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| aws_error(name, "sts:GetCallerIdentity", e))?;
    let arn = who.arn().unwrap_or_default();
    let user =
        arn.split_once(":user/").map(|(_, p)| p.rsplit('/').next().unwrap_or(p).to_owned()).ok_or_else(|| {
            SessionError::Credentials {
                session: name.to_owned(),
                kind: ErrorKind::InvalidInput,
                message: format!("the kept key is not an IAM user's ({arn}); only IAM users' keys rotate"),
            }
        })?;
    let provider = SharedCredentialsProvider::new(cred_store::to_sdk_credentials(keys));
    // IAM is global: its calls are signed for us-east-1
    let sdk = base_config("us-east-1", options, Some(provider), RetryConfig::standard());
    Ok((aws_sdk_iam::Client::new(&sdk), user))
}

async fn delete_key(iam: &aws_sdk_iam::Client, user: &str, id: &str, name: &str) -> Result<(), SessionError> {
    match iam.delete_access_key().user_name(user).access_key_id(id).send().await {
        Ok(_) => Ok(()),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => Ok(()),
        Err(e) => Err(aws_error(name, "iam:DeleteAccessKey", e)),
    }
}

/// Whether `keys` are accepted by STS, asked every second up to `wait`.
async fn accepted_within(options: &ManagerOptions, keys: &AwsCredentials, wait: Duration) -> bool {
    let sts = sts_with(options, keys);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if sts.get_caller_identity().send().await.is_ok() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Rotates the long-term key kept for `profile` (one rotation at a time per profile on this
/// machine, under a bounded lock): finishes or undoes an interrupted one first, then
/// CreateAccessKey, waits until the new key is accepted, keeps it, and deletes the old one.
/// A user who already has two keys (IAM's limit) is refused before anything changes.
pub async fn rotate_access_key(profile: &str, options: &ManagerOptions) -> Result<KeyRotated, SessionError> {
    let name = format!("profile {profile}");
    let paths = options.resolved_paths()?;
    let lock = paths.cache_entry("rotate-key", &[profile]);
    let _lock = tokio::task::spawn_blocking(move || cred_store::fsutil::lock_within(&lock, Duration::from_secs(120)))
        .await
        .map_err(|e| SessionError::Unsupported { name: name.clone(), message: format!("lock task failed: {e}") })??;
    let (store, mut key) = kept(options, profile)?;
    let mut recovered = Vec::new();
    if let Some(journal) = key.rotation.clone() {
        key = recover(options, &store, profile, key, journal, &mut recovered).await?;
    }
    let old = keys_of(&key);
    let (iam, user) = iam_as(options, &old, &name).await?;

    key.rotation = Some(KeyRotation::started(options.clock.now()));
    store.put_access_key(profile, &key)?;
    failpoint(options, "journaled");
    let listed =
        iam.list_access_keys().user_name(&user).send().await.map_err(|e| aws_error(&name, "iam:ListAccessKeys", e))?;
    let others: Vec<String> = listed
        .access_key_metadata()
        .iter()
        .filter_map(|m| m.access_key_id())
        .filter(|id| *id != key.access_key_id)
        .map(str::to_owned)
        .collect();
    if !others.is_empty() {
        key.rotation = None;
        store.put_access_key(profile, &key)?;
        return Err(SessionError::Credentials {
            session: name,
            kind: ErrorKind::InvalidInput,
            message: format!(
                "IAM user {user} already has another key ({}), and IAM allows two: delete the one you do not use, then rotate again",
                others.join(", ")
            ),
        });
    }
    let created = iam
        .create_access_key()
        .user_name(&user)
        .send()
        .await
        .map_err(|e| aws_error(&name, "iam:CreateAccessKey", e))?;
    let made = created.access_key().ok_or_else(|| SessionError::Aws {
        session: name.clone(),
        operation: "iam:CreateAccessKey",
        code: "InvalidResponse".into(),
        message: "no key in the response".into(),
        request_id: None,
        cause: None,
    })?;
    let next = (made.access_key_id().to_owned(), SecretString::from(made.secret_access_key().to_owned()));
    failpoint(options, "created");
    if let Some(j) = key.rotation.as_mut() {
        j.next = Some(next);
    }
    store.put_access_key(profile, &key)?;
    failpoint(options, "journaled-new");
    let journal = key.rotation.clone().unwrap_or_else(|| KeyRotation::started(options.clock.now()));
    finish(options, &store, profile, key, journal, &iam, &user, recovered).await
}

/// From a journal holding the created key: wait until it is accepted (else delete it and
/// fail), keep it, delete the old one, close the journal.
#[allow(clippy::too_many_arguments)]
async fn finish(
    options: &ManagerOptions,
    store: &TokenStore,
    profile: &str,
    mut key: StoredKey,
    journal: KeyRotation,
    iam: &aws_sdk_iam::Client,
    user: &str,
    recovered: Vec<String>,
) -> Result<KeyRotated, SessionError> {
    let name = format!("profile {profile}");
    let Some((next_id, next_secret)) = journal.next.clone() else {
        return Err(SessionError::Unsupported { name, message: "the rotation journal holds no new key".into() });
    };
    let new = AwsCredentials::new(&next_id, next_secret.expose_secret(), None, None);
    if !accepted_within(options, &new, ACCEPT_WAIT).await {
        delete_key(iam, user, &next_id, &name).await?;
        key.rotation = None;
        store.put_access_key(profile, &key)?;
        return Err(SessionError::Credentials {
            session: name,
            kind: ErrorKind::Unavailable,
            message: format!(
                "IAM did not accept the new key within {} s; it was deleted and the old key is kept: rotate again later",
                ACCEPT_WAIT.as_secs()
            ),
        });
    }
    failpoint(options, "accepted");
    let old_id = key.access_key_id.clone();
    let now = options.clock.now();
    let mut kept = StoredKey::new(next_id.clone(), next_secret, key.added_at);
    kept.rotated_at = Some(now);
    let mut closing = KeyRotation::started(journal.started_at);
    closing.retired = Some(old_id.clone());
    kept.rotation = Some(closing);
    store.put_access_key(profile, &kept)?;
    failpoint(options, "stored");
    // the old key is deleted with the new one (the old may be refused already)
    let (iam_new, _) = iam_as(options, &new, &name).await?;
    delete_key(&iam_new, user, &old_id, &name).await?;
    failpoint(options, "deleted");
    kept.rotation = None;
    store.put_access_key(profile, &kept)?;
    Ok(KeyRotated { profile: profile.to_owned(), old_access_key_id: old_id, new_access_key_id: next_id, recovered })
}

/// Finishes or undoes what an interrupted rotation's journal says it left.
async fn recover(
    options: &ManagerOptions,
    store: &TokenStore,
    profile: &str,
    mut key: StoredKey,
    journal: KeyRotation,
    recovered: &mut Vec<String>,
) -> Result<StoredKey, SessionError> {
    let name = format!("profile {profile}");
    let (iam, user) = iam_as(options, &keys_of(&key), &name).await?;
    if let Some(retired) = &journal.retired {
        // the new key was kept: the old one is still to delete
        delete_key(&iam, &user, retired, &name).await?;
        recovered.push(format!("deleted the replaced key {retired}"));
    } else if let Some((next_id, _)) = &journal.next {
        // created and saved, not yet kept: the rotation is finished from there
        let done = finish(options, store, profile, key.clone(), journal.clone(), &iam, &user, Vec::new()).await?;
        recovered.push(format!("finished the rotation to {next_id}"));
        return store.access_key(profile)?.ok_or_else(|| SessionError::Credentials {
            session: name,
            kind: ErrorKind::NotConfigured,
            message: format!(
                "the key of profile {} vanished during recovery ({})",
                done.profile, done.new_access_key_id
            ),
        });
    } else {
        // started: IAM may have created a key whose secret was never saved; any key neither
        // kept nor journaled, created since the journal began, is that orphan
        let listed = iam
            .list_access_keys()
            .user_name(&user)
            .send()
            .await
            .map_err(|e| aws_error(&name, "iam:ListAccessKeys", e))?;
        let since = journal.started_at - Duration::from_secs(60);
        for m in listed.access_key_metadata() {
            let (Some(id), Some(created)) = (m.access_key_id(), m.create_date()) else { continue };
            let created = std::time::SystemTime::try_from(*created).unwrap_or(std::time::UNIX_EPOCH);
            if id != key.access_key_id && created >= since {
                delete_key(&iam, &user, id, &name).await?;
                recovered.push(format!("deleted the orphaned new key {id}"));
            }
        }
    }
    key.rotation = None;
    store.put_access_key(profile, &key)?;
    Ok(key)
}
