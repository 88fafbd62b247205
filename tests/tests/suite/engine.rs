//! YAML sessions and AWS profiles are one engine: a YAML declaration is planned into the same
//! `CredentialPlan` a profile is and built by the same build, so the two share a cache entry
//! when they decide the same credentials, and an edit to either is a new entry. Judged by
//! moto with authentication on (a wrong key, secret or token is refused) through boto3.

use aws_credential_types::provider::ProvideCredentials;
use ccc_tests::strict;
use cloud_sessions::{CloudSessionManager, ManagerOptions};

fn yaml(role_arn: &str, duration: u32) -> String {
    format!(
        "cloud_sessions:
  - name: from-profile
    session_type: aws
    region: us-east-1
    source_profile: base
    role_arn: {role_arn}
    session_name: one-engine
    duration_seconds: {duration}
  - name: keys
    session_type: aws
    region: us-east-1
    access_key_id: ENV/ENGINE_KEY_ID
    secret_access_key: ENV/ENGINE_SECRET
  - name: chained
    session_type: aws
    region: us-east-1
    source: keys
    role_arn: {role_arn}
    session_name: from-a-session
"
    )
}

async fn keys_of(m: &CloudSessionManager, name: &str) -> aws_credential_types::Credentials {
    m.aws_session(name).unwrap().credentials_provider().provide_credentials().await.unwrap()
}

fn judged(c: &aws_credential_types::Credentials) -> Result<String, String> {
    strict::boto3_with_keys(c.access_key_id(), c.secret_access_key(), c.session_token())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_yaml_session_and_the_profile_it_equals_share_one_plan_and_one_entry() {
    let user = strict::user("engine").await;
    let role = strict::role("engine-role").await;
    let role_name = role.rsplit('/').next().unwrap().to_owned();
    ccc_tests::leak::secret(&user.secret_access_key);
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        format!(
            "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            user.access_key_id, user.secret_access_key
        ),
    )
    .unwrap();
    std::fs::write(
        aws.join("config"),
        format!(
            "[profile deploy]\nsource_profile = base\nrole_arn = {role}\nrole_session_name = one-engine\nduration_seconds = 1800\n"
        ),
    )
    .unwrap();
    let paths = cred_store::Paths::under_home(home.path());
    let (id, secret) = (user.access_key_id.clone(), user.secret_access_key.clone());
    let options = move || {
        let (id, secret) = (id.clone(), secret.clone());
        ManagerOptions::default().endpoint_url(strict::endpoint()).paths(paths.clone()).env(move |k| match k {
            "ENGINE_KEY_ID" => Some(id.clone()),
            "ENGINE_SECRET" => Some(secret.clone()),
            _ => None,
        })
    };

    // the profile first: its role credentials are kept in the entry its plan keys
    let profile = cloud_sessions::profile_credentials("deploy", &options()).await.unwrap();
    let from_profile = profile.provider.provide_credentials().await.unwrap();
    let session_arn = format!("arn:aws:sts::123456789012:assumed-role/{role_name}/one-engine");
    assert_eq!(judged(&from_profile), Ok(session_arn.clone()));

    // the YAML session that decides the same credentials is the same plan: served from that
    // entry (moto gives every AssumeRole a new key, so the same key is the same entry)
    let m = CloudSessionManager::from_yaml(&yaml(&role, 1800), options()).await.unwrap();
    let from_yaml = keys_of(&m, "from-profile").await;
    assert_eq!(from_yaml.access_key_id(), from_profile.access_key_id(), "one plan, one entry");
    assert_eq!(judged(&from_yaml), Ok(session_arn));

    // an edit to the declaration is another plan: a new entry, never the old credentials
    let edited = CloudSessionManager::from_yaml(&yaml(&role, 900), options()).await.unwrap();
    let after_edit = keys_of(&edited, "from-profile").await;
    assert_ne!(after_edit.access_key_id(), from_profile.access_key_id(), "an edited session is a new entry");
    assert!(judged(&after_edit).unwrap().ends_with("/one-engine"));

    // declared keys, and a role assumed from another session (the plan's base names it)
    assert_eq!(judged(&keys_of(&m, "keys").await), Ok(user.arn()));
    let chained = keys_of(&m, "chained").await;
    assert_eq!(judged(&chained), Ok(format!("arn:aws:sts::123456789012:assumed-role/{role_name}/from-a-session")));

    // the judge is strict: the same key with a wrong secret is refused
    let wrong = strict::boto3_with_keys(chained.access_key_id(), "not-the-secret", chained.session_token());
    assert!(wrong.is_err(), "{wrong:?}");
}

/// The one answer to "which credential does this name get" (`cloud_sessions::plan_profile`,
/// what every `ccc` command asks): a ccc Cognito sign-in on the name; for a default name the
/// environment's keys first, as every SDK's default chain; a named profile from the merged
/// files whatever the environment holds; a profile only ccc serves with no one signed in; an
/// unknown name with the closest ones. Built credentials are judged by the strict endpoint,
/// and a role's MFA code is asked once per role session through the options' prompt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_decides_which_credential_a_name_gets() {
    use cloud_sessions::{Named, SessionError};
    use cred_store::Base;
    let user = strict::user("decides").await;
    let role = strict::role("decides-role").await;
    ccc_tests::leak::secret(&user.secret_access_key);
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        format!(
            "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            user.access_key_id, user.secret_access_key
        ),
    )
    .unwrap();
    std::fs::write(
        aws.join("config"),
        format!(
            "[profile mfa]\nsource_profile = base\nrole_arn = {role}\nmfa_serial = arn:aws:iam::123456789012:mfa/decides\nrole_session_name = asked-once\n\n[profile served]\ncredential_process = ccc creds --profile served\n"
        ),
    )
    .unwrap();
    let paths = cred_store::Paths::under_home(home.path());
    cred_store::set_profile_setting(&paths, "cog", "username", Some("renee")).unwrap();
    let with_env = |keys: bool| {
        ManagerOptions::default().endpoint_url(strict::endpoint()).paths(paths.clone()).env(move |k| match k {
            "AWS_ACCESS_KEY_ID" if keys => Some("AKIAFROMTHEENVIRONMENT".into()),
            "AWS_SECRET_ACCESS_KEY" if keys => Some("from-the-environment".into()),
            _ => None,
        })
    };

    // a default name: the environment's keys come first; named on purpose: the profile
    let (plan, _) = cloud_sessions::plan_profile("base", Named::ByDefault, &with_env(true)).unwrap();
    assert_eq!(plan.base, Base::NamedSource("Environment".into()));
    let (plan, _) = cloud_sessions::plan_profile("base", Named::Explicitly, &with_env(true)).unwrap();
    assert!(matches!(plan.base, Base::AccessKey { ref access_key_id, .. } if *access_key_id == user.access_key_id));
    let built = cloud_sessions::credentials_for("base", Named::Explicitly, &with_env(true)).await.unwrap();
    let keys = built.provider.provide_credentials().await.unwrap();
    assert_eq!(judged(&keys), Ok(user.arn()));

    // a ccc Cognito sign-in on the name is its base, with that profile's settings
    let (plan, _) = cloud_sessions::plan_profile("cog", Named::ByDefault, &with_env(true)).unwrap();
    assert!(
        matches!(&plan.base, Base::Cognito { profile: Some(p), username, .. } if p == "cog" && username == "renee"),
        "{plan:?}"
    );
    // a profile only ccc serves, no one signed in: said as that, not as another source
    let e = cloud_sessions::plan_profile("served", Named::Explicitly, &with_env(false)).unwrap_err();
    assert!(matches!(&e, SessionError::NotSignedIn { profile } if profile == "served"), "{e}");
    // an unknown name: the closest ones
    let e = cloud_sessions::plan_profile("bsae", Named::Explicitly, &with_env(false)).unwrap_err();
    match e {
        SessionError::Store(cred_store::Error::NoSuchProfile { closest, .. }) => {
            assert!(closest.contains(&"base".into()))
        }
        other => panic!("{other}"),
    }

    // an MFA role: the prompt is asked by the refresh, once per role session
    let asked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = asked.clone();
    let prompting = with_env(false).mfa_prompt(move |serial| {
        assert_eq!(serial, "arn:aws:iam::123456789012:mfa/decides");
        count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Some(core_types::SecretString::from("123456".to_owned()))
    });
    let first = cloud_sessions::credentials_for("mfa", Named::Explicitly, &prompting).await.unwrap();
    let role_keys = first.provider.provide_credentials().await.unwrap();
    assert!(judged(&role_keys).unwrap().ends_with("/asked-once"), "a role session of the MFA role");
    let again = cloud_sessions::credentials_for("mfa", Named::Explicitly, &prompting).await.unwrap();
    let same = again.provider.provide_credentials().await.unwrap();
    assert_eq!(same.access_key_id(), role_keys.access_key_id(), "served from the role's entry");
    assert_eq!(asked.load(std::sync::atomic::Ordering::SeqCst), 1, "one code for one role session");
    // no prompt, no code: the refresh needs a person, said as that
    let fresh = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(fresh.path().join(".aws")).unwrap();
    for f in ["config", "credentials"] {
        std::fs::copy(aws.join(f), fresh.path().join(".aws").join(f)).unwrap();
    }
    let no_one = ManagerOptions::default()
        .endpoint_url(strict::endpoint())
        .paths(cred_store::Paths::under_home(fresh.path()))
        .env(|_| None);
    let e = cloud_sessions::credentials_for("mfa", Named::Explicitly, &no_one).await.unwrap().credentials().await;
    assert_eq!(e.map_err(|e| core_types::Kinded::kind(&e)).err(), Some(core_types::ErrorKind::NotAuthorized));
}

/// Reactive refresh (seed 001's AutoRefreshSession): the judge revokes a role session the
/// cache still holds valid; the call that sees `ExpiredToken` renews it once and is retried
/// once, as the new role session. A renewed key refused again is returned, never renewed again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_session_is_renewed_once_and_the_call_retried_once() {
    let judge = ccc_tests::judge::Judge::start().await;
    let user = strict::user("reactive").await;
    let role = strict::role("reactive-role").await;
    ccc_tests::leak::secret(&user.secret_access_key);
    let home = tempfile::tempdir().unwrap();
    let yaml = format!(
        "cloud_sessions:\n  - name: keys\n    session_type: aws\n    region: us-east-1\n    access_key_id: ENV/REACTIVE_KEY_ID\n    secret_access_key: ENV/REACTIVE_SECRET\n  - name: deploy\n    session_type: aws\n    region: us-east-1\n    source: keys\n    role_arn: {role}\n    session_name: reactive\n"
    );
    let (id, secret) = (user.access_key_id.clone(), user.secret_access_key.clone());
    let options = ManagerOptions::default()
        .endpoint_url(judge.url.clone())
        .paths(cred_store::Paths::under_home(home.path()))
        .env(move |k| match k {
            "REACTIVE_KEY_ID" => Some(id.clone()),
            "REACTIVE_SECRET" => Some(secret.clone()),
            _ => None,
        });
    let m = CloudSessionManager::from_yaml(&yaml, options).await.unwrap();
    let session = m.aws_session("deploy").unwrap();
    let reactive = session.reactive_refresh();
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(session.sdk_config()).retry_classifier(reactive.clone()).build(),
    );
    let who = || async { sts.get_caller_identity().send().await.map(|o| o.arn().unwrap_or_default().to_owned()) };
    let role_session = format!("arn:aws:sts::123456789012:assumed-role/{}/reactive", role.rsplit('/').next().unwrap());
    assert_eq!(who().await.unwrap(), role_session);
    let first = keys_of(&m, "deploy").await;

    // "revoke active sessions": the cache still holds the credentials valid for an hour
    judge.revoke(first.access_key_id());
    assert_eq!(who().await.unwrap(), role_session, "renewed and retried");
    assert_eq!(reactive.renewals(), 1, "one renewal");
    assert_eq!(judge.refused(), ["ExpiredToken"], "one refused attempt, then one retry");
    let second = keys_of(&m, "deploy").await;
    assert_ne!(second.access_key_id(), first.access_key_id(), "a new role session");
    assert_eq!(judged_at(&judge.url, &second), Ok(role_session.clone()));

    // the renewed key revoked too: that refusal is the answer (no loop, no second renewal)
    judge.revoke(second.access_key_id());
    let e = who().await.unwrap_err();
    let code = aws_sdk_sts::error::ProvideErrorMetadata::code(&e).map(str::to_owned);
    assert_eq!(code.as_deref(), Some("ExpiredToken"), "{e:?}");
    assert_eq!(reactive.renewals(), 1);
    assert_eq!(judge.refused(), ["ExpiredToken", "ExpiredToken"]);
}

fn judged_at(at: &str, c: &aws_credential_types::Credentials) -> Result<String, String> {
    strict::boto3_with_keys_at(at, c.access_key_id(), c.secret_access_key(), c.session_token())
}

/// Seed 004's rotation, all three steps: new credentials, the session updated, the old ones
/// invalidated. A session over a key `ccc keys` keeps gets a new IAM key (the old one refused
/// by moto with authentication on); a role session, asked to, revokes the role's older
/// sessions with the console's policy; declared keys are refused (they are the caller's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_now_invalidates_what_it_replaces() {
    use cloud_sessions::RotateNow;
    let judge = ccc_tests::judge::Judge::start().await;
    let user = strict::user("rotate-now").await;
    let role = strict::role("rotate-now-role").await;
    ccc_tests::leak::secret(&user.secret_access_key);
    let home = tempfile::tempdir().unwrap();
    let paths = cred_store::Paths::under_home(home.path());
    let store = cred_store::TokenStore::new(&paths);
    #[allow(clippy::disallowed_methods)] // when the key was added: any time will do
    let now = std::time::SystemTime::now();
    let kept = cred_store::StoredKey::new(&user.access_key_id, user.secret_access_key.clone().into(), now);
    store.put_access_key("kept", &kept).unwrap();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(home.path().join(".aws/config"), "[profile kept]\nregion = us-east-1\n").unwrap();
    let yaml = format!(
        "cloud_sessions:\n  - name: app\n    session_type: aws\n    region: us-east-1\n    profile: kept\n  - name: deploy\n    session_type: aws\n    region: us-east-1\n    source: app\n    role_arn: {role}\n    session_name: rotating\n  - name: declared\n    session_type: aws\n    region: us-east-1\n    access_key_id: AKIADECLAREDDECLARED\n    secret_access_key: not-rotated-here\n"
    );
    let options = ManagerOptions::default()
        .endpoint_url(judge.url.clone())
        .paths(paths.clone())
        .token_store(store.clone())
        .env(|_| None);
    let m = CloudSessionManager::from_yaml(&yaml, options).await.unwrap();

    // a kept key: a new IAM key, the old one refused, the session answering with the new
    let before = keys_of(&m, "app").await;
    assert_eq!(judged_at(&judge.url, &before), Ok(user.arn()));
    m.rotate_now("app", RotateNow::default()).await.unwrap();
    let new_id = store.access_key("kept").unwrap().unwrap().access_key_id;
    assert_ne!(new_id, user.access_key_id);
    assert_eq!(strict::access_keys(&user.user).await, [new_id]);
    let old = strict::boto3_with_keys(&user.access_key_id, &user.secret_access_key, None);
    assert!(old.as_ref().is_err_and(|e| e.contains("InvalidClientTokenId")), "{old:?}");
    let after = keys_of(&m, "app").await;
    assert_ne!(after.access_key_id(), before.access_key_id(), "the session was renewed");
    assert_eq!(judged_at(&judge.url, &after), Ok(user.arn()));

    // a role: the console's revocation written on the role, then a new session
    let first = keys_of(&m, "deploy").await;
    m.rotate_now("deploy", RotateNow::default().revoking_older_role_sessions()).await.unwrap();
    let iam = aws_sdk_iam::Client::new(&strict::admin_config());
    let role_name = role.rsplit('/').next().unwrap();
    let written = iam
        .get_role_policy()
        .role_name(role_name)
        .policy_name(cloud_sessions::REVOKE_POLICY_NAME)
        .send()
        .await
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&urlencoding_decode(written.policy_document())).unwrap();
    let statement = &doc["Statement"][0];
    assert_eq!(statement["Effect"], "Deny");
    let issued_before = statement["Condition"]["DateLessThan"]["aws:TokenIssueTime"].as_str().unwrap();
    assert!(cred_store::parse_rfc3339(issued_before).is_some(), "{doc}");
    let second = keys_of(&m, "deploy").await;
    assert_ne!(second.access_key_id(), first.access_key_id());
    assert!(judged_at(&judge.url, &second).unwrap().ends_with("/rotating"));

    // declared keys: the caller's to rotate
    let e = m.rotate_now("declared", RotateNow::default()).await.unwrap_err();
    assert!(e.to_string().contains("declared keys are yours to rotate"), "{e}");
}

/// IAM returns policy documents URL-encoded (moto as AWS does); a plain one is taken as is.
fn urlencoding_decode(s: &str) -> String {
    if s.trim_start().starts_with('{') {
        return s.to_owned();
    }
    url::form_urlencoded::parse(format!("d={s}").as_bytes())
        .find(|(k, _)| k == "d")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
