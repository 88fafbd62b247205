//! What the ccc tests share: a home directory per test, the ccc binary run in it, and
//! helpers that age what a sign-in stored.
#![allow(dead_code)] // each test module uses its own share

use std::path::Path;
use std::process::Command as StdCommand;

use assert_cmd::Command;
use ccc_tests::cognito::{PASSWORD, Pool};

pub struct Home {
    dir: tempfile::TempDir,
    /// Variables every `ccc` run in this home gets (a team store, say).
    env: Vec<(String, String)>,
}

impl Home {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().unwrap(), env: Vec::new() }
    }

    /// A home whose every `ccc` run has `name=value` in its environment.
    pub fn with_env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn ccc(&self) -> Command {
        let mut c = Command::cargo_bin("ccc").unwrap();
        c.env_clear()
            .env("HOME", self.path())
            .env("PATH", "/usr/bin:/bin")
            // the strict judge (the verifying front before the strict moto): a key it never
            // issued, a wrong secret or token and an expired credential are refused
            .env("AWS_ENDPOINT_URL", ccc_tests::judge::shared_url())
            .env("RUST_LOG", "trace")
            // a developer's terminal is never asked; the prompt tests give ccc one on purpose
            .env("CCC_NO_PROMPT", "1")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    pub fn configure(&self, pool: &Pool) {
        self.ccc()
            .args(["configure", "--non-interactive", "--region", "us-east-1", "--profile", "e2e"])
            .args(["--user-pool-id", &pool.pool_id, "--app-client-id", &pool.client_id])
            .args(["--identity-pool-id", &pool.identity_pool_id])
            .assert()
            .success();
    }

    pub fn login(&self, user: &str) -> assert_cmd::assert::Assert {
        self.ccc().args(["login", "--username", user, "--password-stdin"]).write_stdin(format!("{PASSWORD}\n")).assert()
    }
}

pub fn stdout(a: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&a.get_output().stdout).into_owned()
}

/// A run's stderr (its `RUST_LOG=trace` log), also handed to the secret-leak scan.
pub fn stderr(a: &assert_cmd::assert::Assert) -> String {
    let text = String::from_utf8_lossy(&a.get_output().stderr).into_owned();
    ccc_tests::leak::child_log(&text);
    text
}

/// Runs `ccc ARGS` in `n` processes at once; returns each one's exit code, stdout and
/// stderr (the stderr also goes to the leak scan).
pub async fn concurrently(home: &Home, endpoint: &str, args: &[&str], n: usize) -> Vec<(i32, String, String)> {
    let ccc_path = assert_cmd::cargo::cargo_bin("ccc");
    let children: Vec<_> = (0..n)
        .map(|_| {
            StdCommand::new(&ccc_path)
                .args(args)
                .env_clear()
                .env("HOME", home.path())
                .env("PATH", "/usr/bin:/bin")
                .env("AWS_ENDPOINT_URL", endpoint)
                .env("RUST_LOG", "trace")
                .env("CCC_NO_PROMPT", "1")
                .envs(home.env.iter().map(|(k, v)| (k, v)))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut out = Vec::new();
    for child in children {
        let o = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        ccc_tests::leak::child_log(&err);
        out.push((o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned(), err));
    }
    out
}

/// The one Cognito sign-in's cached credentials in `home` (entries are named by a hash of
/// pool, client and user).
pub fn cognito_cache(home: &Home) -> std::path::PathBuf {
    let found: Vec<_> = std::fs::read_dir(home.path().join(".ccc/cache"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("cognito-")))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(found.len(), 1, "one Cognito sign-in's cache: {found:?}");
    found.into_iter().next().unwrap()
}

/// The cached credentials of the Cognito sign-in on `profile` (cognito-auth names the entry).
pub fn cognito_cache_of(home: &Home, profile: &str) -> std::path::PathBuf {
    let paths = cred_store::Paths::under_home(home.path());
    let config = cred_store::load_config(&paths).unwrap();
    let cognito = cognito_auth::CognitoConfig::for_profile(&config, profile).unwrap();
    cognito_auth::CognitoProfile::builder(cognito, &paths, profile).unwrap().build().cache_file()
}

/// Marks a Cognito sign-in's cached AWS credentials and its stored tokens as expired.
pub fn expire_cognito_sign_in(home: &Home, profile: &str) {
    let cache = cognito_cache_of(home, profile);
    let mut entry: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&cache).unwrap()).unwrap();
    entry["value"]["expiration"] = serde_json::json!(1_000_000_000);
    std::fs::write(&cache, entry.to_string()).unwrap();
    expire_stored_oauth_tokens(home);
}

/// Marks the stored access token as expired, as if an hour had passed.
pub fn expire_stored_oauth_tokens(home: &Home) {
    let file = home.path().join(".ccc/tokens.json");
    let mut store: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    for entry in store["entries"].as_object_mut().unwrap().values_mut() {
        entry["expires_at"] = serde_json::json!(1_000_000_000);
    }
    std::fs::write(&file, store.to_string()).unwrap();
}

/// Starts `ccc ARGS` (a browser sign-in with `--no-browser`) in `home` and returns it running,
/// with the sign-in URL it printed on stderr (what follows on stderr is drained).
pub fn spawn_sign_in(home: &Home, args: &[&str]) -> (std::process::Child, String) {
    spawn_reading(home, args, |line| line.starts_with("http").then(|| line.to_owned()))
}

/// Starts `ccc ARGS` in `home` and returns it running, with what `pick` takes from the first
/// stderr line it takes anything from (the rest of stderr is drained).
pub fn spawn_reading(
    home: &Home,
    args: &[&str],
    pick: impl Fn(&str) -> Option<String>,
) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = StdCommand::new(assert_cmd::cargo::cargo_bin("ccc"))
        .args(args)
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        .envs(home.env.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let picked = loop {
        let line = lines.next().expect("ccc printed what the test waits for").unwrap();
        if let Some(p) = pick(&line) {
            break p;
        }
    };
    // the rest of stderr is read until ccc exits: a closed pipe would fail its next line
    std::thread::spawn(move || lines.for_each(drop));
    (child, picked)
}

/// An SSO stub that approves a device sign-in after `pending` polls, and a home whose
/// `~/.aws/config` is `config`.
pub async fn sso_home(pending: usize, config: &str) -> (ccc_tests::sso_stub::SsoStub, Home) {
    sso_home_lasting(pending, config, 3_600_000).await
}

/// Like [`sso_home`], the role credentials lasting `role_lifetime_ms` from now (real time).
pub async fn sso_home_lasting(
    pending: usize,
    config: &str,
    role_lifetime_ms: i64,
) -> (ccc_tests::sso_stub::SsoStub, Home) {
    #[allow(clippy::disallowed_methods)]
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    let stub = ccc_tests::sso_stub::SsoStub::start(now_ms, role_lifetime_ms).await;
    stub.device_approval(pending, false, false);
    let home = Home::new();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(home.path().join(".aws/config"), config).unwrap();
    (stub, home)
}

/// `ccc ARGS` in `home` with `stub` as every AWS endpoint (no AWS CLI anywhere, and its
/// fallback is off unless asked for).
pub fn sso_ccc(home: &Home, stub: &ccc_tests::sso_stub::SsoStub, args: &[&str]) -> assert_cmd::Command {
    let mut c = home.ccc();
    c.env("AWS_ENDPOINT_URL", &stub.url).args(args);
    c
}

/// A credentials-file section holding `key` as profile `name`.
pub fn keys_section(name: &str, key: &ccc_tests::strict::UserKey) -> String {
    format!("[{name}]\naws_access_key_id = {}\naws_secret_access_key = {}\n", key.access_key_id, key.secret_access_key)
}

/// The variables an `export NAME='value'` list sets (`ccc env`, `ccc session extend`,
/// `ccc serve --print-env`).
pub fn exports(out: &str) -> Vec<(String, String)> {
    out.lines()
        .filter_map(|l| l.strip_prefix("export "))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
        .collect()
}

/// boto3's verdict, through the endpoint `at`, on the keys an export list sets.
pub fn judge_exports(at: &str, out: &str) -> Result<String, String> {
    let vars = exports(out);
    let var = |name: &str| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => ccc_tests::strict::boto3_with_keys_at(at, id, secret, var("AWS_SESSION_TOKEN")),
        _ => Err(format!("no keys exported: {out}")),
    }
}

/// boto3's verdict, through the endpoint `at`, on what `ccc creds` printed.
pub fn judge_creds(at: &str, out: &str) -> Result<String, String> {
    let json: serde_json::Value = serde_json::from_str(out).map_err(|e| format!("not JSON ({e}): {out}"))?;
    ccc_tests::strict::boto3_with_keys_at(
        at,
        json["AccessKeyId"].as_str().unwrap_or_default(),
        json["SecretAccessKey"].as_str().unwrap_or_default(),
        json["SessionToken"].as_str(),
    )
}
