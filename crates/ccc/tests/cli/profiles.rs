//! Every kind of AWS user with ccc alone: any profile, SSO without the AWS CLI, ccc exec
//! and env, sign-up and password resets, several users on one machine.

use ccc_tests::cognito::{PASSWORD, pool};
use ccc_tests::peer;

use crate::support::{Home, sso_ccc, sso_home, stderr, stdout};

/// An ordinary AWS profile (keys ccc did not write) works with every command that needs
/// credentials; `--profile` and AWS_PROFILE mean the same; `ccc env` and `ccc exec` hand the
/// profile's credentials and region to other tools, boto3 judging, on the strict moto (a real
/// IAM user's key; a key it never issued is refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_profile_works_and_exec_env_hand_on_fresh_credentials() {
    let user = ccc_tests::strict::user("plain").await;
    let (key_id, secret) = (user.access_key_id.as_str(), user.secret_access_key.as_str());
    let home = Home::new().with_env("AWS_ENDPOINT_URL", &ccc_tests::strict::endpoint());
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        format!("[plain]\naws_access_key_id = {key_id}\naws_secret_access_key = {secret}\n"),
    )
    .unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile plain]\nregion = eu-west-2\n\n[profile deploy]\nrole_arn = arn:aws:iam::123456789012:role/Deploy\nsource_profile = plain\nrole_session_name = ccc-test\n",
    )
    .unwrap();
    ccc_tests::leak::secret(secret);

    // credential_process for any profile: keys as they are, a role assumed through moto's STS
    let creds: serde_json::Value =
        serde_json::from_str(&stdout(&home.ccc().args(["creds", "--profile", "plain"]).assert().success())).unwrap();
    assert_eq!((creds["Version"].as_i64(), creds["AccessKeyId"].as_str()), (Some(1), Some(key_id)));
    let role: serde_json::Value =
        serde_json::from_str(&stdout(&home.ccc().args(["creds", "--profile", "deploy"]).assert().success())).unwrap();
    assert!(role["SessionToken"].is_string() && role["Expiration"].is_string(), "{role}");
    assert_ne!(role["AccessKeyId"], creds["AccessKeyId"]);
    // the assumed role is kept across runs (moto issues new keys for every AssumeRole), and
    // boto3, through a process profile, gets those very credentials
    let again: serde_json::Value =
        serde_json::from_str(&stdout(&home.ccc().args(["creds", "--profile", "deploy"]).assert().success())).unwrap();
    assert_eq!(again["AccessKeyId"], role["AccessKeyId"], "served from the cache, not a second AssumeRole");
    let ccc_path = assert_cmd::cargo::cargo_bin("ccc");
    let config = std::fs::read_to_string(home.path().join(".aws/config")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        format!(
            "{config}\n[profile deploy-proc]\ncredential_process = {} creds --profile deploy\n",
            ccc_path.display()
        ),
    )
    .unwrap();
    let (method, key) =
        ccc_tests::boto3_profile_credentials(home.path(), &peer("CCC_TEST_AWS_ENDPOINT"), "deploy-proc");
    assert_eq!((method.as_str(), key.as_str()), ("custom-process", role["AccessKeyId"].as_str().unwrap()));
    // static keys are never copied into the cache; an edited role profile is a new entry
    let cached: Vec<String> = std::fs::read_dir(home.path().join(".ccc/cache"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap_or_default())
        .collect();
    assert!(!cached.iter().any(|c| c.contains(secret)), "static keys copied into the cache");
    std::fs::write(
        home.path().join(".aws/config"),
        config.replace("role_session_name = ccc-test", "role_session_name = ccc-test-2"),
    )
    .unwrap();
    let edited: serde_json::Value =
        serde_json::from_str(&stdout(&home.ccc().args(["creds", "--profile", "deploy"]).assert().success())).unwrap();
    assert_ne!(edited["AccessKeyId"], role["AccessKeyId"], "an edited profile must not get the old role's credentials");

    let json_of = |a: &assert_cmd::assert::Assert| -> serde_json::Value { serde_json::from_str(&stdout(a)).unwrap() };
    let who = json_of(&home.ccc().args(["whoami", "--profile", "plain", "-o", "json"]).assert().success());
    assert_eq!(who["profile"], "plain");
    // no ccc sign-in on this profile: the user is the one the ARN names, the key's own
    assert_eq!(who["arn"].as_str(), Some(user.arn().as_str()), "{who}");
    assert_eq!(who["user"].as_str(), Some(user.user.as_str()), "{who}");
    let via_env = json_of(&home.ccc().env("AWS_PROFILE", "plain").args(["whoami", "-o", "json"]).assert().success());
    assert_eq!(via_env["arn"], who["arn"]);

    // the profile's region, unless --region or AWS_REGION says otherwise
    let vars = json_of(&home.ccc().args(["env", "--profile", "plain", "--format", "json"]).assert().success());
    assert_eq!(vars["AWS_ACCESS_KEY_ID"], key_id);
    assert_eq!(vars["AWS_REGION"], "eu-west-2");
    assert_eq!(vars["CCC_PROFILE"], "plain");
    let vars = json_of(
        &home
            .ccc()
            .args(["env", "--profile", "plain", "--format", "json", "--region", "ap-south-1"])
            .assert()
            .success(),
    );
    assert_eq!(vars["AWS_REGION"], "ap-south-1");
    let vars = json_of(
        &home
            .ccc()
            .env("AWS_REGION", "sa-east-1")
            .args(["env", "--profile", "plain", "--format", "json"])
            .assert()
            .success(),
    );
    assert_eq!(vars["AWS_DEFAULT_REGION"], "sa-east-1");
    let sh = stdout(&home.ccc().args(["env", "--profile", "plain"]).assert().success());
    assert!(sh.contains(&format!("export AWS_SECRET_ACCESS_KEY='{secret}'")), "{sh}");

    // exec: boto3 in the child finds the credentials in its environment, in the region
    let py = peer("CCC_TEST_PYTHON");
    let probe = "import boto3, json; s = boto3.Session(); c = s.get_credentials(); print(json.dumps([c.method, c.access_key, s.region_name, boto3.client('sts').get_caller_identity()['Arn']]))";
    let ran = home.ccc().args(["exec", "--profile", "plain", "--", &py, "-c", probe]).assert().success();
    let got: Vec<String> = serde_json::from_str(&stdout(&ran)).unwrap();
    assert_eq!(got[..3], ["env", key_id, "eu-west-2"]);
    assert_eq!(got[3], user.arn(), "STS answered through those credentials: {got:?}");
    // the command's exit code is ccc's
    home.ccc().args(["exec", "--profile", "plain", "--", "sh", "-c", "exit 7"]).assert().code(7);
    // as a shell: 127 for a command not found, 126 for a file that cannot be executed
    let missing = home.ccc().args(["exec", "--profile", "plain", "--", "no-such-command-ccc"]).assert().code(127);
    assert!(stderr(&missing).contains("no-such-command-ccc: command not found"), "{}", stderr(&missing));
    let not_executable = home.path().join("notes.txt");
    std::fs::write(&not_executable, "not a program\n").unwrap();
    let refused =
        home.ccc().args(["exec", "--profile", "plain", "--", not_executable.to_str().unwrap()]).assert().code(126);
    assert!(stderr(&refused).contains("cannot run"), "{}", stderr(&refused));
    // nesting is refused, not silent
    let ccc_path = assert_cmd::cargo::cargo_bin("ccc");
    let nested = home
        .ccc()
        .args(["exec", "--profile", "plain", "--", ccc_path.to_str().unwrap(), "env", "--profile", "plain"])
        .assert()
        .code(1);
    assert!(stderr(&nested).contains("already exported"), "{}", stderr(&nested));
}

/// An IAM Identity Center user needs nothing but ccc: `ccc sso login` (device flow, no AWS
/// CLI anywhere), then credential_process, accounts, roles and `ccc exec` serve the profile,
/// and boto3 reads the token ccc wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sso_user_signs_in_with_ccc_alone() {
    let (stub, home) = sso_home(1, "[profile corp-dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Developer\nregion = eu-west-1\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n").await;
    let ccc = |args: &[&str]| sso_ccc(&home, &stub, args);
    let login = ccc(&["sso", "login", "--profile", "corp-dev", "--no-browser"]).assert().success();
    let err = stderr(&login);
    assert!(err.contains("ABCD-EFGH") && err.contains("https://corp.awsapps.com/start/#/device"), "{err}");
    assert!(stdout(&login).contains("Signed in to https://corp.awsapps.com/start"), "{}", stdout(&login));
    assert_eq!(stub.calls("CreateToken"), 2, "one pending poll, then the token");

    // credential_process for the SSO profile
    let creds: serde_json::Value =
        serde_json::from_str(&stdout(&ccc(&["creds", "--profile", "corp-dev"]).assert().success())).unwrap();
    assert!(creds["AccessKeyId"].as_str().unwrap().starts_with("ASIASTUB"), "{creds}");
    assert_eq!(creds["Version"], 1);
    // what the user may assume
    let accounts: serde_json::Value = serde_json::from_str(&stdout(
        &ccc(&["sso", "accounts", "--profile", "corp-dev", "-o", "json"]).assert().success(),
    ))
    .unwrap();
    assert_eq!(accounts, serde_json::json!([{"account_id": "111122223333", "name": "dev"}]));
    let roles = ccc(&["sso", "roles", "--profile", "corp-dev"]).assert().success();
    assert_eq!(stdout(&roles), "111122223333  Developer\n");
    // more accounts than the portal's page: every page is read
    stub.set_accounts(&[("111122223333", "dev"), ("222233334444", "test"), ("333344445555", "prod")]);
    let before = stub.calls("ListAccounts");
    let roles = ccc(&["sso", "roles", "--profile", "corp-dev"]).assert().success();
    assert_eq!(stdout(&roles), "111122223333  Developer\n222233334444  Developer\n333344445555  Developer\n");
    assert_eq!(stub.calls("ListAccounts") - before, 2, "three accounts, two to a page");
    // ccc exec hands the role credentials and the profile's region to boto3
    let py = peer("CCC_TEST_PYTHON");
    let probe = "import boto3, json; s = boto3.Session(); c = s.get_credentials(); print(json.dumps([c.method, c.access_key, s.region_name]))";
    let ran = ccc(&["exec", "--profile", "corp-dev", "--", &py, "-c", probe]).assert().success();
    let got: Vec<String> = serde_json::from_str(&stdout(&ran)).unwrap();
    assert_eq!(got[0], "env");
    assert!(got[1].starts_with("ASIASTUB") && got[2] == "eu-west-1", "{got:?}");
    // boto3 on its own reads the SSO cache ccc wrote and gets role credentials with it
    let (method, key) = ccc_tests::boto3_profile_credentials(home.path(), &stub.url, "corp-dev");
    assert_eq!(method, "sso");
    assert!(key.starts_with("ASIASTUB"), "{key}");
}

/// SSO role credentials are kept by what decides them: a profile edited from one account and
/// role to another serves the new one at once (never the old), `ccc sso status` names what is
/// served, and a sign-out (`ccc logout` on the profile) tells the portal and leaves nothing to
/// serve: the next `ccc creds` is a refusal, never the old credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_credentials_follow_the_profile_and_end_with_the_sign_out() {
    let session = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n";
    let profile = |account: &str, role: &str| {
        format!("[profile p]\nsso_session = corp\nsso_account_id = {account}\nsso_role_name = {role}\n\n{session}")
    };
    let (stub, home) = sso_home(0, &profile("111111111111", "ReadOnly")).await;
    let ccc = |args: &[&str]| sso_ccc(&home, &stub, args);
    ccc(&["sso", "login", "--profile", "p", "--no-browser"]).assert().success();
    let secret = |args: &[&str]| -> String {
        let out: serde_json::Value = serde_json::from_str(&stdout(&ccc(args).assert().success())).unwrap();
        out["SecretAccessKey"].as_str().unwrap().to_owned()
    };
    // the stub's secret names the role and account it was issued for
    assert_eq!(secret(&["creds", "--profile", "p"]), "stub-secret-ReadOnly-111111111111");
    std::fs::write(home.path().join(".aws/config"), profile("222222222222", "Admin")).unwrap();
    assert_eq!(secret(&["creds", "--profile", "p"]), "stub-secret-Admin-222222222222", "the edited profile's account");
    let status: serde_json::Value =
        serde_json::from_str(&stdout(&ccc(&["sso", "status", "--profile", "p", "-o", "json"]).assert().success()))
            .unwrap();
    assert_eq!(status["account_/_role"], "222222222222 / Admin", "status names what is served: {status}");
    // sign out: the portal is told, and nothing that sign-in gave is served again
    let out = ccc(&["logout", "--profile", "p"]).assert().success();
    assert!(stdout(&out).contains("Signed out of https://corp.awsapps.com/start"), "{}", stdout(&out));
    assert_eq!(stub.calls("Logout"), 1);
    let refused = ccc(&["creds", "--profile", "p"]).assert().code(3);
    assert!(stderr(&refused).contains("ccc sso login"), "{}", stderr(&refused));
    assert!(!stdout(&refused).contains("stub-secret"), "never the old credentials");
    // the same through `ccc sso logout` after signing in again
    ccc(&["sso", "login", "--profile", "p", "--no-browser"]).assert().success();
    assert_eq!(secret(&["creds", "--profile", "p"]), "stub-secret-Admin-222222222222");
    ccc(&["sso", "logout", "--profile", "p"]).assert().success();
    assert_eq!(stub.calls("Logout"), 2);
    ccc(&["creds", "--profile", "p"]).assert().code(3);
    // and a sign-out ccc did not make (`aws sso logout` removes the token cache entry): the
    // role credentials that sign-in gave are not served either
    ccc(&["sso", "login", "--profile", "p", "--no-browser"]).assert().success();
    assert_eq!(secret(&["creds", "--profile", "p"]), "stub-secret-Admin-222222222222");
    for f in std::fs::read_dir(home.path().join(".aws/sso/cache")).unwrap() {
        std::fs::remove_file(f.unwrap().path()).unwrap();
    }
    let refused = ccc(&["creds", "--profile", "p"]).assert().code(3);
    assert!(!stdout(&refused).contains("stub-secret"), "never the old credentials");
}

/// Signing in to an `[sso-session]` before any profile uses it (`ccc sso login --sso-session`,
/// as `aws sso login --sso-session` does): accounts and roles are listed from it, and a
/// profile added afterwards is served by boto3 with the token ccc wrote.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sso_session_signs_in_without_a_profile() {
    let session = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n";
    let (stub, home) = sso_home(0, session).await;
    let ccc = |args: &[&str]| sso_ccc(&home, &stub, args);
    // a session that is not there: exit 3, naming the section
    let e = ccc(&["sso", "login", "--sso-session", "nope", "--no-browser"]).assert().code(3);
    assert!(stderr(&e).contains("[sso-session nope]"), "{}", stderr(&e));
    // --profile and --sso-session name two different things: a usage error
    ccc(&["sso", "login", "--sso-session", "corp", "--profile", "x"]).assert().code(2);

    let login = ccc(&["sso", "login", "--sso-session", "corp", "--no-browser", "-o", "json"]).assert().success();
    let login: serde_json::Value = serde_json::from_str(&stdout(&login)).unwrap();
    assert_eq!((&login["sso_session"], &login["profile"]), (&"corp".into(), &serde_json::Value::Null), "{login}");
    let roles = ccc(&["sso", "roles", "--sso-session", "corp"]).assert().success();
    assert_eq!(stdout(&roles), "111122223333  Developer\n");
    // no sign-in again: the token in the cache serves the listing
    assert_eq!(stub.calls("StartDeviceAuthorization"), 1);

    // a profile added later uses the session; boto3 finds the token ccc wrote
    std::fs::write(
        home.path().join(".aws/config"),
        format!("[profile corp-dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Developer\n\n{session}"),
    )
    .unwrap();
    let (method, key) = ccc_tests::boto3_profile_credentials(home.path(), &stub.url, "corp-dev");
    assert_eq!(method, "sso");
    assert!(key.starts_with("ASIASTUB"), "{key}");
}

/// A legacy SSO profile (start URL and region in the profile, no `[sso-session]`) signs in
/// the same way; its token is cached under the start URL, where boto3 looks for a legacy
/// profile's. A second `ccc sso login` keeps a still-valid sign-in (no browser round trip);
/// `--force` replaces it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legacy_sso_profile_signs_in_and_a_valid_sign_in_is_kept() {
    let (stub, home) = sso_home(0, "[profile old-style]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 111122223333\nsso_role_name = Developer\n").await;
    let ccc = |args: &[&str]| sso_ccc(&home, &stub, args);
    ccc(&["sso", "login", "--profile", "old-style", "--no-browser"]).assert().success();
    assert_eq!(stub.calls("StartDeviceAuthorization"), 1);
    let cached = home.path().join(".aws/sso/cache").join(cred_store::cache_file_name("https://corp.awsapps.com/start"));
    assert!(cached.exists(), "a legacy profile's token is keyed by its start URL");
    let (method, key) = ccc_tests::boto3_profile_credentials(home.path(), &stub.url, "old-style");
    assert_eq!(method, "sso");
    assert!(key.starts_with("ASIASTUB"), "{key}");

    let kept = ccc(&["sso", "login", "--profile", "old-style", "--no-browser", "-o", "json"]).assert().success();
    let kept: serde_json::Value = serde_json::from_str(&stdout(&kept)).unwrap();
    assert_eq!(kept["already_signed_in"], true, "{kept}");
    assert_eq!(stub.calls("StartDeviceAuthorization"), 1, "a valid sign-in is not thrown away");
    ccc(&["sso", "login", "--profile", "old-style", "--no-browser", "--force"]).assert().success();
    assert_eq!(stub.calls("StartDeviceAuthorization"), 2);
}

/// A new user needs nothing but ccc: sign-up, confirmation, sign-in; a forgotten password is
/// reset with the code Cognito sends (moto plays Cognito and accepts its codes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_confirm_and_reset_a_forgotten_password() {
    let pool = pool().await;
    let home = Home::new();
    home.configure(&pool);
    // USER_PASSWORD_AUTH: moto checks the password there (not in SRP's proof)
    home.ccc().args(["config", "set", "auth_flow", "password"]).assert().success();
    let signed = home
        .ccc()
        .args(["sign-up", "--username", "newbie", "--attribute", "email=newbie@example.com", "--password-stdin"])
        .write_stdin(format!("{PASSWORD}\n"))
        .assert()
        .success();
    assert!(stdout(&signed).contains("ccc confirm-sign-up --username newbie"), "{}", stdout(&signed));
    // not confirmed yet: exit 3, and the hint names the command that confirms
    let early = home.login("newbie").code(3);
    assert!(stderr(&early).contains("ccc confirm-sign-up"), "{}", stderr(&early));
    // the code comes on stdin, never argv
    home.ccc()
        .args(["confirm-sign-up", "--username", "newbie", "--code-stdin"])
        .write_stdin("123456\n")
        .assert()
        .success();
    home.login("newbie").success();
    // a forgotten password
    let forgot = home.ccc().args(["forgot-password", "--username", "newbie", "-o", "json"]).assert().success();
    let forgot: serde_json::Value = serde_json::from_str(&stdout(&forgot)).unwrap();
    assert_eq!(forgot["username"], "newbie");
    let fresh = "Fresh-Passw0rd-42!";
    ccc_tests::leak::secret(fresh);
    home.ccc()
        .args(["confirm-forgot-password", "--username", "newbie", "--code-stdin", "--password-stdin"])
        .write_stdin(format!("123456\n{fresh}\n"))
        .assert()
        .success();
    let old = home.login("newbie").code(3);
    assert!(stderr(&old).contains("Incorrect username or password"), "{}", stderr(&old));
    home.ccc()
        .args(["login", "--username", "newbie", "--password-stdin"])
        .write_stdin(format!("{fresh}\n"))
        .assert()
        .success();
}

/// Two users in two pools on one machine: the second profile configured gets Cognito
/// settings of its own, and each profile serves its own user.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_pools_two_users_one_machine() {
    let (a, b) = (pool().await, pool().await);
    a.user("alice", true).await;
    b.user("bob", true).await;
    let home = Home::new();
    home.configure(&a); // profile e2e, top-level settings
    home.login("alice").success();
    home.ccc()
        .args(["configure", "--non-interactive", "--region", "us-east-1", "--profile", "b-work"])
        .args(["--user-pool-id", &b.pool_id, "--app-client-id", &b.client_id])
        .args(["--identity-pool-id", &b.identity_pool_id])
        .assert()
        .success();
    home.ccc()
        .args(["login", "--profile", "b-work", "--username", "bob", "--password-stdin"])
        .write_stdin(format!("{PASSWORD}\n"))
        .assert()
        .success();
    let config: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join(".ccc/config.json")).unwrap()).unwrap();
    assert_eq!(config["user_pool_id"], a.pool_id.as_str(), "the first pool stays the default");
    assert_eq!(config["profile"], "e2e");
    assert_eq!(config["profiles"]["b-work"]["user_pool_id"], b.pool_id.as_str());
    for (profile, user) in [("e2e", "alice"), ("b-work", "bob")] {
        let who = home.ccc().args(["whoami", "--profile", profile, "-o", "json"]).assert().success();
        let who: serde_json::Value = serde_json::from_str(&stdout(&who)).unwrap();
        assert_eq!(who["user"], user, "{who}");
        home.ccc().args(["creds", "--profile", profile]).assert().success();
    }
    // a sign-out of one leaves the other signed in
    home.ccc().args(["logout", "--profile", "b-work"]).assert().success();
    home.ccc().args(["creds", "--profile", "e2e"]).assert().success();
    home.ccc().args(["creds", "--profile", "b-work"]).assert().code(3);
}

/// Portal names chosen by whoever administers the portal: quotes, backslashes, newlines,
/// brackets, comment characters, bidi controls, 300 characters, and names that collide. Each
/// written profile is one botocore reads back under the same name with the same account and
/// role; a name once written stays its account's when a colliding account appears later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_populate_names_from_a_hostile_portal_read_back_in_botocore() {
    let session = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n";
    let (stub, home) = sso_home(0, session).await;
    let ccc = |args: &[&str]| sso_ccc(&home, &stub, args);
    ccc(&["sso", "login", "--sso-session", "corp", "--no-browser"]).assert().success();
    let long = "x".repeat(300);
    let hostile: Vec<(String, String)> = [
        ("111111111111", "prod"),
        ("999999999999", "prod\"\""),
        ("888888888888", "prod "),
        ("222222222222", "Bob's sandbox"),
        ("333333333333", "back\\slash"),
        ("444444444444", "new\nline ] = # ;"),
        ("555555555555", "shared services"),
        ("666666666666", "evil\u{202e}dorp"),
        ("777777777777", long.as_str()),
    ]
    .iter()
    .map(|(i, n)| ((*i).to_owned(), (*n).to_owned()))
    .collect();
    let refs: Vec<(&str, &str)> = hostile.iter().map(|(i, n)| (i.as_str(), n.as_str())).collect();
    stub.set_accounts(&refs);
    let out = ccc(&["sso", "populate", "--sso-session", "corp", "-o", "json"]).assert().success();
    let first: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(first["added"].as_array().unwrap().len(), 9, "{first}");
    // botocore's view of every profile: name -> (account, role)
    let botocore = || -> serde_json::Value {
        let probe = "import boto3, json; s = boto3.Session(); full = s._session.full_config['profiles']; \
                     print(json.dumps({p: [v.get('sso_account_id'), v.get('sso_role_name')] for p, v in full.items()}))";
        let out = std::process::Command::new(peer("CCC_TEST_PYTHON"))
            .args(["-c", probe])
            .env_clear()
            .env("HOME", home.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let seen = botocore();
    for name in first["added"].as_array().unwrap() {
        let name = name.as_str().unwrap();
        assert!(seen.get(name).is_some(), "botocore does not read {name:?} back: {seen}");
        assert!(name.chars().count() <= 128 && !name.contains(['\'', '"', '\\', '\u{202e}']), "{name:?}");
    }
    assert_eq!(seen.as_object().unwrap().len(), 9, "no profile lost or merged: {seen}");
    assert_eq!(seen["prod.Developer"], serde_json::json!(["111111111111", "Developer"]));
    // `prod""` and `prod ` both map to `prod-`: the lower account id gets the plain name
    assert_eq!(seen["prod-.Developer"], serde_json::json!(["888888888888", "Developer"]));
    assert_eq!(seen["prod-.Developer.999999999999"], serde_json::json!(["999999999999", "Developer"]));
    assert_eq!(seen["Bob-s-sandbox.Developer"], serde_json::json!(["222222222222", "Developer"]));
    // the portal adds `shared-services`, whose name collides with the existing `shared services`
    // profile: the existing name stays with its account, the newcomer gets the suffix
    let mut more = refs.clone();
    more.insert(0, ("000000000333", "shared-services"));
    stub.set_accounts(&more);
    let out = ccc(&["sso", "populate", "--sso-session", "corp", "-o", "json"]).assert().success();
    let second: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(second["added"], serde_json::json!(["shared-services.Developer.000000000333"]), "{second}");
    let seen = botocore();
    assert_eq!(seen["shared-services.Developer"], serde_json::json!(["555555555555", "Developer"]));
}

/// `ccc sso populate`: a profile per account and role for 600 accounts, through the portal's
/// throttle (the stub refuses calls beyond its rate with 429 + Retry-After, and 429s are
/// injected besides), nothing else in the file touched, `--prune` removes only what it wrote;
/// boto3 reads the profiles and gets role credentials with one of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sso_populate_writes_a_profile_per_role_for_six_hundred_accounts() {
    let session = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n";
    let mine = "# my own profile, and a comment ccc must keep\n[profile mine]\nregion = eu-north-1\n\n";
    let (stub, home) = sso_home(0, &format!("{mine}{session}")).await;
    let ccc = |args: &[&str]| sso_ccc(&home, &stub, args);
    ccc(&["sso", "login", "--sso-session", "corp", "--no-browser"]).assert().success();
    let accounts: Vec<(String, String)> =
        (0..600).map(|n| (format!("{:012}", 100_000_000_000u64 + n), format!("team-{n:03}"))).collect();
    let refs: Vec<(&str, &str)> = accounts.iter().map(|(i, n)| (i.as_str(), n.as_str())).collect();
    stub.set_accounts(&refs);
    // an existing profile with a name populate would take is left alone: the newcomer gets
    // the account id after the name instead
    let config = std::fs::read_to_string(home.path().join(".aws/config")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        format!("{config}\n[profile team-007.Developer]\nregion = ap-south-1\n"),
    )
    .unwrap();
    stub.rate_limit(100);
    stub.inject("ListAccountRoles", 429, "TooManyRequestsException", 5);
    let t = std::time::Instant::now();
    let out = ccc(&["sso", "populate", "--sso-session", "corp", "--max-rps", "80", "-o", "json"]).assert().success();
    let elapsed = t.elapsed();
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["assignments"], 600);
    assert_eq!(report["added"].as_array().unwrap().len(), 600);
    assert!(report["added"].as_array().unwrap().contains(&"team-007.Developer.100000000007".into()), "{report}");
    let calls = stub.calls("ListAccounts") + stub.calls("ListAccountRoles");
    assert!(calls >= 600 + 6 + 5, "every account's roles were listed, 5 after a 429: {calls}");
    // paced: 80 calls a second at most, so the stub's 100 a second was never hit
    assert_eq!(stub.throttled(), 0, "the pace kept under the portal's throttle");
    assert!(elapsed >= std::time::Duration::from_millis(600 * 1000 / 80), "{elapsed:?} for {calls} calls");

    let text = std::fs::read_to_string(home.path().join(".aws/config")).unwrap();
    assert!(text.starts_with(mine), "the user's own lines come first, untouched");
    assert!(
        text.contains("[profile team-007.Developer]\nregion = ap-south-1\n"),
        "the existing profile is kept as it was"
    );
    // botocore's parser is the judge: 600 populated profiles (+ mine + the one left alone)
    let probe = "import boto3, json; s = boto3.Session(); ps = s.available_profiles; \
                 full = s._session.full_config['profiles']; \
                 print(json.dumps([len(ps), sum(1 for p in ps if full[p].get('sso_session') == 'corp'), full['team-599.Developer']]))";
    let out = std::process::Command::new(peer("CCC_TEST_PYTHON"))
        .args(["-c", probe])
        .env("HOME", home.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen[0], 602);
    assert_eq!(seen[1], 600);
    assert_eq!(seen[2]["sso_account_id"], "100000000599");
    assert_eq!(seen[2]["sso_role_name"], "Developer");
    assert_eq!(seen[2]["region"], "us-east-1");
    let (method, key) = ccc_tests::boto3_profile_credentials(home.path(), &stub.url, "team-599.Developer");
    assert_eq!(method, "sso");
    assert!(key.starts_with("ASIASTUB"), "{key}");

    // two accounts go away: --prune removes their profiles and nothing else
    stub.set_accounts(&refs[..598]);
    stub.rate_limit(1000);
    let out = ccc(&["sso", "populate", "--sso-session", "corp", "--prune", "--max-rps", "500", "-o", "json"])
        .assert()
        .success();
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["removed"], serde_json::json!(["team-598.Developer", "team-599.Developer"]));
    let text = std::fs::read_to_string(home.path().join(".aws/config")).unwrap();
    assert!(
        text.starts_with(mine) && text.contains("[profile team-007.Developer]") && text.contains("[sso-session corp]")
    );
    assert!(!text.contains("team-599"));
}
