//! sso-refresh against the SSO / SSO-OIDC protocol stub, a fake `aws` CLI written here, the
//! ledger on SQLite and PostgreSQL, and botocore reading the cache we write.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ccc_tests::peer;
use ccc_tests::sso_stub::SsoStub;
use core_types::{Clock, ErrorKind, ExposeSecret, Kinded, ManualClock, SecretString};
use cred_store::{AwsFiles, Ledger, Paths, SsoCache, SsoToken, cache_file_name};
use sso_refresh::{AwsSso, RecordingSleeper, SsoConfig, SystemRunner};

const FAKE_AWS: &str = r#"#!/bin/sh
# A stand-in for awscli v2: records its argv, then signs in (writes the SSO cache) or fails.
echo "$@" >> "$FAKE_AWS_LOG"
if [ "$(cat "$FAKE_AWS_MODE")" = fail ]; then
  echo "Error when retrieving token from sso: Token has expired and refresh failed" >&2
  exit 255
fi
cat > "$FAKE_AWS_CACHE" <<JSON
{"startUrl": "https://corp.awsapps.com/start", "region": "us-east-1", "accessToken": "cli-access-token", "expiresAt": "$(date -u -d '+8 hour' +%Y-%m-%dT%H:%M:%SZ)"}
JSON
"#;

struct World {
    _home: tempfile::TempDir,
    paths: Paths,
    clock: ManualClock,
    sleeper: RecordingSleeper,
    stub: SsoStub,
    log: PathBuf,
    mode: PathBuf,
    db: String,
    profile: String,
}

#[allow(clippy::disallowed_methods)]
fn real_now() -> SystemTime {
    SystemTime::now()
}

fn ms(t: SystemTime) -> i64 {
    t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_millis() as i64
}

impl World {
    /// A home with an SSO profile `dev` (session `corp`) and a cached token expiring in `token_left`.
    async fn new(token_left: Duration, refresh_allowed: bool, postgres: bool) -> Self {
        let home = tempfile::tempdir().unwrap();
        let paths = Paths::under_home(home.path());
        let now = real_now();
        let clock = ManualClock::new(now);
        let files = AwsFiles::new(&paths);
        // a profile name of its own: the PostgreSQL ledger is shared by every test run
        let profile = ccc_tests::cognito::unique("dev");
        files
            .set_profile_values(
                &profile,
                &[
                    ("sso_session", "corp"),
                    ("sso_account_id", "111122223333"),
                    ("sso_role_name", "Developer"),
                    ("region", "eu-west-1"),
                ],
            )
            .unwrap();
        cred_store::fsutil::update(&paths.config_file, |t| {
            Ok((
                Some(format!(
                    "{}\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n",
                    t.unwrap_or_default()
                )),
                (),
            ))
        })
        .unwrap();
        let stub = SsoStub::start(ms(now), 3_600_000).await;
        stub.allow_access_token("initial-access");
        stub.allow_access_token("cli-access-token");
        if refresh_allowed {
            stub.allow_refresh_token("initial-refresh");
        }
        SsoCache::new(&paths)
            .save(
                "corp",
                &SsoToken {
                    access_token: SecretString::from("initial-access".to_owned()),
                    expires_at: now + token_left,
                    refresh_token: Some(SecretString::from("initial-refresh".to_owned())),
                    client_id: Some("client-ccc".into()),
                    client_secret: Some(SecretString::from("client-secret".to_owned())),
                    registration_expires_at: Some(now + Duration::from_secs(90 * 86400)),
                    region: Some("us-east-1".into()),
                    start_url: Some("https://corp.awsapps.com/start".into()),
                    extra: Default::default(),
                },
            )
            .unwrap();
        let script = home.path().join("fake-aws");
        std::fs::write(&script, FAKE_AWS).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let mode = home.path().join("fake-aws.mode");
        std::fs::write(&mode, "ok").unwrap();
        let db = if postgres {
            peer("CCC_TEST_DATABASE_URL")
        } else {
            home.path().join("ledger.sqlite").display().to_string()
        };
        Self {
            profile,
            sleeper: RecordingSleeper::new(clock.clone()),
            clock,
            stub,
            log: home.path().join("fake-aws.log"),
            mode,
            paths,
            _home: home,
            db,
        }
    }

    fn script(&self) -> PathBuf {
        self.paths.home.join("fake-aws")
    }

    async fn sso(&self) -> AwsSso {
        // the fake CLI learns where to write from its environment (set for this process)
        let config = SsoConfig::builder()
            .aws_exec_file_path(self.wrapper())
            .db_path(self.db.clone())
            .max_retries(3)
            .retry_delay(Duration::from_secs(5))
            .build();
        let sdk = aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .endpoint_url(&self.stub.url)
            .build();
        AwsSso::builder(config, &self.paths, &self.profile)
            .sdk_config(&sdk)
            .runner(Arc::new(SystemRunner))
            .sleeper(Arc::new(self.sleeper.clone()))
            .clock(Arc::new(self.clock.clone()))
            .build()
            .await
            .unwrap()
    }

    /// A wrapper script that sets the fake CLI's environment (tests must not mutate their own).
    fn wrapper(&self) -> PathBuf {
        let path = self.paths.home.join("aws");
        let cache = self.paths.sso_cache_dir.join(cache_file_name("corp"));
        let text = format!(
            "#!/bin/sh\nFAKE_AWS_LOG='{}' FAKE_AWS_MODE='{}' FAKE_AWS_CACHE='{}' exec '{}' \"$@\"\n",
            self.log.display(),
            self.mode.display(),
            cache.display(),
            self.script().display()
        );
        std::fs::write(&path, text).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn cli_calls(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log).map(|t| t.lines().map(str::to_owned).collect()).unwrap_or_default()
    }

    fn token(&self) -> SsoToken {
        SsoCache::new(&self.paths).load("corp").unwrap().unwrap()
    }
}

fn ledger_source() -> &'static str {
    "sso:corp"
}

/// Two keepers of the same profile (as two processes would be: separate caches, separate
/// file descriptors, the same files) refreshing at once spend the rotating SSO refresh token
/// once: the second waits on the cache entry's refresh lock and takes the first one's token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_keepers_refresh_the_sso_token_once() {
    let w = World::new(Duration::from_secs(120), true, false).await;
    let (a, b) = (w.sso().await, w.sso().await);
    let (ra, rb) = tokio::join!(a.refresh_credentials(), b.refresh_credentials());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(w.stub.calls("CreateToken"), 1, "one refresh grant for two keepers");
    assert!(w.cli_calls().is_empty(), "no fallback to a browser sign-in");
    assert_eq!(ra.secret_access_key().expose_secret(), rb.secret_access_key().expose_secret());
    assert_eq!(w.token().refresh_token.unwrap().expose_secret(), "stub-refresh-1");
}

/// `AWS_SSO_REFRESH_WINDOW` (hours between refreshes, seed 000; 50 minutes here) counts from the last sign-in
/// or token refresh: role credentials fetched every hour meanwhile do not restart it, so a
/// busy process refreshes when the window has passed (one CreateToken), and the window then
/// starts again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_refresh_window_counts_from_the_sign_in_not_from_each_role_fetch() {
    let w = World::new(Duration::from_secs(8 * 3600), true, false).await;
    let config = SsoConfig::builder()
        .aws_exec_file_path(w.wrapper())
        .db_path(w.db.clone())
        .max_sign_in_age(Duration::from_secs(50 * 60))
        .build();
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .endpoint_url(&w.stub.url)
        .build();
    let sso = AwsSso::builder(config, &w.paths, &w.profile)
        .sdk_config(&sdk)
        .clock(Arc::new(w.clock.clone()))
        .build()
        .await
        .unwrap();
    sso.ensure_valid_credentials().await.unwrap();
    assert_eq!(w.stub.calls("CreateToken"), 1, "the first refresh of the sign-in");
    // role credentials fetched again and again inside the window (each a ledger success;
    // the stub's role credentials last an hour)
    let provider = sso.credentials_provider();
    for _ in 0..3 {
        w.clock.advance(Duration::from_secs(15 * 60));
        provider.invalidate().await.unwrap();
        provider.get().await.unwrap();
    }
    assert_eq!(w.stub.calls("GetRoleCredentials"), 4);
    assert!(!sso.should_refresh_credentials().await.unwrap(), "45 min into a 50 min window");
    w.clock.advance(Duration::from_secs(7 * 60));
    assert!(sso.should_refresh_credentials().await.unwrap(), "52 min since the sign-in's refresh");
    sso.ensure_valid_credentials().await.unwrap();
    assert_eq!(w.stub.calls("CreateToken"), 2, "one refresh when the window passed");
    assert!(!sso.should_refresh_credentials().await.unwrap(), "the window starts again");
}

/// GetRoleCredentials refused (the role taken away in the portal): a typed credential error
/// naming the role and account, recorded in the ledger, not retried as an outage.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_get_role_credentials_is_a_credential_error() {
    let w = World::new(Duration::from_secs(8 * 3600), true, false).await;
    let sso = w.sso().await;
    w.stub.inject("GetRoleCredentials", 403, "ForbiddenException", 1);
    let e = sso.refresh_credentials().await.unwrap_err();
    assert!(matches!(e, sso_refresh::SsoError::Credential(_)), "{e:?}");
    assert!(e.to_string().contains("GetRoleCredentials refused (ForbiddenException)"), "{e}");
    assert!(e.to_string().contains("Developer") && e.to_string().contains("111122223333"), "{e}");
    assert_eq!(e.kind(), ErrorKind::AccessDenied);
    assert_eq!(w.stub.calls("GetRoleCredentials"), 1, "a refusal is not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fresh_credentials_cause_no_refresh_and_no_upstream_call() {
    let w = World::new(Duration::from_secs(8 * 3600), true, false).await;
    let sso = w.sso().await;
    assert!(sso.should_refresh_credentials().await.unwrap(), "no ledger entry yet: refresh is due");
    let first = sso.ensure_valid_credentials().await.unwrap();
    let (tokens, roles) = (w.stub.calls("CreateToken"), w.stub.calls("GetRoleCredentials"));
    assert_eq!((tokens, roles), (1, 1));
    // now everything is fresh
    w.clock.advance(Duration::from_secs(600));
    assert!(!sso.should_refresh_credentials().await.unwrap());
    let again = sso.ensure_valid_credentials().await.unwrap();
    assert_eq!(again, first);
    assert_eq!((w.stub.calls("CreateToken"), w.stub.calls("GetRoleCredentials")), (1, 1), "no upstream call");
    assert!(w.cli_calls().is_empty());
    // the SDK can use it directly
    let provider = sso.credentials_provider();
    let c = aws_credential_types::provider::ProvideCredentials::provide_credentials(&provider).await.unwrap();
    assert_eq!(c.access_key_id(), first.access_key_id().expose_secret());
}

async fn silent_refresh_inside_the_margin(postgres: bool) {
    let w = World::new(Duration::from_secs(120), true, postgres).await;
    let sso = w.sso().await;
    assert!(sso.should_refresh_credentials().await.unwrap());
    let creds = sso.ensure_valid_credentials().await.unwrap();
    assert_eq!(w.stub.calls("CreateToken"), 1);
    assert_eq!(w.stub.calls("GetRoleCredentials"), 1);
    assert!(w.cli_calls().is_empty(), "silent: no browser, no CLI");
    assert_eq!(creds.secret_access_key().expose_secret(), "stub-secret-Developer-111122223333");
    let token = w.token();
    assert_eq!(token.access_token.expose_secret(), "stub-access-1");
    assert_eq!(token.refresh_token.unwrap().expose_secret(), "stub-refresh-1", "rotated refresh token stored");
    // the ledger: the sign-in's refresh (what the window counts from) with the token's
    // expiry, and apart from it the role credentials with theirs
    let ledger = Ledger::open(&w.db).await.unwrap();
    let secs = |t: Option<SystemTime>| t.map(|t| t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs());
    let status = ledger.status(ledger_source(), &w.profile).await.unwrap().unwrap();
    assert_eq!(status.last_outcome.as_deref(), Some("success"));
    assert_eq!(secs(status.expires_at), secs(Some(w.token().expires_at)));
    let role = ledger.status(&format!("{}/role", ledger_source()), &w.profile).await.unwrap().unwrap();
    assert_eq!(role.last_outcome.as_deref(), Some("success"));
    assert_eq!(secs(role.expires_at), secs(creds.expiration()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_inside_the_margin_refresh_silently_sqlite() {
    silent_refresh_inside_the_margin(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_inside_the_margin_refresh_silently_postgres() {
    silent_refresh_inside_the_margin(true).await;
}

async fn rejected_refresh_token_falls_back_to_the_cli(postgres: bool) {
    let w = World::new(Duration::from_secs(120), false, postgres).await;
    let sso = w.sso().await;
    let creds = sso.refresh_credentials().await.unwrap();
    assert_eq!(w.stub.calls("CreateToken"), 1, "the refresh token was tried first");
    assert_eq!(
        w.cli_calls(),
        [format!("sso login --profile {}", w.profile)],
        "then the CLI, once, with the right argv"
    );
    assert_eq!(w.token().access_token.expose_secret(), "cli-access-token");
    assert!(creds.session_token().is_some());
    let ledger = Ledger::open(&w.db).await.unwrap();
    let attempts = ledger.attempts(ledger_source(), &w.profile, 10).await.unwrap();
    let outcomes: Vec<&str> = attempts.iter().rev().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["failure", "success"], "the sign-in: CreateToken refused, then the CLI ok");
    let role = ledger.attempts(&format!("{}/role", ledger_source()), &w.profile, 10).await.unwrap();
    let outcomes: Vec<&str> = role.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["success"], "apart: the role credentials ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_refresh_token_falls_back_to_the_cli_sqlite() {
    rejected_refresh_token_falls_back_to_the_cli(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_refresh_token_falls_back_to_the_cli_postgres() {
    rejected_refresh_token_falls_back_to_the_cli(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_cli_is_retried_with_growing_delays_then_a_clear_error() {
    let w = World::new(Duration::from_secs(120), false, false).await;
    std::fs::write(&w.mode, "fail").unwrap();
    let sso = w.sso().await;
    let start = w.clock.now();
    let e = sso.refresh_credentials().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotAuthorized);
    let msg = e.to_string();
    assert!(
        msg.contains("sso login --profile dev") && msg.contains("4 time(s)") && msg.contains("Token has expired"),
        "{msg}"
    );
    assert_eq!(w.cli_calls().len(), 4, "first try + 3 retries");
    assert_eq!(w.sleeper.delays(), [Duration::from_secs(5), Duration::from_secs(10), Duration::from_secs(20)]);
    assert_eq!(w.clock.now().duration_since(start).unwrap(), Duration::from_secs(35));
    let ledger = Ledger::open(&w.db).await.unwrap();
    let failures = ledger.attempts(ledger_source(), &w.profile, 20).await.unwrap();
    assert_eq!(failures.len(), 5, "CreateToken + 4 CLI attempts");
    assert!(failures.iter().all(|a| a.outcome == "failure"));
    assert!(!format!("{failures:?}").contains("initial-refresh"), "no token in the ledger");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn botocore_reads_the_cache_file_we_refreshed() {
    let w = World::new(Duration::from_secs(120), true, false).await;
    w.sso().await.refresh_credentials().await.unwrap();
    let script = format!(
        "import json\nfrom botocore.utils import SSOTokenLoader, JSONFileCache\nt = SSOTokenLoader(cache=JSONFileCache('{}'))('https://corp.awsapps.com/start', session_name='corp')\nprint(json.dumps([t['accessToken'], t['refreshToken'], t['clientId']]))",
        w.paths.sso_cache_dir.display()
    );
    let out = std::process::Command::new(peer("CCC_TEST_PYTHON")).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got, ["stub-access-1", "stub-refresh-1", "client-ccc"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_running_keeper_refreshes_and_stops_cleanly() {
    let w = World::new(Duration::from_secs(120), true, false).await;
    let config = SsoConfig::builder().aws_exec_file_path(w.wrapper()).db_path(w.db.clone()).build();
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .endpoint_url(&w.stub.url)
        .build();
    let sso = AwsSso::builder(config, &w.paths, &w.profile).sdk_config(&sdk).build().await.unwrap();
    let keeper = sso.run_long_process(Duration::from_millis(50));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let checks = keeper.stop().await;
    assert!(checks >= 2, "{checks} checks");
    assert_eq!(w.stub.calls("CreateToken"), 1, "one refresh, then the credentials stayed fresh");
}

#[tokio::test]
async fn a_profile_without_sso_settings_is_a_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under_home(home.path());
    AwsFiles::new(&paths).set_profile_values("plain", &[("region", "us-east-1")]).unwrap();
    let e = AwsSso::builder(SsoConfig::default(), &paths, "plain").build().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotConfigured);
    assert!(e.to_string().contains("aws configure sso --profile plain"), "{e}");
    let _ = Path::new("/");
}

/// `device_sign_in` signs in without the AWS CLI: RegisterClient, StartDeviceAuthorization,
/// CreateToken polled at the service's interval (longer after `slow_down`); the token lands in
/// the SSO cache where botocore finds it, and boto3 gets role credentials with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_sign_in_needs_no_aws_cli_and_boto3_uses_its_token() {
    let w = World::new(Duration::from_secs(3600), false, false).await;
    // no sign-in yet: no cached token, no client registration
    std::fs::remove_file(w.paths.sso_cache_dir.join(cache_file_name("corp"))).unwrap();
    w.stub.device_approval(2, true, false);
    let sso = w.sso().await;
    let shown = std::sync::Mutex::new(None);
    let token = sso.device_sign_in(|code| *shown.lock().unwrap() = Some(code.clone())).await.unwrap();
    let code = shown.lock().unwrap().clone().expect("the page and code were shown");
    assert_eq!(code.user_code, "ABCD-EFGH");
    assert!(code.verification_uri.starts_with("https://corp.awsapps.com/start"), "{code:?}");
    // polled after the interval; slow_down added five seconds to it, for good
    let secs: Vec<u64> = w.sleeper.delays().iter().map(Duration::as_secs).collect();
    assert_eq!(secs, [1, 6, 6, 6]);
    assert!(w.cli_calls().is_empty(), "the AWS CLI was not needed");
    assert_eq!((w.stub.calls("RegisterClient"), w.stub.calls("StartDeviceAuthorization")), (1, 1));
    assert_eq!(token.access_token.expose_secret(), "stub-access-1");
    // botocore reads the token and the registration as awscli v2 would have written them
    let script = format!(
        "import json\nfrom botocore.utils import SSOTokenLoader, JSONFileCache\nt = SSOTokenLoader(cache=JSONFileCache('{}'))('https://corp.awsapps.com/start', session_name='corp')\nprint(json.dumps([t['accessToken'], t['refreshToken'], t['clientId'], 'registrationExpiresAt' in t]))",
        w.paths.sso_cache_dir.display()
    );
    let out = std::process::Command::new(peer("CCC_TEST_PYTHON")).args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got, serde_json::json!(["stub-access-1", "stub-refresh-1", "client-ccc", true]));
    // and boto3 gets role credentials through the profile with that token
    let (method, key) = ccc_tests::boto3_profile_credentials(&w.paths.home, &w.stub.url, &w.profile);
    assert_eq!(method, "sso");
    assert!(key.starts_with("ASIASTUB"), "{key}");
    // as an SDK provider, the role credentials carry their account
    let sdk_creds =
        aws_credential_types::provider::ProvideCredentials::provide_credentials(&sso.credentials_provider())
            .await
            .unwrap();
    assert_eq!(sdk_creds.account_id().map(|a| a.as_str()), Some("111122223333"));
    // what the user may assume
    assert_eq!(sso.accounts().await.unwrap(), [("111122223333".to_owned(), "dev".to_owned())]);
    assert_eq!(sso.roles("111122223333").await.unwrap(), ["Developer"]);
    // a refused sign-in says so
    w.stub.device_approval(0, false, true);
    let e = sso.device_sign_in(|_| {}).await.unwrap_err();
    assert!(e.to_string().contains("refused"), "{e}");
}

/// The stub's device flow is judged by boto3's own sso-oidc client (AWS's service model
/// parses every answer, the pending error included), and its portal listing by boto3's sso
/// client (pages through the paginators, a modelled refusal), not only by our code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_speaks_the_device_flow_with_the_sso_stub() {
    let stub = SsoStub::start(ms(real_now()), 3_600_000).await;
    stub.device_approval(1, false, false);
    stub.set_accounts(&[("111122223333", "dev"), ("222233334444", "test"), ("333344445555", "prod")]);
    let script = r#"
import boto3, json, os
c = boto3.client('sso-oidc', region_name='us-east-1', endpoint_url=os.environ['STUB'],
                 aws_access_key_id='x', aws_secret_access_key='y')
reg = c.register_client(clientName='probe', clientType='public')
dev = c.start_device_authorization(clientId=reg['clientId'], clientSecret=reg['clientSecret'],
                                   startUrl='https://corp.awsapps.com/start')
args = dict(clientId=reg['clientId'], clientSecret=reg['clientSecret'],
            grantType='urn:ietf:params:oauth:grant-type:device_code', deviceCode=dev['deviceCode'])
try:
    c.create_token(**args)
    pending = False
except c.exceptions.AuthorizationPendingException:
    pending = True
tok = c.create_token(**args)
sso = boto3.client('sso', region_name='us-east-1', endpoint_url=os.environ['STUB'])
pages = list(sso.get_paginator('list_accounts').paginate(accessToken=tok['accessToken'], PaginationConfig={'PageSize': 1}))
accounts = [a['accountId'] for p in pages for a in p['accountList']]
roles = [r['roleName'] for p in sso.get_paginator('list_account_roles').paginate(accessToken=tok['accessToken'], accountId=accounts[1]) for r in p['roleList']]
try:
    sso.list_accounts(accessToken='not-a-token')
    refused = False
except sso.exceptions.UnauthorizedException:
    refused = True
print(json.dumps([reg['clientId'], dev['userCode'], dev['interval'], pending, tok['accessToken'], tok['expiresIn'], len(pages), accounts, roles, refused]))
"#;
    let out = std::process::Command::new(peer("CCC_TEST_PYTHON"))
        .args(["-c", script])
        .env("STUB", &stub.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        got,
        serde_json::json!([
            "client-probe",
            "ABCD-EFGH",
            1,
            true,
            "stub-access-1",
            28800,
            3,
            ["111122223333", "222233334444", "333344445555"],
            ["Developer"],
            true
        ])
    );
}

/// A device sign-in nobody approves ends when the code expires (the service's `expiresIn`),
/// with an error saying so, instead of polling forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unapproved_device_sign_in_ends_when_its_code_expires() {
    let w = World::new(Duration::from_secs(3600), false, false).await;
    std::fs::remove_file(w.paths.sso_cache_dir.join(cache_file_name("corp"))).unwrap();
    w.stub.device_approval(usize::MAX, false, false);
    let e = w.sso().await.device_sign_in(|_| {}).await.unwrap_err();
    assert!(e.to_string().contains("not approved within 600 s"), "{e}");
    // the waits add up to the code's life (the stub's 600 s), polled once a second
    let waited: Duration = w.sleeper.delays().iter().sum();
    assert_eq!(waited, Duration::from_secs(600));
    assert_eq!(w.stub.calls("CreateToken"), 600);
}
