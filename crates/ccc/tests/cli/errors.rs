//! Every failure as a person reads it: the rendered errors of real runs against moto, the
//! front, the fault proxy and a garbage server, as one reviewed snapshot.

use std::process::Command as StdCommand;

use assert_cmd::Command;
use ccc_tests::cognito::{PASSWORD, pool};
use ccc_tests::peer;

use crate::support::{Home, expire_cognito_sign_in, stderr};

/// What a person sees on stderr when a command fails, with the run's ports, ids and paths
/// replaced by stable names so it can be reviewed as a snapshot.
struct Rendered {
    code: i32,
    text: String,
}

fn rendered(a: assert_cmd::assert::Assert, replace: &[(&str, &str)]) -> Rendered {
    let out = a.get_output();
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    ccc_tests::leak::child_log(&text);
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    // moto's and the SDK's random ids
    let mut cleaned = Vec::new();
    for line in text.lines() {
        cleaned.push(
            line.split(' ')
                .map(|w| {
                    let digits = w.chars().filter(char::is_ascii_digit).count();
                    if let Some(after) = w.strip_prefix("http://127.0.0.1:") {
                        let rest: String = after.chars().skip_while(char::is_ascii_digit).collect();
                        format!("http://127.0.0.1:PORT{rest}")
                    } else if w.len() > 20 && digits > 6 && !w.contains('/') {
                        "ID".to_owned()
                    } else {
                        w.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    Rendered { code: out.status.code().unwrap_or(-1), text: cleaned.join("\n") }
}

/// The rendered error of a failing run: a checked exit code, at most two lines, none of the
/// SDK's internals and no secret the test knows.
fn check(r: &Rendered, code: i32, secrets: &[&str]) -> String {
    assert_eq!(r.code, code, "exit code of a run that said: {:?}", r.text);
    assert!(!r.text.is_empty(), "a failure says something");
    let lines: Vec<&str> = r.text.lines().collect();
    assert!((1..=2).contains(&lines.len()), "at most two lines without -v: {}", r.text);
    assert!(lines[0].starts_with("error: "), "{}", r.text);
    for internal in ["ServiceError(", "Unhandled(", "SdkBody", "DispatchFailure(", "ConnectorError", "extensions"] {
        assert!(!r.text.contains(internal), "{internal} in {}", r.text);
    }
    for s in secrets {
        assert!(!r.text.contains(s), "a secret in {}", r.text);
    }
    for l in &lines {
        assert!(l.chars().count() <= 400, "a long line: {l}");
    }
    format!("exit {}\n{}", r.code, r.text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_reads_in_two_lines_with_a_hint_that_exists() {
    let pool = pool().await;
    pool.user("renee", true).await;
    // the lenient moto: its HTTP 500 pages and missing log groups are the failures rendered
    // here (no claim that a credential works is made against it)
    let moto = peer("CCC_TEST_AWS_ENDPOINT");
    let home = Home::new().with_env("AWS_ENDPOINT_URL", &moto);
    let path = home.path().display().to_string();
    let refused = ccc_tests::proxy::refused_url().await;
    let ids: [(&str, &str); 5] =
        [(&moto, "MOTO"), (&refused, "REFUSED"), (&pool.pool_id, "POOL"), (&pool.client_id, "CLIENT"), (&path, "HOME")];
    let secrets = [PASSWORD, "moto-secret"];
    let run = |c: &mut Command| rendered(c.env_remove("RUST_LOG").assert(), &ids);
    let mut snaps: Vec<(&str, String)> = Vec::new();

    // missing configuration
    snaps.push(("whoami before configure", check(&run(home.ccc().arg("whoami")), 3, &secrets)));
    // a malformed config file (left as it was)
    std::fs::create_dir_all(home.path().join(".ccc")).unwrap();
    std::fs::write(home.path().join(".ccc/config.json"), "{ not json").unwrap();
    snaps.push(("malformed config.json", check(&run(home.ccc().arg("whoami")), 1, &secrets)));
    std::fs::remove_file(home.path().join(".ccc/config.json")).unwrap();
    home.configure(&pool);
    // a wrong password (moto checks passwords in USER_PASSWORD_AUTH, not SRP's proof)
    home.ccc().args(["config", "set", "auth_flow", "password"]).assert().success();
    let mut wrong = home.ccc();
    wrong.args(["login", "--username", "renee", "--password-stdin"]).write_stdin("Wrong-Passw0rd!\n");
    snaps.push(("login with a wrong password", check(&run(&mut wrong), 3, &secrets)));
    let mut nobody = home.ccc();
    nobody.args(["login", "--username", "no-such-user", "--password-stdin"]).write_stdin(format!("{PASSWORD}\n"));
    snaps.push(("login of a user who does not exist", check(&run(&mut nobody), 1, &secrets)));
    home.ccc().args(["config", "set", "auth_flow", "srp"]).assert().success();
    // a malformed credentials file: nothing written, the line named
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(home.path().join(".aws/credentials"), "[default]\njust words\n").unwrap();
    let mut login = home.ccc();
    login.args(["login", "--username", "renee", "--password-stdin"]).write_stdin(format!("{PASSWORD}\n"));
    snaps.push(("login with a malformed credentials file", check(&run(&mut login), 1, &secrets)));
    std::fs::remove_file(home.path().join(".aws/credentials")).unwrap();
    home.login("renee").success();

    // moto answers LookupEvents with an HTTP 500 page and has no trail log group
    snaps.push(("history against moto", check(&run(home.ccc().arg("history")), 4, &secrets)));
    // with the trail's log group there, the partial answer says so in one line and shows it
    let group = ccc_tests::cognito::unique("trail-logs");
    let made = StdCommand::new(peer("CCC_TEST_PYTHON"))
        .args(["-c", "import boto3, sys; boto3.client('logs', region_name='us-east-1').create_log_group(logGroupName=sys.argv[1])", &group])
        .env("AWS_ENDPOINT_URL", &moto)
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "moto-secret")
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let partial = home.ccc().env_remove("RUST_LOG").args(["history", "--log-group", &group]).assert().success();
    let note = stderr(&partial);
    assert_eq!(note.lines().count(), 1, "{note}");
    assert!(
        note.starts_with("note: CloudTrail LookupEvents: HTTP 500: an HTML page, not an AWS answer; showing the trail's CloudWatch Logs instead"),
        "{note}"
    );

    // -v adds the causes, -vv the kind, request id and endpoint; still no internals
    for flag in ["-v", "-vv"] {
        let r = run(home.ccc().args([flag, "history"]));
        for internal in ["ServiceError(", "Unhandled(", "SdkBody", "DispatchFailure("] {
            assert!(!r.text.contains(internal), "{flag}: {internal} in {}", r.text);
        }
        assert!(!r.text.contains(PASSWORD));
        if flag == "-vv" {
            assert!(r.text.contains("kind: Unavailable (exit 4)"), "{}", r.text);
            // the SDK retried LookupEvents' 500s: each retry is listed, in plain words
            assert!(r.text.contains("retry: attempt 1 failed (TransientError); retried after"), "{}", r.text);
        } else {
            assert!(r.text.contains("caused by:"), "{}", r.text);
        }
    }
    // moto answers SimulatePrincipalPolicy with an HTTP 500
    let mut perms = home.ccc();
    perms.args(["permissions", "--test", "s3:GetObject"]);
    snaps.push(("permissions --test against moto", check(&run(&mut perms), 4, &secrets)));

    // nobody listening at the endpoint
    let mut who = home.ccc();
    who.env("AWS_ENDPOINT_URL", &refused).arg("whoami");
    snaps.push(("whoami with nothing at the endpoint", check(&run(&mut who), 4, &secrets)));

    // something at the endpoint answering XML garbage with a 200
    let (garbage, _garbage_task) = ccc_tests::serve::serve(|_req: hyper::Request<hyper::body::Incoming>| async {
        let body = http_body_util::Full::new(hyper::body::Bytes::from_static(
            b"<?xml version=\"1.0\"?><garbage><x/></garbage>",
        ));
        Ok::<_, std::convert::Infallible>(hyper::Response::new(body))
    })
    .await;
    let mut who = home.ccc();
    who.env("AWS_ENDPOINT_URL", &garbage).arg("whoami");
    let r = run(&mut who);
    let r = Rendered { code: r.code, text: r.text.replace(&garbage, "GARBAGE") };
    snaps.push(("whoami where the endpoint answers XML garbage", check(&r, 1, &secrets)));
    // at every verbosity: no internals, no secret
    for flag in ["-v", "-vv", "-vvv"] {
        for endpoint in [&garbage, &refused] {
            let r = run(home.ccc().env("AWS_ENDPOINT_URL", endpoint).args([flag, "whoami"]));
            for internal in ["ServiceError(", "Unhandled(", "SdkBody", "DispatchFailure("] {
                let error_part: String =
                    r.text.lines().filter(|l| !l.contains(" DEBUG ") && !l.contains(" TRACE ")).collect();
                assert!(!error_part.contains(internal), "{flag}: {internal} in {}", r.text);
            }
            assert!(!r.text.contains(PASSWORD));
        }
    }

    // the service refuses (AccessDenied), throttles
    let front = ccc_tests::front::Front::start().await;
    let with_front = |front: &ccc_tests::front::Front| {
        let mut c = home.ccc();
        c.env("AWS_ENDPOINT_URL", &front.url).arg("whoami");
        c
    };
    front.inject("sts:GetCallerIdentity", None, 1, ccc_tests::front::Fault::Error(403, "AccessDenied"));
    let r = run(&mut with_front(&front));
    let r = Rendered { code: r.code, text: r.text.replace(&front.url, "FRONT") };
    snaps.push(("whoami refused by STS", check(&r, 1, &secrets)));
    front.inject("sts:GetCallerIdentity", None, 100, ccc_tests::front::Fault::Error(400, "ThrottlingException"));
    let r = run(&mut with_front(&front));
    let r = Rendered { code: r.code, text: r.text.replace(&front.url, "FRONT") };
    snaps.push(("whoami throttled by STS", check(&r, 4, &secrets)));

    // a user who signed up but never confirmed (USER_PASSWORD_AUTH: moto checks it there)
    home.ccc().args(["config", "set", "auth_flow", "password"]).assert().success();
    pool.admin
        .sign_up()
        .client_id(&pool.client_id)
        .username("unconfirmed-signup")
        .password(PASSWORD)
        .send()
        .await
        .unwrap();
    let mut signup = home.ccc();
    signup.args(["login", "--username", "unconfirmed-signup", "--password-stdin"]).write_stdin(format!("{PASSWORD}\n"));
    snaps.push(("login of a user who never confirmed the sign-up", check(&run(&mut signup), 3, &secrets)));
    home.ccc().args(["config", "set", "auth_flow", "srp"]).assert().success();
    // a declared session whose keys STS does not know, checked where nothing answers
    let declared = home.path().join("declared.yaml");
    std::fs::write(
        &declared,
        "cloud_sessions:\n  - name: ci\n    session_type: aws\n    region: us-east-1\n    access_key_id: AKIAEXAMPLEEXAMPLE01\n    secret_access_key: ENV/CI_SECRET\n",
    )
    .unwrap();
    let mut check_sessions = home.ccc();
    check_sessions.env("AWS_ENDPOINT_URL", &refused).env("CI_SECRET", "moto-secret").args([
        "sessions",
        "check",
        "--config",
        &declared.display().to_string(),
    ]);
    let r = run(&mut check_sessions);
    assert_ne!(r.code, 0, "{}", r.text);
    snaps.push(("sessions check where nothing answers", format!("exit {}\n{}", r.code, r.text)));

    // an unknown AWS error code: the service's words, no guess
    let fresh_front = ccc_tests::front::Front::start().await;
    fresh_front.inject("sts:GetCallerIdentity", None, 1, ccc_tests::front::Fault::Error(400, "SomethingNewException"));
    let r = run(&mut with_front(&fresh_front));
    let r = Rendered { code: r.code, text: r.text.replace(&fresh_front.url, "FRONT") };
    snaps.push(("whoami answered with a code nobody knows", check(&r, 1, &secrets)));

    // more commands, each failing the way a new user meets it
    pool.user("unconfirmed", false).await;
    let mut unconfirmed = home.ccc();
    unconfirmed.args(["login", "--username", "unconfirmed", "--password-stdin"]).write_stdin("Temp-Passw0rd!\n");
    snaps.push((
        "login of a user who must choose a password, with no terminal",
        check(&run(&mut unconfirmed), 3, &secrets),
    ));
    snaps.push((
        "configure with a region that is not one",
        check(&run(home.ccc().args(["configure", "--non-interactive", "--region", "Mars"])), 1, &secrets),
    ));
    snaps.push((
        "config get of a key never set",
        check(&run(home.ccc().args(["config", "get", "nothing"])), 1, &secrets),
    ));
    snaps.push((
        "sso status of a profile without SSO settings",
        check(&run(home.ccc().args(["sso", "status", "--profile", "e2e"])), 3, &secrets),
    ));
    let yaml = home.path().join("sessions.yaml");
    std::fs::write(&yaml, "cloud_sessions:\n  - name: a\n    session_type: aws\n    regoin: us-east-1\n").unwrap();
    snaps.push((
        "sessions list of a YAML with a typo",
        check(&run(home.ccc().args(["sessions", "list", "--config", &yaml.display().to_string()])), 1, &secrets),
    ));
    let mut oauth = home.ccc();
    oauth.args(["oauth", "token", "--issuer", &refused, "--client-id", "c"]);
    snaps.push(("oauth token of a provider never signed in to", check(&run(&mut oauth), 3, &secrets)));
    snaps.push((
        "resources with nothing at the endpoint",
        check(
            &run(home.ccc().env("AWS_ENDPOINT_URL", &refused).args(["resources", "--regions", "us-east-1"])),
            4,
            &secrets,
        ),
    ));

    // an expired sign-in whose refresh token the pool no longer accepts
    pool.admin.admin_user_global_sign_out().user_pool_id(&pool.pool_id).username("renee").send().await.unwrap();
    expire_cognito_sign_in(&home, "e2e");
    snaps.push(("creds after the sign-in was revoked", check(&run(home.ccc().arg("creds")), 3, &secrets)));

    // a stalled sign-in service: the budget holds
    let proxy = ccc_tests::proxy::FaultProxy::start(&moto).await;
    proxy.fail_next(&[ccc_tests::proxy::TcpFault::Stall(std::time::Duration::from_secs(30)); 8]);
    home.ccc().args(["config", "set", "attempt_timeout_seconds", "1"]).assert().success();
    let mut stalled = home.ccc();
    stalled.env("AWS_ENDPOINT_URL", &proxy.url).args(["creds", "--timeout", "3"]);
    let r = run(&mut stalled);
    let r = Rendered { code: r.code, text: r.text.replace(&proxy.url, "PROXY") };
    snaps.push(("creds against a stalled service", check(&r, 4, &secrets)));

    // the rest of the commands
    snaps.push((
        "setup-profile with a name that is not one",
        check(&run(home.ccc().args(["setup-profile", "--profile", "bad[name]"])), 1, &secrets),
    ));
    snaps.push((
        "sso ensure of a profile without SSO settings",
        check(&run(home.ccc().args(["sso", "ensure", "--profile", "e2e"])), 3, &secrets),
    ));
    let mut oauth_login = home.ccc();
    oauth_login.args(["oauth", "login", "--issuer", &refused, "--client-id", "c", "--no-browser", "--timeout", "5"]);
    snaps.push(("oauth login with nothing at the issuer", check(&run(&mut oauth_login), 4, &secrets)));
    let mut oauth_refresh = home.ccc();
    oauth_refresh.args(["oauth", "refresh", "--issuer", &refused, "--client-id", "c"]);
    snaps.push(("oauth refresh of a provider never signed in to", check(&run(&mut oauth_refresh), 3, &secrets)));
    // Cognito saying the password must be reset (moto never does: the front answers for it)
    fresh_front.inject(
        "unknown:InitiateAuth",
        None,
        1,
        ccc_tests::front::Fault::Error(400, "PasswordResetRequiredException"),
    );
    let mut reset = home.ccc();
    reset
        .env("AWS_ENDPOINT_URL", &fresh_front.url)
        .args(["login", "--username", "renee", "--password-stdin"])
        .write_stdin(format!("{PASSWORD}\n"));
    snaps.push(("login of a user who must reset the password", check(&run(&mut reset), 3, &secrets)));
    snaps.push((
        "sso refresh of a profile without SSO settings",
        check(&run(home.ccc().args(["sso", "refresh", "--profile", "e2e"])), 3, &secrets),
    ));
    // (revoking a provider never signed in to has nothing to do: it succeeds)
    home.ccc().args(["oauth", "revoke", "--issuer", &refused, "--client-id", "c"]).assert().success();
    let elsewhere = Home::new();
    snaps.push(("logout before configure", check(&run(elsewhere.ccc().arg("logout")), 3, &secrets)));
    // a local file problem: the config directory is a file
    std::fs::write(elsewhere.path().join(".ccc"), "not a directory").unwrap();
    let r = rendered(
        elsewhere.ccc().env_remove("RUST_LOG").args(["config", "set", "region", "us-east-1"]).assert(),
        &[(&elsewhere.path().display().to_string(), "HOME2")],
    );
    snaps.push(("config set where the config directory is a file", check(&r, 1, &secrets)));

    let all: String = snaps.iter().map(|(name, s)| format!("== {name}\n{s}\n")).collect();
    insta::assert_snapshot!("every_failure", all);
}

/// Each hint names the command that fixes the failure the user met: an OAuth sign-in the
/// provider revoked is renewed by `ccc oauth login NAME` (not the Cognito `ccc login`), and
/// `ccc resources` on a keys profile whose caller STS will not name asks for `--user` or
/// `--all` (not an internal parameter).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_hint_names_the_command_that_fixes_it() {
    let home = Home::new();
    let issuer = peer("CCC_TEST_OIDC_ISSUER");
    let path = home.path().display().to_string();
    let mut snaps: Vec<(&str, String)> = Vec::new();

    // an OAuth sign-in the provider revoked behind ccc's back
    home.ccc().args(["oauth", "add", "corp", "--issuer", &issuer, "--client-id", "ccc-public"]).assert().success();
    crate::oauth::oauth_login_with(&home, "hint-ulla", &["corp"]).await;
    let store = cred_store::TokenStore::new(&cred_store::Paths::under_home(home.path()));
    let stored = store.get(&cred_store::TokenKey::new("oauth", &issuer, "ccc-public")).unwrap().unwrap();
    let refresh = stored.refresh_token.clone().expect("a refresh token");
    ccc_tests::leak::secret(core_types::ExposeSecret::expose_secret(&refresh));
    ccc_tests::oidc::public_client().await.revoke(&refresh, true).await.expect("the provider revokes");
    crate::support::expire_stored_oauth_tokens(&home);
    let r =
        rendered(home.ccc().env_remove("RUST_LOG").args(["oauth", "token", "corp"]).assert(), &[(&issuer, "ISSUER")]);
    let text = check(&r, 3, &[core_types::ExposeSecret::expose_secret(&refresh)]);
    assert!(text.contains("`ccc oauth login corp`") && !text.contains("`ccc login"), "{text}");
    snaps.push(("oauth token after the provider revoked the sign-in", text));

    // a keys profile (only in ~/.aws/credentials) whose STS refuses to name the caller
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        "[work]\naws_access_key_id = AKIAEXAMPLEHINTS0001\naws_secret_access_key = hint-secret\n",
    )
    .unwrap();
    let front = ccc_tests::front::Front::start().await;
    front.inject("sts:GetCallerIdentity", None, 1, ccc_tests::front::Fault::Error(403, "AccessDenied"));
    let r = rendered(
        home.ccc()
            .env_remove("RUST_LOG")
            .env("AWS_ENDPOINT_URL", &front.url)
            .args(["resources", "--profile", "work", "--regions", "us-east-1"])
            .assert(),
        &[(&front.url, "FRONT"), (&path, "HOME")],
    );
    let text = check(&r, 1, &["hint-secret"]);
    assert!(text.contains("--user NAME") && text.contains("--all") && !text.contains("show_all"), "{text}");
    snaps.push(("resources on a keys profile whose caller STS will not name", text));

    let all: String = snaps.iter().map(|(name, s)| format!("== {name}\n{s}\n")).collect();
    insta::assert_snapshot!("every_hint", all);
}
