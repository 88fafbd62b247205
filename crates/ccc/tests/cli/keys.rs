//! `ccc keys`: an IAM user's long-term key kept sealed in ccc's token store instead of
//! `~/.aws/credentials` (aws-vault's model). Judged by boto3 through the profile against the
//! strict endpoint (GetSessionToken sessions of the kept key, minted and checked by the judge),
//! and by moto with authentication on for rotation: the old key refused
//! (`InvalidClientTokenId`), the new one accepted, and IAM holding exactly the kept key.

use ccc_tests::strict;

use crate::support::{Home, stderr, stdout};

/// A home whose `[default]` holds `user`'s plaintext keys (as `aws configure` writes them).
fn home_with_keys(user: &strict::UserKey) -> Home {
    let home = Home::new();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        format!(
            "# keys\n[default]\naws_access_key_id = {}\naws_secret_access_key = {}\n\n[other]\naws_access_key_id = AKIAOTHEROTHEROTHER1\naws_secret_access_key = left-alone\n",
            user.access_key_id, user.secret_access_key
        ),
    )
    .unwrap();
    std::fs::write(home.path().join(".aws/config"), "[default]\nregion = us-east-1\n").unwrap();
    home
}

/// boto3 through profile `default`, its STS call judged by this process's judge.
fn boto3_default(home: &Home) -> Result<String, String> {
    strict::boto3_caller_at(&ccc_tests::judge::shared_url(), home.path(), &[], Some("default"))
}

/// The kept key's id, from `ccc keys list -o json`.
fn kept_id(home: &Home) -> String {
    let out = stdout(&home.ccc().args(["keys", "list", "-o", "json"]).assert().success());
    let rows: serde_json::Value = serde_json::from_str(&out).unwrap();
    rows[0]["access_key_id"].as_str().unwrap().to_owned()
}

/// The user's keys as IAM has them.
async fn iam_keys(user: &str) -> Vec<String> {
    strict::access_keys(user).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_key_serves_sessions_rotates_and_leaves_no_secret_in_the_files() {
    let user = strict::user("keys").await;
    ccc_tests::leak::secret(&user.secret_access_key);
    let home = home_with_keys(&user);

    // import: one lossless edit of each file, the secret only in the store
    home.ccc().args(["keys", "import", "default"]).assert().success();
    let credentials = std::fs::read_to_string(home.path().join(".aws/credentials")).unwrap();
    assert!(
        !credentials.contains(&user.secret_access_key) && !credentials.contains(&user.access_key_id),
        "{credentials}"
    );
    assert!(credentials.contains("# keys") && credentials.contains("left-alone"), "the rest kept: {credentials}");
    let config = std::fs::read_to_string(home.path().join(".aws/config")).unwrap();
    assert!(config.contains("region = us-east-1") && config.contains("creds --profile default"), "{config}");

    // boto3 through the profile: a GetSessionToken session of the kept key, as the user
    assert_eq!(boto3_default(&home), Ok(user.arn()));
    let served = stdout(&home.ccc().args(["creds", "--profile", "default"]).assert().success());
    let served: serde_json::Value = serde_json::from_str(&served).unwrap();
    assert!(served["SessionToken"].as_str().is_some_and(|t| !t.is_empty()), "a session, not the key: {served}");
    assert_ne!(served["AccessKeyId"], user.access_key_id.as_str());
    // `ccc exec` (the aws-vault user's `aws-vault exec`): the command gets the session
    let probe = "import boto3; print(boto3.client('sts', region_name='us-east-1').get_caller_identity()['Arn'])";
    let python = ccc_tests::peer("CCC_TEST_PYTHON");
    let ran = stdout(&home.ccc().args(["exec", "--", python.as_str(), "-c", probe]).assert().success());
    assert_eq!(ran.trim(), user.arn());

    // list: ids, ages, rotations; never a secret
    let table = stdout(&home.ccc().args(["keys", "list"]).assert().success());
    assert!(table.contains("default") && table.contains(&user.access_key_id) && table.contains("never"), "{table}");
    assert!(!table.contains(&user.secret_access_key));
    assert_eq!(kept_id(&home), user.access_key_id);

    // rotate: the old key is refused by IAM's judge, the new one serves the profile
    let said = stderr(&home.ccc().args(["keys", "rotate", "default"]).assert().success());
    let new_id = kept_id(&home);
    assert_ne!(new_id, user.access_key_id, "{said}");
    assert_eq!(iam_keys(&user.user).await, [new_id], "exactly the kept key in IAM");
    let old = strict::boto3_with_keys(&user.access_key_id, &user.secret_access_key, None);
    assert!(old.as_ref().is_err_and(|e| e.contains("InvalidClientTokenId")), "{old:?}");
    assert_eq!(boto3_default(&home), Ok(user.arn()), "the profile works with the new key");
    let table = stdout(&home.ccc().args(["keys", "list"]).assert().success());
    assert!(!table.contains("never"), "a last rotation is shown: {table}");

    // add refuses a profile whose keys are still in the file; remove forgets a kept key
    let e = home.ccc().args(["keys", "add", "other", "--stdin"]).write_stdin("AKIAX\nsecret\n").assert().failure();
    assert!(stderr(&e).contains("ccc keys import other"), "{}", stderr(&e));
    home.ccc().args(["keys", "remove", "default"]).assert().success();
    let out = stdout(&home.ccc().args(["keys", "list", "-o", "json"]).assert().success());
    assert_eq!(out.trim(), "[]");
}

/// A rotation killed between any two steps (the process aborts, as `kill -9` would) leaves a
/// key that works, and the next rotation finishes or undoes it: IAM then holds exactly the
/// kept key (no orphan, never more than IAM's two). Two rotations at once are one after the
/// other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_cut_at_any_step_leaves_a_working_key_and_no_orphan() {
    let user = strict::user("rotate-cut").await;
    ccc_tests::leak::secret(&user.secret_access_key);
    let home = home_with_keys(&user);
    home.ccc().args(["keys", "import", "default"]).assert().success();
    for step in ["journaled", "created", "journaled-new", "accepted", "stored", "deleted"] {
        let cut = home.ccc().args(["keys", "rotate", "default"]).env("CCC_TEST_FAILPOINT", step).assert().failure();
        assert!(cut.get_output().status.code().is_none(), "killed at {step}: {}", stderr(&cut));
        // what the cut left works
        assert_eq!(boto3_default(&home), Ok(user.arn()), "after a cut at {step}");
        let keys = iam_keys(&user.user).await;
        assert!(!keys.is_empty() && keys.len() <= 2, "after a cut at {step}: {keys:?}");
        // the next rotation finishes or undoes it, then rotates
        let said = stderr(&home.ccc().args(["keys", "rotate", "default"]).assert().success());
        assert_eq!(iam_keys(&user.user).await, [kept_id(&home)], "after a cut at {step}: {said}");
        assert_eq!(boto3_default(&home), Ok(user.arn()));
    }
    // two at once: one after the other, one key at the end
    let (a, b) = (home.ccc(), home.ccc());
    let run = |mut c: assert_cmd::Command| {
        std::thread::spawn(move || c.args(["keys", "rotate", "default"]).assert().success())
    };
    let (ta, tb) = (run(a), run(b));
    ta.join().unwrap();
    tb.join().unwrap();
    assert_eq!(iam_keys(&user.user).await, [kept_id(&home)]);
    assert_eq!(boto3_default(&home), Ok(user.arn()));
}

/// A kept key whose profile names `mfa_serial`: each session needs a code, asked once (here by
/// `ccc login`, as on the terminal), then every process is served that session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_key_with_mfa_asks_once_per_session() {
    let user = strict::user("keys-mfa").await;
    ccc_tests::leak::secret(&user.secret_access_key);
    let home = Home::new();
    home.ccc()
        .args(["keys", "add", "default", "--stdin"])
        .write_stdin(format!("{}\n{}\n", user.access_key_id, user.secret_access_key))
        .assert()
        .success();
    let config = home.path().join(".aws/config");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}mfa_serial = arn:aws:iam::123456789012:mfa/{}\n", user.user)).unwrap();
    assert!(!std::fs::read_to_string(home.path().join(".aws/config")).unwrap().contains(&user.secret_access_key));

    // no code, no terminal: one line naming what to run
    let e = home.ccc().args(["creds", "--profile", "default"]).assert().failure();
    let said = stderr(&e);
    assert!(
        said.contains("the kept key's session needs a code") && said.contains("ccc login --profile default"),
        "{said}"
    );
    // the code given once; then every process is served the session without asking
    home.ccc().args(["login", "--profile", "default", "--password-stdin"]).write_stdin("123456\n").assert().success();
    home.ccc().args(["creds", "--profile", "default"]).assert().success();
    assert_eq!(boto3_default(&home), Ok(user.arn()));
}

/// `ccc console`: a role profile's session goes to the federation endpoint with a chosen
/// duration; long-term keys (plaintext or kept) become a federated user's session first
/// (GetFederationToken), without one. Judged by a federation endpoint written from AWS's
/// protocol that checks each session against STS through the judge; a session with a wrong
/// secret is refused by it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_opens_as_any_profile() {
    use ccc_tests::federation_stub::FederationStub;
    let user = strict::user("console").await;
    let role = strict::role("console-role").await;
    ccc_tests::leak::secret(&user.secret_access_key);
    let stub = FederationStub::start(&ccc_tests::judge::shared_url()).await;
    let home = Home::new().with_env("CCC_FEDERATION_ENDPOINT", &stub.url);
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        format!(
            "[plain]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            user.access_key_id, user.secret_access_key
        ),
    )
    .unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        format!("[profile deploy]\nsource_profile = plain\nrole_arn = {role}\nrole_session_name = console\n"),
    )
    .unwrap();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let open = |args: &[&str]| {
        let run = home.ccc().args(["console", "--print"]).args(args).assert().success();
        // the trace log (RUST_LOG=trace) holds neither the session sent nor the sign-in token
        let log = stderr(&run);
        assert!(!log.contains("sessionKey") && !log.contains("SigninToken"), "{log}");
        stdout(&run).trim().to_owned()
    };

    // a role session: SessionDuration chosen, the role's true ARN, the page asked
    let url = open(&["--profile", "deploy", "--region", "eu-west-1"]);
    ccc_tests::leak::secret(url.rsplit("SigninToken=").next().unwrap());
    let went = http.get(&url).send().await.unwrap();
    assert_eq!(went.status(), 302);
    assert_eq!(went.headers()["location"], "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1");
    let login = stub.logins().pop().unwrap();
    let role_name = role.rsplit('/').next().unwrap();
    assert_eq!(login.arn, format!("arn:aws:sts::123456789012:assumed-role/{role_name}/console"));
    assert_eq!((login.duration, login.issuer.as_str()), (Some(43_200), "ccc"));
    // a sign-in token works once
    assert_eq!(http.get(&url).send().await.unwrap().status(), 400);

    // long-term keys: a federated user's session, no SessionDuration (AWS refuses one)
    let url = open(&["--profile", "plain", "--destination", "https://console.aws.amazon.com/s3/home"]);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 302);
    let login = stub.logins().pop().unwrap();
    assert_eq!(login.arn, "arn:aws:sts::123456789012:federated-user/ccc-plain");
    assert_eq!((login.duration, login.destination.as_str()), (None, "https://console.aws.amazon.com/s3/home"));

    // a kept key: the same, from the store
    home.ccc().args(["keys", "import", "plain"]).assert().success();
    let url = open(&["--profile", "plain"]);
    assert_eq!(http.get(&url).send().await.unwrap().status(), 302);
    assert!(stub.logins().pop().unwrap().arn.ends_with(":federated-user/ccc-plain"));

    // the endpoint's judgement can fail: a role session with a wrong secret is refused
    let served = stdout(&home.ccc().args(["creds", "--profile", "deploy"]).assert().success());
    let served: serde_json::Value = serde_json::from_str(&served).unwrap();
    let session = serde_json::json!({
        "sessionId": served["AccessKeyId"], "sessionKey": "not-the-secret", "sessionToken": served["SessionToken"],
    });
    let mut ask = reqwest::Url::parse(&stub.url).unwrap();
    ask.query_pairs_mut().append_pair("Action", "getSigninToken").append_pair("Session", &session.to_string());
    assert_eq!(http.get(ask).send().await.unwrap().status(), 400);
    assert!(stub.refused().iter().any(|r| r.starts_with("STS refused the session")), "{:?}", stub.refused());
}
