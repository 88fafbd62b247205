//! The fleet level (issue 20): machines sharing one credential refresh it once between them,
//! through the team store on the PostgreSQL peer. Each "machine" is a process with its own
//! HOME (`fleet-worker`); the provider counts the refresh grants; each test has a database of
//! its own (the store's key check is per database).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use ccc_tests::oidc::{code_flow, issuer, public_client, token_requests};
use ccc_tests::peer;
use ccc_tests::pipe::TcpPipe;
use ccc_tests::team::fresh_database;
use core_types::{
    AwsCredentials, Clock, CredentialSource, ErrorKind, ExposeSecret, Kinded, ManualClock, RefreshPolicy, TokenSet,
};
use cred_store::{FleetEntry, Refreshing, TeamKey, TeamStore};

const WORKER: &str = env!("CARGO_BIN_EXE_fleet-worker");

pub(crate) fn key_file(dir: &Path) -> PathBuf {
    let path = dir.join("team.key");
    let key = TeamKey::generate().unwrap();
    key.write_new(&path).unwrap();
    ccc_tests::leak::secret(std::fs::read_to_string(&path).unwrap().trim());
    path
}

#[allow(clippy::disallowed_methods)] // real time: the provider's and PostgreSQL's clocks
fn now() -> SystemTime {
    SystemTime::now()
}

/// One machine's command: `fleet-worker` with a HOME of its own.
pub(crate) fn machine_cmd(
    root: &Path,
    n: usize,
    url: &str,
    key: &Path,
    tasks: usize,
    args: &[&str],
) -> tokio::process::Command {
    let home = root.join(format!("machine-{n}"));
    std::fs::create_dir_all(&home).unwrap();
    let mut cmd = tokio::process::Command::new(WORKER);
    cmd.args(args)
        .env("HOME", &home)
        .env("CCC_TEAM_STORE", url)
        .env("CCC_TEAM_KEY_FILE", key)
        .env("FLEET_TASKS", tasks.to_string())
        .env("FLEET_GO", root.join("go"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Starts one machine.
pub(crate) fn machine(
    root: &Path,
    n: usize,
    url: &str,
    key: &Path,
    tasks: usize,
    args: &[&str],
) -> tokio::process::Child {
    machine_cmd(root, n, url, key, tasks, args).spawn().expect("start fleet-worker")
}

/// Lets every machine started so far begin at once (they wait for the file `go`).
pub(crate) async fn go(root: &Path) {
    tokio::time::sleep(Duration::from_millis(500)).await;
    std::fs::write(root.join("go"), b"").unwrap();
}

/// A machine's summary line, within `bound`.
pub(crate) async fn summary(child: tokio::process::Child, bound: Duration) -> serde_json::Value {
    let out = tokio::time::timeout(bound, child.wait_with_output()).await.expect("a machine hung").unwrap();
    assert!(out.status.success(), "fleet-worker failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("summary line: {}", String::from_utf8_lossy(&out.stdout)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_machines_spend_a_rotating_refresh_token_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database("oauth").await;
    let key = key_file(dir.path());
    // a user of this test's own, so the provider's per-user count is this test's alone
    let user = format!("fleet-{}", std::process::id());
    let (mut tokens, _) = code_flow(&public_client().await, &user).await;
    assert!(tokens.refresh_token.is_some(), "the provider gave a refresh token");
    // the fleet's entry holds it, already due: the first machine to look must refresh
    tokens.expires_at = Some(now() - Duration::from_secs(1));
    let store = TeamStore::new(&url, TeamKey::from_file(&key).unwrap()).unwrap();
    let fleet_key = format!("oauth|{}|ccc-public|{user}", issuer());
    let hold = FleetEntry::<TokenSet>::lock(&store.entry(&fleet_key), Duration::from_secs(5)).await.unwrap();
    hold.publish(&tokens, now()).await.unwrap();
    let counter = format!("refresh_token:{user}");
    let before = token_requests(&counter).await;

    let machines: Vec<_> =
        (0..16).map(|n| machine(dir.path(), n, &url, &key, 200, &["oauth", &issuer(), &user])).collect();
    go(dir.path()).await;
    let mut values = std::collections::BTreeSet::new();
    for m in machines {
        let s = summary(m, Duration::from_secs(120)).await;
        assert_eq!(s["ok"], 200, "every caller got a token: {s}");
        assert_eq!(s["errors"].as_array().unwrap().len(), 0, "{s}");
        assert_eq!(s["accepted"], 1, "the provider accepts the token handed out: {s}");
        values.extend(s["values"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()));
    }
    assert_eq!(token_requests(&counter).await - before, 1, "exactly one refresh grant for the whole fleet");
    assert_eq!(token_requests(&format!("{counter}:refused")).await, 0, "no refresh token was spent twice");
    assert_eq!(values.len(), 1, "all 3 200 callers on 16 machines got the same token");

    // the family is alive: the fleet's latest refresh token still refreshes
    let mut hold = FleetEntry::<TokenSet>::lock(&store.entry(&fleet_key), Duration::from_secs(5)).await.unwrap();
    let (latest, _) = hold.current().unwrap().expect("the fleet keeps the refreshed tokens");
    hold.release().await;
    ccc_tests::leak::tokens(&latest);
    let again = public_client().await.refresh(&latest).await.expect("the rotated family still refreshes");
    ccc_tests::leak::tokens(&again);

    let status = store.status().await.unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].version, 2, "seeded once, refreshed once");
    assert!(status[0].written_by.starts_with("ccc@") && status[0].held_by.is_none(), "{:?}", status[0]);
}

pub(crate) fn lines(file: &Path) -> usize {
    std::fs::read_to_string(file).map(|t| t.lines().count()).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_killed_mid_refresh_releases_the_fleet_lock() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database("kill").await;
    let key = key_file(dir.path());
    let count = dir.path().join("refreshes.log");
    let count_s = count.display().to_string();
    let store = TeamStore::new(&url, TeamKey::from_file(&key).unwrap()).unwrap();
    // the fleet's credential has expired
    let old = AwsCredentials::new("ASIAFLEETEXPIRED", "old-secret", None, Some(now() - Duration::from_secs(1)));
    store.entry("counting").put(&old, now() - Duration::from_secs(3600)).await.unwrap();
    // the first machine takes the lock and stalls inside its refresh
    let mut holder = machine(dir.path(), 0, &url, &key, 1, &["counting", &count_s, "60000"]);
    go(dir.path()).await;
    let started = Instant::now();
    while lines(&count) == 0 {
        assert!(started.elapsed() < Duration::from_secs(30), "the first machine never began its refresh");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // `ccc team status` names the holder (its connection's application_name) while it refreshes
    let held = store.status().await.unwrap();
    let (who, _) = held[0].held_by.clone().expect("the holder is shown");
    assert!(who.ends_with(&format!("pid {}", holder.id().unwrap())), "{who}");
    holder.start_kill().unwrap(); // SIGKILL: no unwinding, no rollback sent
    holder.wait().await.unwrap();

    let killed_at = Instant::now();
    let machines: Vec<_> =
        (1..9).map(|n| machine(dir.path(), n, &url, &key, 20, &["counting", &count_s, "300"])).collect();
    let mut values = std::collections::BTreeSet::new();
    for m in machines {
        let s = summary(m, Duration::from_secs(60)).await;
        assert_eq!(s["ok"], 20, "{s}");
        values.extend(s["values"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()));
    }
    assert!(killed_at.elapsed() < Duration::from_secs(30), "the lock went with the dead holder's session");
    assert_eq!(lines(&count), 2, "the killed refresh, then exactly one more by another machine");
    assert_eq!(values.into_iter().collect::<Vec<_>>(), ["ASIAFLEET00000002"], "everyone got the second refresh");
    let status = store.status().await.unwrap();
    assert_eq!(status[0].version, 2, "the expired one, then the second refresh");
    assert!(status[0].held_by.is_none());
}

/// Counts its refreshes; each returns credentials valid for 15 minutes of `clock`.
struct Upstream {
    calls: Arc<AtomicUsize>,
    clock: ManualClock,
}

impl CredentialSource for Upstream {
    type Output = AwsCredentials;
    type Error = cred_store::Error;

    fn name(&self) -> std::borrow::Cow<'_, str> {
        "upstream".into()
    }

    async fn fetch(&self) -> Result<AwsCredentials, cred_store::Error> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let secret = format!("fleet-upstream-secret-{n}-{}", std::process::id());
        ccc_tests::leak::secret(&secret);
        Ok(AwsCredentials::new(
            format!("ASIAUPSTREAM{n:04}"),
            secret,
            None,
            Some(self.clock.now() + Duration::from_secs(900)),
        ))
    }
}

fn cache(home: &Path, store: &TeamStore, calls: &Arc<AtomicUsize>, clock: &ManualClock) -> Refreshing<Upstream> {
    Refreshing::builder(Upstream { calls: calls.clone(), clock: clock.clone() })
        .refresh_window(RefreshPolicy::new(Duration::from_secs(300)))
        .clock(Arc::new(clock.clone()))
        .lock_wait(Duration::from_secs(3))
        .persist_to(home.join("entry.json"))
        .fleet(store.entry("shared-role"))
        .build()
}

/// 64 callers at once, half on each machine.
async fn ask_both(one: &Refreshing<Upstream>, two: &Refreshing<Upstream>) -> Vec<AwsCredentials> {
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let c = if i % 2 == 0 { one.clone() } else { two.clone() };
            tokio::spawn(async move { c.get().await })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.unwrap().unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_gone_mid_storm_serves_what_is_valid_then_refreshes_per_machine() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database("gone").await;
    let upstream = url.split_once('@').unwrap().1.split_once('/').unwrap().0.to_owned();
    let pipe = TcpPipe::start(upstream.clone()).await;
    let piped = url.replace(&upstream, &pipe.addr.to_string());
    let key = TeamKey::generate().unwrap();
    let store = TeamStore::new(&piped, key).unwrap().connect_timeout(Duration::from_secs(1));
    let clock = ManualClock::new(now());
    let calls = Arc::new(AtomicUsize::new(0));
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let (one, two) = (cache(&a, &store, &calls, &clock), cache(&b, &store, &calls, &clock));
    let first = one.get().await.unwrap();
    assert_eq!(two.get().await.unwrap(), first, "the second machine read the first one's refresh");
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // PostgreSQL goes away; the credential is due (4 of its 15 minutes left)
    pipe.cut();
    clock.advance(Duration::from_secs(11 * 60));
    let (one, two) = (cache(&a, &store, &calls, &clock), cache(&b, &store, &calls, &clock));
    let t = Instant::now();
    for got in ask_both(&one, &two).await {
        assert_eq!(got, first, "the still-valid credential is served");
    }
    assert!(t.elapsed() < Duration::from_secs(10), "bounded: {:?}", t.elapsed());
    assert_eq!(calls.load(Ordering::SeqCst), 1, "nothing refreshed while the value is valid");

    // past its expiry: each machine refreshes on its own, once (machine-level single flight)
    clock.advance(Duration::from_secs(5 * 60));
    let t = Instant::now();
    for got in ask_both(&one, &two).await {
        assert_ne!(got, first);
    }
    assert!(t.elapsed() < Duration::from_secs(15), "bounded: {:?}", t.elapsed());
    assert_eq!(calls.load(Ordering::SeqCst), 3, "one refresh per machine while the fleet is unreachable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_or_an_altered_row_is_refused_never_served() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database("sealed").await;
    let clock = ManualClock::new(now());
    let calls = Arc::new(AtomicUsize::new(0));
    let store = TeamStore::new(&url, TeamKey::generate().unwrap()).unwrap();
    let first = cache(&dir.path().join("a"), &store, &calls, &clock).get().await.unwrap();

    // what a dump shows: no secret
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let dump: Vec<(String, String)> =
        sqlx::query_as("SELECT key, sealed FROM ccc_team_entries").fetch_all(&pool).await.unwrap();
    assert_eq!(dump.len(), 1);
    assert!(!dump[0].1.contains(first.secret_access_key().expose_secret()) && !dump[0].1.contains("ASIAUPSTREAM"));

    // another key: refused with what to do, before any value is read
    let stranger = TeamStore::new(&url, TeamKey::generate().unwrap()).unwrap();
    let e = cache(&dir.path().join("b"), &stranger, &calls, &clock).get().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotConfigured, "{e}");
    assert!(e.to_string().contains("team key does not open this store"), "{e}");

    // a row edited in the database (its version bumped): the AEAD refuses it
    sqlx::query("UPDATE ccc_team_entries SET version = version + 1").execute(&pool).await.unwrap();
    let e = cache(&dir.path().join("c"), &store, &calls, &clock).get().await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::InvalidInput, "{e}");
    let text = e.to_string();
    assert!(text.contains("does not open") && text.contains("remove the entry shared-role"), "{text}");
    assert!(!text.contains(first.secret_access_key().expose_secret()));
    // a sealed value swapped in from elsewhere: refused too
    sqlx::query("UPDATE ccc_team_entries SET version = version - 1, sealed = 'AAAA' || substr(sealed, 5)")
        .execute(&pool)
        .await
        .unwrap();
    assert!(cache(&dir.path().join("d"), &store, &calls, &clock).get().await.is_err());
    assert_eq!(calls.load(Ordering::SeqCst), 1, "no refresh from a value that did not open");
    assert!(store.forget("shared-role").await.unwrap());
    assert!(cache(&dir.path().join("e"), &store, &calls, &clock).get().await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_machines_share_one_cognito_refresh() {
    use cognito_auth::{AuthFlow, CognitoProfile, CognitoSource};
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database("cognito").await;
    let key = key_file(dir.path());
    let pool = ccc_tests::cognito::pool().await;
    let user = "fleetuser";
    pool.user(user, true).await;
    let config = pool.config(AuthFlow::Srp, false);
    let store = TeamStore::new(&url, TeamKey::from_file(&key).unwrap()).unwrap();

    // one machine signs in: its tokens and credentials go to the fleet too
    let seed = cred_store::Paths::under_home(dir.path().join("seed"));
    let profile =
        CognitoProfile::for_user(config.clone(), &seed, user).sdk_config(&pool.sdk).fleet(store.clone()).build();
    let password = core_types::SecretString::from(ccc_tests::cognito::PASSWORD.to_owned());
    profile.sign_in(user, &password, |c| panic!("no challenge expected: {c:?}")).await.unwrap();
    // ... an hour ago: both are due now, so the storm must refresh the tokens and then the
    // credentials, once for the whole fleet
    let token_key = CognitoSource::token_key(&pool.pool_id, user);
    let (tokens_entry, creds_entry) = (
        store.entry(format!("cognito|{}|{user}", pool.pool_id)),
        store.entry(format!("cognito-aws|{}|{user}", pool.pool_id)),
    );
    let mut hold = FleetEntry::<TokenSet>::lock(&tokens_entry, Duration::from_secs(5)).await.unwrap();
    let mut tokens = hold.current().unwrap().expect("the sign-in's tokens are in the fleet").0;
    hold.release().await;
    tokens.expires_at = Some(now() - Duration::from_secs(1));
    tokens_entry.put(&tokens, now() - Duration::from_secs(3600)).await.unwrap();
    let mut hold = FleetEntry::<AwsCredentials>::lock(&creds_entry, Duration::from_secs(5)).await.unwrap();
    let creds = hold.current().unwrap().expect("the sign-in's credentials are in the fleet").0;
    hold.release().await;
    let expired = AwsCredentials::new(
        creds.access_key_id().expose_secret(),
        creds.secret_access_key().expose_secret(),
        creds.session_token().map(|t| t.expose_secret().to_owned()),
        Some(now() - Duration::from_secs(1)),
    );
    creds_entry.put(&expired, now() - Duration::from_secs(3600)).await.unwrap();
    assert_eq!(token_key.user, user);

    // sixteen machines, 200 tasks each, every AWS call through a counting proxy
    let proxy = ccc_tests::proxy::FaultProxy::start(&peer("CCC_TEST_AWS_ENDPOINT")).await;
    let args = ["cognito", &pool.pool_id, &pool.client_id, &pool.identity_pool_id, user];
    let machines: Vec<_> = (0..16)
        .map(|n| {
            let mut m = machine_cmd(dir.path(), n, &url, &key, 200, &args);
            m.env("CCC_TEST_AWS_ENDPOINT", &proxy.url);
            m.spawn().expect("start fleet-worker")
        })
        .collect();
    go(dir.path()).await;
    let mut values = std::collections::BTreeSet::new();
    for m in machines {
        let s = summary(m, Duration::from_secs(120)).await;
        assert_eq!(s["ok"], 200, "every caller got credentials: {s}");
        values.extend(s["values"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_owned()));
    }
    let calls = proxy.operations();
    let count = |op: &str| calls.iter().filter(|(k, _)| k.ends_with(op)).map(|(_, n)| *n).sum::<usize>();
    assert_eq!(count("InitiateAuth"), 1, "one token refresh for the fleet: {calls:?}");
    assert_eq!(count("GetCredentialsForIdentity"), 1, "one credentials call for the fleet: {calls:?}");
    assert_eq!(values.len(), 1, "every machine got the same new credentials: {values:?}");
    // (moto hands out the same keys each time: the fleet's entries say they were renewed)
    let status = store.status().await.unwrap();
    for e in &status {
        assert_eq!(e.version, 3, "signed in, expired by the test, refreshed once: {e:?}");
        assert!(e.expires_at.is_some_and(|t| t > now()), "{e:?}");
    }
    assert_eq!(status.len(), 2, "the tokens and the credentials: {status:?}");

    // signing out on one machine removes the sign-in from the fleet's store
    let out = profile.sign_out().await.unwrap();
    // (moto answers RevokeToken with a 500: that warning is moto's, PEERS.md)
    assert!(!out.warnings.iter().any(|w| w.contains("fleet")), "{:?}", out.warnings);
    assert_eq!(store.status().await.unwrap(), vec![], "both entries are gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_machines_declaring_team_store_in_yaml_share_one_role_refresh() {
    use aws_credential_types::provider::ProvideCredentials;
    use cloud_sessions::{CloudSessionManager, ManagerOptions};
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database("yaml").await;
    let key = std::fs::read_to_string(key_file(dir.path())).unwrap().trim().to_owned();
    // judged: the counting front before the verifying judge and the strict moto, a real key
    let judge = ccc_tests::judge::Judge::start().await;
    let front = ccc_tests::front::Front::start_at(&judge.url).await;
    let user = ccc_tests::strict::user("fleet-yaml").await;
    ccc_tests::leak::secret(&user.secret_access_key);
    let yaml = "team_store:\n  url: ENV/TEAM_DB\n  key: ENV/TEAM_KEY\ncloud_sessions:\n\
        \x20 - name: keys\n    session_type: aws\n    region: us-east-1\n    access_key_id: ENV/TEST_KEY_ID\n    secret_access_key: ENV/TEST_SECRET\n\
        \x20 - name: deploy\n    session_type: aws\n    region: us-east-1\n    role_arn: arn:aws:iam::123456789012:role/Deployer\n    session_name: fleet\n    source: keys\n    team_store: true\n\
        \x20 - name: alone\n    session_type: aws\n    region: us-east-1\n    role_arn: arn:aws:iam::123456789012:role/Deployer\n    session_name: alone\n    source: keys\n";
    let env: Vec<(&str, String)> = vec![
        ("TEST_KEY_ID", user.access_key_id.clone()),
        ("TEST_SECRET", user.secret_access_key.clone()),
        ("TEAM_DB", url.clone()),
        ("TEAM_KEY", key),
    ];
    let clock = ManualClock::new(now());
    let options = || {
        let env = env.clone();
        ManagerOptions::default()
            .endpoint_url(front.url.clone())
            .env(move |k| env.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone()))
            .clock(Arc::new(clock.clone()))
    };
    // two machines: each its own manager, its own caches
    let one = CloudSessionManager::from_yaml(yaml, options()).await.unwrap();
    let two = CloudSessionManager::from_yaml(yaml, options()).await.unwrap();
    let creds = |m: &CloudSessionManager, s: &str| {
        let p = m.aws_session(s).unwrap().credentials_provider();
        async move { p.provide_credentials().await.unwrap() }
    };
    let first = creds(&one, "deploy").await;
    assert_eq!(creds(&two, "deploy").await.access_key_id(), first.access_key_id(), "machine two read machine one's");
    assert_eq!(front.calls("sts:AssumeRole"), 1);
    // a session without `team_store: true` is each machine's own
    creds(&one, "alone").await;
    creds(&two, "alone").await;
    assert_eq!(front.calls("sts:AssumeRole"), 3);

    // both due (moto's hour-long credentials, 4 minutes left): one machine renews for both
    clock.advance(Duration::from_secs(56 * 60));
    front.set_sts_clock_offset(Duration::from_secs(56 * 60));
    let renewed = creds(&one, "deploy").await;
    assert_ne!(renewed.access_key_id(), first.access_key_id());
    assert_eq!(creds(&two, "deploy").await.access_key_id(), renewed.access_key_id());
    assert_eq!(front.calls("sts:AssumeRole"), 4, "one renewal for the two machines");
    let judged = ccc_tests::strict::boto3_with_keys(
        renewed.access_key_id(),
        renewed.secret_access_key(),
        renewed.session_token(),
    );
    assert_eq!(judged, Ok("arn:aws:sts::123456789012:assumed-role/Deployer/fleet".to_owned()));
    let store = TeamStore::new(&url, TeamKey::from_file(&dir.path().join("team.key")).unwrap()).unwrap();
    let status = store.status().await.unwrap();
    assert_eq!(status.len(), 1);
    // the row is named for people (role, session name) and keyed by the chain's content (the
    // hash of the plan's parts): two machines share it only when their plans are equal
    let key = status[0].key.strip_prefix("aws-role|arn:aws:iam::123456789012:role/Deployer|fleet|");
    assert!(key.is_some_and(|h| h.len() == 40 && h.bytes().all(|b| b.is_ascii_hexdigit())), "{}", status[0].key);
    assert_eq!(status[0].version, 2);
}

/// Versions only increase: a machine remembers the highest version of each entry it saw, and
/// a row put back from an older copy (a backup, or someone with table access) is refused with
/// what to do, never served and never refreshed from (its refresh token may be spent).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restored_older_row_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database("restore").await;
    let clock = ManualClock::new(now());
    let calls = Arc::new(AtomicUsize::new(0));
    let store = TeamStore::new(&url, TeamKey::generate().unwrap())
        .unwrap()
        .remember_versions_in(dir.path().join("team-versions.json"));
    cache(&dir.path().join("a"), &store, &calls, &clock).get().await.unwrap();
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let v1: (i64, Option<i64>, i64, String) =
        sqlx::query_as("SELECT version, expires_at_ms, written_at_ms, sealed FROM ccc_team_entries")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(v1.0, 1);
    // past the window: the machine refreshes from v1 and publishes v2
    clock.advance(Duration::from_secs(700));
    cache(&dir.path().join("a"), &store, &calls, &clock).get().await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    // v1 put back, whole and correctly sealed
    sqlx::query("UPDATE ccc_team_entries SET version = $1, expires_at_ms = $2, written_at_ms = $3, sealed = $4")
        .bind(v1.0)
        .bind(v1.1)
        .bind(v1.2)
        .bind(&v1.3)
        .execute(&pool)
        .await
        .unwrap();
    clock.advance(Duration::from_secs(700));
    let e = cache(&dir.path().join("b"), &store, &calls, &clock).get().await.unwrap_err();
    let text = e.to_string();
    assert!(text.contains("version 1 is older than version 2"), "{text}");
    assert_eq!(calls.load(Ordering::SeqCst), 2, "no refresh from a restored row");
    // forgetting the entry on this machine is the way out
    assert!(store.forget("shared-role").await.unwrap());
    cache(&dir.path().join("c"), &store, &calls, &clock).get().await.unwrap();
}

/// What a team store off this machine gets by default (`sslmode=verify-full`, see
/// `cred_store` team's `a_remote_store_defaults_to_verified_tls`) is enforced by the driver: a
/// server that offers no TLS is refused, not silently used in the clear; a URL that writes a
/// weaker mode itself connects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_without_tls_is_refused_under_verified_tls() {
    let url = fresh_database("tls").await;
    let strict = format!("{url}?sslmode=verify-full");
    let store = TeamStore::new(&strict, TeamKey::generate().unwrap()).unwrap().connect_timeout(Duration::from_secs(5));
    let e = store.connect().await.unwrap_err();
    assert!(!e.to_string().contains("password"), "{e}");
    let weaker = format!("{url}?sslmode=disable");
    let store = TeamStore::new(&weaker, TeamKey::generate().unwrap()).unwrap().connect_timeout(Duration::from_secs(5));
    store.connect().await.expect("sslmode written in the URL is honoured");
}

/// A source whose refresh spends a rotating token (an OAuth or Cognito refresh grant).
struct Rotating(Upstream);

impl CredentialSource for Rotating {
    type Output = AwsCredentials;
    type Error = cred_store::Error;

    fn name(&self) -> std::borrow::Cow<'_, str> {
        "rotating".into()
    }

    async fn fetch(&self) -> Result<AwsCredentials, cred_store::Error> {
        self.0.fetch().await
    }

    fn spends_rotating_token(&self) -> bool {
        true
    }
}

/// While PostgreSQL is cut, a source that spends a rotating token is never refreshed per
/// machine: the still-valid value is served, then each call fails with one line naming the
/// store and the setting that allows the per-machine fallback; nothing is spent. Allowed
/// explicitly, each machine refreshes once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotating_token_is_never_spent_per_machine_while_the_fleet_is_cut() {
    let dir = tempfile::tempdir().unwrap();
    let url = fresh_database("rotating").await;
    let upstream = url.split_once('@').unwrap().1.split_once('/').unwrap().0.to_owned();
    let pipe = TcpPipe::start(upstream.clone()).await;
    let store = TeamStore::new(&url.replace(&upstream, &pipe.addr.to_string()), TeamKey::generate().unwrap())
        .unwrap()
        .connect_timeout(Duration::from_secs(1));
    let clock = ManualClock::new(now());
    let calls = Arc::new(AtomicUsize::new(0));
    let rotating = |home: &Path, alone: Option<bool>| {
        let b = Refreshing::builder(Rotating(Upstream { calls: calls.clone(), clock: clock.clone() }))
            .refresh_window(RefreshPolicy::new(Duration::from_secs(300)))
            .clock(Arc::new(clock.clone()))
            .lock_wait(Duration::from_secs(3))
            .persist_to(home.join("entry.json"))
            .fleet(store.entry("rotating"));
        match alone {
            Some(a) => b.refresh_alone_when_fleet_down(a).build(),
            None => b.build(),
        }
    };
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    let first = rotating(&a, None).get().await.unwrap();
    assert_eq!(rotating(&b, None).get().await.unwrap(), first);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    pipe.cut();
    // due but valid: served
    clock.advance(Duration::from_secs(11 * 60));
    assert_eq!(rotating(&a, None).get().await.unwrap(), first);
    // expired: one line naming the store and the setting; nothing spent
    clock.advance(Duration::from_secs(5 * 60));
    for home in [&a, &b] {
        let e = rotating(home, None).get().await.unwrap_err();
        assert_eq!(core_types::Kinded::kind(&e), core_types::ErrorKind::Unavailable);
        let said = e.to_string();
        assert_eq!(said.lines().count(), 1, "{said}");
        assert!(said.contains("rotating token") && said.contains("refresh_alone_when_fleet_down"), "{said}");
        assert!(said.contains(&pipe.addr.to_string()), "names the store: {said}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 1, "no refresh while the fleet is cut");
    // allowed on purpose: once per machine
    for home in [&a, &b] {
        assert_ne!(rotating(home, Some(true)).get().await.unwrap(), first);
    }
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}
