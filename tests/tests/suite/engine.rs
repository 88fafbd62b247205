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
