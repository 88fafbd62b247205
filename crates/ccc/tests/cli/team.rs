//! `ccc` on a fleet: machines (homes) sharing one team store on the PostgreSQL peer.

use ccc_tests::peer;
use ccc_tests::team::fresh_database;

use crate::support::{Home, concurrently, expire_stored_oauth_tokens, stderr, stdout};

/// `ccc team key --new FILE` makes a private key file, and refuses to overwrite one.
fn new_key(home: &Home) -> std::path::PathBuf {
    let file = home.path().join("team.key");
    let made = home.ccc().args(["team", "key", "--new"]).arg(&file).assert().success();
    assert!(stderr(&made).contains("CCC_TEAM_KEY"), "{}", stderr(&made));
    let again = home.ccc().args(["team", "key", "--new"]).arg(&file).assert().failure();
    assert!(stderr(&again).contains("team.key"), "{}", stderr(&again));
    ccc_tests::leak::secret(std::fs::read_to_string(&file).unwrap().trim());
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_machine_takes_the_first_ones_sign_in_from_the_team_store() {
    let url = fresh_database("cli_oauth").await;
    let keys = Home::new();
    let key = new_key(&keys);
    let key = key.to_str().unwrap();
    let (a, b) = (
        Home::new().with_env("CCC_TEAM_STORE", &url).with_env("CCC_TEAM_KEY", key),
        Home::new().with_env("CCC_TEAM_STORE", &url).with_env("CCC_TEAM_KEY", key),
    );
    let issuer = peer("CCC_TEST_OIDC_ISSUER");
    let user = format!("team-cli-{}", std::process::id());
    let target = ["--issuer", issuer.as_str(), "--client-id", "ccc-public"];
    crate::oauth::oauth_login_with(&a, &user, &target).await;
    let refreshes = || crate::oauth::grants_for("refresh_token", &user);
    let before = refreshes().await;

    // machine B never signed in: its first calls take A's tokens from the team store
    let args: Vec<&str> = ["oauth", "token"].into_iter().chain(target).collect();
    let on_b = concurrently(&b, &peer("CCC_TEST_AWS_ENDPOINT"), &args, 4).await;
    let printed_by_a = stdout(&a.ccc().args(&args).assert().success());
    for (code, out, err) in &on_b {
        assert_eq!(*code, 0, "{err}");
        assert_eq!(out.trim(), printed_by_a.trim(), "B prints the token A's sign-in got");
    }
    assert!(crate::oauth::provider_accepts(printed_by_a.trim()).await);
    // B's own copy expires: it looks in the team store again before asking the provider
    expire_stored_oauth_tokens(&b);
    assert_eq!(stdout(&b.ccc().args(&args).assert().success()).trim(), printed_by_a.trim());
    assert_eq!(refreshes().await - before, 0, "nothing was refreshed: the fleet's token is valid");

    // what `ccc team status` shows: the entry, its writer, no secret
    let status = b.ccc().args(["--output", "json", "team", "status"]).assert().success();
    let shown: serde_json::Value = serde_json::from_str(&stdout(&status)).unwrap();
    let entries = shown["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{shown}");
    assert_eq!(entries[0]["key"], format!("oauth|{issuer}|ccc-public"));
    assert_eq!(entries[0]["version"], 1);
    assert!(entries[0]["written_by"].as_str().unwrap().starts_with("ccc@"));
    assert!(!stdout(&status).contains(printed_by_a.trim()));
    let table = stdout(&b.ccc().args(["team", "status"]).assert().success());
    assert!(table.contains("v1") && !table.contains(printed_by_a.trim()), "{table}");

    // signing out on one machine signs the fleet out: revoked at the provider, gone from the store
    let revoked = b.ccc().args(["oauth", "revoke"]).args(target).assert().success();
    assert!(stderr(&revoked).contains("every machine of the fleet is signed out"), "{}", stderr(&revoked));
    assert!(!crate::oauth::provider_accepts(printed_by_a.trim()).await, "the fleet's tokens are revoked");
    let empty = stdout(&b.ccc().args(["--output", "json", "team", "status"]).assert().success());
    assert_eq!(serde_json::from_str::<serde_json::Value>(&empty).unwrap()["entries"], serde_json::json!([]));
    // a machine without its own sign-in is told to sign in
    let c = Home::new().with_env("CCC_TEAM_STORE", &url).with_env("CCC_TEAM_KEY", key);
    let failed = c.ccc().args(&args).assert().failure();
    assert!(stderr(&failed).contains("sign"), "{}", stderr(&failed));
    let key_name = format!("oauth|{issuer}|ccc-public");
    let missing = b.ccc().args(["team", "forget", &key_name]).assert().failure();
    assert!(stderr(&missing).contains("ccc team status"), "{}", stderr(&missing));
}

#[test]
fn team_settings_that_cannot_work_are_refused_with_what_to_do() {
    let home = Home::new().with_env("CCC_TEAM_STORE", "postgres://ccc@127.0.0.1:1/none");
    let no_key = home.ccc().args(["team", "status"]).assert().failure();
    assert!(stderr(&no_key).contains("CCC_TEAM_KEY"), "{}", stderr(&no_key));

    let file = home.path().join("loose.key");
    std::fs::write(&file, "AAAA\n").unwrap();
    let loose = Home::new()
        .with_env("CCC_TEAM_STORE", "postgres://ccc@127.0.0.1:1/none")
        .with_env("CCC_TEAM_KEY", file.to_str().unwrap());
    let e = stderr(&loose.ccc().args(["team", "status"]).assert().failure());
    assert!(e.contains("chmod 600") || e.contains("not 32"), "{e}");

    let unset = Home::new()
        .with_env("CCC_TEAM_STORE", "postgres://ccc:hunter2-team@127.0.0.1:1/none")
        .with_env("CCC_TEAM_KEY", "ENV/NO_SUCH_TEAM_KEY");
    let e = stderr(&unset.ccc().args(["team", "status"]).assert().failure());
    assert!(e.contains("NO_SUCH_TEAM_KEY") && !e.contains("hunter2-team"), "{e}");

    // a key that is fine, a server that is not there: unreachable, bounded, no password shown
    let key = tempfile::tempdir().unwrap();
    cred_store::TeamKey::generate().unwrap().write_new(&key.path().join("k")).unwrap();
    let down = Home::new()
        .with_env("CCC_TEAM_STORE", "postgres://ccc:hunter2-team@127.0.0.1:1/none")
        .with_env("CCC_TEAM_KEY", key.path().join("k").to_str().unwrap());
    let t = std::time::Instant::now();
    let e = stderr(&down.ccc().args(["team", "status"]).assert().failure());
    assert!(t.elapsed() < std::time::Duration::from_secs(20), "bounded: {:?}", t.elapsed());
    // refused at once, or (the driver retrying a refused connection; under load the whole
    // listing's deadline may pass first) no answer within the bound
    assert!(
        (e.contains("cannot reach") || e.contains("no answer when connecting") || e.contains("no answer listing"))
            && !e.contains("hunter2-team"),
        "{e}"
    );
}
