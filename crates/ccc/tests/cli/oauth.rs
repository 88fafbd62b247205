//! `ccc oauth`: sign-in through oidc-provider (a headless browser plays the person), tokens,
//! single-flight refresh across processes, saved providers, revocation judged by the provider.

use ccc_tests::peer;

use crate::support::{Home, concurrently, expire_stored_oauth_tokens, spawn_sign_in, stderr, stdout};

/// Signs `user` in with `ccc oauth login` (the headless browser answers the provider's pages).
async fn oauth_login(home: &Home, user: &str) {
    let issuer = peer("CCC_TEST_OIDC_ISSUER");
    oauth_login_with(home, user, &["--issuer", &issuer, "--client-id", "ccc-public"]).await;
}

/// `ccc oauth login TARGET…` for `user`, the headless browser answering the provider's pages.
pub(crate) async fn oauth_login_with(home: &Home, user: &str, target: &[&str]) {
    let args: Vec<&str> = ["oauth", "login"]
        .into_iter()
        .chain(target.iter().copied())
        .chain(["--no-browser", "--timeout", "60"])
        .collect();
    let (login, url) = spawn_sign_in(home, &args);
    let page = ccc_tests::oidc::drive(&url, user, "x", None).await.expect("browser sign-in");
    assert!(page.contains("close this tab"), "{page}");
    let out = login.wait_with_output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Tokens stored"));
}

/// The provider's count of `grant` token requests for `user` (other tests use other users).
pub(crate) async fn grants_for(grant: &str, user: &str) -> u64 {
    ccc_tests::oidc::token_requests(&format!("{grant}:{user}")).await
}

/// Whether the provider accepts `access` (its userinfo endpoint answers 200).
pub(crate) async fn provider_accepts(access: &str) -> bool {
    let resp = reqwest::Client::new()
        .get(format!("{}/me", peer("CCC_TEST_OIDC_ISSUER")))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    resp.status().is_success()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_spend_one_rotating_refresh_token_once() {
    let home = Home::new();
    let user = "fleet-eight";
    oauth_login(&home, user).await;
    expire_stored_oauth_tokens(&home);
    let issuer = peer("CCC_TEST_OIDC_ISSUER");
    let args = ["oauth", "token", "--issuer", issuer.as_str(), "--client-id", "ccc-public"];
    let before = grants_for("refresh_token", user).await;
    let mut tokens = Vec::new();
    for (code, out, err) in concurrently(&home, &peer("CCC_TEST_AWS_ENDPOINT"), &args, 8).await {
        assert_eq!(code, 0, "{err}");
        let token = out.trim().to_owned();
        ccc_tests::leak::secret(&token);
        tokens.push(token);
    }
    // the provider is the judge: one refresh grant, and every printed token is accepted
    assert_eq!(grants_for("refresh_token", user).await - before, 1, "refresh grants at the provider");
    assert_eq!(grants_for("refresh_token", &format!("{user}:refused")).await, 0);
    for t in &tokens {
        assert!(provider_accepts(t).await, "the provider refuses a printed token");
    }
    // the family is intact: a later refresh (with the rotated token) still works
    let refreshed = home.ccc().args(["oauth", "refresh", "--issuer", &issuer, "--client-id", "ccc-public"]).assert();
    stderr(&refreshed);
    refreshed.success();
    let later = home.ccc().args(&args[..]).assert().success();
    assert!(provider_accepts(stdout(&later).trim()).await);
    assert_eq!(grants_for("refresh_token", user).await - before, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_login_token_refresh_revoke() {
    let home = Home::new();
    let issuer = peer("CCC_TEST_OIDC_ISSUER");
    oauth_login(&home, "dana").await;

    let args = ["--issuer", issuer.as_str(), "--client-id", "ccc-public"];
    let token = home.ccc().args(["oauth", "token"]).args(args).assert().success();
    let access = stdout(&token).trim().to_owned();
    assert!(access.len() > 20, "{access}");
    home.ccc().args(["oauth", "refresh"]).args(args).assert().success();
    let token2 = home.ccc().args(["oauth", "token"]).args(args).assert().success();
    assert_ne!(stdout(&token2).trim(), access, "refresh gave a new access token");
    home.ccc().args(["oauth", "revoke"]).args(args).assert().success();
    let after = home.ccc().args(["oauth", "token"]).args(args).assert().code(3);
    assert!(stderr(&after).contains("ccc oauth login"), "{}", stderr(&after));
}

/// Whether the provider's introspection endpoint (RFC 7662, asked as the confidential test
/// client) says `token` is active: the provider judges revocation, not our store.
async fn provider_says_active(token: &str) -> bool {
    let issuer = peer("CCC_TEST_OIDC_ISSUER");
    let discovery: serde_json::Value =
        reqwest::get(format!("{issuer}/.well-known/openid-configuration")).await.unwrap().json().await.unwrap();
    let answer: serde_json::Value = reqwest::Client::new()
        .post(discovery["introspection_endpoint"].as_str().unwrap())
        .basic_auth("ccc-confidential", Some("ccc-confidential-secret"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    answer["active"] == true
}

/// A provider saved by name: `add` (checked against the issuer's discovery), `list`, then
/// `login`, `token`, `exec` and `revoke` by name; a confidential client's secret goes to the
/// token store, not the config file; revocation is checked at the provider (introspection
/// says both tokens are inactive).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_provider_signs_in_runs_commands_and_revokes_at_the_provider() {
    let home = Home::new();
    let issuer = peer("CCC_TEST_OIDC_ISSUER");
    let ccc = |args: &[&str]| {
        let mut c = home.ccc();
        c.args(args);
        c
    };
    ccc(&["oauth", "add", "corp", "--issuer", &issuer, "--client-id", "ccc-public", "--token-var", "API_TOKEN"])
        .assert()
        .success();
    let bad = ccc(&["oauth", "add", "typo", "--issuer", "http://127.0.0.1:9", "--client-id", "x"]).assert().failure();
    assert!(stderr(&bad).contains("issuer"), "{}", stderr(&bad));
    ccc(&["oauth", "add", "conf", "--issuer", &issuer, "--client-id", "ccc-confidential", "--client-secret-stdin"])
        .write_stdin("ccc-confidential-secret\n")
        .assert()
        .success();
    assert!(
        !std::fs::read_to_string(home.path().join(".ccc/config.json")).unwrap().contains("ccc-confidential-secret")
    );
    let listed: serde_json::Value =
        serde_json::from_str(&stdout(&ccc(&["oauth", "list", "-o", "json"]).assert().success())).unwrap();
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["conf", "corp"]);
    assert_eq!((&listed[0]["confidential"], &listed[1]["signed_in"]), (&true.into(), &false.into()));
    let early = ccc(&["oauth", "token", "corp"]).assert().code(3);
    assert!(stderr(&early).contains("ccc oauth login corp"), "{}", stderr(&early));

    oauth_login_with(&home, "erin", &["corp"]).await;
    let first = stdout(&ccc(&["oauth", "token", "corp"]).assert().success()).trim().to_owned();
    ccc_tests::leak::secret(&first);
    ccc(&["oauth", "refresh", "corp"]).assert().success();
    let access = stdout(&ccc(&["oauth", "token", "corp"]).assert().success()).trim().to_owned();
    ccc_tests::leak::secret(&access);
    assert_ne!(access, first, "refresh by name gave a new access token");
    assert!(provider_accepts(&access).await);
    // a command with the token in the provider's variable; its exit code passes through
    let ran = ccc(&["oauth", "exec", "corp", "--", "sh", "-c", "printf %s \"$API_TOKEN\""]).assert().success();
    assert_eq!(stdout(&ran), access);
    ccc(&["oauth", "exec", "corp", "--", "sh", "-c", "exit 5"]).assert().code(5);
    let ran =
        ccc(&["oauth", "exec", "corp", "--var", "TOKEN", "--", "sh", "-c", "printf %s \"$TOKEN\""]).assert().success();
    assert_eq!(stdout(&ran), access);

    // revocation, judged by the provider
    let store = cred_store::TokenStore::new(&cred_store::Paths::under_home(home.path()));
    let stored = store.get(&cred_store::TokenKey::new("oauth", &issuer, "ccc-public")).unwrap().unwrap();
    let refresh = stored.refresh_token.clone().expect("a refresh token");
    use core_types::ExposeSecret;
    ccc_tests::leak::secret(refresh.expose_secret());
    assert!(provider_says_active(&access).await && provider_says_active(refresh.expose_secret()).await);
    ccc(&["oauth", "revoke", "corp"]).assert().success();
    assert!(!provider_says_active(&access).await, "the access token is still active at the provider");
    assert!(!provider_says_active(refresh.expose_secret()).await, "the refresh token is still active at the provider");
    ccc(&["oauth", "token", "corp"]).assert().code(3);

    ccc(&["oauth", "remove", "conf"]).assert().success();
    let listed: serde_json::Value =
        serde_json::from_str(&stdout(&ccc(&["oauth", "list", "-o", "json"]).assert().success())).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(
        !std::fs::read_to_string(home.path().join(".ccc/tokens.json")).unwrap().contains("ccc-confidential-secret")
    );
}

/// A valid stored token is printed without a network call: the issuer is asked for its
/// discovery document only when a refresh is due (found by the soak: every `ccc oauth token`
/// failed while the issuer refused connections, with a valid token stored). Once the token
/// is due, the unreachable issuer is a clear error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_token_is_printed_while_the_issuer_is_unreachable() {
    let home = Home::new();
    oauth_login(&home, "gwen").await;
    let issuer = peer("CCC_TEST_OIDC_ISSUER");
    let store = cred_store::TokenStore::new(&cred_store::Paths::under_home(home.path()));
    let tokens = store.get(&cred_store::TokenKey::new("oauth", &issuer, "ccc-public")).unwrap().unwrap();
    // the same tokens, filed under an issuer nobody answers for
    let down = ccc_tests::proxy::refused_url().await;
    store.put(&cred_store::TokenKey::new("oauth", &down, "ccc-public"), &tokens).unwrap();
    let access = tokens.access_token.as_ref().map(|t| core_types::ExposeSecret::expose_secret(t).to_owned()).unwrap();
    ccc_tests::leak::secret(&access);
    let args = ["oauth", "token", "--issuer", down.as_str(), "--client-id", "ccc-public"];
    let printed = home.ccc().args(args).assert().success();
    assert_eq!(stdout(&printed).trim(), access);
    expire_stored_oauth_tokens(&home);
    let failed = home.ccc().args(args).assert().failure();
    assert!(stderr(&failed).contains("issuer"), "{}", stderr(&failed));
}
