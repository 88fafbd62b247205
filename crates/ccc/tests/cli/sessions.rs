//! `ccc sessions`: YAML-declared AWS and Azure sessions, planned and checked.

use crate::support::{Home, concurrently, spawn_sign_in, stderr, stdout};

/// `sessions.yaml` in `home`, holding `yaml`.
pub(crate) fn sessions_file(home: &Home, yaml: impl AsRef<[u8]>) -> std::path::PathBuf {
    let config = home.path().join("sessions.yaml");
    std::fs::write(&config, yaml).unwrap();
    config
}

#[test]
fn sessions_list_and_check() {
    // judged: real IAM users' keys, checked through the strict judge (Home's endpoint)
    let (ci, file_user) = (ccc_tests::strict::user_blocking("ci"), ccc_tests::strict::user_blocking("from-file"));
    ccc_tests::leak::secret(&ci.secret_access_key);
    ccc_tests::leak::secret(&file_user.secret_access_key);
    let home = Home::new();
    let config = sessions_file(
        &home,
        "cloud_sessions:\n  - name: ci\n    session_type: aws\n    region: us-east-1\n    access_key_id: ENV/CI_KEY\n    secret_access_key: ENV/CI_SECRET\n  - name: deploy\n    session_type: aws\n    region: eu-west-1\n    role_arn: arn:aws:iam::123456789012:role/Deploy\n    session_name: ccc\n    source: ci\n  - name: local\n    session_type: aws\n    region: us-east-1\n    profile: from-file\n",
    );
    // the profile session reads ~/.aws/credentials like every AWS tool
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        format!(
            "[from-file]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            file_user.access_key_id, file_user.secret_access_key
        ),
    )
    .unwrap();
    let ccc = |args: &[&str]| {
        let mut c = home.ccc();
        c.env("CI_KEY", &ci.access_key_id).env("CI_SECRET", &ci.secret_access_key).args(args);
        c
    };
    let list = ccc(&["sessions", "list", "--config", config.to_str().unwrap()]).assert().success();
    assert_eq!(stdout(&list), "ci\ndeploy\nlocal\n");
    let check = ccc(&["sessions", "check", "--config", config.to_str().unwrap()]).assert().success();
    let out = stdout(&check);
    assert!(out.contains("ci ") && out.contains("deploy") && out.contains("assumed-role/Deploy/ccc"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("local") && l.contains(" ok ")), "{out}");
    assert!(out.contains(&ci.arn()) && out.contains(&file_user.arn()), "each key is its own user: {out}");
    assert!(!stderr(&check).contains(&ci.secret_access_key) && !stderr(&check).contains(&file_user.secret_access_key));
    std::fs::write(&config, "cloud_sessions:\n  - name: x\n    session_type: aws\n    regon: typo\n").unwrap();
    let bad = ccc(&["sessions", "list", "--config", config.to_str().unwrap()]).assert().code(1);
    assert!(stderr(&bad).contains("cloud_sessions[0]") && stderr(&bad).contains("regon"), "{}", stderr(&bad));
    // `list` plans without building: an SSO profile that does not exist yet, behind a role,
    // lists (in build order) without a network call or a file read; a cycle is named
    let planned = "cloud_sessions:\n  - name: deploy\n    session_type: aws\n    region: us-east-1\n    role_arn: arn:aws:iam::123456789012:role/D\n    session_name: s\n    source: sso\n  - name: sso\n    session_type: aws\n    region: us-east-1\n    sso_profile: not-yet-configured\n";
    std::fs::write(&config, planned).unwrap();
    let list = ccc(&["sessions", "list", "--config", config.to_str().unwrap()]).assert().success();
    assert_eq!(stdout(&list), "sso\ndeploy\n");
    let cycle = planned.replace(
        "sso_profile: not-yet-configured",
        "role_arn: arn:aws:iam::123456789012:role/S\n    session_name: s\n    source: deploy",
    );
    std::fs::write(&config, cycle).unwrap();
    let bad = ccc(&["sessions", "list", "--config", config.to_str().unwrap()]).assert().code(1);
    assert!(
        stderr(&bad).contains("cycle") && stderr(&bad).contains("session deploy → session sso → session deploy"),
        "{}",
        stderr(&bad)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn azure_sessions_check_through_the_managed_identity_endpoint_and_the_chain() {
    use ccc_tests::azure_stub::{FakeAz, ManagedIdentity};
    let home = Home::new();
    let mi = ManagedIdentity::start(3600).await;
    let az = FakeAz::signed_in(3600);
    let config = home.path().join("azure.yaml");
    std::fs::write(
        &config,
        "cloud_sessions:\n  - name: auto\n    session_type: azure\n    subscription_id: sub-9\n  - name: mi\n    session_type: azure\n    use_managed_identity: true\n    client_id: 99999999-aaaa-bbbb-cccc-dddddddddddd\n",
    )
    .unwrap();
    let check = |header: &str| {
        let mut c = home.ccc();
        c.env("PATH", az.path()).env("IDENTITY_ENDPOINT", &mi.endpoint).env("IDENTITY_HEADER", header).args([
            "sessions",
            "check",
            "-o",
            "json",
            "--config",
            config.to_str().unwrap(),
        ]);
        c.assert()
    };
    let ok = check(&mi.header).success();
    let reports: serde_json::Value = serde_json::from_str(&stdout(&ok)).unwrap();
    let by_name = |n: &str| reports.as_array().unwrap().iter().find(|r| r["name"] == n).unwrap().clone();
    let auto = by_name("auto");
    assert_eq!(auto["healthy"], true, "{auto}");
    assert_eq!(auto["credential"], "managed identity");
    assert_eq!(auto["account"], "sub-9");
    assert_eq!(
        auto["chain"],
        serde_json::json!([
            "environment: skipped (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET not set)",
            "workload identity: skipped (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_FEDERATED_TOKEN_FILE not set)",
            "managed identity: answered",
            "azure cli: not tried",
        ])
    );
    assert_eq!(by_name("mi")["chain"], serde_json::json!(["managed identity: answered"]));
    assert_eq!(mi.calls(), 2, "one token per session");
    // a token printed on purpose, as `az account get-access-token` does
    let token = home
        .ccc()
        .env("IDENTITY_ENDPOINT", &mi.endpoint)
        .env("IDENTITY_HEADER", &mi.header)
        .args(["sessions", "token", "--config", config.to_str().unwrap(), "--name", "mi", "-o", "json"])
        .assert()
        .success();
    let token: serde_json::Value = serde_json::from_str(&stdout(&token)).unwrap();
    assert!(token["accessToken"].as_str().unwrap().starts_with("mi-access-token"), "{token}");
    assert!(token["expiresOn"].is_string());
    assert!(az.calls().is_empty(), "the chain stopped at the first answer");
    // tokens never reach the output or the trace log
    assert!(!stdout(&ok).contains("mi-access-token") && !stderr(&ok).contains("mi-access-token"), "{}", stderr(&ok));
    assert!(!stderr(&ok).contains(&mi.header));

    // the tokens are kept between runs: a managed identity that now turns us away is not
    // asked while they are valid (a token of the chain names the cache, one of the single
    // credential names it)
    let kept = check("wrong-header").success();
    let reports: serde_json::Value = serde_json::from_str(&stdout(&kept)).unwrap();
    let by_name = |n: &str| reports.as_array().unwrap().iter().find(|r| r["name"] == n).unwrap().clone();
    assert_eq!(by_name("auto")["credential"], "token cache");
    assert_eq!(by_name("mi")["credential"], "managed identity");
    assert_eq!(mi.calls(), 2, "served from the token store");

    // without them: the chain moves on to the CLI; the session that asked for the managed
    // identity alone fails, and the exit code says so
    std::fs::remove_file(home.path().join(".ccc/tokens.json")).unwrap();
    let bad = check("wrong-header").code(1);
    let reports: serde_json::Value = serde_json::from_str(&stdout(&bad)).unwrap();
    let by_name = |n: &str| reports.as_array().unwrap().iter().find(|r| r["name"] == n).unwrap().clone();
    assert_eq!(by_name("auto")["credential"], "azure cli");
    let mi_report = by_name("mi");
    assert_eq!(mi_report["healthy"], false);
    assert!(mi_report["error"].as_str().unwrap().contains("managed identity: unavailable"), "{mi_report}");
    assert_eq!(az.calls().len(), 1);
    assert!(stderr(&bad).contains("1 session(s) unhealthy"), "{}", stderr(&bad));
}

/// `ccc creds --session` serves a session of a cloud-sessions file as credential_process
/// JSON: it builds only what that session needs (another session's missing variable does
/// not matter), keeps an assumed role across runs, and boto3, through a process profile,
/// gets those credentials.
#[test]
fn creds_serve_a_declared_session() {
    let ci = ccc_tests::strict::user_blocking("ci-serve");
    ccc_tests::leak::secret(&ci.secret_access_key);
    let home = Home::new();
    let config = sessions_file(
        &home,
        "cloud_sessions:\n  - name: ci\n    session_type: aws\n    region: us-east-1\n    access_key_id: ENV/CI_KEY\n    secret_access_key: ENV/CI_SECRET\n  - name: deploy\n    session_type: aws\n    region: us-east-1\n    role_arn: arn:aws:iam::123456789012:role/Deploy\n    session_name: ccc\n    source: ci\n  - name: other\n    session_type: aws\n    region: us-east-1\n    access_key_id: ENV/NOT_SET_ANYWHERE\n    secret_access_key: ENV/NOT_SET_EITHER\n",
    );
    let file = config.to_str().unwrap();
    let ccc = |args: &[&str]| {
        let mut c = home.ccc();
        c.env("CI_KEY", &ci.access_key_id).env("CI_SECRET", &ci.secret_access_key).args(args);
        c
    };
    let json = |a: &assert_cmd::assert::Assert| -> serde_json::Value { serde_json::from_str(&stdout(a)).unwrap() };
    let role = json(&ccc(&["creds", "--session", "deploy", "--sessions-config", file]).assert().success());
    assert_eq!(role["Version"], 1);
    let judged = ccc_tests::strict::boto3_with_keys_at(
        &ccc_tests::judge::shared_url(),
        role["AccessKeyId"].as_str().unwrap(),
        role["SecretAccessKey"].as_str().unwrap(),
        role["SessionToken"].as_str(),
    );
    assert_eq!(judged, Ok("arn:aws:sts::123456789012:assumed-role/Deploy/ccc".to_owned()));
    assert!(role["AccessKeyId"].as_str().unwrap().starts_with("ASIA") && role["Expiration"].is_string(), "{role}");
    // kept across runs: moto would issue new keys for a second AssumeRole
    let again = json(&ccc(&["creds", "--session", "deploy", "--sessions-config", file]).assert().success());
    assert_eq!(again["AccessKeyId"], role["AccessKeyId"]);
    // the same through `ccc sessions creds`
    let same = json(&ccc(&["sessions", "creds", "--config", file, "--name", "deploy"]).assert().success());
    assert_eq!(same["AccessKeyId"], role["AccessKeyId"]);
    // keys from the environment are served as they are
    let keys = json(&ccc(&["creds", "--session", "ci", "--sessions-config", file]).assert().success());
    assert_eq!(keys["AccessKeyId"], ci.access_key_id.as_str());
    // a name the file does not declare; --session without a file; --session with --profile
    let e = ccc(&["creds", "--session", "nope", "--sessions-config", file]).assert().failure();
    assert!(stderr(&e).contains("no cloud session named \"nope\""), "{}", stderr(&e));
    ccc(&["creds", "--session", "deploy"]).assert().code(2);
    ccc(&["creds", "--session", "deploy", "--sessions-config", file, "--profile", "p"]).assert().code(2);

    // boto3 through a process profile (its environment has no CI_KEY: the kept role serves)
    let ccc_path = assert_cmd::cargo::cargo_bin("ccc");
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        format!(
            "[profile deploy]\ncredential_process = {} creds --session deploy --sessions-config {file}\n",
            ccc_path.display()
        ),
    )
    .unwrap();
    let (method, key) =
        ccc_tests::boto3_profile_credentials(home.path(), &ccc_tests::peer("CCC_TEST_AWS_ENDPOINT"), "deploy");
    assert_eq!((method.as_str(), key.as_str()), ("custom-process", role["AccessKeyId"].as_str().unwrap()));
}

/// `ccc session extend` writes what the design's configure_extended_session.py wrote: a
/// `.env.extended` (0600) to `source`, with credentials that last the hours asked for
/// (GetSessionToken for keys, AssumeRole with the duration for a role profile); boto3 run
/// from a shell that sourced it uses them. Session credentials are refused with the reasons;
/// `ccc exec --extended` runs a command under extended credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_extend_writes_an_env_file_boto3_uses() {
    use std::os::unix::fs::PermissionsExt;
    // judged: the verifying front mints GetSessionToken's credentials and checks every
    // signature; the base keys are a real IAM user's of the strict moto
    let judge = ccc_tests::judge::Judge::start().await;
    let user = ccc_tests::strict::user("extend").await;
    let home = Home::new().with_env("AWS_ENDPOINT_URL", &judge.url);
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        format!(
            "[plain]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            user.access_key_id, user.secret_access_key
        ),
    )
    .unwrap();
    let session_json = r#"{"Version": 1, "AccessKeyId": "ASIAPROCESSEXAMPLE01", "SecretAccessKey": "process-secret-1", "SessionToken": "process-token", "Expiration": "2099-01-01T00:00:00Z"}"#;
    std::fs::write(
        home.path().join(".aws/config"),
        format!("[profile plain]\nregion = eu-west-2\n\n[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/Deploy\nsource_profile = plain\n\n[profile temp]\ncredential_process = echo '{session_json}'\n"),
    )
    .unwrap();
    ccc_tests::leak::secret(&user.secret_access_key);
    let ccc = |args: &[&str]| {
        let mut c = home.ccc();
        c.current_dir(home.path()).args(args);
        c
    };
    let json = |a: &assert_cmd::assert::Assert| -> serde_json::Value { serde_json::from_str(&stdout(a)).unwrap() };
    let out = json(&ccc(&["session", "extend", "--profile", "plain", "--hours", "2", "-o", "json"]).assert().success());
    assert_eq!(out["method"], "GetSessionToken");
    let file = home.path().join(".env.extended");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("export AWS_SESSION_TOKEN=") && text.contains("export AWS_REGION='eu-west-2'"), "{text}");
    // the consumer: a shell that sources the file, and boto3 in it
    let probe = "import boto3, json; s = boto3.Session(); c = s.get_credentials(); print(json.dumps([c.method, c.access_key, c.token is not None, s.region_name, s.client('sts').get_caller_identity()['Arn']]))";
    let py = ccc_tests::peer("CCC_TEST_PYTHON");
    let ran = std::process::Command::new("bash")
        .args(["-c", &format!(". {} && exec {py} -c \"{probe}\"", file.display())])
        .env_clear()
        .env("HOME", home.path())
        .env("AWS_ENDPOINT_URL", &judge.url)
        .output()
        .unwrap();
    assert!(ran.status.success(), "{}", String::from_utf8_lossy(&ran.stderr));
    let got: serde_json::Value = serde_json::from_slice(&ran.stdout).unwrap();
    assert_eq!((&got[0], &got[2], &got[3]), (&"env".into(), &true.into(), &"eu-west-2".into()), "{got}");
    assert!(text.contains(got[1].as_str().unwrap()), "boto3 uses the file's key");
    assert_eq!(got[4], user.arn().as_str(), "STS (the judge) takes them as the user's: {got}");
    // an expiry two hours out (GetSessionToken's DurationSeconds)
    let until = time::OffsetDateTime::parse(
        out["valid_until"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let left = until - time::OffsetDateTime::now_utc();
    assert!(left > time::Duration::minutes(110) && left <= time::Duration::minutes(121), "{left}");

    // a role profile: AssumeRole with the duration
    let role = json(
        &ccc(&["session", "extend", "--profile", "deploy", "--hours", "3", "--out", "-", "--format", "json"])
            .assert()
            .success(),
    );
    assert!(role["AWS_ACCESS_KEY_ID"].as_str().unwrap().starts_with("ASIA"), "{role}");
    let until = time::OffsetDateTime::parse(
        role["AWS_CREDENTIAL_EXPIRATION"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert!(until - time::OffsetDateTime::now_utc() > time::Duration::minutes(170), "AssumeRole got the duration");

    // session credentials cannot call GetSessionToken: the reasons and the routes
    let e = ccc(&["session", "extend", "--profile", "temp"]).assert().code(3);
    let err = stderr(&e);
    assert!(
        err.contains("cannot call GetSessionToken with session credentials") && err.contains("profile temp"),
        "{err}"
    );
    assert!(!err.contains("process-secret-1"), "{err}");

    // a command under extended credentials
    let ran =
        ccc(&["exec", "--extended", "--hours", "1", "--profile", "plain", "--", &py, "-c", probe]).assert().success();
    let got: serde_json::Value = serde_json::from_str(&stdout(&ran)).unwrap();
    assert_eq!((&got[0], &got[2]), (&"env".into(), &true.into()), "{got}");
    assert_eq!(got[4], user.arn().as_str(), "{got}");
    assert!(judge.refused().is_empty(), "{:?}", judge.refused());
}

/// `store_type: local` works from the CLI (ccc's token store is passed; `ccc sessions
/// set-secret` fills it from stdin), and `check --watch` runs rounds with a summary line each.
#[test]
fn a_local_store_secret_and_watched_checks() {
    // a real IAM user's key, its secret in the local store; checked by the strict judge
    let app = ccc_tests::strict::user_blocking("local-store");
    let home = Home::new();
    let config = sessions_file(
        &home,
        format!(
            "cloud_sessions:\n  - name: app\n    session_type: aws\n    region: us-east-1\n    access_key_id: {}\n    secret_access_key: SEC/app_secret\nsecrets_manager:\n  cloud_stores:\n    mine:\n      store_type: local\n",
            app.access_key_id
        ),
    );
    let secret = app.secret_access_key.as_str();
    ccc_tests::leak::secret(secret);
    let file = config.to_str().unwrap();
    let missing = home.ccc().args(["sessions", "creds", "--config", file, "--name", "app"]).assert().failure();
    assert!(stderr(&missing).contains("SEC/app_secret"), "{}", stderr(&missing));
    home.ccc().args(["sessions", "set-secret", "app_secret"]).write_stdin(format!("{secret}\n")).assert().success();
    let creds = home.ccc().args(["sessions", "creds", "--config", file, "--name", "app"]).assert().success();
    let creds: serde_json::Value = serde_json::from_str(&stdout(&creds)).unwrap();
    assert_eq!(creds["SecretAccessKey"], secret);
    let watched =
        home.ccc().args(["sessions", "check", "--config", file, "--watch", "1", "--rounds", "2"]).assert().success();
    let out = stdout(&watched);
    assert!(out.contains("round 1: all healthy") && out.contains("round 2: all healthy"), "{out}");
    assert!(!out.contains(secret) && !stderr(&watched).contains(secret));
}

/// `ccc sessions login` for a `use_interactive_browser` Azure session (oidc-provider standing
/// in for an Entra tenant, a headless browser for the person): then `sessions token` and
/// `sessions check` serve it from the kept refresh token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_azure_developer_signs_in_with_the_browser() {
    let home = Home::new();
    let issuer = ccc_tests::peer("CCC_TEST_OIDC_ISSUER");
    let config = home.path().join("azure.yaml");
    std::fs::write(
        &config,
        format!("cloud_sessions:\n  - name: dev\n    session_type: azure\n    tenant_id: ccc-tenant\n    client_id: azure-dev\n    authority_host: {issuer}\n    use_interactive_browser: true\n"),
    )
    .unwrap();
    let file = config.to_str().unwrap();
    let early = home.ccc().args(["sessions", "token", "--config", file, "--name", "dev"]).assert().failure();
    assert!(stderr(&early).contains("not signed in"), "{}", stderr(&early));
    let (login, url) = spawn_sign_in(
        &home,
        &["sessions", "login", "--config", file, "--name", "dev", "--no-browser", "--timeout", "60"],
    );
    assert!(url.starts_with(&format!("{issuer}/ccc-tenant/v2.0/auth")), "{url}");
    ccc_tests::oidc::drive(&url, "azure-erin", "x", None).await.expect("browser sign-in");
    let out = login.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Signed in for session dev"));
    let token = home.ccc().args(["sessions", "token", "--config", file, "--name", "dev"]).assert().success();
    let token = stdout(&token).trim().to_owned();
    ccc_tests::leak::secret(&token);
    assert!(token.len() > 20, "{token}");
    let check = home.ccc().args(["sessions", "check", "--config", file, "-o", "json"]).assert().success();
    let reports: serde_json::Value = serde_json::from_str(&stdout(&check)).unwrap();
    assert_eq!(reports[0]["credential"], "interactive browser", "{reports}");

    // logout forgets the kept access token and the sign-in: the next token needs a sign-in
    let out = home.ccc().args(["sessions", "logout", "--config", file, "--name", "dev"]).assert().success();
    assert!(stdout(&out).contains("Forgot 2 kept entries of session dev"), "{}", stdout(&out));
    let after = home.ccc().args(["sessions", "token", "--config", file, "--name", "dev"]).assert().failure();
    assert!(stderr(&after).contains("not signed in"), "{}", stderr(&after));

    // a machine without a browser: the device flow; the person opens the page elsewhere
    let (login, page) = crate::support::spawn_reading(
        &home,
        &["sessions", "login", "--config", file, "--name", "dev", "--device", "--timeout", "60"],
        |line| line.strip_prefix("(or open ").map(|rest| rest.trim_end_matches(')').to_owned()),
    );
    assert!(page.starts_with(&format!("{issuer}/ccc-tenant/v2.0/")), "{page}");
    ccc_tests::oidc::drive(&page, "azure-erin", "x", None).await.expect("device sign-in");
    let out = login.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let before = ccc_tests::oidc::token_requests("tenant:refresh_token:azure-erin").await;
    let again = home.ccc().args(["sessions", "token", "--config", file, "--name", "dev"]).assert().success();
    let again = stdout(&again).trim().to_owned();
    ccc_tests::leak::secret(&again);
    assert_ne!(again, token, "a new sign-in's token");
    assert_eq!(
        ccc_tests::oidc::token_requests("tenant:refresh_token:azure-erin").await,
        before + 1,
        "redeemed at the provider (Entra's way: one refresh grant per scope set)"
    );
}

/// An Azure CLI session's token is kept between processes (azure_identity runs `az`, seconds
/// each, on every call): the first `ccc sessions token` runs `az`, the next ones, eight at once
/// and one after another, do not; the token store is 0600 and keeps one entry per scope set;
/// a token that is due is renewed by one process for eight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_azure_cli_token_is_kept_between_processes() {
    use ccc_tests::azure_stub::FakeAz;
    use std::os::unix::fs::PermissionsExt;
    let az = FakeAz::signed_in(3600);
    let home = Home::new().with_env("PATH", &az.path());
    let config = home.path().join("azure.yaml");
    std::fs::write(&config, "cloud_sessions:\n  - name: cli\n    session_type: azure\n    use_azure_cli: true\n")
        .unwrap();
    let file = config.to_str().unwrap().to_owned();
    let args = ["sessions", "token", "--config", &file, "--name", "cli"];
    let endpoint = ccc_tests::peer("CCC_TEST_AWS_ENDPOINT");
    let eight = async || {
        let outs = concurrently(&home, &endpoint, &args, 8).await;
        let seen: std::collections::BTreeSet<String> = outs
            .into_iter()
            .map(|(code, out, err)| {
                assert_eq!(code, 0, "{err}");
                out.trim().to_owned()
            })
            .collect();
        assert_eq!(seen.len(), 1, "{seen:?}");
        seen.into_iter().next().unwrap()
    };
    let first = stdout(&home.ccc().args(args).assert().success()).trim().to_owned();
    assert_eq!(first, "az-access-token-1");
    assert_eq!(az.calls().len(), 1);
    assert_eq!(stdout(&home.ccc().args(args).assert().success()).trim(), first, "the kept token");
    assert_eq!(eight().await, first);
    assert_eq!(az.calls().len(), 1, "no second az run while the token is valid: {:?}", az.calls());
    // another scope set is another entry
    let vault = home.ccc().args(args).args(["--scope", "https://vault.azure.net/.default"]).assert().success();
    assert_eq!(stdout(&vault).trim(), "az-access-token-2");
    assert_eq!(az.calls().len(), 2);
    let store = home.path().join(".ccc/tokens.json");
    assert_eq!(std::fs::metadata(&store).unwrap().permissions().mode() & 0o777, 0o600);

    // a token past half its life and inside the refresh window: eight processes at once
    // renew it with one az run
    az.sign_in(6);
    std::fs::remove_file(&store).unwrap();
    home.ccc().args(args).assert().success();
    assert_eq!(az.calls().len(), 3);
    tokio::time::sleep(std::time::Duration::from_secs(4)).await;
    az.sign_in(3600);
    let renewed = eight().await;
    assert_ne!(renewed, first);
    assert_eq!(az.calls().len(), 4, "one renewal for eight processes: {:?}", az.calls());
}
