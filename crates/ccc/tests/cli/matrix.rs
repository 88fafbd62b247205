//! Everyday set-ups × every command that takes a profile, each cell judged by the strict moto
//! (which refuses a key it never issued, a wrong secret, or a session token not the key's):
//! boto3 calls STS with exactly what ccc printed, exported or served, and the commands that
//! print no credentials (`whoami`, `resources`, `permissions`, `history`, `session extend`)
//! must succeed there and name the caller STS named. The endpoint is the verifying front
//! (`ccc_tests::judge`) before the strict moto: it judges the GetSessionToken credentials of
//! `session extend`, which moto cannot. A last set-up, keys with a wrong secret, shows that
//! every cell can fail.

use std::io::BufRead;
use std::process::{Command as StdCommand, Stdio};

use ccc_tests::strict::{self, UserKey};

use super::support::{Home, judge_creds, judge_exports, keys_section, stderr, stdout};

/// One everyday set-up: its files (written into the home), the environment its commands run
/// with, the `--profile` they name (if any), and who STS should say the caller is.
struct Setup {
    name: &'static str,
    home: Home,
    envs: Vec<(String, String)>,
    profile: Option<String>,
    /// The caller's ARN, or `None` when every command must be refused.
    expected: Option<String>,
    /// Long-term keys: `serve` refuses them, with a hint that works.
    long_term: bool,
    /// The trail's CloudWatch Logs group `history` reads.
    log_group: String,
    /// The AWS endpoint: the verifying front before the strict moto.
    endpoint: String,
}

impl Setup {
    fn new(name: &'static str, expected: Option<String>) -> Self {
        Self {
            name,
            home: Home::new(),
            envs: Vec::new(),
            profile: None,
            expected,
            long_term: true,
            log_group: String::new(),
            endpoint: String::new(),
        }
    }

    fn file(self, file: &str, text: &str) -> Self {
        let path = self.home.path().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
        self
    }

    fn env(mut self, k: &str, v: &str) -> Self {
        self.envs.push((k.to_owned(), v.to_owned()));
        self
    }

    fn profile(mut self, p: &str) -> Self {
        self.profile = Some(p.to_owned());
        self
    }

    fn temporary(mut self) -> Self {
        self.long_term = false;
        self
    }

    /// `ccc ARGS [--profile P]` in this set-up against the strict moto.
    fn run(&self, args: &[&str]) -> assert_cmd::assert::Assert {
        let mut c = self.home.ccc();
        c.env("AWS_ENDPOINT_URL", &self.endpoint).envs(self.envs.iter().map(|(k, v)| (k, v)));
        // a global flag, before the command (whose trailing words may be a child's argv)
        if let Some(p) = &self.profile {
            c.args(["--profile", p]);
        }
        c.args(args).assert()
    }

    /// The principal's name as ccc shows an owner (`user/NAME` → NAME; a role session's name).
    fn principal(&self) -> String {
        self.expected.as_deref().unwrap_or_default().rsplit('/').next().unwrap_or_default().to_owned()
    }
}

/// Each command's verdict in `s`: the caller STS named (or, for a refused run, the error).
fn verdicts(s: &Setup) -> Vec<(&'static str, Result<String, String>)> {
    let mut v = Vec::new();
    let ok = |a: &assert_cmd::assert::Assert| a.get_output().status.success();
    let failed =
        |a: &assert_cmd::assert::Assert| Err(format!("exit {:?}: {}", a.get_output().status.code(), stderr(a)));

    let creds = s.run(&["creds"]);
    v.push(("creds", if ok(&creds) { judge_creds(&s.endpoint, &stdout(&creds)) } else { failed(&creds) }));
    let env = s.run(&["env"]);
    v.push(("env", if ok(&env) { judge_exports(&s.endpoint, &stdout(&env)) } else { failed(&env) }));
    let py = ccc_tests::peer("CCC_TEST_PYTHON");
    let probe = "import boto3; print(boto3.client('sts', region_name='us-east-1').get_caller_identity()['Arn'])";
    let exec = s.run(&["exec", "--", &py, "-c", probe]);
    v.push(("exec", if ok(&exec) { Ok(stdout(&exec).trim().to_owned()) } else { failed(&exec) }));
    let who = s.run(&["whoami", "-o", "json"]);
    v.push((
        "whoami",
        if ok(&who) {
            let json: serde_json::Value = serde_json::from_str(&stdout(&who)).unwrap();
            Ok(json["arn"].as_str().unwrap_or_default().to_owned())
        } else {
            failed(&who)
        },
    ));
    // resources and permissions print no credentials: the strict endpoint accepted their
    // signed calls, and they name the caller STS named
    let expected = s.expected.clone().unwrap_or_default();
    let resources = s.run(&["resources", "--regions", "us-east-1"]);
    v.push((
        "resources",
        if ok(&resources) {
            let said = stdout(&resources);
            if said.contains(&format!("owned by {} ", s.principal())) { Ok(expected.clone()) } else { Err(said) }
        } else {
            failed(&resources)
        },
    ));
    let permissions = s.run(&["permissions"]);
    v.push((
        "permissions",
        if ok(&permissions) {
            let said = stdout(&permissions);
            let first = said.lines().next().unwrap_or_default().split_whitespace().next().unwrap_or_default();
            // a role session's permissions are its role's
            let role = expected.replace(":sts:", ":iam:").replace(":assumed-role/", ":role/");
            let role = role.rsplit_once('/').map_or(role.clone(), |(r, _)| r.to_owned());
            if first == expected || (expected.contains(":assumed-role/") && first == role) {
                Ok(expected.clone())
            } else {
                Err(said)
            }
        } else {
            failed(&permissions)
        },
    ));
    // history: CloudTrail's LookupEvents is moto's HTTP 500, so the trail's log group (made
    // by the administrator) answers, for the caller STS named
    let group = s.log_group.clone();
    let history = s.run(&["history", "--log-group", &group]);
    v.push(("history", if ok(&history) { Ok(expected.clone()) } else { failed(&history) }));
    // session extend: long-term keys get a GetSessionToken session (whose credentials the
    // verifying front minted and judges), a role a longer role session (moto judges)
    let extend = s.run(&["session", "extend", "--hours", "1", "--out", "-"]);
    v.push((
        "session extend",
        if ok(&extend) { judge_exports(&s.endpoint, &stdout(&extend)) } else { failed(&extend) },
    ));
    v.push(("serve", serve_verdict(s)));
    v
}

/// `ccc serve` of the set-up's profile, judged by boto3 through the container endpoint;
/// long-term keys are refused with a hint naming the role source that serves them (the role
/// set-up is that way, served and judged).
fn serve_verdict(s: &Setup) -> Result<String, String> {
    if s.long_term {
        let refused = s.run(&["serve"]);
        if refused.get_output().status.code() != Some(1) {
            return Err(format!("long-term keys served: {}", stderr(&refused)));
        }
        let hint = stderr(&refused);
        // the hint names the source a role over these keys needs (the role set-up serves one)
        let source = if s.envs.iter().any(|(k, _)| k == "AWS_ACCESS_KEY_ID") {
            "credential_source = Environment".to_owned()
        } else {
            format!("source_profile = {}", s.profile.as_deref().unwrap_or("default"))
        };
        return if hint.contains(&source) { Ok(s.expected.clone().unwrap_or_default()) } else { Err(hint) };
    }
    // the slot is the profile's name
    let slot = s.profile.clone().unwrap_or_else(|| "default".to_owned());
    let ccc = assert_cmd::cargo::cargo_bin("ccc");
    let mut server = StdCommand::new(&ccc);
    server
        .args(s.profile.iter().flat_map(|p| ["--profile", p.as_str()]))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_clear()
        .env("HOME", s.home.path())
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_ENDPOINT_URL", &s.endpoint)
        .env("CCC_NO_PROMPT", "1")
        .envs(s.envs.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = server.spawn().unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let mut said = String::new();
    let served = loop {
        match lines.next() {
            Some(Ok(line)) => {
                said.push_str(&line);
                said.push('\n');
                if line.contains("serving profile") && line.ends_with(&format!("/creds/{slot}")) {
                    break true;
                }
            }
            _ => break false,
        }
    };
    std::thread::spawn(move || lines.map_while(Result::ok).for_each(drop));
    let verdict = if served {
        let vars = super::serve::client_env_of(&s.home, &slot);
        let empty = tempfile::tempdir().unwrap();
        let refs: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        strict::boto3_caller_at(&s.endpoint, empty.path(), &refs, None)
    } else {
        Err(format!("ccc serve did not serve: {said}"))
    };
    let _ = child.kill();
    let _ = child.wait();
    ccc_tests::leak::child_log(&said);
    verdict
}

/// The set-ups people have, each against the strict endpoint.
async fn setups(endpoint: &str) -> Vec<Setup> {
    let log_group = strict::log_group("matrix-trail").await;
    let u = |k: &UserKey| Some(k.arn());
    let (conf, only, dev, prod, ci, custom, process, base, bad) = (
        strict::user("m-configure").await,
        strict::user("m-credonly").await,
        strict::user("m-dev").await,
        strict::user("m-prod").await,
        strict::user("m-ci").await,
        strict::user("m-custom").await,
        strict::user("m-process").await,
        strict::user("m-base").await,
        strict::user("m-tampered").await,
    );
    let role = strict::role("MatrixDeploy").await;
    let role_name = role.rsplit('/').next().unwrap().to_owned();
    let script = format!(
        "#!/bin/sh\nprintf '{{\"Version\": 1, \"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\"}}' {} {}\n",
        process.access_key_id, process.secret_access_key
    );
    let process_home = Setup::new("another tool's credential_process", u(&process)).profile("tool");
    let tool = process_home.home.path().join("tool.sh");
    std::fs::write(&tool, script).unwrap();
    std::fs::set_permissions(&tool, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let process_home =
        process_home.file(".aws/config", &format!("[profile tool]\ncredential_process = {}\n", tool.display()));
    let mut wrong = bad.clone();
    wrong.secret_access_key = "not-the-secret-of-this-key".into();
    vec![
        Setup::new("aws configure keys", u(&conf))
            .file(".aws/config", "[default]\nregion = us-east-1\noutput = json\n")
            .file(".aws/credentials", &keys_section("default", &conf)),
        Setup::new("keys only in ~/.aws/credentials", u(&only)).file(".aws/credentials", &keys_section("default", &only)),
        Setup::new("named dev/prod profiles", u(&prod))
            .file(".aws/config", "[profile dev]\nregion = eu-west-1\n\n[profile prod]\nregion = us-east-1\n")
            .file(".aws/credentials", &format!("{}\n{}", keys_section("dev", &dev), keys_section("prod", &prod)))
            .profile("prod"),
        Setup::new("a role profile (session name, external id, duration)", Some(format!("arn:aws:sts::123456789012:assumed-role/{role_name}/matrix")))
            .file(
                ".aws/config",
                &format!("[profile deploy]\nrole_arn = {role}\nsource_profile = base\nrole_session_name = matrix\nexternal_id = x-7\nduration_seconds = 7200\n"),
            )
            .file(".aws/credentials", &keys_section("base", &base))
            .profile("deploy")
            .temporary(),
        Setup::new("keys only in the environment (CI)", u(&ci))
            .env("AWS_ACCESS_KEY_ID", &ci.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &ci.secret_access_key),
        // the way serve's hint gives for the environment's keys
        Setup::new("a role over the environment's keys", Some(format!("arn:aws:sts::123456789012:assumed-role/{role_name}/ci-role")))
            .file(".aws/config", &format!("[profile ci-role]\nrole_arn = {role}\ncredential_source = Environment\nrole_session_name = ci-role\n"))
            .env("AWS_ACCESS_KEY_ID", &ci.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &ci.secret_access_key)
            .profile("ci-role")
            .temporary(),
        Setup::new("AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE", u(&custom))
            .file("elsewhere/conf", "[profile x]\nregion = us-east-1\n")
            .file("elsewhere/keys", &keys_section("x", &custom))
            .profile("x"),
        process_home,
        Setup::new("keys with a wrong secret (the judge refuses)", None).file(".aws/credentials", &keys_section("default", &wrong)),
    ]
    .into_iter()
    .map(|mut s| {
        s.log_group = log_group.clone();
        s.endpoint = endpoint.to_owned();
        if s.name.starts_with("AWS_CONFIG_FILE") {
            let (c, k) = (s.home.path().join("elsewhere/conf"), s.home.path().join("elsewhere/keys"));
            s.env("AWS_CONFIG_FILE", &c.display().to_string()).env("AWS_SHARED_CREDENTIALS_FILE", &k.display().to_string())
        } else {
            s
        }
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_setup_by_every_command_is_judged_by_the_strict_endpoint() {
    let judge = ccc_tests::judge::Judge::start().await;
    let setups = setups(&judge.url).await;
    let mut wrong = Vec::new();
    // each set-up in a thread of its own (most of a cell is a process starting)
    let all = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let running: Vec<_> = setups.iter().map(|s| scope.spawn(move || (s, verdicts(s)))).collect();
            running.into_iter().map(|t| t.join().unwrap()).collect::<Vec<_>>()
        })
    });
    for (s, cells) in all {
        for (command, verdict) in cells {
            let right = match (&s.expected, &verdict) {
                (Some(arn), Ok(got)) => got == arn,
                (None, Err(_)) => true,
                // with a wrong secret, serve's refusal of long-term keys is the same as elsewhere
                (None, Ok(_)) => command == "serve",
                (Some(_), Err(_)) => false,
            };
            if !right {
                wrong.push(format!("{} × {command}: expected {:?}, got {verdict:?}", s.name, s.expected));
            }
        }
    }
    assert!(wrong.is_empty(), "{} cell(s) wrong:\n{}", wrong.len(), wrong.join("\n"));
    // the refusal of a wrong secret points at the keys, not at a Cognito sign-in
    let tampered = setups.iter().find(|s| s.expected.is_none()).unwrap();
    let refused = stderr(&tampered.run(&["whoami"]).code(3));
    assert!(refused.contains("SignatureDoesNotMatch") && refused.contains("aws_secret_access_key"), "{refused}");
    assert!(!refused.contains("ccc login"), "{refused}");
}
