//! A credential_process whose renewal needs a person: one prompt on the controlling terminal
//! however many processes ask, and without a terminal one line naming the command, at once.

use std::process::{Command as StdCommand, Stdio};
use std::time::{Duration, Instant};

use ccc_tests::cognito::{PASSWORD, pool};
use ccc_tests::peer;

use crate::support::{Home, expire_cognito_sign_in, sso_home};

/// A home signed in as `user` on profile e2e whose sign-in has ended: its cached credentials
/// and tokens expired, its refresh token one Cognito refuses.
async fn ended_sign_in(user: &str) -> (Home, ccc_tests::cognito::Pool) {
    let pool = pool().await;
    pool.user(user, true).await;
    let home = Home::new();
    home.configure(&pool);
    // moto's identity credentials live 90 s, always inside the default five-minute window:
    // with it every process would renew them (AWS's last an hour)
    home.ccc().args(["config", "set", "refresh_window_seconds", "30"]).assert().success();
    home.login(user).success();
    expire_cognito_sign_in(&home, "e2e");
    let file = home.path().join(".ccc/tokens.json");
    let mut store: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    for entry in store["entries"].as_object_mut().unwrap().values_mut() {
        entry["refresh_token"] = serde_json::json!("a-refresh-token-cognito-revoked");
    }
    std::fs::write(&file, store.to_string()).unwrap();
    (home, pool)
}

/// Starts 32 `ccc creds --profile PROFILE` in sessions of their own (setsid): no controlling
/// terminal, as under cron or a CI runner. Checks each exits 3 with one line and nothing on
/// stdout; returns the line (the same from every process) and how long all of them took.
fn without_a_terminal(home: &Home, endpoint: &str, profile: &str) -> (String, Duration) {
    let ccc = assert_cmd::cargo::cargo_bin("ccc");
    let started = Instant::now();
    let children: Vec<_> = (0..32)
        .map(|_| {
            StdCommand::new("setsid")
                .arg("-w")
                .arg(&ccc)
                .args(["creds", "--profile", profile])
                .env_clear()
                .env("HOME", home.path())
                .env("PATH", "/usr/bin:/bin")
                .env("AWS_ENDPOINT_URL", endpoint)
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
    (said.into_iter().next().unwrap(), elapsed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_every_process_fails_at_once_with_the_same_instruction() {
    let (home, _) = ended_sign_in("nora").await;
    let (line, elapsed) = without_a_terminal(&home, &ccc_tests::judge::shared_url(), "e2e");
    assert!(line.contains("run `ccc login --profile e2e`"), "{line}");
    assert!(elapsed < Duration::from_secs(2), "32 processes failed in {elapsed:?}");
}

/// The same for an IAM Identity Center profile nobody has signed in to: no device sign-in is
/// started (the SSO service counts none), the line names `ccc sso login`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_no_sso_device_sign_in_is_started() {
    let (stub, home) = sso_home(0, SSO_CONFIG).await;
    let (line, elapsed) = without_a_terminal(&home, &stub.url, "corp-dev");
    assert!(line.contains("run `ccc sso login --profile corp-dev`"), "{line}");
    assert!(elapsed < Duration::from_secs(2), "32 processes failed in {elapsed:?}");
    assert_eq!(stub.calls("StartDeviceAuthorization"), 0, "no browser storm, no device codes");
    assert_eq!(stub.calls("GetRoleCredentials"), 0);
}

/// Two profiles of one SSO session.
const SSO_CONFIG: &str = "[profile corp-dev]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Developer\nregion = eu-west-1\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n";

/// Drives 32 `ccc creds --profile P` started from one shell on a pseudo-terminal (their
/// controlling terminal). STEPS is a JSON list of [marker, answer]: each answer is typed, in
/// order, once its marker shows after the previous one (and echo is off, as a person would
/// type a secret); an empty answer is only waited for. Says how many times the first marker
/// was shown, and the screen.
const ON_A_TERMINAL: &str = r#"
import json, os, pty, select, sys, termios, time
ccc, profile, steps = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
pid, fd = pty.fork()
if pid == 0:
    os.execvp("bash", ["bash", "-c",
        'for i in $(seq 32); do "$0" creds --profile "$1" > "$HOME/out.$i" 2> "$HOME/err.$i" < /dev/null & done; wait', ccc, profile])
out, step, pos, deadline = b"", 0, 0, time.time() + 120
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
        while step < len(steps) and out.find(steps[step][0].encode(), pos) >= 0:
            marker, answer = steps[step]
            pos = out.find(marker.encode(), pos) + len(marker)
            step += 1
            if answer:
                while termios.tcgetattr(fd)[3] & termios.ECHO and time.time() < deadline:
                    time.sleep(0.01)
                os.write(fd, (answer + "\n").encode())
    elif os.waitpid(pid, os.WNOHANG)[0]:
        break
print(json.dumps({"prompts": out.count(steps[0][0].encode()), "said": out.decode(errors="replace")}))
"#;

/// Runs [`ON_A_TERMINAL`] in `home` with `env`; returns how many times the first step's marker
/// was shown, what the terminal showed, and the one access key id all 32 processes printed.
fn on_a_terminal(home: &Home, env: &[(&str, &str)], profile: &str, steps: &[(&str, &str)]) -> (u64, String, String) {
    let ccc = assert_cmd::cargo::cargo_bin("ccc");
    let steps = serde_json::to_string(steps).unwrap();
    let out = StdCommand::new(peer("CCC_TEST_PYTHON"))
        .args(["-c", ON_A_TERMINAL, ccc.to_str().unwrap(), profile, &steps])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let said = seen["said"].as_str().unwrap().to_owned();
    let mut keys = std::collections::BTreeMap::new();
    for i in 1..=32 {
        let text = std::fs::read_to_string(home.path().join(format!("out.{i}"))).unwrap();
        let err = std::fs::read_to_string(home.path().join(format!("err.{i}"))).unwrap();
        ccc_tests::leak::child_log(&err);
        let json: serde_json::Value = serde_json::from_str(&text)
            .unwrap_or_else(|_| panic!("process {i} printed no credentials: {err}\nterminal: {said}"));
        ccc_tests::leak::secret(json["SecretAccessKey"].as_str().unwrap());
        keys.insert(json["AccessKeyId"].as_str().unwrap().to_owned(), json);
    }
    let judge = ccc_tests::judge::shared_url();
    if env.iter().any(|(k, v)| *k == "AWS_ENDPOINT_URL" && *v == judge) {
        // the judge mints every identity credential anew, so it shows what moto's fixed keys
        // hid: a process whose ordinary renewal ran between the sign-in storing its tokens and
        // storing its credentials got credentials of its own from those tokens (one more
        // GetCredentialsForIdentity, the same sign-in). Each is judged: AWS takes them all.
        assert!(keys.len() <= 2, "one sign-in, at most one racing renewal: {:?}", keys.keys());
        for json in keys.values() {
            let who = ccc_tests::strict::boto3_with_keys_at(
                &judge,
                json["AccessKeyId"].as_str().unwrap(),
                json["SecretAccessKey"].as_str().unwrap(),
                json["SessionToken"].as_str(),
            );
            assert!(who.is_ok(), "the printed credentials were refused: {who:?}");
        }
    } else {
        assert_eq!(keys.len(), 1, "every process used the one sign-in");
    }
    (seen["prompts"].as_u64().unwrap(), said, keys.into_keys().next().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_thirty_two_processes_prompt_once() {
    let (home, _) = ended_sign_in("olga").await;
    let endpoint = ccc_tests::judge::shared_url();
    let (prompts, said, _) =
        on_a_terminal(&home, &[("AWS_ENDPOINT_URL", &endpoint)], "e2e", &[("Password for", PASSWORD)]);
    assert_eq!(prompts, 1, "one prompt for 32 processes: {said}");
    assert!(said.contains("the sign-in of olga (profile e2e) has ended"), "{said}");
    assert!(!said.contains(PASSWORD), "the password is not echoed");
}

/// An administrator reset the user's password to a temporary one while the sign-in ended: the
/// one process that asks takes the temporary password, then a new one (twice, never echoed)
/// for Cognito's NEW_PASSWORD_REQUIRED, on the terminal; all 32 print credentials, and the
/// new password is the password from then on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_a_new_password_is_asked_once() {
    let (home, pool) = ended_sign_in("pia").await;
    pool.admin
        .admin_set_user_password()
        .user_pool_id(&pool.pool_id)
        .username("pia")
        .password("Temp-Passw0rd!")
        .permanent(false)
        .send()
        .await
        .unwrap();
    let endpoint = ccc_tests::judge::shared_url();
    let steps = [("Password for", "Temp-Passw0rd!"), ("New password:", PASSWORD), ("Repeat new password:", PASSWORD)];
    let (prompts, said, _) = on_a_terminal(&home, &[("AWS_ENDPOINT_URL", &endpoint)], "e2e", &steps);
    assert_eq!(prompts, 1, "one sign-in for 32 processes: {said}");
    assert_eq!(said.matches("A new password is required for pia").count(), 1, "{said}");
    assert!(!said.contains(PASSWORD) && !said.contains("Temp-Passw0rd!"), "nothing typed is echoed: {said}");
    // the new password is the password now
    home.login("pia").success();
}

/// 32 `ccc creds` for an SSO profile nobody has signed in to, on a terminal: one device code
/// shown, one browser window (the `BROWSER` the desktop would start counts its runs), one
/// device authorization at the SSO service, and every process prints the same role
/// credentials, which boto3 then gets through the profile's credential_process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_thirty_two_sso_processes_open_one_browser_window() {
    let (stub, home) = sso_home(0, SSO_CONFIG).await;
    let browser = home.path().join("browser");
    let opened = home.path().join("browser.log");
    std::fs::write(&browser, format!("#!/bin/sh\necho \"$1\" >> '{}'\n", opened.display())).unwrap();
    std::fs::set_permissions(&browser, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let env = [("AWS_ENDPOINT_URL", stub.url.as_str()), ("BROWSER", browser.to_str().unwrap())];
    let (shown, said, key) = on_a_terminal(&home, &env, "corp-dev", &[("To sign in to", "")]);
    assert_eq!(shown, 1, "one device code for 32 processes: {said}");
    assert!(said.contains("confirm the code ABCD-EFGH"), "{said}");
    let pages: Vec<String> = std::fs::read_to_string(&opened).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(pages.len(), 1, "one browser window: {pages:?}");
    assert!(pages[0].starts_with("https://corp.awsapps.com/start/#/device"), "{pages:?}");
    assert_eq!(stub.calls("StartDeviceAuthorization"), 1);
    assert!(key.starts_with("ASIASTUB"), "{key}");
    // the token ccc kept is the one boto3 reads for the profile
    let (method, boto_key) = ccc_tests::boto3_profile_credentials(home.path(), &stub.url, "corp-dev");
    assert_eq!(method, "sso");
    assert!(boto_key.starts_with("ASIASTUB"), "{boto_key}");
}

/// The MFA device a role profile names.
const MFA_SERIAL: &str = "arn:aws:iam::123456789012:mfa/alice";

/// A role profile `admin` whose trust policy asks for MFA (`mfa_serial`), assumed with the keys
/// of profile `base` (a new IAM user's of the strict moto, which judges the role's
/// credentials); profile `via-ccc` is boto3's way to it, through `ccc creds`.
async fn mfa_home() -> Home {
    let user = ccc_tests::strict::user("mfa-base").await;
    let home = Home::new();
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    ccc_tests::leak::secret(&user.secret_access_key);
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
        format!(
            "[profile admin]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\nmfa_serial = {MFA_SERIAL}\nregion = us-east-1\n\n\
             [profile via-ccc]\ncredential_process = {} creds --profile admin\nregion = us-east-1\n",
            assert_cmd::cargo::cargo_bin("ccc").display()
        ),
    )
    .unwrap();
    home
}

/// Without a terminal an MFA role's 32 processes fail at once with the line naming `ccc login`,
/// and STS is asked nothing (a role assumed without the code would be refused by its trust
/// policy, which moto does not check).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_terminal_an_mfa_role_names_ccc_login() {
    let home = mfa_home().await;
    let sts = ccc_tests::proxy::FaultProxy::start(&ccc_tests::strict::endpoint()).await;
    let (line, elapsed) = without_a_terminal(&home, &sts.url, "admin");
    assert!(line.contains(&format!("needs a code from the MFA device {MFA_SERIAL}")), "{line}");
    assert!(line.contains("run `ccc login --profile admin`"), "{line}");
    assert!(elapsed < Duration::from_secs(2), "32 processes failed in {elapsed:?}");
    assert!(sts.forms("AssumeRole").is_empty(), "nothing asked of STS without a code");
}

/// On a terminal: one prompt for the MFA code however many processes ask; STS receives one
/// AssumeRole carrying the device's serial number and the code typed; boto3, through the
/// profile's credential_process, then calls STS as the role without anyone asked again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_thirty_two_processes_ask_one_mfa_code_and_boto3_uses_the_role() {
    let home = mfa_home().await;
    let sts = ccc_tests::proxy::FaultProxy::start(&ccc_tests::strict::endpoint()).await;
    let code = "908172";
    let (prompts, said, key) = on_a_terminal(
        &home,
        &[("AWS_ENDPOINT_URL", &sts.url)],
        "admin",
        &[(&format!("MFA code for {MFA_SERIAL}"), code)],
    );
    assert_eq!(prompts, 1, "one prompt for 32 processes: {said}");
    assert!(said.contains("profile admin uses role arn:aws:iam::123456789012:role/admin with MFA"), "{said}");
    assert!(!said.contains(code), "the code is not echoed: {said}");
    assert!(key.starts_with("ASIA"), "temporary credentials: {key}");
    let asked = sts.forms("AssumeRole");
    assert_eq!(asked.len(), 1, "one AssumeRole for 32 processes: {asked:?}");
    assert_eq!(asked[0].get("SerialNumber").map(String::as_str), Some(MFA_SERIAL));
    assert_eq!(asked[0].get("TokenCode").map(String::as_str), Some(code));
    assert_eq!(asked[0].get("RoleArn").map(String::as_str), Some("arn:aws:iam::123456789012:role/admin"));
    // the consumer: boto3 through credential_process, no terminal, nothing asked
    let arn = StdCommand::new(peer("CCC_TEST_PYTHON"))
        .args([
            "-c",
            "import boto3; print(boto3.Session(profile_name='via-ccc').client('sts').get_caller_identity()['Arn'])",
        ])
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", "/usr/bin:/bin")
        .env("AWS_ENDPOINT_URL", &sts.url)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&arn.stderr);
    ccc_tests::leak::child_log(&err);
    assert!(arn.status.success(), "{err}");
    let arn = String::from_utf8_lossy(&arn.stdout);
    assert!(arn.contains(":assumed-role/admin/"), "{arn}");
    assert_eq!(sts.forms("AssumeRole").len(), 1, "boto3 was served the kept role credentials");
}

/// `ccc login` for an MFA role profile: the code from stdin, the role assumed, kept; a second
/// login finds it still valid and asks nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ccc_login_assumes_an_mfa_role_once() {
    let home = mfa_home().await;
    let sts = ccc_tests::proxy::FaultProxy::start(&ccc_tests::strict::endpoint()).await;
    let login = |code: &str| {
        home.ccc()
            .env("AWS_ENDPOINT_URL", &sts.url)
            .args(["--output", "json", "login", "--profile", "admin", "--password-stdin"])
            .write_stdin(format!("{code}\n"))
            .assert()
            .success()
    };
    let first: serde_json::Value = serde_json::from_str(&crate::support::stdout(&login("314159"))).unwrap();
    assert_eq!(first["already_valid"], false, "{first}");
    assert_eq!(first["mfa_serial"], MFA_SERIAL);
    let again: serde_json::Value = serde_json::from_str(&crate::support::stdout(&login("265358"))).unwrap();
    assert_eq!(again["already_valid"], true, "{again}");
    let asked = sts.forms("AssumeRole");
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0].get("TokenCode").map(String::as_str), Some("314159"));
}
