//! `ccc serve`: the container credentials protocol, judged by boto3's `ContainerProvider` and
//! aws-config's ECS provider, each then calling STS through the strict judge (a key it never
//! issued, a wrong secret or token is refused).

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command as StdCommand, Stdio};
use std::time::Duration;

use ccc_tests::peer;

use crate::support::{Home, stdout};

/// A credential_process that counts its runs and hands out credentials numbered by the count,
/// valid for `life` seconds.
pub(crate) fn counting_profile(home: &Home, life: u64) -> std::path::PathBuf {
    let count = home.path().join("process-runs.log");
    let script = home.path().join("creds.py");
    std::fs::write(
        &script,
        format!(
            "import datetime, json, sys\n\
             with open(sys.argv[1], 'a') as f: f.write('run\\n')\n\
             n = sum(1 for _ in open(sys.argv[1]))\n\
             exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds={life})\n\
             print(json.dumps({{'Version': 1, 'AccessKeyId': 'ASIASERVED%04d' % n, 'SecretAccessKey': 'served-secret-%d-abcdef' % n,\n\
             \x20 'SessionToken': 'served-session-token-%d-abcdef' % n, 'Expiration': exp.strftime('%Y-%m-%dT%H:%M:%SZ')}}))\n"
        ),
    )
    .unwrap();
    for n in 1..=4 {
        ccc_tests::leak::secret(&format!("served-secret-{n}-abcdef"));
        ccc_tests::leak::secret(&format!("served-session-token-{n}-abcdef"));
    }
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        format!(
            "[profile served]\nregion = us-east-1\ncredential_process = {} {} {}\n",
            peer("CCC_TEST_PYTHON"),
            script.display(),
            count.display()
        ),
    )
    .unwrap();
    count
}

fn runs(count: &Path) -> usize {
    std::fs::read_to_string(count).map(|t| t.lines().count()).unwrap_or(0)
}

/// `ccc serve ARGS` running in `home`; its slot's URL from the line it prints; its stderr
/// drained into a string the test reads at the end.
pub(crate) struct Server {
    child: Child,
    pub(crate) url: String,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    pub(crate) fn start(home: &Home, args: &[&str]) -> Self {
        Self::start_under(home, &[], args)
    }

    /// Like `start`, with a command in front (`prlimit --nofile=…`).
    fn start_under(home: &Home, wrapper: &[&str], args: &[&str]) -> Self {
        let ccc = assert_cmd::cargo::cargo_bin("ccc");
        let mut command = match wrapper.split_first() {
            Some((first, rest)) => {
                let mut c = StdCommand::new(first);
                c.args(rest).arg(&ccc);
                c
            }
            None => StdCommand::new(&ccc),
        };
        let mut child = command
            .arg("serve")
            .args(args)
            .env_clear()
            .env("HOME", home.path())
            .env("PATH", "/usr/bin:/bin")
            // as every ccc a test runs: the strict judge is its AWS
            .env("AWS_ENDPOINT_URL", ccc_tests::judge::shared_url())
            .env("RUST_LOG", "trace")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let url = loop {
            let line = lines.next().expect("ccc serve said where it serves").unwrap();
            log.lock().unwrap().push_str(&format!("{line}\n"));
            if let Some(at) = line.strip_prefix("serving profile served at ") {
                break at.to_owned();
            }
        };
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        Self { child, url, log }
    }

    /// Stops it (SIGTERM) and returns its log (also handed to the leak scan).
    pub(crate) fn stop(mut self) -> String {
        let _ = StdCommand::new("kill").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        let log = self.log.lock().unwrap().clone();
        ccc_tests::leak::child_log(&log);
        log
    }
}

/// The tests crate's Rust SDK client (built with the workspace's tests; built here when this
/// package's tests run alone).
fn sdk_client() -> std::path::PathBuf {
    // beside our own binaries (assert_cmd's lookup panics on another package's missing binary)
    let bin = assert_cmd::cargo::cargo_bin("ccc").with_file_name("sdk-container-client");
    if !bin.exists() {
        let built = StdCommand::new(env!("CARGO"))
            .args(["build", "--quiet", "-p", "ccc-tests", "--bin", "sdk-container-client"])
            .current_dir(ccc_tests::workspace_root())
            .status()
            .unwrap();
        assert!(built.success(), "building sdk-container-client");
    }
    bin
}

/// The two variables `ccc serve --print-env served` prints.
pub(crate) fn client_env(home: &Home) -> Vec<(String, String)> {
    client_env_of(home, "served")
}

/// The two variables `ccc serve --print-env SLOT` prints.
pub(crate) fn client_env_of(home: &Home, slot: &str) -> Vec<(String, String)> {
    crate::support::exports(&stdout(&home.ccc().args(["serve", "--print-env", slot]).assert().success()))
}

/// A client with nothing but `env` (no profile, no keys) and the strict judge as its AWS:
/// `program ARGS`'s stdout.
fn client(program: &Path, args: &[&str], env: &[(String, String)]) -> String {
    let empty = tempfile::tempdir().unwrap();
    let out = StdCommand::new(program)
        .args(args)
        .env_clear()
        .env("HOME", empty.path())
        .env("AWS_ENDPOINT_URL", ccc_tests::judge::shared_url())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}: {}", program.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A role profile's credentials served to boto3 and to the Rust SDK, each calling STS through
/// the strict judge: both are the role session (the key, secret and token moto issued), and
/// the same key with a wrong secret is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_and_the_rust_sdk_call_aws_with_what_ccc_serve_serves() {
    let user = ccc_tests::strict::user("served").await;
    let role = ccc_tests::strict::role("served-role").await;
    ccc_tests::leak::secret(&user.secret_access_key);
    let home = Home::new();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        format!(
            "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            user.access_key_id, user.secret_access_key
        ),
    )
    .unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        format!("[profile served]\nregion = us-east-1\nsource_profile = base\nrole_arn = {role}\nrole_session_name = served\n"),
    )
    .unwrap();
    let server = Server::start(&home, &["--slot", "served"]);
    let env = client_env(&home);
    ccc_tests::leak::secret(&env[1].1);
    let session = format!("arn:aws:sts::123456789012:assumed-role/{}/served", role.rsplit('/').next().unwrap());
    // boto3's container provider, then STS
    let probe = "import boto3; s = boto3.Session(); c = s.get_credentials().get_frozen_credentials(); \
                 print(c.access_key, c.secret_key, c.token, s.client('sts', region_name='us-east-1').get_caller_identity()['Arn'])";
    let said = client(Path::new(&peer("CCC_TEST_PYTHON")), &["-c", probe], &env);
    let words: Vec<&str> = said.split_whitespace().collect();
    assert_eq!(words.len(), 4, "{said}");
    ccc_tests::leak::secret(words[1]);
    assert_eq!(words[3], session, "boto3 called AWS as the role session");
    // the Rust SDK: aws-config's ECS provider, then STS
    let said = client(&sdk_client(), &[], &env);
    assert_eq!(said.split_whitespace().collect::<Vec<_>>(), [words[0], session.as_str()], "{said}");
    // the judge is strict: the served key with a wrong secret is refused
    let wrong = ccc_tests::strict::boto3_with_keys_at(
        &ccc_tests::judge::shared_url(),
        words[0],
        "wrong-secret",
        Some(words[2]),
    );
    assert!(wrong.is_err(), "{wrong:?}");
    server.stop();
}

#[test]
fn ccc_serve_serves_from_its_cache_and_refuses_a_wrong_token() {
    let home = Home::new();
    let count = counting_profile(&home, 3600);
    let server = Server::start(&home, &["--slot", "served"]);
    let env = client_env(&home);
    assert_eq!(env.len(), 2, "{env:?}");
    assert_eq!(env[0], ("AWS_CONTAINER_CREDENTIALS_FULL_URI".to_owned(), server.url.clone()));
    let token = env[1].1.clone();
    ccc_tests::leak::secret(&token);

    // boto3's container provider, twice (made-up credentials: no AWS call)
    let probe =
        "import boto3; c = boto3.Session().get_credentials(); print(c.method, c.get_frozen_credentials().access_key)";
    for _ in 0..2 {
        let said = client(Path::new(&peer("CCC_TEST_PYTHON")), &["-c", probe], &env);
        assert_eq!(said.trim(), "container-role ASIASERVED0001");
    }
    assert_eq!(runs(&count), 1, "both clients were served from the cache");

    // without the slot's token: refused, and the refusal is logged without the token sent
    let wrong = "wrong-token-0123456789abcdef";
    ccc_tests::leak::secret(wrong);
    let get = |auth: Option<&str>, url: &str| {
        let mut c = StdCommand::new("curl");
        c.args(["-s", "-o", "/dev/null", "-w", "%{http_code}", url]);
        if let Some(a) = auth {
            c.args(["-H", &format!("Authorization: {a}")]);
        }
        String::from_utf8_lossy(&c.output().unwrap().stdout).into_owned()
    };
    assert_eq!(get(None, &server.url), "401");
    assert_eq!(get(Some(wrong), &server.url), "401");
    // an unknown slot is refused as a wrong token is: which slots exist is not told
    assert_eq!(get(Some(&token), &server.url.replace("/served", "/other")), "401");
    assert_eq!(get(None, &server.url.replace("/served", "/other")), "401");
    assert_eq!(get(Some(&token), &server.url), "200");
    let log = server.stop();
    assert!(log.contains("refused a request without the slot's token"), "{log}");
    assert!(!log.contains(wrong) && !log.contains(&token), "no token in the server's log");
    assert!(!home.path().join(".ccc/serve.json").exists(), "the server removed its state when it stopped");
    let e = home.ccc().args(["serve", "--print-env", "served"]).assert().failure();
    assert!(crate::support::stderr(&e).contains("no ccc serve is running"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_across_an_expiry_cause_one_refresh() {
    let home = Home::new();
    let count = counting_profile(&home, 8);
    home.ccc().args(["config", "set", "refresh_window_seconds", "5"]).assert().success();
    let server = Server::start(&home, &["--slot", "served"]);
    let env = client_env(&home);
    let token = env[1].1.clone();
    assert_eq!(runs(&count), 1);
    // past the credentials' expiry
    tokio::time::sleep(Duration::from_millis(8500)).await;
    let http = reqwest::Client::new();
    let asks: Vec<_> = (0..64)
        .map(|_| {
            let (http, url, token) = (http.clone(), server.url.clone(), token.clone());
            tokio::spawn(async move {
                let r = http.get(url).header("Authorization", token).send().await.unwrap();
                assert_eq!(r.status(), 200);
                r.json::<serde_json::Value>().await.unwrap()
            })
        })
        .collect();
    let mut keys = std::collections::BTreeSet::new();
    for a in asks {
        let body = a.await.unwrap();
        keys.insert(body["AccessKeyId"].as_str().unwrap().to_owned());
        assert!(body["Token"].is_string() && body["Expiration"].is_string(), "{body}");
    }
    assert_eq!(runs(&count), 2, "one refresh for 64 clients");
    assert_eq!(keys.into_iter().collect::<Vec<_>>(), ["ASIASERVED0002"]);
    server.stop();
}

#[test]
fn serve_refuses_what_would_leak_credentials() {
    let home = Home::new();
    counting_profile(&home, 3600);
    let e = home.ccc().args(["serve", "--slot", "served", "--listen", "0.0.0.0:0"]).assert().failure();
    assert!(crate::support::stderr(&e).contains("not a loopback address"));
    // long-term keys are not served
    std::fs::write(
        home.path().join(".aws/credentials"),
        "[keys]\naws_access_key_id = AKIAKEYS\naws_secret_access_key = long-term-secret-key\n",
    )
    .unwrap();
    let config = std::fs::read_to_string(home.path().join(".aws/config")).unwrap();
    std::fs::write(home.path().join(".aws/config"), format!("{config}[profile keys]\nregion = us-east-1\n")).unwrap();
    ccc_tests::leak::secret("long-term-secret-key");
    let e = home.ccc().args(["serve", "--slot", "keys"]).assert().failure();
    assert!(crate::support::stderr(&e).contains("long-term keys"), "{}", crate::support::stderr(&e));
}

#[test]
fn a_unix_socket_is_private_and_serves_the_same_protocol() {
    use std::os::unix::fs::PermissionsExt;
    let home = Home::new();
    counting_profile(&home, 3600);
    // what is at --socket and is no socket is not ccc's to delete
    let precious = home.path().join("notes.txt");
    std::fs::write(&precious, "keep me").unwrap();
    let refused = home
        .ccc()
        .args(["serve", "--slot", "served", "--socket", precious.to_str().unwrap()])
        .timeout(std::time::Duration::from_secs(30))
        .assert()
        .code(1);
    assert!(crate::support::stderr(&refused).contains("not a socket"), "{}", crate::support::stderr(&refused));
    assert_eq!(std::fs::read_to_string(&precious).unwrap(), "keep me");
    let socket = home.path().join("creds.sock");
    let server = Server::start(&home, &["--slot", "served", "--socket", socket.to_str().unwrap()]);
    assert_eq!(std::fs::metadata(&socket).unwrap().permissions().mode() & 0o777, 0o600);
    let state = home.path().join(".ccc/serve.json");
    assert_eq!(std::fs::metadata(&state).unwrap().permissions().mode() & 0o777, 0o600);
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
    let token = state["slots"]["served"].as_str().unwrap().to_owned();
    ccc_tests::leak::secret(&token);
    let body = StdCommand::new("curl")
        .args(["-s", "--unix-socket", socket.to_str().unwrap(), "http://localhost/creds/served", "-H"])
        .arg(format!("Authorization: {token}"))
        .output()
        .unwrap();
    let body: serde_json::Value = serde_json::from_slice(&body.stdout).unwrap();
    assert_eq!(body["AccessKeyId"], "ASIASERVED0001");
    // the SDKs cannot read a unix socket: --print-env says what to do instead
    let e = home.ccc().args(["serve", "--print-env", "served"]).assert().failure();
    assert!(crate::support::stderr(&e).contains("unix socket"), "{}", crate::support::stderr(&e));
    server.stop();
    assert!(!socket.exists(), "the socket goes with the server");
}

#[test]
fn each_profile_given_is_a_slot_with_a_token_of_its_own() {
    let home = Home::new();
    counting_profile(&home, 3600);
    let config = home.path().join(".aws/config");
    let first = std::fs::read_to_string(&config).unwrap();
    let again = first.replace("[profile served]", "[profile again]");
    std::fs::write(&config, format!("{first}\n{again}")).unwrap();
    let server = Server::start(&home, &["--profile", "served", "--profile", "again"]);
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join(".ccc/serve.json")).unwrap()).unwrap();
    let (served, again) = (state["slots"]["served"].as_str().unwrap(), state["slots"]["again"].as_str().unwrap());
    ccc_tests::leak::secret(served);
    ccc_tests::leak::secret(again);
    assert_ne!(served, again, "each slot has its own token");
    let ask = |path: &str, token: &str| {
        let url = server.url.replace("/creds/served", path);
        let out = StdCommand::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", &url, "-H"])
            .arg(format!("Authorization: {token}"))
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(ask("/creds/again", again), "200");
    assert_eq!(ask("/creds/served", served), "200");
    assert_eq!(ask("/creds/again", served), "401", "one slot's token opens only that slot");
    server.stop();
    // elsewhere one profile is meant, and two are a mistake said plainly
    let e = home.ccc().args(["--profile", "served", "--profile", "again", "creds"]).assert().failure().code(1);
    let said = crate::support::stderr(&e);
    assert!(said.contains("--profile is given 2 times") && said.contains("ccc serve"), "{said}");
}

/// Out of file descriptors (a low limit, a flood of idle connections): the accept loop backs
/// off instead of spinning (a handful of warnings, not millions), and once the flood is gone a
/// client with the slot's token is served at once.
#[test]
fn out_of_file_descriptors_the_server_backs_off_and_recovers() {
    let home = Home::new();
    counting_profile(&home, 3600);
    let server = Server::start_under(&home, &["prlimit", "--nofile=48:48"], &["--slot", "served"]);
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(home.path().join(".ccc/serve.json")).unwrap()).unwrap();
    let token = state["slots"]["served"].as_str().unwrap().to_owned();
    ccc_tests::leak::secret(&token);
    let addr = server.url.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    // idle connections past the limit: held, never a request
    let flood: Vec<_> = (0..120).filter_map(|_| std::net::TcpStream::connect(&addr).ok()).collect();
    std::thread::sleep(Duration::from_secs(3));
    let spun = server.log.lock().unwrap().matches("accepting a connection failed").count();
    assert!(spun > 0, "the limit was reached (else this test proves nothing)");
    assert!(spun < 60, "{spun} accept warnings in 3 s: the loop spins");
    drop(flood);
    let served = std::time::Instant::now();
    let code = StdCommand::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", &server.url, "-H"])
        .arg(format!("Authorization: {token}"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&code.stdout), "200");
    assert!(served.elapsed() < Duration::from_secs(3), "served {:?} after the flood", served.elapsed());
    server.stop();
}

/// Each connection has a read deadline and a size limit (hyper's server): a client that sends
/// half a request and waits blocks no one, and a 1 MiB header is refused (431), not read.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_client_blocks_no_one_and_a_huge_header_is_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let home = Home::new();
    counting_profile(&home, 3600);
    let server = Server::start(&home, &["--slot", "served"]);
    let env = client_env(&home);
    let token = env[1].1.clone();
    let addr = server.url.trim_start_matches("http://").split('/').next().unwrap().to_owned();
    // half a request, then nothing
    let mut slow = tokio::net::TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /creds/served HTTP/1.1\r\nhost: x\r\n").await.unwrap();
    let started = std::time::Instant::now();
    let ok = reqwest::Client::new().get(&server.url).header("authorization", &token).send().await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(3), "served while the slow client waits: {:?}", started.elapsed());
    // the slow one is cut at the read deadline
    let mut rest = Vec::new();
    let cut = tokio::time::timeout(Duration::from_secs(15), slow.read_to_end(&mut rest)).await;
    assert!(cut.is_ok(), "the half request was ended by the server's read deadline");
    // a 1 MiB header
    let mut huge = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!("GET /creds/served HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n", "a".repeat(1 << 20));
    let _ = huge.write_all(head.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), huge.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 431"), "{}", &answer[..answer.len().min(120)]);
    server.stop();
}
