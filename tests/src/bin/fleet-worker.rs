//! One "machine" of the fleet tests (issue 20): its own HOME, `--tasks` tasks asking for the
//! same credential at once, its refreshing cache's fleet level on the team store
//! (`CCC_TEAM_STORE`, key file `CCC_TEAM_KEY_FILE`), starting when the file `FLEET_GO` appears. Prints one JSON line: answers, distinct
//! errors, and each distinct value's fingerprint (never the value).
//!
//! - `oauth ISSUER USER`: the oidc-provider peer's public client; the token store's entry and
//!   the team entry `oauth|ISSUER|ccc-public|USER`; every distinct access token is checked at
//!   the provider's userinfo endpoint.
//! - `cognito POOL_ID CLIENT_ID IDENTITY_POOL_ID USER`: the user's Cognito sign-in on moto
//!   (`CCC_TEST_AWS_ENDPOINT`, a counting proxy in the test), its tokens' and credentials'
//!   fleet entries from `CognitoProfileBuilder::fleet`.
//! - `counting COUNT_FILE SLEEP_MS`: a source that appends a line to COUNT_FILE, sleeps, and
//!   returns credentials numbered by the count (the kill -9 test kills one mid-refresh).
#![allow(clippy::print_stdout)] // the summary line is the output

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use core_types::{AwsCredentials, CredentialSource, ExposeSecret, RefreshPolicy, SecretString};
use cred_store::{Paths, Refreshing, TeamKey, TeamStore, TokenKey, TokenStore};
use oauth_pkce::{OAuthConfig, OAuthSession};

struct Counting {
    file: PathBuf,
    sleep: Duration,
}

impl CredentialSource for Counting {
    type Output = AwsCredentials;
    type Error = cred_store::Error;

    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed("counting")
    }

    async fn fetch(&self) -> Result<AwsCredentials, cred_store::Error> {
        let io = |e| cred_store::Error::InvalidInput(format!("count file: {e}"));
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.file).map_err(io)?;
        writeln!(f, "refresh by pid {}", std::process::id()).map_err(io)?;
        drop(f);
        let n = std::fs::read_to_string(&self.file).map_err(io)?.lines().count();
        tokio::time::sleep(self.sleep).await;
        #[allow(clippy::disallowed_methods)] // real time: the expiry the other machines judge
        let now = SystemTime::now();
        Ok(AwsCredentials::new(
            format!("ASIAFLEET{n:08}"),
            format!("fleet-secret-{n}"),
            None,
            Some(now + Duration::from_secs(3600)),
        ))
    }
}

#[allow(clippy::disallowed_methods)] // a test harness reads its environment
fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

fn fingerprint(secret: &str) -> String {
    // enough to tell values apart without printing one
    let sum = secret.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    format!("{sum:016x}")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // at trace level into the leak scan's directory when it runs, else warnings on stderr
    ccc_tests::leak::init();
    let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_env_filter("warn").try_init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tasks: usize = env("FLEET_TASKS").parse().expect("FLEET_TASKS is a number");
    let key = TeamKey::from_file(std::path::Path::new(&env("CCC_TEAM_KEY_FILE"))).expect("team key");
    let team = TeamStore::new(&env("CCC_TEAM_STORE"), key).expect("team store");
    let paths = Paths::under_home(std::path::Path::new(&env("HOME")));
    let policy = RefreshPolicy::new(Duration::from_secs(60));
    // connected first, so that every machine starts its storm at the same moment: when the
    // test creates FLEET_GO
    team.connect().await.expect("team store");
    let go = std::path::PathBuf::from(env("FLEET_GO"));
    while !go.exists() {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let mut handles = Vec::new();
    let mut checker: Option<(reqwest::Client, String)> = None;
    match args.first().map(String::as_str) {
        Some("oauth") => {
            let (issuer, user) = (args[1].clone(), args[2].clone());
            let config = OAuthConfig::new(issuer.clone(), "ccc-public")
                .with_scopes(&["openid", "offline_access", "email"])
                .with_redirect_uri("http://127.0.0.1/callback");
            let entry = TokenStore::new(&paths).entry(TokenKey::new("oauth", &issuer, &user));
            let fleet = team.entry(format!("oauth|{issuer}|ccc-public|{user}"));
            let session = OAuthSession::discovering_in_fleet(config, policy, entry, fleet);
            for _ in 0..tasks {
                let s = session.clone();
                handles.push(tokio::spawn(async move {
                    s.access_token().await.map(|t| t.expose_secret().to_owned()).map_err(|e| e.to_string())
                }));
            }
            checker = Some((reqwest::Client::new(), issuer));
        }
        Some("cognito") => {
            let mut config = cognito_auth::CognitoConfig::new(&args[1], &args[2], "us-east-1");
            config.identity_pool_id = Some(args[3].clone());
            let sdk = ccc_tests::moto_config().await;
            let cache = cognito_auth::CognitoProfile::for_user(config, &paths, &args[4])
                .sdk_config(&sdk)
                .refresh_window(policy)
                .fleet(team.clone())
                .build()
                .credentials()
                .expect("the user's credentials");
            for _ in 0..tasks {
                let c = cache.clone();
                handles.push(tokio::spawn(async move {
                    c.get().await.map(|v| v.access_key_id().expose_secret().to_owned()).map_err(|e| e.to_string())
                }));
            }
        }
        Some("counting") => {
            let source =
                Counting { file: args[1].clone().into(), sleep: Duration::from_millis(args[2].parse().unwrap()) };
            let cache =
                Refreshing::builder(source).refresh_window(policy).persist_to(paths.ccc_dir.join("counting.json"));
            // FLEET_LEVEL=off: the same machines without it (the benchmark's comparison)
            #[allow(clippy::disallowed_methods)] // a test harness reads its environment
            let cache = match std::env::var("FLEET_LEVEL").as_deref() {
                Ok("off") => cache.build(),
                _ => cache.fleet(team.entry("counting")).build(),
            };
            for _ in 0..tasks {
                let c = cache.clone();
                handles.push(tokio::spawn(async move {
                    c.get().await.map(|v| v.access_key_id().expose_secret().to_owned()).map_err(|e| e.to_string())
                }));
            }
        }
        other => panic!("unknown mode {other:?}"),
    }
    let (mut ok, mut errors, mut values) = (0usize, BTreeSet::new(), BTreeSet::new());
    let mut distinct: Vec<String> = Vec::new();
    for h in handles {
        match h.await.expect("task") {
            Ok(v) => {
                ok += 1;
                if !distinct.contains(&v) {
                    distinct.push(v);
                }
            }
            Err(e) => {
                errors.insert(e);
            }
        }
    }
    let mut accepted = 0usize;
    for v in &distinct {
        if checker.is_some() {
            ccc_tests::leak::secret(v); // an access token (the other modes print key ids)
        }
        values.insert(if checker.is_some() { fingerprint(v) } else { v.clone() });
        if let Some((http, issuer)) = &checker {
            let token = SecretString::from(v.clone());
            let r = http.get(format!("{issuer}/me")).bearer_auth(token.expose_secret()).send().await;
            if r.is_ok_and(|r| r.status().is_success()) {
                accepted += 1;
            }
        }
    }
    let line = serde_json::json!({ "ok": ok, "errors": errors, "values": values, "accepted": accepted });
    println!("{line}");
}
