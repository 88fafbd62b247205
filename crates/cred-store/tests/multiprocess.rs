//! Many writers and refreshers in many processes at once. The test binary re-runs itself as
//! the helper processes (the `#[ignore]`d `helper_*` tests, selected by name).

use std::borrow::Cow;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use core_types::{AwsCredentials, CredentialSource, ExposeSecret, RefreshPolicy, SystemClock};
use cred_store::{AwsFiles, Paths, Refreshing};

const PROCESSES: usize = 8;
const TASKS_PER_PROCESS: usize = 25;

#[allow(clippy::disallowed_methods)] // helper processes learn their job from the environment
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn spawn_helper(test: &str, vars: &[(&str, String)]) -> Child {
    let exe = std::env::current_exe().expect("test binary path");
    Command::new(exe)
        .args(["--exact", test, "--ignored", "--nocapture", "--test-threads=1"])
        .envs(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .spawn()
        .expect("spawn helper process")
}

fn wait_all(children: Vec<Child>) {
    for mut c in children {
        let status = c.wait().expect("wait helper");
        assert!(status.success(), "helper process failed: {status}");
    }
}

// ---------------------------------------------------------------- refresh storm

/// An upstream that records every call as a line in a shared file (O_APPEND: atomic lines).
struct CountingUpstream {
    log: PathBuf,
}

impl CredentialSource for CountingUpstream {
    type Output = AwsCredentials;
    type Error = cred_store::Error;

    fn name(&self) -> Cow<'_, str> {
        "storm-upstream".into()
    }

    async fn fetch(&self) -> cred_store::Result<AwsCredentials> {
        let mut f = OpenOptions::new().create(true).append(true).open(&self.log).expect("open call log");
        writeln!(f, "call from pid {}", std::process::id()).expect("log call");
        // a slow upstream widens the window in which others could wrongly call it too
        tokio::time::sleep(Duration::from_millis(300)).await;
        #[allow(clippy::disallowed_methods)] // real time across processes
        let now = SystemTime::now();
        Ok(AwsCredentials::new(
            "ASIAFRESHSTORM",
            "fresh-secret",
            Some("fresh-token".into()),
            Some(now + Duration::from_secs(3600)),
        ))
    }
}

fn storm_cache(dir: &Path) -> Refreshing<CountingUpstream> {
    Refreshing::builder(CountingUpstream { log: dir.join("calls.log") })
        .refresh_window(RefreshPolicy::new(Duration::from_secs(300)))
        .clock(Arc::new(SystemClock))
        .persist_to(dir.join("entry.json"))
        .build()
}

#[test]
#[ignore = "helper process of refresh_storm_makes_exactly_one_upstream_call"]
fn helper_storm() {
    let Some(dir) = env("STORM_DIR") else { return };
    let dir = PathBuf::from(dir);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let cache = storm_cache(&dir);
        // start together: wait for the go file
        while !dir.join("go").exists() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let tasks: Vec<_> = (0..storm_tasks())
            .map(|_| {
                let c = cache.clone();
                tokio::spawn(async move { c.get().await })
            })
            .collect();
        for t in tasks {
            let creds = t.await.unwrap().expect("credential");
            assert_eq!(creds.access_key_id().expose_secret(), "ASIAFRESHSTORM");
        }
    });
}

/// Tasks per process (`CCC_STORM_TASKS` lets `cargo xtask bench` run a bigger storm).
fn storm_tasks() -> usize {
    env("CCC_STORM_TASKS").and_then(|v| v.parse().ok()).unwrap_or(TASKS_PER_PROCESS)
}

/// Processes in the storm (`CCC_STORM_PROCESSES` lets `cargo xtask bench` run a bigger one).
fn storm_processes() -> usize {
    env("CCC_STORM_PROCESSES").and_then(|v| v.parse().ok()).unwrap_or(PROCESSES)
}

#[test]
fn refresh_storm_makes_exactly_one_upstream_call() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // an entry inside its refresh window (60 s left, 300 s window)
    #[allow(clippy::disallowed_methods)]
    let now = SystemTime::now();
    let expiring = AwsCredentials::new("ASIAOLDSTORM", "old", Some("old".into()), Some(now + Duration::from_secs(60)));
    let entry = serde_json::json!({"version": 1, "value": cred_store::CacheCodec::encode(&expiring)});
    cred_store::fsutil::write_atomic(&dir.join("entry.json"), entry.to_string().as_bytes()).unwrap();

    let processes = storm_processes();
    let children: Vec<_> =
        (0..processes).map(|_| spawn_helper("helper_storm", &[("STORM_DIR", dir.display().to_string())])).collect();
    std::thread::sleep(Duration::from_millis(300));
    let started = std::time::Instant::now();
    fs::write(dir.join("go"), "").unwrap();
    wait_all(children);
    let wall = started.elapsed();

    let calls = fs::read_to_string(dir.join("calls.log")).unwrap_or_default();
    let tasks = processes * storm_tasks();
    #[allow(clippy::print_stdout)] // `cargo xtask bench` reads this line
    {
        println!(
            "storm: processes={processes} tasks={tasks} upstream_calls={} wall_ms={}",
            calls.lines().count(),
            wall.as_millis()
        );
    }
    assert_eq!(calls.lines().count(), 1, "{tasks} tasks in {processes} processes made these upstream calls:\n{calls}");
    assert_eq!(fs::metadata(dir.join("entry.json")).unwrap().permissions().mode() & 0o777, 0o600);
}

// ---------------------------------------------------------------- 64 concurrent writers

const WRITER_THREADS: usize = 4;

fn save_profiles(paths: &Paths, prefix: &str) {
    let threads: Vec<_> = (0..WRITER_THREADS)
        .map(|i| {
            let files = AwsFiles::new(paths);
            let name = format!("{prefix}-{i}");
            std::thread::spawn(move || {
                let creds = AwsCredentials::new(format!("AKIA{name}"), format!("secret-{name}"), None, None);
                files.save_credentials(&name, &creds).expect("save profile");
            })
        })
        .collect();
    for t in threads {
        t.join().expect("writer thread");
    }
}

#[test]
#[ignore = "helper process of sixty_four_concurrent_writers_lose_nothing"]
fn helper_writer() {
    let (Some(home), Some(id)) = (env("WRITER_HOME"), env("WRITER_ID")) else { return };
    save_profiles(&Paths::under_home(home), &format!("proc{id}"));
}

#[test]
fn sixty_four_concurrent_writers_lose_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let paths = Paths::under_home(tmp.path());
    fs::create_dir_all(paths.credentials_file.parent().unwrap()).unwrap();
    fs::write(
        &paths.credentials_file,
        "# keep me\n[existing]\naws_access_key_id = AKIAKEEP\naws_secret_access_key = keep\n",
    )
    .unwrap();
    fs::set_permissions(&paths.credentials_file, fs::Permissions::from_mode(0o600)).unwrap();
    // 8 processes x 4 threads, plus 8 x 4 threads in this process = 64 writers
    let children: Vec<_> = (0..PROCESSES)
        .map(|i| {
            spawn_helper(
                "helper_writer",
                &[("WRITER_HOME", tmp.path().display().to_string()), ("WRITER_ID", i.to_string())],
            )
        })
        .collect();
    let local: Vec<_> = (0..8)
        .map(|i| {
            let paths = paths.clone();
            std::thread::spawn(move || save_profiles(&paths, &format!("thread{i}")))
        })
        .collect();
    for t in local {
        t.join().unwrap();
    }
    wait_all(children);

    let files = AwsFiles::new(&paths);
    let profiles = files.credential_profiles().expect("file still parses");
    assert_eq!(profiles.len(), 65, "{profiles:?}");
    for p in profiles.iter().filter(|p| *p != "existing") {
        let creds = files.load_credentials(p).unwrap().expect("complete profile");
        assert_eq!(creds.secret_access_key().expose_secret(), &format!("secret-{p}"));
    }
    let text = fs::read_to_string(&paths.credentials_file).unwrap();
    assert!(text.starts_with("# keep me\n[existing]\n"), "{text}");
    assert_eq!(fs::metadata(&paths.credentials_file).unwrap().permissions().mode() & 0o777, 0o600);
}

// ---------------------------------------------------------------- SIGKILL mid-write

fn version_text(v: usize) -> String {
    // large enough that a torn write would be visible
    (0..400)
        .map(|i| {
            format!("[profile-{i}]\naws_access_key_id = AKIA{v}x{i}\naws_secret_access_key = {}\n\n", "s".repeat(64))
        })
        .collect()
}

#[test]
#[ignore = "helper process of sigkill_mid_write_leaves_old_or_new_file"]
fn helper_killed_writer() {
    let Some(file) = env("KILL_FILE") else { return };
    let file = PathBuf::from(file);
    let mut v = 0usize;
    loop {
        v = (v + 1) % 2;
        cred_store::fsutil::write_atomic(&file, version_text(v).as_bytes()).expect("write");
    }
}

#[test]
fn sigkill_mid_write_leaves_old_or_new_file() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("credentials");
    let (a, b) = (version_text(0), version_text(1));
    fs::write(&file, &a).unwrap();
    for round in 0..200u64 {
        let mut child = spawn_helper("helper_killed_writer", &[("KILL_FILE", file.display().to_string())]);
        std::thread::sleep(Duration::from_millis(5 + (round * 7) % 40));
        child.kill().expect("SIGKILL the writer");
        child.wait().unwrap();
        let now = fs::read_to_string(&file).unwrap();
        assert!(now == a || now == b, "round {round}: torn file of {} bytes", now.len());
        cred_store::IniDocument::parse(&now).expect("parses");
    }
    // leftover temp files from killed writers are harmless and never read
    let visible: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    assert!(visible.iter().all(|n| n == "credentials" || n == "credentials.lock"), "{visible:?}");
}

// ---------------------------------------------------------------- first use of the ledger

#[test]
#[ignore = "helper process of thirty_two_first_uses_of_the_ledger_all_succeed"]
fn helper_first_ledger_use() {
    let Some(dir) = env("CCC_LEDGER_DIR") else { return };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        // every process starts each round at once (a shared start time), so they race to
        // create that round's file; one round loses the race only sometimes, ten rarely all win
        let start: u64 = env("CCC_START_AT_MS").unwrap().parse().unwrap();
        for round in 0..LEDGER_ROUNDS {
            #[allow(clippy::disallowed_methods)] // real time across processes
            let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_millis() as u64;
            let at = start + round * 150;
            tokio::time::sleep(Duration::from_millis(at.saturating_sub(now))).await;
            let path = Path::new(&dir).join(format!("round-{round}")).join("ledger.sqlite");
            let ledger = cred_store::Ledger::open_sqlite(&path).await.expect("first use opens the ledger");
            #[allow(clippy::disallowed_methods)]
            let at = SystemTime::now();
            let outcome = cred_store::Outcome::Success { expires_at: None };
            ledger.record_attempt("sso", &format!("p{}", std::process::id()), at, &outcome).await.expect("recorded");
        }
    });
}

/// How many fresh ledgers the 32 processes race to create.
const LEDGER_ROUNDS: u64 = 10;

/// 32 processes using ledgers that do not exist yet, at the same moment, ten times over:
/// each opens it and records its attempt (the file's creation race is no error), and all 32
/// are there. (Reverting the fix, checking `exists()` before `create_new`, fails about one
/// round in four: ten rounds make a miss unlikely.)
#[test]
fn thirty_two_first_uses_of_the_ledger_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    #[allow(clippy::disallowed_methods)]
    let start = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_millis() as u64 + 1500;
    let children: Vec<Child> = (0..32)
        .map(|_| {
            spawn_helper(
                "helper_first_ledger_use",
                &[("CCC_LEDGER_DIR", dir.path().display().to_string()), ("CCC_START_AT_MS", start.to_string())],
            )
        })
        .collect();
    wait_all(children);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    for round in 0..LEDGER_ROUNDS {
        let path = dir.path().join(format!("round-{round}")).join("ledger.sqlite");
        let total =
            rt.block_on(async { cred_store::Ledger::open_sqlite(&path).await.unwrap().attempt_total().await.unwrap() });
        assert_eq!(total, 32, "round {round}");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
