//! A credential_process whose renewal needs a person: one prompt on the controlling terminal
//! however many processes ask, and without a terminal one line naming the command, at once.

use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use ccc_tests::cognito::{PASSWORD, pool};
use ccc_tests::peer;

use crate::support::{Home, expire_cognito_sign_in};

/// A home signed in as `user` on profile e2e whose sign-in has ended: its cached credentials
/// and tokens expired, its refresh token one Cognito refuses.
async fn ended_sign_in(user: &str) -> Home {
    let pool = pool().await;
    pool.user(user, true).await;
    let home = Home::new();
    home.configure(&pool);
    home.login(user).success();
    expire_cognito_sign_in(&home, "e2e");
    let file = home.path().join(".ccc/tokens.json");
    let mut store: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    for entry in store["entries"].as_object_mut().unwrap().values_mut() {
        entry["refresh_token"] = serde_json::json!("a-refresh-token-cognito-revoked");
    }
    std::fs::write(&file, store.to_string()).unwrap();
    home
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_every_process_fails_at_once_with_the_same_instruction() {
    let home = ended_sign_in("nora").await;
    let ccc = assert_cmd::cargo::cargo_bin("ccc");
    let started = Instant::now();
    // 32 processes in sessions of their own (setsid): no controlling terminal, as under cron
    // or a CI runner
    let children: Vec<_> = (0..32)
        .map(|_| {
            StdCommand::new("setsid")
                .arg("-w")
                .arg(&ccc)
                .args(["creds", "--profile", "e2e"])
                .env_clear()
                .env("HOME", home.path())
                .env("PATH", "/usr/bin:/bin")
                .env("AWS_ENDPOINT_URL", peer("CCC_TEST_AWS_ENDPOINT"))
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut said = std::collections::BTreeSet::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(3), "a person must act: exit 3");
        assert!(out.stdout.is_empty(), "nothing for the AWS tool to parse");
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        ccc_tests::leak::child_log(&err);
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        said.insert(err);
    }
    let elapsed = started.elapsed();
    assert_eq!(said.len(), 1, "the same instruction from every process: {said:?}");
    let line = said.into_iter().next().unwrap();
    assert!(line.contains("run `ccc login --profile e2e`"), "{line}");
    assert!(elapsed < Duration::from_secs(2), "32 processes failed in {elapsed:?}");
}

/// Drives 32 `ccc creds` started from one shell on a pseudo-terminal (their controlling
/// terminal): types the password when asked, and says how many times it was asked.
const ON_A_TERMINAL: &str = r#"
import json, os, pty, select, sys, termios, time
ccc, password = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.execvp("bash", ["bash", "-c",
        'for i in $(seq 32); do "$0" creds --profile e2e > "$HOME/out.$i" 2> "$HOME/err.$i" < /dev/null & done; wait', ccc])
out, sent, deadline = b"", False, time.time() + 120
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if not sent and b"Password for" in out:
            # type as a person would: once the prompt has turned echo off
            while termios.tcgetattr(fd)[3] & termios.ECHO and time.time() < deadline:
                time.sleep(0.01)
            os.write(fd, (password + "\n").encode())
            sent = True
    elif os.waitpid(pid, os.WNOHANG)[0]:
        break
print(json.dumps({"prompts": out.count(b"Password for"), "said": out.decode(errors="replace")}))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_thirty_two_processes_prompt_once() {
    let home = ended_sign_in("olga").await;
    let ccc = assert_cmd::cargo::cargo_bin("ccc");
    let out = StdCommand::new(peer("CCC_TEST_PYTHON"))
        .args(["-c", ON_A_TERMINAL, ccc.to_str().unwrap(), PASSWORD])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_ENDPOINT_URL", peer("CCC_TEST_AWS_ENDPOINT"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let said = seen["said"].as_str().unwrap();
    assert_eq!(seen["prompts"], 1, "one prompt for 32 processes: {said}");
    assert!(said.contains("the sign-in of olga (profile e2e) has ended"), "{said}");
    assert!(!said.contains(PASSWORD), "the password is not echoed");
    let mut keys = std::collections::BTreeSet::new();
    for i in 1..=32 {
        let text = std::fs::read_to_string(home.path().join(format!("out.{i}"))).unwrap();
        let err = std::fs::read_to_string(home.path().join(format!("err.{i}"))).unwrap();
        ccc_tests::leak::child_log(&err);
        let json: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("process {i} printed no credentials: {err}"));
        ccc_tests::leak::secret(json["SecretAccessKey"].as_str().unwrap());
        keys.insert(json["AccessKeyId"].as_str().unwrap().to_owned());
    }
    assert_eq!(keys.len(), 1, "every process used the one sign-in");
}
