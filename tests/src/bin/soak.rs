//! The soak harness (`cargo xtask soak`): hours of credential traffic under faults and kills.
//!
//! `soak run` sets up the sources on the peers `cargo xtask peers up` started — a Cognito
//! profile on moto, an OAuth provider with rotating refresh tokens (its own oidc-provider with
//! short-lived access tokens) — puts a fault proxy in front of each, and starts 16 worker
//! processes sharing one HOME (one machine). Each worker loops over `ccc creds`, `ccc oauth
//! token` and a library caller (`oauth_pkce::OAuthSession` over the same token store),
//! checking every answer. A chaos schedule drawn from the seed resets, stalls, throttles and
//! refuses connections at the proxies and `kill -9`s workers, including the process holding
//! a refresh lock. At the end it judges what happened and writes `report.json` (read by
//! `cargo xtask soak`, which adds the leak scan and writes `report.md`).
//!
//! `soak worker` is one worker; it writes one JSON line per call.

#![allow(clippy::print_stderr)] // a harness reports on its terminal and into its workers' logs

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ccc_tests::proxy::{FaultProxy, TcpFault};
use core_types::{ExposeSecret, SecretString};
use serde_json::{Value, json};

/// Processes (one machine).
const WORKERS: usize = 16;
/// Longer than any call may take: the refresh lock wait (45 s) plus a refresh's attempts.
const CALL_BUDGET: Duration = Duration::from_secs(90);
/// The provider's access-token lifetime and ccc's refresh window: one refresh every 15 s.
const OAUTH_TTL_S: u64 = 45;
const REFRESH_WINDOW_S: u64 = 30;
/// moto's identity-pool credentials live 90 s: refreshed when 60 s old.
const COGNITO_TTL_S: u64 = 90;
/// The STS role session: moto's AssumeRole honours a 900 s session, longer than a soak, so the
/// soak's source tells the cache each session lives 20 times less (45 s; [`ShortLived`]),
/// refreshed when 15 s are left. The upstream calls are real; only the cache's view of time
/// is shortened (moto's clock is the wall clock, so a sped-up clock would not do).
const STS_SCALE: u32 = 20;
const STS_SESSION_S: u64 = 900;
const STS_WINDOW_S: u64 = 15;
const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/soak";
/// Longer than ccc's per-attempt deadline (10 s): a stall the deadline must cut.
const STALL: Duration = Duration::from_secs(12);
const PROFILE: &str = "soak";
const PROVIDER: &str = "soak";
const USER: &str = "soakuser";
const PASSWORD: &str = "Soak-Passw0rd!";
const OAUTH_USER: &str = "alice";
const OAUTH_PASSWORD: &str = "alice-password";
const CLIENT_SECRET: &str = "ccc-confidential-secret";

type Res<T> = Result<T, String>;

#[allow(clippy::disallowed_methods)] // the harness's inputs come from its environment
fn env(name: &str) -> Res<String> {
    std::env::var(name).map_err(|_| format!("{name} is not set (run through `cargo xtask soak`)"))
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

#[allow(clippy::disallowed_methods)] // wall-clock instants are what the answers are judged against
fn now() -> SystemTime {
    SystemTime::now()
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or_default()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let result = match args.first().map(String::as_str) {
        Some("run") => rt.block_on(run(&args)),
        Some("worker") => rt.block_on(worker(&args)),
        _ => Err("usage: soak run --minutes N --seed S --ccc PATH --out DIR | soak worker ...".into()),
    };
    if let Err(e) = result {
        eprintln!("soak: {e}");
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------
// the parent

struct Setup {
    home: PathBuf,
    ccc: String,
    out: PathBuf,
    /// The verifying front before the strict moto: every AWS call goes through it.
    judge: ccc_tests::judge::Judge,
    /// The STS role's base user's key (on the strict moto).
    base_key: (String, String),
    moto: FaultProxy,
    oidc: FaultProxy,
    oidc_direct: String,
    oidc_child: std::process::Child,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = self.oidc_child.kill();
        let _ = self.oidc_child.wait();
    }
}

async fn run(args: &[String]) -> Res<()> {
    let minutes: f64 = arg(args, "--minutes").unwrap_or_else(|| "10".into()).parse().map_err(|_| "--minutes N")?;
    let seed: u64 = arg(args, "--seed").unwrap_or_else(|| "1".into()).parse().map_err(|_| "--seed S")?;
    let ccc = arg(args, "--ccc").ok_or("--ccc PATH")?;
    let out = PathBuf::from(arg(args, "--out").ok_or("--out DIR")?);
    let _ = std::fs::remove_dir_all(&out);
    for d in ["home", "workers", "leak"] {
        std::fs::create_dir_all(out.join(d)).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    }
    let setup = set_up(&ccc, &out).await?;
    let length = Duration::from_secs_f64(minutes * 60.0);
    eprintln!("soak: {WORKERS} workers for {minutes} min, seed {seed}");
    let started = Instant::now();
    let until = unix_ms(now() + length);
    let mut workers: Vec<Option<std::process::Child>> = Vec::new();
    for id in 0..WORKERS {
        workers.push(Some(spawn_worker(&setup, id, seed, until, 0)?));
    }
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut events: Vec<Value> = Vec::new();
    let mut mode_violations: Vec<String> = Vec::new();
    let mut crashes: Vec<String> = Vec::new();
    let mut generation = [0u32; WORKERS];
    let start_ms = unix_ms(now());
    let mut next_chaos = Instant::now() + Duration::from_millis(rng.u64(1000..4000));
    let mut next_modes = Instant::now();
    while started.elapsed() < length {
        tokio::time::sleep(Duration::from_millis(100)).await;
        // a worker that died (killed, or crashed) is replaced: the machine keeps 16 processes
        for id in 0..WORKERS {
            let status = workers[id].as_mut().map(|c| c.try_wait());
            if let Some(Ok(Some(st))) = &status
                && st.code().is_some_and(|c| c != 0)
            {
                // killed by us is a signal; an exit code is the worker's own failure
                crashes.push(format!("worker {id} exited with {st} (see leak/log-worker-{id}.log)"));
            }
            let done = !matches!(status, Some(Ok(None)));
            if done && started.elapsed() + Duration::from_secs(2) < length {
                generation[id] += 1;
                workers[id] = Some(spawn_worker(&setup, id, seed, until, generation[id])?);
            }
        }
        if Instant::now() >= next_modes {
            next_modes = Instant::now() + Duration::from_secs(5);
            check_modes(&setup.home, &mut mode_violations);
        }
        if Instant::now() >= next_chaos {
            // several events a minute, some at once
            next_chaos = Instant::now() + Duration::from_millis(rng.u64(1500..5000));
            let at = started.elapsed().as_secs_f64();
            let event = chaos(&mut rng, &setup, &mut workers);
            eprintln!("soak: {at:7.1}s {event}");
            events.push(json!({"at_s": at, "event": event}));
        }
    }
    // the workers stop on their own at `until`; a call in flight gets its budget to end
    let deadline = Instant::now() + CALL_BUDGET + Duration::from_secs(10);
    let mut stuck = Vec::new();
    for (id, w) in workers.iter_mut().enumerate() {
        let Some(child) = w else { continue };
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            if Instant::now() > deadline {
                stuck.push(id);
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    check_modes(&setup.home, &mut mode_violations);
    let elapsed = started.elapsed();
    let seen = Observed { start_ms, events, modes: mode_violations, stuck, crashes };
    let report = judge(&setup, elapsed, seed, minutes, seen).await?;
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(out.join("report.json"), text).map_err(|e| format!("cannot write the report: {e}"))?;
    eprintln!("soak: report written to {}", out.join("report.json").display());
    Ok(())
}

/// The peers' sources, signed in, behind fault proxies.
async fn set_up(ccc: &str, out: &Path) -> Res<Setup> {
    // every AWS call goes to the verifying front before moto with authentication on: a
    // credential handed out that AWS would refuse is refused there
    let judge = ccc_tests::judge::Judge::start().await;
    let moto_direct = judge.url.clone();
    let python = env("CCC_TEST_PYTHON")?;
    let peers = PathBuf::from(env("CCC_TEST_PEERS_DIR")?);
    let home = out.join("home");
    let moto = FaultProxy::start(&moto_direct).await;
    let base_key = sts_base().await?;

    // an oidc-provider of our own: short-lived access tokens, its issuer the proxy's address
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        l.local_addr().map_err(|e| e.to_string())?.port()
    };
    let oidc_direct = format!("http://127.0.0.1:{port}");
    let oidc = FaultProxy::start(&oidc_direct).await;
    let server = peers.join("oidc/soak-server.mjs");
    std::fs::copy(ccc_tests::workspace_root().join("xtask/peers/oidc/server.mjs"), &server)
        .map_err(|e| format!("cannot copy the oidc-provider script (run `cargo xtask peers up`): {e}"))?;
    let oidc_log = std::fs::File::create(out.join("oidc-provider.log")).map_err(|e| e.to_string())?;
    let oidc_child = std::process::Command::new("node")
        .arg(&server)
        .current_dir(peers.join("oidc"))
        .env("PORT", port.to_string())
        .env("ISSUER", &oidc.url)
        .env("ACCESS_TOKEN_TTL", OAUTH_TTL_S.to_string())
        .stdout(Stdio::null())
        .stderr(oidc_log)
        .spawn()
        .map_err(|e| format!("cannot start node: {e}"))?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().map_err(|e| e.to_string())?;
    let discovery = format!("{oidc_direct}/.well-known/openid-configuration");
    let up = Instant::now();
    while !http.get(&discovery).send().await.is_ok_and(|r| r.status().is_success()) {
        if up.elapsed() > Duration::from_secs(30) {
            return Err("the soak's oidc-provider did not start within 30 s".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut setup = Setup {
        home: home.clone(),
        ccc: ccc.to_owned(),
        out: out.to_owned(),
        judge,
        base_key,
        moto,
        oidc,
        oidc_direct,
        oidc_child,
    };

    // Cognito: pool, app client, identity pool and user (the demo's seed script), then
    // `ccc configure` and `ccc login` straight to moto (the set-up is not under faults)
    let seeded = capture(
        &python,
        &[
            &ccc_tests::workspace_root().join("xtask/demo/seed.py").display().to_string(),
            USER,
            PASSWORD,
            ccc_tests::judge::COGNITO_ROLE,
        ],
        &[
            ("AWS_ENDPOINT_URL", moto_direct.as_str()),
            ("AWS_ACCESS_KEY_ID", env("CCC_TEST_STRICT_ADMIN_KEY_ID")?.as_str()),
            ("AWS_SECRET_ACCESS_KEY", env("CCC_TEST_STRICT_ADMIN_SECRET")?.as_str()),
        ],
        None,
    )?;
    let field = |k: &str| seeded.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).unwrap_or_default().to_owned();
    let home_s = home.display().to_string();
    let ccc_env = [("HOME", home_s.as_str()), ("AWS_ENDPOINT_URL", moto_direct.as_str())];
    capture(
        ccc,
        &[
            "configure",
            "--non-interactive",
            "--user-pool-id",
            &field("USER_POOL_ID"),
            "--app-client-id",
            &field("APP_CLIENT_ID"),
            "--identity-pool-id",
            &field("IDENTITY_POOL_ID"),
            "--region",
            "us-east-1",
            "--profile",
            PROFILE,
        ],
        &ccc_env,
        None,
    )?;
    capture(ccc, &["config", "set", "refresh_window_seconds", &REFRESH_WINDOW_S.to_string()], &ccc_env, None)?;
    capture(ccc, &["login", "--username", USER, "--password-stdin"], &ccc_env, Some(&format!("{PASSWORD}\n")))?;

    // OAuth: the confidential client saved as a provider, signed in with the password grant
    let issuer = setup.oidc.url.clone();
    capture(
        ccc,
        &[
            "oauth",
            "add",
            PROVIDER,
            "--issuer",
            &issuer,
            "--client-id",
            "ccc-confidential",
            "--scope",
            "openid",
            "--scope",
            "offline_access",
            "--client-secret-stdin",
        ],
        &ccc_env,
        Some(&format!("{CLIENT_SECRET}\n")),
    )?;
    let client = oauth_client(&issuer).await?;
    let tokens = client
        .sign_in_with_password(OAUTH_USER, &SecretString::from(OAUTH_PASSWORD.to_owned()))
        .await
        .map_err(|e| format!("password sign-in at the soak's provider: {e}"))?;
    cred_store::TokenStore::new(&cred_store::Paths::under_home(&home))
        .put(&oauth_key(&issuer), &tokens)
        .map_err(|e| e.to_string())?;
    // a first answer of each, so the workers start warm and the leak list has the secrets
    capture(ccc, &["creds", "--profile", PROFILE], &ccc_env, None)?;
    capture(ccc, &["oauth", "token", PROVIDER], &ccc_env, None)?;
    let _ = &mut setup;
    Ok(setup)
}

/// The STS role's base: an IAM user allowed everything, with a key, and the role it assumes
/// (anyone may), on the strict moto.
async fn sts_base() -> Res<(String, String)> {
    let iam = aws_sdk_iam::Client::new(&ccc_tests::strict::admin_config());
    let all = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    let anyone = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    let role = ROLE_ARN.rsplit('/').next().unwrap_or("soak");
    // (peers reused from an earlier soak already have the role)
    if iam.get_role().role_name(role).send().await.is_err() {
        iam.create_role()
            .role_name(role)
            .assume_role_policy_document(anyone)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
        iam.put_role_policy()
            .role_name(role)
            .policy_name("all")
            .policy_document(all)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?;
    }
    let user = ccc_tests::strict::unique("soak-base");
    iam.create_user().user_name(&user).send().await.map_err(|e| format!("{e:?}"))?;
    iam.put_user_policy()
        .user_name(&user)
        .policy_name("all")
        .policy_document(all)
        .send()
        .await
        .map_err(|e| format!("{e:?}"))?;
    let key = iam.create_access_key().user_name(&user).send().await.map_err(|e| format!("{e:?}"))?;
    let key = key.access_key().ok_or("no access key")?;
    ccc_tests::leak::secret(key.secret_access_key());
    Ok((key.access_key_id().to_owned(), key.secret_access_key().to_owned()))
}

fn oauth_key(issuer: &str) -> cred_store::TokenKey {
    // where `ccc oauth` keeps a provider's tokens
    cred_store::TokenKey::new("oauth", issuer.trim_end_matches('/'), "ccc-confidential")
}

async fn oauth_client(issuer: &str) -> Res<oauth_pkce::OAuthClient> {
    let config = oauth_pkce::OAuthConfig::new(issuer, "ccc-confidential")
        .with_secret(SecretString::from(CLIENT_SECRET.to_owned()))
        .with_scopes(&["openid", "offline_access"]);
    oauth_pkce::OAuthClient::discover(config).await.map_err(|e| format!("discovery at {issuer}: {e}"))
}

/// Runs a set-up command; its stdout, or an error with its stderr.
fn capture(program: &str, args: &[&str], envs: &[(&str, &str)], stdin: Option<&str>) -> Res<String> {
    let mut cmd = std::process::Command::new(program);
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().map_err(|e| format!("cannot run {program}: {e}"))?;
    if let Some(mut pipe) = child.stdin.take() {
        let _ = pipe.write_all(stdin.unwrap_or_default().as_bytes());
    }
    let output = child.wait_with_output().map_err(|e| e.to_string())?;
    if !output.status.success() {
        return Err(format!(
            "{program} {} failed: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn spawn_worker(setup: &Setup, id: usize, seed: u64, until: u64, generation: u32) -> Res<std::process::Child> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(setup.out.join("leak").join(format!("log-worker-{id}.log")))
        .map_err(|e| e.to_string())?;
    std::process::Command::new(exe)
        .args(["worker", "--id", &id.to_string(), "--seed", &seed.to_string(), "--until", &until.to_string()])
        .args(["--generation", &generation.to_string(), "--ccc", &setup.ccc])
        .args(["--issuer", &setup.oidc.url, "--provider-direct", &setup.oidc_direct])
        .arg("--out")
        .arg(setup.out.join("workers").join(format!("w{id}.jsonl")))
        .env("HOME", &setup.home)
        .env("AWS_ENDPOINT_URL", &setup.moto.url)
        .env("SOAK_JUDGE_URL", &setup.judge.url)
        .env("SOAK_BASE_KEY_ID", &setup.base_key.0)
        .env("SOAK_BASE_SECRET", &setup.base_key.1)
        .env("CCC_LEAK_DIR", setup.out.join("leak"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start worker {id}: {e}"))
}

/// Whether AWS takes the credentials a worker was handed: GetCallerIdentity signed with them,
/// straight to the verifying front (no chaos on the way), which refuses what AWS would.
async fn accepted_by_aws(key: &str, secret: &str, token: Option<String>) -> Result<(), Failure> {
    #[allow(clippy::disallowed_methods)] // the harness hands the judge's address over the environment
    let judge = std::env::var("SOAK_JUDGE_URL").unwrap_or_default();
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(judge)
            .credentials_provider(aws_credential_types::Credentials::new(key, secret, token, None, "handed-out"))
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_attempt_timeout(Duration::from_secs(10))
                    .build(),
            )
            .build(),
    );
    // the SDK's debug log shows the identity it signs with (the access key id, which the leak
    // scan counts as a secret): this check's own client logs nothing
    use tracing::instrument::WithSubscriber;
    let answer = sts.get_caller_identity().send().with_subscriber(tracing::subscriber::NoSubscriber::default()).await;
    match answer {
        Ok(_) => Ok(()),
        Err(e) => match aws_sdk_sts::error::ProvideErrorMetadata::code(&e) {
            Some(code) => Err(Failure::Violation(format!("AWS refuses the credentials handed out: {code}"))),
            None => Err(Failure::Error(format!("the verifying front did not answer: {e}"))),
        },
    }
}

/// One chaos event, drawn from the seed.
fn chaos(rng: &mut fastrand::Rng, setup: &Setup, workers: &mut [Option<std::process::Child>]) -> String {
    let (proxy, name) = if rng.bool() { (&setup.moto, "moto") } else { (&setup.oidc, "oidc") };
    match rng.u32(0..8) {
        0 => {
            proxy.fail_next(&[TcpFault::Reset, TcpFault::Reset]);
            format!("{name}: reset the next 2 requests")
        }
        1 => {
            proxy.fail_next(&[TcpFault::Stall(STALL)]);
            format!("{name}: stall the next request {} s (past the attempt deadline)", STALL.as_secs())
        }
        2 => {
            proxy.fail_next(&[TcpFault::Status(503), TcpFault::Status(503)]);
            format!("{name}: 503 + Retry-After on the next 2 requests")
        }
        3 => {
            proxy.fail_next(&[TcpFault::Status(429); 3]);
            format!("{name}: throttle (429) the next 3 requests")
        }
        4 => {
            proxy.refuse_for(Duration::from_secs(2));
            format!("{name}: refuse connections for 2 s")
        }
        5 | 6 => {
            // the process holding a refresh lock, when there is one: the worst moment to die
            match lock_holders(&setup.home).first() {
                Some((pid, file)) => {
                    kill9(*pid);
                    format!("kill -9 {pid}, holding the refresh lock {file}")
                }
                None => kill_random(rng, workers),
            }
        }
        _ => kill_random(rng, workers),
    }
}

fn kill_random(rng: &mut fastrand::Rng, workers: &mut [Option<std::process::Child>]) -> String {
    let id = rng.usize(0..workers.len());
    match workers[id].as_mut() {
        Some(child) => {
            let pid = child.id();
            let _ = child.kill(); // SIGKILL
            format!("kill -9 worker {id} (pid {pid})")
        }
        None => "nothing to kill".into(),
    }
}

fn kill9(pid: u32) {
    let _ = std::process::Command::new("kill").args(["-9", &pid.to_string()]).status();
}

/// Processes holding an flock on a refresh lock under `home` (from /proc/locks, by inode).
fn lock_holders(home: &Path) -> Vec<(u32, String)> {
    use std::os::unix::fs::MetadataExt;
    let mut inodes: HashMap<u64, String> = HashMap::new();
    let mut stack = vec![home.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if name.ends_with(".lock")
                && (name.contains(".refresh-") || dir.file_name().is_some_and(|d| d == "cache"))
            {
                // refresh locks: a token entry's, a cache entry's (not a file's write lock)
                if let Ok(m) = std::fs::metadata(&path) {
                    inodes.insert(m.ino(), name);
                }
            }
        }
    }
    let locks = std::fs::read_to_string("/proc/locks").unwrap_or_default();
    let mut holders = Vec::new();
    for line in locks.lines() {
        // "1: FLOCK  ADVISORY  WRITE 12345 fd:01:123456 0 EOF" ("->" marks waiters)
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.get(1) != Some(&"FLOCK") || fields.contains(&"->") {
            continue;
        }
        let (Some(pid), Some(dev_ino)) = (fields.get(4), fields.get(5)) else { continue };
        let ino = dev_ino.rsplit(':').next().and_then(|i| i.parse::<u64>().ok());
        if let (Ok(pid), Some(name)) = (pid.parse::<u32>(), ino.and_then(|i| inodes.get(&i))) {
            holders.push((pid, name.clone()));
        }
    }
    holders
}

/// Every file under `home` private (0600 or stricter), every directory 0700 or stricter.
fn check_modes(home: &Path, violations: &mut Vec<String>) {
    use std::os::unix::fs::PermissionsExt;
    let mut stack = vec![home.join(".ccc"), home.join(".aws")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let Ok(m) = e.metadata() else { continue };
            let mode = m.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                let v = format!("{} has mode {mode:o}", e.path().display());
                if !violations.contains(&v) {
                    violations.push(v);
                }
            }
            if m.is_dir() {
                stack.push(e.path());
            }
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// One caller's latencies (ms), successes and errors by message.
type Tally = (Vec<u64>, usize, BTreeMap<String, usize>);

/// What the parent saw during the run.
struct Observed {
    /// When the chaos clock started (ms since the epoch): events are `at_s` after it.
    start_ms: u64,
    events: Vec<Value>,
    modes: Vec<String>,
    stuck: Vec<usize>,
    crashes: Vec<String>,
}

async fn judge(setup: &Setup, elapsed: Duration, seed: u64, minutes: f64, seen: Observed) -> Res<Value> {
    let Observed { start_ms, events, modes, stuck, crashes } = seen;
    let mut calls: Vec<Value> = Vec::new();
    for e in std::fs::read_dir(setup.out.join("workers")).map_err(|e| e.to_string())?.flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        // a worker killed mid-line leaves a torn last line: skipped
        calls.extend(text.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()));
    }
    let mut per_action: BTreeMap<String, Tally> = BTreeMap::new();
    let mut violations: Vec<String> = Vec::new();
    let mut hangs = 0usize;
    for c in &calls {
        let action = c["action"].as_str().unwrap_or("?").to_owned();
        let ms = c["ms"].as_u64().unwrap_or(0);
        let entry = per_action.entry(action).or_default();
        entry.0.push(ms);
        if c["ok"].as_bool() == Some(true) {
            entry.1 += 1;
        } else {
            let err = c["error"].as_str().unwrap_or("?").chars().take(160).collect::<String>();
            *entry.2.entry(err).or_default() += 1;
        }
        if ms > CALL_BUDGET.as_millis() as u64 || c["hung"].as_bool() == Some(true) {
            hangs += 1;
        }
        if let Some(v) = c["violation"].as_str() {
            violations.push(v.to_owned());
        }
    }
    let mut slowest: Vec<&Value> = calls.iter().collect();
    slowest.sort_by_key(|c| std::cmp::Reverse(c["ms"].as_u64().unwrap_or(0)));
    let slowest: Vec<Value> = slowest
        .iter()
        .take(10)
        .map(|c| {
            // what it waited for: the chaos events from just before it started (a queued
            // fault, a stall of up to 12 s) to its end
            let (t, ms) = (c["t"].as_u64().unwrap_or(0), c["ms"].as_u64().unwrap_or(0));
            let during: Vec<&str> = events
                .iter()
                .filter(|e| {
                    let at = start_ms + (e["at_s"].as_f64().unwrap_or(0.0) * 1000.0) as u64;
                    at + STALL.as_millis() as u64 >= t && at <= t + ms
                })
                .filter_map(|e| e["event"].as_str())
                .collect();
            json!({
                "action": c["action"], "ms": ms, "ok": c["ok"], "error": c["error"], "worker": c["worker"],
                "chaos": during,
            })
        })
        .collect();
    let actions: BTreeMap<String, Value> = per_action
        .into_iter()
        .map(|(name, (mut ms, ok, errors))| {
            ms.sort_unstable();
            let n = ms.len();
            (
                name,
                json!({
                    "calls": n, "ok": ok, "errors": errors,
                    "p50_ms": percentile(&ms, 0.50), "p99_ms": percentile(&ms, 0.99), "max_ms": ms.last(),
                }),
            )
        })
        .collect();

    // upstream: what the providers themselves saw
    let ops = setup.moto.operations();
    let cognito_refreshes = ops.get("AWSCognitoIdentityService.GetCredentialsForIdentity").copied().unwrap_or(0);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().map_err(|e| e.to_string())?;
    let counters: Value = match http.get(format!("{}/test/counters", setup.oidc_direct)).send().await {
        Ok(r) => r.json().await.unwrap_or_default(),
        Err(_) => Value::Null,
    };
    let oauth_refreshes = counters[format!("refresh_token:{OAUTH_USER}")].as_u64().unwrap_or(0);
    let sts_refreshes = ops.get("AssumeRole").copied().unwrap_or(0);
    let oauth_refused = counters[format!("refresh_token:{OAUTH_USER}:refused")].as_u64().unwrap_or(0);
    let secs = elapsed.as_secs_f64();
    let cognito_lifetimes = secs / (COGNITO_TTL_S - REFRESH_WINDOW_S) as f64;
    let oauth_lifetimes = secs / (OAUTH_TTL_S - REFRESH_WINDOW_S) as f64;
    let sts_life = STS_SESSION_S as f64 / f64::from(STS_SCALE);
    let sts_lifetimes = secs / (sts_life - STS_WINDOW_S as f64);
    let kills = events.iter().filter(|e| e["event"].as_str().is_some_and(|s| s.starts_with("kill -9"))).count();

    // the family alive: one more token straight from the provider, and the last one valid there
    let home_s = setup.home.display().to_string();
    let final_token = capture(
        &setup.ccc,
        &["oauth", "token", PROVIDER],
        &[("HOME", home_s.as_str()), ("AWS_ENDPOINT_URL", setup.moto.url.as_str())],
        None,
    );
    let family_alive = match &final_token {
        Ok(t) => userinfo_ok(&http, &setup.oidc_direct, t.trim()).await,
        Err(_) => false,
    };
    // every AWS file parses in botocore; every cache entry parses as JSON
    let corrupt = corrupt_files(setup);

    let report = json!({
        "seed": seed,
        "minutes": minutes,
        "elapsed_s": secs,
        "workers": WORKERS,
        "calls": calls.len(),
        "throughput_per_s": calls.len() as f64 / secs,
        "actions": actions,
        "upstream": {
            "cognito": {"refreshes": cognito_refreshes, "lifetimes_crossed": cognito_lifetimes, "lifetime_s": COGNITO_TTL_S},
            "sts": {
                "refreshes": sts_refreshes, "lifetimes_crossed": sts_lifetimes,
                "lifetime_s": sts_life, "upstream_session_s": STS_SESSION_S,
            },
            "oauth": {
                "refreshes": oauth_refreshes, "lifetimes_crossed": oauth_lifetimes, "lifetime_s": OAUTH_TTL_S,
                "refused": oauth_refused, "family_alive": family_alive,
            },
            "moto_operations": ops,
            "oidc_operations": setup.oidc.operations(),
            "refresh_window_s": REFRESH_WINDOW_S,
        },
        "chaos": {"events": events.len(), "kills": kills, "log": events},
        "hangs": hangs,
        "stuck_workers": stuck,
        "crashed_workers": crashes,
        "slowest": slowest,
        "violations": violations,
        // what the verifying front saw: requests signed with the credentials workers were
        // handed (Cognito's, which moto cannot judge), and those it refused (expired, unknown,
        // a wrong secret or session token): the goal is none
        "judge": {"verified": setup.judge.accepted(), "refused": setup.judge.refused()},
        "mode_violations": modes,
        "corrupt_files": corrupt,
    });
    Ok(report)
}

async fn userinfo_ok(http: &reqwest::Client, provider: &str, token: &str) -> bool {
    http.get(format!("{provider}/me")).bearer_auth(token).send().await.is_ok_and(|r| r.status().is_success())
}

fn corrupt_files(setup: &Setup) -> Vec<String> {
    let mut bad = Vec::new();
    let probe = "import botocore.session, sys\n\
        s = botocore.session.Session()\n\
        s.full_config\n\
        s.get_scoped_config()\n\
        import configparser\n\
        for f in ('config', 'credentials'):\n\
        \x20   p = configparser.RawConfigParser(); p.read(sys.argv[1] + '/.aws/' + f)\n\
        print('ok')\n";
    let home_s = setup.home.display().to_string();
    match env("CCC_TEST_PYTHON").and_then(|py| {
        capture(&py, &["-c", probe, &home_s], &[("HOME", home_s.as_str()), ("AWS_PROFILE", PROFILE)], None)
    }) {
        Ok(out) if out.trim() == "ok" => {}
        Ok(out) => bad.push(format!("botocore: {out}")),
        Err(e) => bad.push(format!("botocore cannot read the AWS files: {e}")),
    }
    let mut stack = vec![setup.home.join(".ccc")];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = e.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|x| x == "json") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if serde_json::from_str::<Value>(&text).is_err() {
                    bad.push(format!("{} does not parse", path.display()));
                }
            }
        }
    }
    bad
}

// ---------------------------------------------------------------------------------------
// a worker

/// What one worker has seen of a source, to catch an answer going back in time.
#[derive(Default)]
struct Seen {
    /// The latest credential expiry seen.
    expiry: Option<SystemTime>,
    /// Tokens in the order first seen.
    order: HashMap<String, usize>,
    latest: usize,
}

impl Seen {
    /// `Err` when `token` was superseded by one seen later.
    fn token(&mut self, token: &str) -> Result<(), String> {
        let fp = fingerprint(token);
        match self.order.get(&fp) {
            Some(i) if *i < self.latest => Err(format!("an earlier token came back (#{i} after #{})", self.latest)),
            Some(_) => Ok(()),
            None => {
                let i = self.order.len();
                self.order.insert(fp, i);
                self.latest = i;
                Ok(())
            }
        }
    }

    fn expiry(&mut self, expiry: SystemTime) -> Result<(), String> {
        if self.expiry.is_some_and(|e| expiry < e) {
            return Err("credentials older than ones already seen".into());
        }
        self.expiry = Some(expiry);
        Ok(())
    }
}

fn fingerprint(secret: &str) -> String {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, secret.as_bytes());
    d.as_ref().iter().take(8).map(|b| format!("{b:02x}")).collect()
}

struct Worker {
    id: usize,
    ccc: String,
    issuer: String,
    provider: String,
    http: reqwest::Client,
    session: Option<Arc<oauth_pkce::OAuthSession>>,
    role: Option<cred_store::Refreshing<ShortLived>>,
    cognito: Seen,
    oauth: Seen,
    sts: Seen,
    /// The expiry of the last credential handed out (for the report's diagnosis).
    last_expiry: Option<SystemTime>,
}

/// An STS role session whose credentials the cache sees as living [`STS_SCALE`] times less
/// than STS says (a 900 s session as 45 s: the expiry moved earlier by the difference, so
/// the shortened expiry is a function of the credential alone, the same in every process).
struct ShortLived {
    sts: aws_sdk_sts::Client,
}

impl core_types::CredentialSource for ShortLived {
    type Output = core_types::AwsCredentials;
    type Error = cred_store::Error;

    fn name(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed("sts:soak-role")
    }

    async fn fetch(&self) -> Result<core_types::AwsCredentials, cred_store::Error> {
        let failed = |message: String| cred_store::Error::Refresh {
            name: "sts:soak-role".into(),
            message,
            kind: core_types::ErrorKind::Unavailable,
            source: None,
        };
        let out = self
            .sts
            .assume_role()
            .role_arn(ROLE_ARN)
            .role_session_name("soak")
            .duration_seconds(STS_SESSION_S as i32)
            .send()
            .await
            .map_err(|e| {
                failed(core_types::one_line(&core_types::innermost_cause(Some(&e)).unwrap_or_else(|| e.to_string())))
            })?;
        let c = out.credentials.ok_or_else(|| failed("AssumeRole returned no credentials".into()))?;
        let expiry = SystemTime::try_from(c.expiration).map_err(|_| failed("bad expiration".into()))?;
        let shortened = STS_SESSION_S - STS_SESSION_S / u64::from(STS_SCALE);
        Ok(core_types::AwsCredentials::new(
            c.access_key_id,
            c.secret_access_key,
            Some(c.session_token),
            Some(expiry - Duration::from_secs(shortened)),
        ))
    }
}

async fn worker(args: &[String]) -> Res<()> {
    ccc_tests::leak::init();
    let need = |n: &str| arg(args, n).ok_or(format!("worker needs {n}"));
    let id: usize = need("--id")?.parse().map_err(|_| "--id")?;
    let seed: u64 = need("--seed")?.parse().map_err(|_| "--seed")?;
    let generation: u64 = arg(args, "--generation").unwrap_or_default().parse().unwrap_or(0);
    let until = UNIX_EPOCH + Duration::from_millis(need("--until")?.parse().map_err(|_| "--until")?);
    let out = PathBuf::from(need("--out")?);
    let mut w = Worker {
        id,
        ccc: need("--ccc")?,
        issuer: need("--issuer")?,
        provider: need("--provider-direct")?,
        http: reqwest::Client::builder().timeout(Duration::from_secs(10)).build().map_err(|e| e.to_string())?,
        session: None,
        role: None,
        cognito: Seen::default(),
        oauth: Seen::default(),
        sts: Seen::default(),
        last_expiry: None,
    };
    for s in [PASSWORD, OAUTH_PASSWORD, CLIENT_SECRET] {
        ccc_tests::leak::secret(s);
    }
    let mut rng = fastrand::Rng::with_seed(seed ^ ((id as u64) << 32) ^ (generation << 48));
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&out)
        .map_err(|e| format!("cannot open {}: {e}", out.display()))?;
    while now() < until {
        let roll = rng.u32(0..100);
        let started = Instant::now();
        let at = now();
        let (action, result) = if roll < 40 {
            ("ccc creds", w.creds().await)
        } else if roll < 70 {
            ("ccc oauth token", w.oauth_cli().await)
        } else if roll < 85 {
            ("library oauth", w.oauth_library().await)
        } else {
            ("library sts role", w.sts_library().await)
        };
        let ms = started.elapsed().as_millis() as u64;
        let mut line = json!({"worker": id, "action": action, "t": unix_ms(at), "ms": ms});
        if let Some(e) = w.last_expiry.take() {
            line["expires"] = json!(unix_ms(e));
        }
        match result {
            Ok(()) => line["ok"] = json!(true),
            Err(Failure::Error(e)) => {
                line["ok"] = json!(false);
                line["error"] = json!(e);
            }
            Err(Failure::Hung) => {
                line["ok"] = json!(false);
                line["hung"] = json!(true);
                line["error"] = json!("no answer within the call budget");
            }
            Err(Failure::Violation(v)) => {
                line["ok"] = json!(false);
                line["violation"] = json!(format!("worker {id}, {action}: {v}"));
                line["error"] = json!(v);
            }
        }
        let _ = writeln!(file, "{line}");
        // callers come in bursts and pauses
        tokio::time::sleep(Duration::from_millis(rng.u64(0..60))).await;
    }
    Ok(())
}

enum Failure {
    /// The call failed with this (first line of the) message: allowed under chaos.
    Error(String),
    /// It did not end within the budget.
    Hung,
    /// It answered something it must never answer.
    Violation(String),
}

impl Worker {
    async fn run_ccc(&self, args: &[&str]) -> Result<String, Failure> {
        let mut cmd = tokio::process::Command::new(&self.ccc);
        cmd.args(args).arg("-vv").stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).kill_on_drop(true);
        let child = cmd.spawn().map_err(|e| Failure::Error(format!("cannot run ccc: {e}")))?;
        let output = match tokio::time::timeout(CALL_BUDGET, child.wait_with_output()).await {
            Ok(Ok(o)) => o,
            Ok(Err(e)) => return Err(Failure::Error(e.to_string())),
            Err(_) => return Err(Failure::Hung),
        };
        // ccc's log lines go to the worker's log, which the leak scan reads
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !stderr.is_empty() {
            eprint!("[worker {} ccc {}] {stderr}", self.id, args.join(" "));
        }
        if !output.status.success() {
            // the message, not the log lines (which start with a timestamp) around it
            let message = stderr
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with(|c: char| c.is_ascii_digit()))
                .collect::<Vec<_>>()
                .join(" / ");
            if message.is_empty() {
                use std::os::unix::process::ExitStatusExt;
                // the chaos kills the process holding a refresh lock: that is this one
                return Err(Failure::Error(match output.status.signal() {
                    Some(sig) => format!("ccc killed by signal {sig} (the chaos schedule)"),
                    None => format!("ccc exited with {} and no message", output.status),
                }));
            }
            return Err(Failure::Error(message));
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    async fn creds(&mut self) -> Result<(), Failure> {
        let out = self.run_ccc(&["creds", "--profile", PROFILE]).await?;
        let v: Value = serde_json::from_str(&out).map_err(|_| Failure::Violation("not JSON".into()))?;
        for k in ["AccessKeyId", "SecretAccessKey", "SessionToken"] {
            match v[k].as_str() {
                Some(s) if !s.is_empty() => ccc_tests::leak::secret(s),
                _ => return Err(Failure::Violation(format!("no {k}"))),
            }
        }
        if v["Version"] != json!(1) {
            return Err(Failure::Violation("Version is not 1".into()));
        }
        let expiry = v["Expiration"]
            .as_str()
            .and_then(|s| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok())
            .map(SystemTime::from)
            .ok_or_else(|| Failure::Violation("no Expiration".into()))?;
        if expiry <= now() {
            return Err(Failure::Violation("expired when handed out".into()));
        }
        let key = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        accepted_by_aws(&key("AccessKeyId"), &key("SecretAccessKey"), Some(key("SessionToken"))).await?;
        self.last_expiry = Some(expiry);
        self.cognito.expiry(expiry).map_err(Failure::Violation)
    }

    async fn oauth_cli(&mut self) -> Result<(), Failure> {
        let out = self.run_ccc(&["oauth", "token", PROVIDER]).await?;
        self.check_token(out.trim()).await
    }

    async fn oauth_library(&mut self) -> Result<(), Failure> {
        if self.session.is_none() {
            let client = tokio::time::timeout(Duration::from_secs(30), oauth_client(&self.issuer))
                .await
                .map_err(|_| Failure::Error("discovery took over 30 s".into()))?
                .map_err(Failure::Error)?;
            #[allow(clippy::disallowed_methods)] // the worker's HOME is the shared machine's
            let home = PathBuf::from(std::env::var("HOME").unwrap_or_default());
            let store = cred_store::TokenStore::new(&cred_store::Paths::under_home(&home));
            let policy = core_types::RefreshPolicy::new(Duration::from_secs(REFRESH_WINDOW_S));
            let session = oauth_pkce::OAuthSession::from_store(client, policy, store.entry(oauth_key(&self.issuer)));
            self.session = Some(Arc::new(session));
        }
        let session = self.session.clone().expect("set above");
        let token = match tokio::time::timeout(CALL_BUDGET, session.access_token()).await {
            Ok(Ok(t)) => t,
            Ok(Err(e)) => return Err(Failure::Error(e.to_string())),
            Err(_) => return Err(Failure::Hung),
        };
        self.check_token(token.expose_secret()).await
    }

    /// The STS role session as a library caller builds it: aws-config's `AssumeRoleProvider`
    /// (moto, through the fault proxy) behind cred-store's refreshing cache, kept in a cache
    /// entry every worker shares.
    async fn sts_library(&mut self) -> Result<(), Failure> {
        use aws_credential_types::provider::SharedCredentialsProvider;
        if self.role.is_none() {
            #[allow(clippy::disallowed_methods)] // the worker's environment is the machine's
            let (endpoint, home) =
                (std::env::var("AWS_ENDPOINT_URL").unwrap_or_default(), std::env::var("HOME").unwrap_or_default());
            #[allow(clippy::disallowed_methods)] // the harness hands the base key over the environment
            let (key, secret) = (
                std::env::var("SOAK_BASE_KEY_ID").unwrap_or_default(),
                std::env::var("SOAK_BASE_SECRET").unwrap_or_default(),
            );
            let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .endpoint_url(endpoint)
                .credentials_provider(SharedCredentialsProvider::new(aws_credential_types::Credentials::new(
                    key,
                    secret,
                    None,
                    None,
                    "soak-base",
                )))
                .timeout_config(
                    aws_config::timeout::TimeoutConfig::builder()
                        .operation_attempt_timeout(Duration::from_secs(10))
                        .build(),
                )
                .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(3))
                .load()
                .await;
            let source = ShortLived { sts: aws_sdk_sts::Client::new(&sdk) };
            let cache = cred_store::Refreshing::builder(source)
                .refresh_window(core_types::RefreshPolicy::new(Duration::from_secs(STS_WINDOW_S)))
                .persist_to(PathBuf::from(home).join(".ccc/cache/soak-sts-role.json"))
                .build();
            self.role = Some(cache);
        }
        let cache = self.role.clone().expect("set above");
        let creds = match tokio::time::timeout(CALL_BUDGET, cache.get()).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(Failure::Error(e.to_string())),
            Err(_) => return Err(Failure::Hung),
        };
        ccc_tests::leak::secret(creds.secret_access_key().expose_secret());
        if let Some(t) = creds.session_token() {
            ccc_tests::leak::secret(t.expose_secret());
        }
        let expiry = creds.expiration().ok_or_else(|| Failure::Violation("no expiry".into()))?;
        self.last_expiry = Some(expiry);
        if expiry <= now() {
            return Err(Failure::Violation("expired when handed out".into()));
        }
        let token = creds.session_token().map(|t| t.expose_secret().to_owned());
        accepted_by_aws(creds.access_key_id().expose_secret(), creds.secret_access_key().expose_secret(), token)
            .await?;
        self.sts.expiry(expiry).map_err(Failure::Violation)
    }

    /// The provider is the judge: the token must be one it accepts now, and not one this
    /// worker saw superseded.
    async fn check_token(&mut self, token: &str) -> Result<(), Failure> {
        if token.is_empty() {
            return Err(Failure::Violation("empty token".into()));
        }
        ccc_tests::leak::secret(token);
        self.oauth.token(token).map_err(Failure::Violation)?;
        if !userinfo_ok(&self.http, &self.provider, token).await {
            return Err(Failure::Violation("the provider does not accept the token handed out".into()));
        }
        Ok(())
    }
}
