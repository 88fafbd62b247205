//! Everyday AWS set-ups, every command, judged by boto3 calling STS on the strict moto (which
//! refuses a key it never issued, a wrong secret or a session token not the key's) with
//! exactly what ccc printed, exported or served.

use ccc_tests::strict::{self, boto3_caller, boto3_with_keys};

use super::support::{Home, keys_section, stderr, stdout};

/// `ccc ARGS` in `home` against the strict moto, with `envs` on top.
fn ccc(home: &Home, args: &[&str], envs: &[(&str, &str)]) -> assert_cmd::assert::Assert {
    home.ccc().env("AWS_ENDPOINT_URL", strict::endpoint()).envs(envs.iter().copied()).args(args).assert()
}

fn write(home: &Home, file: &str, text: &str) {
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(home.path().join(".aws").join(file), text).unwrap();
}

/// What `ccc creds` printed, as boto3 judges it on the strict endpoint.
fn judge_creds(out: &str) -> Result<String, String> {
    super::support::judge_creds(&strict::endpoint(), out)
}

/// What `ccc env` exported (sh format), as boto3 judges it on the strict endpoint.
fn judge_env(out: &str) -> Result<String, String> {
    super::support::judge_exports(&strict::endpoint(), out)
}

/// The ARN boto3 in a `ccc exec` child sees.
fn exec_caller(home: &Home, profile_args: &[&str], envs: &[(&str, &str)]) -> String {
    let py = ccc_tests::peer("CCC_TEST_PYTHON");
    let mut args = vec!["exec"];
    args.extend_from_slice(profile_args);
    args.extend_from_slice(&["--", &py, "-c", "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])"]);
    let out = ccc(home, &args, envs).success();
    stdout(&out).trim().to_owned()
}

/// The judge is strict: a wrong secret and an unknown key are refused. Every test below that
/// says "works" is judged by this endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_judge_refuses_what_aws_would_refuse() {
    let key = strict::user("judge").await;
    assert_eq!(boto3_with_keys(&key.access_key_id, &key.secret_access_key, None), Ok(key.arn()));
    assert_eq!(boto3_with_keys(&key.access_key_id, "wrong-secret", None), Err("SignatureDoesNotMatch".into()));
    assert_eq!(boto3_with_keys("AKIANEVERISSUED00000", "x", None), Err("InvalidClientTokenId".into()));
}

/// Keys that live only in `~/.aws/credentials` (no config file at all): `[default]` and a
/// named profile serve creds, env, exec and whoami, each judged by the strict endpoint.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_only_in_the_credentials_file_serve_every_command() {
    let (alice, bob) = (strict::user("alice").await, strict::user("bob").await);
    let home = Home::new();
    write(&home, "credentials", &format!("{}\n{}", keys_section("default", &alice), keys_section("work", &bob)));

    let creds = ccc(&home, &["creds"], &[]).success();
    assert_eq!(judge_creds(&stdout(&creds)), Ok(alice.arn()));
    let creds = ccc(&home, &["creds", "--profile", "work"], &[]).success();
    assert_eq!(judge_creds(&stdout(&creds)), Ok(bob.arn()));
    // the same keys with a wrong secret are refused: the judge can fail
    let mut tampered: serde_json::Value = serde_json::from_str(&stdout(&creds)).unwrap();
    tampered["SecretAccessKey"] = "not-the-secret".into();
    assert_eq!(judge_creds(&tampered.to_string()), Err("SignatureDoesNotMatch".into()));

    let env = ccc(&home, &["env", "--profile", "work"], &[]).success();
    assert_eq!(judge_env(&stdout(&env)), Ok(bob.arn()));
    assert_eq!(exec_caller(&home, &[], &[]), alice.arn());
    assert_eq!(exec_caller(&home, &["--profile", "work"], &[]), bob.arn());

    let who = ccc(&home, &["whoami", "-o", "json"], &[]).success();
    let who: serde_json::Value = serde_json::from_str(&stdout(&who)).unwrap();
    assert_eq!(who["arn"], alice.arn());
    assert_eq!(who["user"], alice.user.as_str(), "the IAM user's name, from the ARN");
    assert!(who["identity"].is_null(), "absent is null, not a placeholder: {who}");
    // boto3 reading the same files agrees on who each profile is
    assert_eq!(boto3_caller(home.path(), &[], None), Ok(alice.arn()));
    assert_eq!(boto3_caller(home.path(), &[], Some("work")), Ok(bob.arn()));
}

/// Keys only in the environment (CI): creds, whoami and exec use them, as the SDKs' default
/// chain does; with AWS_PROFILE set too, the environment's keys still win (boto3 agrees), and
/// `--profile` names the profile explicitly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_in_the_environment_come_first_as_in_the_sdks() {
    let (ci, other) = (strict::user("ci").await, strict::user("other").await);
    let home = Home::new();
    let env =
        [("AWS_ACCESS_KEY_ID", ci.access_key_id.as_str()), ("AWS_SECRET_ACCESS_KEY", ci.secret_access_key.as_str())];
    let creds = ccc(&home, &["creds"], &env).success();
    assert_eq!(judge_creds(&stdout(&creds)), Ok(ci.arn()));
    assert_eq!(exec_caller(&home, &[], &env), ci.arn());

    write(&home, "credentials", &keys_section("other", &other));
    let with_profile = [env[0], env[1], ("AWS_PROFILE", "other")];
    let who = ccc(&home, &["whoami", "-o", "json"], &with_profile).success();
    let who: serde_json::Value = serde_json::from_str(&stdout(&who)).unwrap();
    let boto3 = boto3_caller(home.path(), &with_profile, None);
    assert_eq!((who["arn"].as_str().map(str::to_owned), boto3), (Some(ci.arn()), Ok(ci.arn())));
    let named = ccc(&home, &["whoami", "-o", "json", "--profile", "other"], &env).success();
    let named: serde_json::Value = serde_json::from_str(&stdout(&named)).unwrap();
    assert_eq!(named["arn"], other.arn());
}

/// A role profile's settings reach STS: a 4-hour `duration_seconds` gives credentials valid
/// for four hours, `role_session_name` names the session in the ARN STS issued, and the chain
/// is judged by the strict endpoint (the role's keys are refused with another session token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_profile_honours_duration_and_session_name() {
    let base = strict::user("base").await;
    let role = strict::role("Deploy").await;
    let role_name = role.rsplit('/').next().unwrap().to_owned();
    let home = Home::new();
    write(&home, "credentials", &keys_section("base", &base));
    write(
        &home,
        "config",
        &format!(
            "[profile deploy]\nrole_arn = {role}\nsource_profile = base\nrole_session_name = everyday\nduration_seconds = 14400\nexternal_id = partner-7\n"
        ),
    );
    let out = ccc(&home, &["creds", "--profile", "deploy"], &[]).success();
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(judge_creds(&stdout(&out)), Ok(format!("arn:aws:sts::123456789012:assumed-role/{role_name}/everyday")));
    let expires = cred_store::parse_rfc3339(json["Expiration"].as_str().unwrap()).unwrap();
    #[allow(clippy::disallowed_methods)] // the judge's clock is the real one
    let left = expires.duration_since(std::time::SystemTime::now()).unwrap().as_secs();
    assert!((14_000..=14_400).contains(&left), "a 4-hour session, as duration_seconds asks: {left} s left");
    let wrong_token = boto3_with_keys(
        json["AccessKeyId"].as_str().unwrap(),
        json["SecretAccessKey"].as_str().unwrap(),
        Some("not-this-sessions-token"),
    );
    assert_eq!(wrong_token, Err("InvalidClientTokenId".into()));
    // whoami and exec on the same profile are the same role session
    let who = ccc(&home, &["whoami", "-o", "json", "--profile", "deploy"], &[]).success();
    let who: serde_json::Value = serde_json::from_str(&stdout(&who)).unwrap();
    assert_eq!(who["user"], format!("{role_name}/everyday"));
    assert_eq!(exec_caller(&home, &["--profile", "deploy"], &[]), who["arn"].as_str().unwrap());

    // seed 002's solution 2: `ccc session extend` on such a profile, no --hours, gives the
    // profile's own four hours, judged as the role
    let out =
        ccc(&home, &["session", "extend", "--profile", "deploy", "--out", "-", "--format", "json"], &[]).success();
    let extended: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let id = extended["AWS_ACCESS_KEY_ID"].as_str().unwrap();
    // the same duration is the same plan: the profile's own entry serves it (keyed by content)
    assert_eq!(id, json["AccessKeyId"].as_str().unwrap(), "one plan, one entry");
    let judged = boto3_with_keys(
        id,
        extended["AWS_SECRET_ACCESS_KEY"].as_str().unwrap(),
        extended["AWS_SESSION_TOKEN"].as_str(),
    );
    assert_eq!(judged, Ok(format!("arn:aws:sts::123456789012:assumed-role/{role_name}/everyday")));
    let until = extended["AWS_CREDENTIAL_EXPIRATION"].as_str().expect("the expiry is written");
    #[allow(clippy::disallowed_methods)] // the judge's clock is the real one
    let left =
        cred_store::parse_rfc3339(until).unwrap().duration_since(std::time::SystemTime::now()).unwrap().as_secs();
    assert!((14_000..=14_400).contains(&left), "the profile's 4 hours: {left} s left");
}

/// A profile no file has is named, with the files searched and the closest names; exit 3.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_profile_is_named_with_the_closest_ones() {
    let key = strict::user("known").await;
    let home = Home::new();
    write(&home, "credentials", &keys_section("production", &key));
    write(&home, "config", "[profile staging]\nregion = eu-west-1\n");
    let out = ccc(&home, &["creds", "--profile", "prodution"], &[]).code(3);
    let err = stderr(&out);
    assert!(err.contains("no profile prodution") && err.contains("did you mean production"), "{err}");
    assert!(err.contains(".aws/config") && err.contains(".aws/credentials"), "names the files searched: {err}");
    assert!(!err.contains("cognito"), "not the Cognito sign-in's error: {err}");
}

/// `ccc exec` gives the command the profile's credentials and none of ccc's own secrets (the
/// team store's URL and key, the variable the key is read from) nor another credential
/// source's (a `ccc serve` slot's token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_hands_on_credentials_and_none_of_cccs_secrets() {
    let key = strict::user("exec").await;
    let home = Home::new();
    write(&home, "credentials", &keys_section("default", &key));
    let envs = [
        ("CCC_TEAM_KEY", "ENV/MY_TEAM_KEY"),
        ("MY_TEAM_KEY", "c2VjcmV0LXRlYW0ta2V5LW5vdC1mb3ItY2hpbGRyZW4="),
        ("CCC_TEAM_STORE", "postgres://u:team-store-password@127.0.0.1:1/x"),
        ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "serve-slot-token-0123456789"),
        ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds/x"),
    ];
    let out = ccc(&home, &["exec", "--", "env"], &envs).success();
    let child = stdout(&out);
    for (name, value) in envs {
        assert!(!child.contains(&format!("{name}=")) && !child.contains(value), "{name} reached the command");
    }
    assert!(child.contains(&format!("AWS_ACCESS_KEY_ID={}", key.access_key_id)), "{child}");
    assert_eq!(exec_caller(&home, &[], &envs), key.arn());
}

/// `ccc setup-profile` on set-ups it cannot serve: `aws configure` keys, another tool's
/// credential_process, a role profile. Each is refused with exit 1, both files byte for byte
/// as they were, and boto3 still gets the same identity; `--force` replaces another tool's
/// process and keeps its line as a comment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_profile_leaves_what_it_cannot_serve_as_it_was() {
    let pool = ccc_tests::cognito::pool().await;
    let key = strict::user("keep").await;
    let role = strict::role("Keep").await;
    let home = Home::new();
    home.configure(&pool);
    write(&home, "credentials", &keys_section("work", &key));
    let tool = "/usr/local/bin/other-tool creds --account 1";
    let config = std::fs::read_to_string(home.path().join(".aws/config")).unwrap_or_default();
    write(
        &home,
        "config",
        &format!(
            "{config}\n[profile tool]\ncredential_process = {tool}\n\n[profile deploy]\nrole_arn = {role}\nsource_profile = work\n"
        ),
    );
    let files = || {
        let read = |f: &str| std::fs::read(home.path().join(".aws").join(f)).unwrap();
        (read("config"), read("credentials"))
    };
    let before = files();
    // the role boto3 assumes (its session name carries a timestamp: compared without it)
    let role_of = |arn: Result<String, String>| arn.map(|a| a.rsplit_once('/').map(|(r, _)| r.to_owned()).unwrap_or(a));
    let deploy_before = role_of(boto3_caller(home.path(), &[], Some("deploy")));
    assert!(deploy_before.is_ok(), "{deploy_before:?}");
    for (profile, why) in
        [("work", "long-term access keys"), ("tool", "another tool serves it"), ("deploy", "role_arn")]
    {
        let out = ccc(&home, &["setup-profile", "--profile", profile], &[]).code(1);
        assert!(stderr(&out).contains(why), "{profile}: {}", stderr(&out));
        assert!(files() == before, "{profile}: the files changed");
    }
    assert_eq!(boto3_caller(home.path(), &[], Some("work")), Ok(key.arn()));
    assert_eq!(role_of(boto3_caller(home.path(), &[], Some("deploy"))), deploy_before);
    // --force replaces another tool's process, its line kept as a comment
    ccc(&home, &["setup-profile", "--profile", "tool", "--force"], &[]).success();
    let text = std::fs::read_to_string(home.path().join(".aws/config")).unwrap();
    assert!(
        text.contains(&format!("# credential_process = {tool} ; replaced by `ccc setup-profile --force`")),
        "{text}"
    );
    assert_eq!(std::fs::read(home.path().join(".aws/credentials")).unwrap(), before.1, "the keys are untouched");
}

/// No secret is shown or taken from argv: a profile's app client secret inside `config get
/// profiles`, a team store URL's password (refused on argv, hidden by `config get`), and the
/// one-use codes of sign-up and password reset (stdin or the terminal, never `--code`).
#[test]
fn secrets_are_never_shown_nor_taken_from_argv() {
    let home = Home::new();
    std::fs::create_dir_all(home.path().join(".ccc")).unwrap();
    std::fs::write(
        home.path().join(".ccc/config.json"),
        r#"{"region": "us-east-1", "profiles": {"dev": {"app_client_id": "abc", "app_client_secret": "per-profile-app-secret-1"}}}"#,
    )
    .unwrap();
    let shown = stdout(&home.ccc().args(["config", "get", "profiles"]).assert().success());
    assert!(shown.contains("abc") && !shown.contains("per-profile-app-secret-1"), "{shown}");
    let url = "postgres://team:team-password-on-argv@db.example/creds";
    let refused = home.ccc().args(["config", "set", "team_store", url]).assert().code(1);
    assert!(stderr(&refused).contains("--value-stdin"), "{}", stderr(&refused));
    assert!(!std::fs::read_to_string(home.path().join(".ccc/config.json")).unwrap().contains("team-password"));
    home.ccc()
        .args(["config", "set", "team_store", "--value-stdin"])
        .write_stdin(format!("{url}\n"))
        .assert()
        .success();
    let shown = stdout(&home.ccc().args(["config", "get", "team_store"]).assert().success());
    assert!(shown.contains("db.example") && !shown.contains("team-password-on-argv"), "{shown}");
    for command in ["confirm-sign-up", "confirm-forgot-password"] {
        home.ccc().args([command, "--username", "u", "--code", "123456"]).assert().code(2);
    }
}

/// A role STS refuses (the source user may not assume it) is a refusal, not an outage: exit
/// 1 with STS's code and operation, one error and one hint, no library log line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_assume_role_is_a_refusal_not_an_outage() {
    let nobody = strict::user_allowed("nobody", false).await;
    let role = strict::role("Partner").await;
    let home = Home::new();
    write(&home, "credentials", &keys_section("base", &nobody));
    write(
        &home,
        "config",
        &format!("[profile partner]\nrole_arn = {role}\nsource_profile = base\nexternal_id = wrong\n"),
    );
    for args in [&["creds", "--profile", "partner"][..], &["whoami", "--profile", "partner"][..]] {
        let out =
            home.ccc().env("AWS_ENDPOINT_URL", strict::endpoint()).env_remove("RUST_LOG").args(args).assert().code(1);
        let err = stderr(&out);
        assert!(err.contains("AccessDenied") && err.contains("AssumeRole"), "{args:?}: {err}");
        assert!(!err.contains("WARN") && !err.contains("retry"), "{args:?}: {err}");
        assert!(err.lines().count() <= 2, "{args:?}: {err}");
    }
}

/// An endpoint that accepts connections and never answers: every command that talks to AWS
/// ends on its own with an error naming the wait, within its bound (each AWS operation 45 s
/// at most, retries included; a command's few operations in sequence their sum).
#[test]
fn every_command_ends_against_an_endpoint_that_never_answers() {
    let hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", hole.local_addr().unwrap());
    // accepted and held, never read nor answered
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in hole.incoming().flatten() {
            held.push(c);
        }
    });
    let home = Home::new();
    write(&home, "credentials", "[base]\naws_access_key_id = AKIABLACKHOLE0000001\naws_secret_access_key = s\n");
    write(&home, "config", "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = base\n");
    let commands: &[&[&str]] = &[
        &["whoami", "--profile", "base"],
        &["permissions", "--profile", "base"],
        &["resources", "--profile", "base", "--region", "us-east-1"],
        &["history", "--profile", "base"],
        &["creds", "--profile", "role"],
        &["env", "--profile", "role"],
        &["exec", "--profile", "role", "--", "true"],
        &["session", "extend", "--profile", "base"],
    ];
    let started = std::time::Instant::now();
    let children: Vec<_> = commands
        .iter()
        .map(|args| {
            let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("ccc"));
            c.args(*args)
                .env_clear()
                .env("HOME", home.path())
                .env("PATH", "/usr/bin:/bin")
                .env("AWS_ENDPOINT_URL", &url)
                .env("CCC_NO_PROMPT", "1")
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped());
            (args, c.spawn().unwrap())
        })
        .collect();
    let bound = std::time::Duration::from_secs(120);
    for (args, mut child) in children {
        // waited for within the bound: a command that hangs is killed and fails the test
        while child.try_wait().unwrap().is_none() && started.elapsed() < bound {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            panic!("{args:?} was still waiting after {bound:?}");
        }
        let out = child.wait_with_output().unwrap();
        let took = started.elapsed();
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{args:?} cannot succeed: {err}");
        assert!(took < bound, "{args:?} ran {took:?}");
        assert!(err.contains("error"), "{args:?} ends with an error: {err}");
    }
}

/// A role profile whose STS does not answer: the error names the operation, the hint the
/// endpoint asked (not the profile, which is fine), and no library log line is printed.
#[test]
fn a_role_profile_whose_sts_is_down_names_the_call_and_the_endpoint() {
    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", refused.local_addr().unwrap());
    drop(refused);
    let home = Home::new();
    write(&home, "credentials", "[base]\naws_access_key_id = AKIADOWN000000000001\naws_secret_access_key = s\n");
    write(&home, "config", "[profile r]\nrole_arn = arn:aws:iam::123456789012:role/R\nsource_profile = base\n");
    let out = home
        .ccc()
        .env("AWS_ENDPOINT_URL", &url)
        .env_remove("RUST_LOG")
        .args(["creds", "--profile", "r"])
        .assert()
        .code(4);
    let err = stderr(&out);
    assert!(err.contains("AssumeRole") && err.contains(&url), "{err}");
    assert!(!err.contains("WARN") && !err.contains("[profile r]") && err.lines().count() <= 2, "{err}");
}

/// `ccc session extend` in CI, with keys only in the environment: GetSessionToken is signed
/// with them (the strict endpoint accepts it, and refuses it with a wrong secret).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_extend_uses_the_environments_keys() {
    let ci = strict::user("extend").await;
    let home = Home::new();
    let env =
        [("AWS_ACCESS_KEY_ID", ci.access_key_id.as_str()), ("AWS_SECRET_ACCESS_KEY", ci.secret_access_key.as_str())];
    let out = ccc(&home, &["session", "extend", "--hours", "12", "--out", "-"], &env).success();
    let text = stdout(&out);
    assert!(text.contains("AWS_SESSION_TOKEN") && !text.contains(&ci.secret_access_key), "{text}");
    let wrong = [env[0], ("AWS_SECRET_ACCESS_KEY", "not-the-secret")];
    let refused = ccc(&home, &["session", "extend", "--hours", "12", "--out", "-"], &wrong).failure();
    assert!(stderr(&refused).contains("SignatureDoesNotMatch"), "{}", stderr(&refused));
}
