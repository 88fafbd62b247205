//! `cargo xtask demo`: configure, sign in, use the credentials from boto3, and ask what the
//! user owns and may do, against moto; then an IAM Identity Center user signs in with ccc
//! alone; a long run outlives its credentials; an OAuth provider is saved, signed in to and
//! used. Every command shown is run for real.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd;

const USER: &str = "alice";
const PASSWORD: &str = "Demo-Passw0rd!";

fn get<'a>(env: &'a [(String, String)], key: &str) -> Result<&'a str, String> {
    env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).ok_or_else(|| format!("peer variable {key} missing"))
}

fn step(title: &str) {
    println!("\n== {title}");
}

/// Runs a command in the demo's home, shows it and its output, fails if it fails.
fn show(home: &Path, endpoint: &str, program: &str, args: &[&str], stdin: Option<&str>) -> Result<(), String> {
    // quote for display the way a shell would accept it
    let shown: Vec<String> = args
        .iter()
        .map(|a| match (a.contains(' '), a.contains('\'')) {
            (false, _) => (*a).to_owned(),
            (true, true) => format!("\"{a}\""),
            (true, false) => format!("'{a}'"),
        })
        .collect();
    let name = Path::new(program).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    match stdin {
        Some(_) => println!("$ echo '****' | {name} {}", shown.join(" ")),
        None => println!("$ {name} {}", shown.join(" ")),
    }
    let mut command = Command::new(program);
    command
        .args(args)
        .env("HOME", home)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SHARED_CREDENTIALS_FILE")
        .env_remove("AWS_CONFIG_FILE");
    let out = cmd::capture(command, program, stdin.map(|text| format!("{text}\n")).as_deref())?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    let err = String::from_utf8_lossy(&out.stderr);
    if !err.trim().is_empty() {
        print!("{err}");
    }
    if out.status.success() { Ok(()) } else { Err(format!("`{name} {}` failed ({})", shown.join(" "), out.status)) }
}

/// An IAM Identity Center user who has nothing but ccc: device sign-in against the SSO stub
/// (a process of its own; no peer implements IAM Identity Center), an `aws`-style profile,
/// `ccc exec`, and boto3 reading the token ccc wrote.
fn sso_user(home: &Path, ccc: &str, python: &str) -> Result<(), String> {
    use std::io::BufRead;
    step("9. An IAM Identity Center (SSO) user: an aws-style profile, and no AWS CLI anywhere");
    cmd::build_everything()?;
    let mut stub = Command::new(cmd::root().join("target/debug/sso-stub"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the SSO stub: {e}"))?;
    let mut first = String::new();
    if let Some(out) = stub.stdout.take() {
        let _ = std::io::BufReader::new(out).read_line(&mut first);
    }
    let url = first.trim().to_owned();
    let result = (|| {
        if !url.starts_with("http://") {
            return Err(format!("the SSO stub did not start (it said {url:?})"));
        }
        let profile = "[profile demo-sso]\nsso_session = corp\nsso_account_id = 111122223333\nsso_role_name = Developer\nregion = eu-west-1\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n";
        let config = home.join(".aws/config");
        let before = fs::read_to_string(&config).unwrap_or_default();
        fs::write(&config, format!("{before}\n{profile}")).map_err(|e| e.to_string())?;
        println!("   ~/.aws/config gains, as `aws configure sso` would write it:\n{profile}");
        println!("   (the SSO stub stands in for IAM Identity Center at {url}; its user approves the sign-in)");
        show(home, &url, ccc, &["sso", "login", "--profile", "demo-sso", "--no-browser"], None)?;
        show(home, &url, ccc, &["sso", "roles", "--profile", "demo-sso"], None)?;
        show(
            home,
            &url,
            ccc,
            &[
                "exec",
                "--profile",
                "demo-sso",
                "--",
                python,
                "-c",
                "import boto3, os; print('a command run by ccc exec has', os.environ['AWS_ACCESS_KEY_ID'][:8] + '…', 'until', os.environ['AWS_CREDENTIAL_EXPIRATION'], 'in', boto3.Session().region_name)",
            ],
            None,
        )?;
        show(
            home,
            &url,
            python,
            &[
                "-c",
                "import boto3; c = boto3.Session(profile_name='demo-sso').get_credentials(); print('boto3 on its own, from the SSO cache ccc wrote:', c.method, c.access_key[:8] + '…')",
            ],
            None,
        )
    })();
    drop(stub.stdin.take());
    let _ = stub.kill();
    let _ = stub.wait();
    result
}

/// A run longer than one credential's life: `ccc session extend` for a profile with IAM-user
/// keys, then the library's extended session across three lifetimes on a fast clock.
fn long_run(home: &Path, endpoint: &str, ccc: &str, key: (&str, &str)) -> Result<(), String> {
    step("10. A long run: credentials that outlive their lifetime");
    let keys = format!("[demo-keys]\naws_access_key_id = {}\naws_secret_access_key = {}\n", key.0, key.1);
    fs::write(home.join(".aws/credentials"), keys).map_err(|e| e.to_string())?;
    println!("   ~/.aws/credentials holds IAM-user keys for profile demo-keys");
    let file = home.join(".env.extended").display().to_string();
    show(home, endpoint, ccc, &["session", "extend", "--profile", "demo-keys", "--hours", "12", "--out", &file], None)?;
    let exported = fs::read_to_string(&file).map_err(|e| e.to_string())?;
    let var = |name: &str| {
        exported
            .lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .map(|v| v.trim_matches('\'').to_owned())
    };
    let mut who = Command::new(cmd::root().join("target/peers/venv/bin/python"));
    who.args(["-c", "import boto3; print('   the extended credentials are', boto3.client('sts', region_name='us-east-1').get_caller_identity()['Arn'])"])
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", var("AWS_ACCESS_KEY_ID").unwrap_or_default())
        .env("AWS_SECRET_ACCESS_KEY", var("AWS_SECRET_ACCESS_KEY").unwrap_or_default())
        .env("AWS_SESSION_TOKEN", var("AWS_SESSION_TOKEN").unwrap_or_default())
        .env_remove("AWS_PROFILE");
    let said = cmd::capture(who, "python", None)?;
    print!("{}", String::from_utf8_lossy(&said.stdout));
    if !said.status.success() {
        return Err(format!("the extended credentials were refused: {}", String::from_utf8_lossy(&said.stderr)));
    }
    println!("   (`source` that file and a six-hour test suite keeps working; in a program, the");
    println!("   extended session renews itself. Here on a fast clock, 15-minute credentials:)");
    cmd::build_everything()?;
    // the long run's own front (which moves STS's expirations along its fast clock) forwards
    // to the verifying front, which judges each call in real time
    let out = Command::new(cmd::root().join("target/debug/long-run"))
        .env("CCC_TEST_AWS_ENDPOINT", endpoint)
        .env("DEMO_KEY_ID", key.0)
        .env("DEMO_SECRET", key.1)
        .output()
        .map_err(|e| format!("cannot run the long run: {e}"))?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        return Err(format!("the long run failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(())
}

/// An OAuth user: a provider saved by name, a browser sign-in (a headless browser plays the
/// person at oidc-provider's pages), a command run with the token, revocation.
fn oauth_user(home: &Path, endpoint: &str, ccc: &str, python: &str, issuer: &str) -> Result<(), String> {
    step("11. An OAuth API user: a saved provider, a browser sign-in, a command with the token");
    show(home, endpoint, ccc, &["oauth", "add", "demo-api", "--issuer", issuer, "--client-id", "ccc-public"], None)?;
    browser_sign_in(home, ccc, &[])?;
    show(home, endpoint, ccc, &["oauth", "list"], None)?;
    let probe = format!(
        "import json, os, urllib.request; r = urllib.request.Request('{issuer}/me', headers={{'Authorization': 'Bearer ' + os.environ['ACCESS_TOKEN']}}); print('the API sees', json.load(urllib.request.urlopen(r))['sub'])"
    );
    show(home, endpoint, ccc, &["oauth", "exec", "demo-api", "--", python, "-c", &probe], None)?;
    show(home, endpoint, ccc, &["oauth", "revoke", "demo-api"], None)?;
    Ok(())
}

/// `ccc oauth login demo-api --no-browser` in `home` (with `envs`), a headless browser signing
/// in as the demo user at the provider's pages.
fn browser_sign_in(home: &Path, ccc: &str, envs: &[(&str, String)]) -> Result<(), String> {
    use std::io::BufRead;
    println!("$ ccc oauth login demo-api --no-browser");
    let mut login = Command::new(ccc)
        .args(["oauth", "login", "demo-api", "--no-browser", "--timeout", "60"])
        .env("HOME", home)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run ccc: {e}"))?;
    let mut lines = std::io::BufReader::new(login.stderr.take().ok_or("no stderr")?).lines();
    let url = loop {
        match lines.next() {
            Some(Ok(line)) if line.starts_with("http") => break line,
            Some(Ok(line)) => println!("{line}"),
            _ => return Err("ccc oauth login printed no URL".into()),
        }
    };
    println!("{}?…  (the sign-in page; a headless browser signs in as {USER})", url.split('?').next().unwrap_or(""));
    cmd::build_everything()?;
    let page = Command::new(cmd::root().join("target/debug/oidc-browser"))
        .args([url.as_str(), USER])
        .output()
        .map_err(|e| format!("cannot run the headless browser: {e}"))?;
    if !page.status.success() {
        return Err(format!("the browser sign-in failed: {}", String::from_utf8_lossy(&page.stderr)));
    }
    let out = login.wait_with_output().map_err(|e| e.to_string())?;
    print!("{}", String::from_utf8_lossy(&out.stdout));
    if !out.status.success() {
        return Err("ccc oauth login failed".into());
    }
    Ok(())
}

/// The role identity-pool credentials are sessions of (`ccc_tests::judge::COGNITO_ROLE`).
const COGNITO_ROLE: &str = "Cognito_Authenticated";

/// The verifying front as a process: its URL, and the process (stdin closed to stop it).
fn start_judge(env: &[(String, String)]) -> Result<(String, std::process::Child), String> {
    use std::io::BufRead;
    let mut judge = Command::new(cmd::root().join("target/debug/judge"))
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the verifying front: {e}"))?;
    let mut first = String::new();
    if let Some(out) = judge.stdout.take() {
        let _ = std::io::BufReader::new(out).read_line(&mut first);
    }
    let url = first.trim().to_owned();
    if !url.starts_with("http://") {
        let _ = judge.kill();
        return Err(format!("the verifying front did not start (it said {url:?})"));
    }
    Ok((url, judge))
}

/// Stops the judge and prints its count of verified and refused requests.
fn stop_judge(mut judge: std::process::Child) -> Result<(), String> {
    drop(judge.stdin.take());
    let out = judge.wait_with_output().map_err(|e| e.to_string())?;
    let said = String::from_utf8_lossy(&out.stderr);
    for line in said.lines().filter(|l| l.starts_with("judge: ")) {
        println!("   {line}");
    }
    Ok(())
}

pub fn run(env: &[(String, String)]) -> Result<(), String> {
    let python = get(env, "CCC_TEST_PYTHON")?.to_owned();
    cmd::build_everything()?;
    let (endpoint, judge) = start_judge(env)?;
    let result = run_on(env, &endpoint, &python);
    let stopped = stop_judge(judge);
    result.and(stopped)
}

/// The demo's steps, every AWS call through the verifying front at `endpoint`.
fn run_on(env: &[(String, String)], endpoint: &str, python: &str) -> Result<(), String> {
    let endpoint = endpoint.to_owned();
    let python = python.to_owned();
    let ccc = cmd::root().join("target/debug/ccc").display().to_string();
    let home = cmd::root().join("target/demo/home");
    let _ = fs::remove_dir_all(&home);
    fs::create_dir_all(&home).map_err(|e| e.to_string())?;

    step(
        "Seeding moto: a Cognito user pool, app client, identity pool and user; resources tagged Owner=alice in 3 regions",
    );
    println!("   (every AWS call of the demo goes through a verifying front at {endpoint}: moto with");
    println!("   authentication on behind it refuses keys it never issued, and the front verifies the");
    println!("   signature, session token and expiry of the credentials moto cannot judge)");
    let seed = Command::new(&python)
        .arg(cmd::root().join("xtask/demo/seed.py"))
        .args([USER, PASSWORD, COGNITO_ROLE])
        .env("AWS_ENDPOINT_URL", &endpoint)
        .env("AWS_ACCESS_KEY_ID", get(env, "CCC_TEST_STRICT_ADMIN_KEY_ID")?)
        .env("AWS_SECRET_ACCESS_KEY", get(env, "CCC_TEST_STRICT_ADMIN_SECRET")?)
        .output()
        .map_err(|e| format!("cannot run the seed script: {e}"))?;
    if !seed.status.success() {
        return Err(format!("seeding moto failed: {}", String::from_utf8_lossy(&seed.stderr)));
    }
    let ids: Vec<(String, String)> = String::from_utf8_lossy(&seed.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    for (k, v) in ids.iter().filter(|(k, _)| !k.ends_with("SECRET")) {
        println!("   {k}={v}");
    }
    let pool = get(&ids, "USER_POOL_ID")?.to_owned();
    let client = get(&ids, "APP_CLIENT_ID")?.to_owned();
    let identity = get(&ids, "IDENTITY_POOL_ID")?.to_owned();

    step("1. Configure ccc (flags, as a script would; on a terminal it prompts)");
    show(
        &home,
        &endpoint,
        &ccc,
        &[
            "configure",
            "--non-interactive",
            "--user-pool-id",
            &pool,
            "--app-client-id",
            &client,
            "--identity-pool-id",
            &identity,
            "--region",
            "us-east-1",
            "--profile",
            "demo",
        ],
        None,
    )?;

    step("2. Sign in (SRP: the password never leaves the machine)");
    show(&home, &endpoint, &ccc, &["login", "--username", USER, "--password-stdin"], Some(PASSWORD))?;

    step("3. Who am I?");
    show(&home, &endpoint, &ccc, &["whoami"], None)?;

    step("4. Let boto3 get fresh credentials through credential_process");
    show(&home, &endpoint, &ccc, &["setup-profile", "--profile", "demo-process"], None)?;
    show(
        &home,
        &endpoint,
        &python,
        &[
            "-c",
            "import boto3; s = boto3.Session(profile_name='demo-process'); c = s.get_credentials().get_frozen_credentials(); print('boto3 got key', c.access_key[:4] + '…', 'and is', s.client('sts', region_name='us-east-1').get_caller_identity()['Arn'])",
        ],
        None,
    )?;

    step("5. What do I own? (every region scanned at once)");
    show(
        &home,
        &endpoint,
        &ccc,
        &["resources", "--regions", "us-east-1,eu-west-1,ap-southeast-2,eu-central-1", "--verbose-list"],
        None,
    )?;

    step("6. What may I do?");
    println!(
        "   (identity-pool credentials are sessions of the pool's role {COGNITO_ROLE}; the seed gave it policies)"
    );
    show(&home, &endpoint, &ccc, &["permissions"], None)?;

    serve_step(&home, &endpoint, &ccc, &python)?;

    step("8. Sign out");
    show(&home, &endpoint, &ccc, &["logout"], None)?;

    sso_user(&home, &ccc, &python)?;
    let key = (get(&ids, "LONG_RUN_KEY_ID")?, get(&ids, "LONG_RUN_SECRET")?);
    long_run(&home, &endpoint, &ccc, key)?;
    oauth_user(&home, &endpoint, &ccc, &python, get(env, "CCC_TEST_OIDC_ISSUER")?)?;
    fleet(env, &ccc, &python)?;
    println!(
        "\ndemo: every step above ran for real on loopback: moto with authentication on (behind the verifying\n      front, which judged every credential moto cannot), oidc-provider and PostgreSQL."
    );
    Ok(())
}

/// Runs `ccc ARGS` on a demo machine, showing it as `machine-x$ ccc …`; its stdout.
fn on(machine: &(String, PathBuf), envs: &[(&str, String)], ccc: &str, args: &[&str]) -> Result<String, String> {
    println!("{}$ ccc {}", machine.0, args.join(" "));
    let mut command = Command::new(ccc);
    command.args(args).env("HOME", &machine.1).envs(envs.iter().map(|(k, v)| (k, v)));
    let out = cmd::capture(command, ccc, None)?;
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("`ccc {}` failed on {}: {err}", args.join(" "), machine.0));
    }
    if !err.trim().is_empty() {
        print!("{err}");
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A token shown by a fingerprint, never itself.
fn fingerprint(token: &str) -> String {
    let sum =
        token.trim().bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    format!("token #{:08x}", sum >> 32)
}

/// Two machines (a HOME each) sharing one team store on the PostgreSQL peer: the second takes
/// the first one's sign-in, and when the token is due, one refresh serves both.
fn fleet(env: &[(String, String)], ccc: &str, python: &str) -> Result<(), String> {
    step("12. A fleet: two machines share one sign-in and one refresh (team store on PostgreSQL)");
    let issuer = get(env, "CCC_TEST_OIDC_ISSUER")?;
    let url = crate::peers::fresh_database(env, "ccc_demo_team")?;
    let root = cmd::root().join("target/demo");
    let key = root.join("team.key");
    let _ = fs::remove_file(&key);
    let machines: Vec<(String, PathBuf)> =
        ["machine-a", "machine-b"].iter().map(|m| ((*m).to_owned(), root.join(m))).collect();
    for (_, home) in &machines {
        let _ = fs::remove_dir_all(home);
        fs::create_dir_all(home).map_err(|e| e.to_string())?;
    }
    let envs = [("CCC_TEAM_STORE", url.clone()), ("CCC_TEAM_KEY", key.display().to_string())];
    on(&machines[0], &[], ccc, &["team", "key", "--new", &key.display().to_string()])?;
    println!("   both machines: CCC_TEAM_STORE={}  CCC_TEAM_KEY={}", redact(&url), key.display());
    for m in &machines {
        on(m, &envs, ccc, &["oauth", "add", "demo-api", "--issuer", issuer, "--client-id", "ccc-public"])?;
    }
    println!("{}$ (sign in)", machines[0].0);
    browser_sign_in(&machines[0].1, ccc, &envs)?;
    let first = on(&machines[0], &envs, ccc, &["oauth", "token", "demo-api"])?;
    println!("   {}", fingerprint(&first));
    let b = on(&machines[1], &envs, ccc, &["oauth", "token", "demo-api"])?;
    println!("   {}  (machine-b never signed in: it took machine-a's from the team store)", fingerprint(&b));
    let counter = format!("refresh_token:{USER}");
    let grants = || -> Result<u64, String> {
        let probe = format!(
            "import json, urllib.request; print(json.load(urllib.request.urlopen('{issuer}/test/counters')).get('{counter}', 0))"
        );
        cmd::output(python, &["-c", &probe])?.trim().parse::<u64>().map_err(|e| e.to_string())
    };
    let before = grants()?;
    // the refresh token rotates: machine-b's copy of it is now spent
    let renewed = on(&machines[0], &envs, ccc, &["oauth", "refresh", "demo-api"])?;
    print!("{renewed}");
    println!("   (an hour later on machine-b: its copy of the token has expired; its refresh token was");
    println!("    spent by machine-a's refresh, and spending it again would get the whole family revoked)");
    expire_local_tokens(&machines[1].1)?;
    let b = on(&machines[1], &envs, ccc, &["oauth", "token", "demo-api"])?;
    let a = on(&machines[0], &envs, ccc, &["oauth", "token", "demo-api"])?;
    println!("   machine-a: {}   machine-b: {}", fingerprint(&a), fingerprint(&b));
    print!("{}", on(&machines[1], &envs, ccc, &["team", "status"])?);
    let refreshed = grants()? - before;
    println!("   the provider counted {refreshed} refresh grant for the two machines, and refused none");
    let refused = {
        let probe = format!(
            "import json, urllib.request; print(json.load(urllib.request.urlopen('{issuer}/test/counters')).get('{counter}:refused', 0))"
        );
        cmd::output(python, &["-c", &probe])?.trim().to_owned()
    };
    if refreshed != 1 || a.trim() != b.trim() || a.trim() == first.trim() || refused != "0" {
        return Err(format!("expected one refresh shared by both machines, saw {refreshed} ({refused} refused)"));
    }
    Ok(())
}

/// Marks a machine's stored OAuth tokens expired (the demo's "an hour later").
fn expire_local_tokens(home: &Path) -> Result<(), String> {
    let file = home.join(".ccc/tokens.json");
    let text = fs::read_to_string(&file).map_err(|e| e.to_string())?;
    let mut store: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    if let Some(entries) = store.get_mut("entries").and_then(serde_json::Value::as_object_mut) {
        for entry in entries.values_mut() {
            entry["expires_at"] = serde_json::json!(1_000_000_000);
        }
    }
    fs::write(&file, store.to_string()).map_err(|e| e.to_string())
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if url[s + 3..at].contains(':') => {
            let user = url[s + 3..at].split(':').next().unwrap_or_default();
            format!("{}{user}:****{}", &url[..s + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// `ccc serve` feeding a boto3 process that has nothing but the two container variables.
fn serve_step(home: &Path, endpoint: &str, ccc: &str, python: &str) -> Result<(), String> {
    use std::io::BufRead;
    step("7. Serve fresh credentials to a container-style client (ccc serve; boto3 with no profile, no keys)");
    println!("$ ccc serve --slot demo &");
    let mut server = Command::new(ccc)
        .args(["serve", "--slot", "demo"])
        .env("HOME", home)
        .env("AWS_ENDPOINT_URL", endpoint)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run ccc serve: {e}"))?;
    let mut lines = std::io::BufReader::new(server.stderr.take().ok_or("no stderr")?).lines();
    let served = loop {
        match lines.next() {
            Some(Ok(line)) if line.starts_with("serving profile") => break line,
            Some(Ok(_)) => {}
            _ => return Err("ccc serve did not start".into()),
        }
    };
    println!("{served}");
    std::thread::spawn(move || lines.for_each(drop));
    let result = (|| {
        println!("$ eval \"$(ccc serve --print-env demo)\"");
        let mut print_env = Command::new(ccc);
        print_env.args(["serve", "--print-env", "demo"]).env("HOME", home);
        let printed = String::from_utf8_lossy(&cmd::capture(print_env, ccc, None)?.stdout).into_owned();
        let vars: Vec<(String, String)> = printed
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim_matches('\'').to_owned()))
            .collect();
        for (k, v) in &vars {
            let shown = if k.ends_with("TOKEN") { "****".to_owned() } else { v.clone() };
            println!("   {k}={shown}");
        }
        let empty = cmd::root().join("target/demo/container-home");
        let _ = fs::create_dir_all(&empty);
        let out = Command::new(python)
            .args([
                "-c",
                "import boto3; s = boto3.Session(); c = s.get_credentials(); print('boto3 got key', c.get_frozen_credentials().access_key[:4] + '…', 'from', c.method, 'and is', s.client('sts', region_name='us-east-1').get_caller_identity()['Arn'])",
            ])
            .env_clear()
            .env("HOME", &empty)
            .env("AWS_ENDPOINT_URL", endpoint)
            .envs(vars.iter().map(|(k, v)| (k, v)))
            .output()
            .map_err(|e| e.to_string())?;
        print!("{}", String::from_utf8_lossy(&out.stdout));
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("boto3 failed: {}", String::from_utf8_lossy(&out.stderr)))
        }
    })();
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let _ = server.wait();
    result
}
