//! Seed 004's own YAML examples, as the design document writes them: every `.. code-block::
//! yaml` is taken out of the vendored document (`tests/data/seeds/`, byte for byte) and parsed,
//! planned, built and health-checked, nothing in it edited. The AWS sessions answer the strict
//! moto (a real IAM user's keys for the profiles and the environment; the role assumed with
//! them), the Azure service principals the Entra stub over HTTPS. The managed-identity session
//! reads its endpoint from the process environment, so the `ccc` binary checks it
//! (`crates/ccc/tests/cli/sessions.rs`, `the_design_documents_azure_example_checks_with_ccc`).

use std::time::Duration;

use ccc_tests::azure_stub::{Entra, TestCa};
use cloud_sessions::{CloudSessionManager, ManagerOptions};
use core_types::RetryPolicy;

use ccc_tests::seeds::{SEED_004, yaml_examples};

/// The "Good" and "Bad" documents of the credential-management example (one block, two
/// documents, each introduced by its comment).
fn good_and_bad(block: &str) -> (String, String) {
    let at = block.find("    # Bad").expect("the Bad document");
    (block[..at].to_owned(), block[at..].to_owned())
}

#[test]
fn the_seed_is_vendored_byte_for_byte_and_has_six_yaml_examples() {
    let original = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/seeds/004_c12450052a971303.txt");
    if let Ok(text) = std::fs::read_to_string(&original) {
        assert_eq!(text, SEED_004, "tests/data/seeds/ differs from {}", original.display());
    }
    assert_eq!(yaml_examples(SEED_004).len(), 6);
}

#[test]
fn every_yaml_example_of_seed_004_parses_and_plans() {
    let ex = yaml_examples(SEED_004);
    let names = |yaml: &str| -> Vec<String> {
        let parsed = cloud_sessions::parse_config(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        cloud_sessions::plan(yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        parsed.file.cloud_sessions.iter().map(|s| s.name.clone()).collect()
    };
    assert_eq!(names(&ex[0]), ["aws_production", "aws_development", "aws_assumed_role"]);
    assert_eq!(names(&ex[1]), ["azure_production", "azure_service_principal", "azure_managed_identity"]);
    assert_eq!(names(&ex[2]), ["aws_primary", "aws_backup", "azure_primary", "azure_keyvault"]);
    assert_eq!(names(&ex[4]), ["aws_us_east_1", "aws_eu_west_1", "aws_ap_southeast_1"]);
    // the stores link the sessions the configuration example declares (the document's own
    // pairing: "Link cloud sessions to secret stores")
    let linked = format!("{}{}", ex[2], ex[3]);
    let parsed = cloud_sessions::parse_config(&linked).unwrap();
    let stores = &parsed.file.secrets_manager.cloud_stores;
    assert_eq!(stores["aws_secrets"].session_name.as_deref(), Some("aws_primary"));
    assert_eq!(stores["azure_keyvault"].session_name.as_deref(), Some("azure_keyvault"));
    cloud_sessions::plan(&linked).unwrap();
    // alone, the stores name sessions nobody declared: said at the store
    let alone = cloud_sessions::parse_config(&ex[3]).unwrap_err().to_string();
    assert!(alone.contains("secrets_manager.cloud_stores.") && alone.contains("unknown session"), "{alone}");
    // Good: references only, no warning. Bad: the plaintext secret is warned about, unechoed
    let (good, bad) = good_and_bad(&ex[5]);
    let good = cloud_sessions::parse_config(&good).unwrap();
    assert!(good.warnings.is_empty(), "{:?}", good.warnings);
    let bad = cloud_sessions::parse_config(&bad).unwrap();
    assert!(bad.warnings.iter().any(|w| w.contains("client_secret")), "{:?}", bad.warnings);
    assert!(!bad.warnings.iter().any(|w| w.contains("super_secret_password")), "{:?}", bad.warnings);
}

const SP_TENANT: &str = "87654321-4321-4321-4321-210987654321";
const SP_CLIENT: &str = "22222222-3333-4444-5555-666666666666";
const SP_SECRET: &str = "seed-004-sp-secret~never-print";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_004_examples_build_and_their_sessions_answer() {
    use ccc_tests::strict;
    let ex = yaml_examples(SEED_004);
    let (in_files, in_env) = (strict::user("seed-files").await, strict::user("seed-env").await);
    ccc_tests::leak::secret(&in_files.secret_access_key);
    ccc_tests::leak::secret(&in_env.secret_access_key);
    let backup = strict::user("seed-backup").await;
    ccc_tests::leak::secret(&backup.secret_access_key);
    let home = tempfile::tempdir().unwrap();
    let paths = cred_store::Paths::under_home(home.path());
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    let keys = |k: &strict::UserKey| {
        format!("aws_access_key_id = {}\naws_secret_access_key = {}\n", k.access_key_id, k.secret_access_key)
    };
    std::fs::write(
        home.path().join(".aws/credentials"),
        format!("[production]\n{}\n[default]\n{}", keys(&in_files), keys(&in_files)),
    )
    .unwrap();
    // SEC/ values: the local token store
    let store = cred_store::TokenStore::new(&paths);
    let local = cloud_sessions::LocalSecretStore::new(store.clone());
    local.put("azure_client_secret", SP_SECRET.to_owned().into()).unwrap();
    local.put("aws_backup_secret", backup.secret_access_key.clone().into()).unwrap();
    let ca = TestCa::new();
    let entra = Entra::start(&ca, SP_TENANT, SP_CLIENT, SP_SECRET, "unused-assertion").await;
    let env: Vec<(&str, String)> = vec![
        ("AWS_ACCESS_KEY_ID", in_env.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", in_env.secret_access_key.clone()),
        ("AWS_BACKUP_KEY_ID", backup.access_key_id.clone()),
        ("AZURE_SUBSCRIPTION_ID", "sub-seed-004".into()),
        ("AZURE_TENANT_ID", SP_TENANT.into()),
        ("AZURE_CLIENT_ID", SP_CLIENT.into()),
        ("AZURE_CLIENT_SECRET", SP_SECRET.into()),
        ("AZURE_AUTHORITY_HOST", entra.authority.clone()),
    ];
    let options = || {
        let env = env.clone();
        ManagerOptions::default()
            .endpoint_url(strict::endpoint())
            .paths(paths.clone())
            .token_store(store.clone())
            .http_client(ca.client())
            .retry(RetryPolicy::new(1, Duration::from_millis(10)))
            .env(move |k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
    };
    let healthy = async |m: &CloudSessionManager, name: &str| {
        let h = m.check_health(name).await.unwrap();
        assert!(h.healthy, "{name}: {h:?}");
        h
    };

    // AWS: a profile, the environment's keys, and a role assumed with the default chain
    let m = CloudSessionManager::from_yaml(&ex[0], options()).await.unwrap();
    assert_eq!(healthy(&m, "aws_production").await.arn, Some(in_files.arn()));
    assert_eq!(healthy(&m, "aws_development").await.arn, Some(in_env.arn()));
    assert_eq!(
        healthy(&m, "aws_assumed_role").await.arn.as_deref(),
        Some("arn:aws:sts::123456789012:assumed-role/MyRole/dtPyAppFramework-session")
    );
    // Azure: the chain (the environment's service principal) and a declared service principal
    let m = CloudSessionManager::from_yaml(&ex[1], options()).await.unwrap();
    assert_eq!(healthy(&m, "azure_production").await.credential.as_deref(), Some("environment"));
    assert_eq!(healthy(&m, "azure_service_principal").await.credential.as_deref(), Some("service principal"));
    // the configuration example: its key vault session's tenant and client from the environment
    let m = CloudSessionManager::from_yaml(&ex[2], options()).await.unwrap();
    assert_eq!(healthy(&m, "aws_primary").await.arn, Some(in_files.arn()));
    assert_eq!(healthy(&m, "aws_backup").await.arn, Some(backup.arn()));
    healthy(&m, "azure_primary").await;
    assert_eq!(healthy(&m, "azure_keyvault").await.credential.as_deref(), Some("service principal"));
    // three regions of one profile
    let m = CloudSessionManager::from_yaml(&ex[4], options()).await.unwrap();
    for name in ["aws_us_east_1", "aws_eu_west_1", "aws_ap_southeast_1"] {
        assert_eq!(healthy(&m, name).await.arn, Some(in_files.arn()), "{name}");
    }
    assert_eq!(m.aws_session("aws_ap_southeast_1").unwrap().region(), "ap-southeast-1");
    // Good: a service principal from the environment and the store
    let (good, _) = good_and_bad(&ex[5]);
    let m = CloudSessionManager::from_yaml(&good, options()).await.unwrap();
    assert_eq!(healthy(&m, "azure_production").await.credential.as_deref(), Some("service principal"));
    // and the strict judge refuses: the profile's key with another secret is unhealthy
    std::fs::write(
        home.path().join(".aws/credentials"),
        format!(
            "[production]\naws_access_key_id = {}\naws_secret_access_key = not-the-secret\n",
            in_files.access_key_id
        ),
    )
    .unwrap();
    let m = CloudSessionManager::from_yaml(&ex[4], options()).await.unwrap();
    assert!(!m.check_health("aws_us_east_1").await.unwrap().healthy);
}
