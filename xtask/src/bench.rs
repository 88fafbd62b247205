//! `cargo xtask bench [--quick]`: performance measured side by side in one run, reported as
//! ratios (machines here are noisy) in target/bench/report.md and report.json. Benchmarks
//! report; they do not fail on speed.

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::cmd;

const USER: &str = "benchuser";
const PASSWORD: &str = "Bench-Passw0rd!";

fn get<'a>(env: &'a [(String, String)], key: &str) -> Result<&'a str, String> {
    env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).ok_or_else(|| format!("{key} missing"))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs `program args` `n` times (stdout discarded) and returns the median wall time.
fn time_runs(
    n: usize,
    program: &str,
    args: &[&str],
    envs: &[(&str, String)],
    before_each: &dyn Fn(),
) -> Result<Duration, String> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        before_each();
        let start = Instant::now();
        let out = Command::new(program)
            .args(args)
            .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| format!("cannot run {program}: {e}"))?;
        times.push(start.elapsed());
        if !out.status.success() {
            return Err(format!("{program} {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)));
        }
    }
    Ok(median(times))
}

/// Peak resident set size (KiB) of one run, measured by GNU time; `None` where it is missing.
fn peak_rss_kib(program: &str, args: &[&str], envs: &[(&str, String)]) -> Option<u64> {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M", program])
        .args(args)
        .envs(envs.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    text.lines().last()?.trim().parse().ok()
}

fn run_capture(program: &str, args: &[&str], envs: &[(String, String)], stdin: Option<&str>) -> Result<String, String> {
    let mut command = Command::new(program);
    command.args(args).envs(envs.iter().map(|(k, v)| (k, v))).current_dir(cmd::root());
    let out = cmd::capture(command, program, stdin)?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{program} {} failed:\n{text}{}", args.join(" "), String::from_utf8_lossy(&out.stderr)))
    }
}

/// `key=value` pairs of the `bench: NAME ...` / `storm: ...` line named `name`.
fn parse_line(output: &str, prefix: &str) -> Vec<(String, String)> {
    output
        .lines()
        .find_map(|l| l.find(prefix).map(|i| &l[i..]))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn val(pairs: &[(String, String)], key: &str) -> String {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_else(|| "?".into())
}

/// A signed-in home for the credential_process measurements.
fn signed_in_home(env: &[(String, String)], ccc: &str) -> Result<PathBuf, String> {
    let endpoint = get(env, "CCC_TEST_AWS_ENDPOINT")?;
    let python = get(env, "CCC_TEST_PYTHON")?;
    let home = cmd::root().join("target/bench/home");
    let _ = fs::remove_dir_all(&home);
    fs::create_dir_all(&home).map_err(|e| e.to_string())?;
    let seed_env = vec![
        ("AWS_ENDPOINT_URL".to_owned(), endpoint.to_owned()),
        ("AWS_ACCESS_KEY_ID".to_owned(), "AKIAIOSFODNN7EXAMPLE".to_owned()),
        ("AWS_SECRET_ACCESS_KEY".to_owned(), "bench".to_owned()),
    ];
    let seeded = run_capture(
        python,
        // the last argument: the identity pool's role (named as the verifying front names it)
        &[&cmd::root().join("xtask/demo/seed.py").display().to_string(), USER, PASSWORD, "Cognito_Authenticated"],
        &seed_env,
        None,
    )?;
    let field =
        |k: &str| seeded.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).map(str::to_owned).unwrap_or_default();
    let ccc_env =
        vec![("HOME".to_owned(), home.display().to_string()), ("AWS_ENDPOINT_URL".to_owned(), endpoint.to_owned())];
    run_capture(
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
            "bench",
        ],
        &ccc_env,
        None,
    )?;
    // moto's identity-pool credentials live 90 s: a 30 s window keeps them fresh for the warm runs
    run_capture(ccc, &["config", "set", "refresh_window_seconds", "30"], &ccc_env, None)?;
    run_capture(ccc, &["login", "--username", USER, "--password-stdin"], &ccc_env, Some(&format!("{PASSWORD}\n")))?;
    Ok(home)
}

pub fn run(quick: bool) -> Result<(), String> {
    let (env, started) = crate::peers::up()?;
    let result = measure(&env, quick);
    let down = if started { crate::peers::down() } else { Ok(()) };
    result.and(down)
}

fn measure(env: &[(String, String)], quick: bool) -> Result<(), String> {
    let runs = if quick { 5 } else { 31 };
    // the full run times the optimised binary users install; the quick one (CI) only keeps
    // the code path alive, on the debug build the tests already made. `--workspace` (not
    // `-p ccc`) resolves dependency features as the test build does, so the dependencies are
    // built once, not twice (time and GBs of disk on CI).
    let ccc = if quick {
        cmd::build_everything()?;
        cmd::root().join("target").join("debug").join("ccc").display().to_string()
    } else {
        crate::dist::build()?.display().to_string()
    };
    let python = get(env, "CCC_TEST_PYTHON")?.to_owned();
    let mut envs: Vec<(String, String)> = env.to_vec();
    if quick {
        envs.push(("CCC_BENCH_QUICK".into(), "1".into()));
    }

    eprintln!("bench: credential_process warm path ({runs} runs each)");
    let home = signed_in_home(env, &ccc)?;
    let home_s = home.display().to_string();
    let endpoint = get(env, "CCC_TEST_AWS_ENDPOINT")?.to_owned();
    let ccc_env = [("HOME", home_s.clone()), ("AWS_ENDPOINT_URL", endpoint.clone())];
    let noop = || {};
    let warm = time_runs(runs, &ccc, &["creds", "--profile", "bench"], &ccc_env, &noop)?;
    let boto3 = time_runs(
        runs,
        &python,
        &["-c", "import boto3; boto3.Session(profile_name='bench').get_credentials().get_frozen_credentials()"],
        &[("HOME", home_s.clone())],
        &noop,
    )?;
    // the same warm call on a machine of a fleet: the team store is never reached on a hit
    let team_key = home.join("team.key");
    let _ = fs::remove_file(&team_key);
    run_capture(&ccc, &["team", "key", "--new", &team_key.display().to_string()], &[], None)?;
    let team_env = [
        ccc_env[0].clone(),
        ccc_env[1].clone(),
        ("CCC_TEAM_STORE", get(env, "CCC_TEST_DATABASE_URL")?.to_owned()),
        ("CCC_TEAM_KEY", team_key.display().to_string()),
    ];
    let warm_team = time_runs(runs, &ccc, &["creds", "--profile", "bench"], &team_env, &noop)?;
    let bare = time_runs(runs, "/bin/true", &[], &[], &noop)?;
    let version = time_runs(runs, &ccc, &["--version"], &[], &noop)?;
    let rss = peak_rss_kib(&ccc, &["creds", "--profile", "bench"], &ccc_env);
    // the sign-in's cached credentials (named by a hash of pool, client and user)
    let cache_dir = home.join(".ccc/cache");
    let clear = || {
        for e in fs::read_dir(&cache_dir).into_iter().flatten().flatten() {
            if e.file_name().to_string_lossy().starts_with("cognito-") {
                let _ = fs::remove_file(e.path());
            }
        }
    };
    let cold_runs = if quick { 3 } else { 11 };
    let cold = time_runs(cold_runs, &ccc, &["creds", "--profile", "bench"], &ccc_env, &clear)?;
    // the same calls made by the least client there is: moto's own share of the cold start
    let script = cmd::root().join("xtask/bench/moto_round_trip.py").display().to_string();
    let moto_ms: f64 = run_capture(&python, &[&script, &home_s, &endpoint, &cold_runs.to_string()], &[], None)?
        .trim()
        .parse()
        .map_err(|e| format!("moto_round_trip.py printed no number: {e}"))?;

    eprintln!("bench: an Azure CLI session's token between processes");
    let azure = azure_cli_runs(&ccc, &home, runs, cold_runs)?;

    eprintln!("bench: refresh storm (16 processes × {} tasks)", if quick { 25 } else { 200 });
    let storm_out = run_capture(
        "cargo",
        &[
            "test",
            "--quiet",
            "--workspace",
            "--test",
            "multiprocess",
            "refresh_storm_makes_exactly_one_upstream_call",
            "--",
            "--nocapture",
        ],
        &[
            ("CCC_STORM_PROCESSES".to_owned(), "16".to_owned()),
            ("CCC_STORM_TASKS".to_owned(), if quick { "25" } else { "200" }.to_owned()),
        ],
        None,
    )?;
    let storm = parse_line(&storm_out, "storm:");

    eprintln!("bench: multi-region scan, SRP, moto login");
    let bench_out = run_capture(
        "cargo",
        &[
            "test",
            "--quiet",
            "--workspace",
            "--test",
            "suite",
            "--",
            "bench::",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ],
        &envs,
        None,
    )?;
    let region = parse_line(&bench_out, "bench: multi_region");
    let srp = parse_line(&bench_out, "bench: srp");
    let login = parse_line(&bench_out, "bench: moto_login");
    let fleet = parse_line(&bench_out, "bench: fleet_storm_fleet");
    let alone = parse_line(&bench_out, "bench: fleet_storm_machines_alone");

    let machine = machine();
    let storm_label =
        format!("refresh storm: {} processes, {} tasks in all", val(&storm, "processes"), val(&storm, "tasks"));
    let fleet_label = format!(
        "fleet storm: {} machines (a HOME each), {} tasks in all",
        val(&fleet, "machines"),
        val(&fleet, "tasks")
    );
    let rows: Vec<(&str, String, String, String)> = vec![
        (
            "`ccc creds` warm (credential_process)",
            format!("{:.1} ms", ms(warm)),
            format!("{:.0}× faster than boto3 (goal ≥ 100×)", ms(boto3) / ms(warm)),
            format!("{:.2}× a bare spawn (goal ≤ 1.5×)", ms(warm) / ms(bare)),
        ),
        (
            "`ccc creds` warm on a machine of a fleet (`CCC_TEAM_STORE` set)",
            format!("{:.1} ms", ms(warm_team)),
            format!("{:.2}× without it (goal: unchanged, PostgreSQL never reached)", ms(warm_team) / ms(warm)),
            String::new(),
        ),
        (
            "peak RSS of `ccc creds` warm",
            rss.map_or_else(|| "n/a (no /usr/bin/time)".to_owned(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
            "goal ≤ 8 MiB".to_owned(),
            String::new(),
        ),
        ("boto3 reading the same profile", format!("{:.1} ms", ms(boto3)), String::new(), String::new()),
        ("bare process spawn (`/bin/true`)", format!("{:.2} ms", ms(bare)), String::new(), String::new()),
        ("cold start: `ccc --version`", format!("{:.1} ms", ms(version)), String::new(), String::new()),
        (
            "cold start: `ccc creds`, empty cache (refresh via moto)",
            format!("{:.1} ms", ms(cold)),
            format!("moto's own round-trip for the same calls: {moto_ms:.1} ms"),
            format!("ours on top: {:.1} ms (process start, SDK clients, cache write)", ms(cold) - moto_ms),
        ),
        (
            "`ccc sessions token`, Azure CLI session, token kept",
            format!("{:.1} ms", ms(azure.kept)),
            format!("{} `az` run(s) in {} calls (goal 0)", azure.kept_az_runs, azure.kept_calls),
            format!(
                "without a kept token: {:.1} ms, {} `az` run(s) in {} calls (a fake `az` answering at once; the real one takes seconds)",
                ms(azure.fresh),
                azure.fresh_az_runs,
                azure.fresh_calls
            ),
        ),
        (
            storm_label.as_str(),
            format!("{} ms", val(&storm, "wall_ms")),
            format!("{} upstream call(s) (goal 1)", val(&storm, "upstream_calls")),
            String::new(),
        ),
        (
            &fleet_label,
            format!("{} ms", val(&fleet, "wall_ms")),
            format!("{} upstream call(s) (goal 1)", val(&fleet, "upstream_calls")),
            "team store on PostgreSQL; upstream takes 300 ms".to_owned(),
        ),
        (
            "the same 16 machines without the team store",
            format!("{} ms", val(&alone, "wall_ms")),
            format!("{} upstream call(s): one per machine", val(&alone, "upstream_calls")),
            String::new(),
        ),
        (
            "multi-region scan: 16 regions × 200 ms",
            format!("{} ms", val(&region, "parallel_ms")),
            format!("{}× one region (goal ≤ 1.3)", val(&region, "ratio_parallel_to_one")),
            format!("serial {} ms ({}× slower)", val(&region, "serial_ms"), val(&region, "ratio_serial_to_parallel")),
        ),
        (
            "Cognito SRP compute per login",
            format!("{} µs", val(&srp, "rust_us")),
            format!("{}× faster than pycognito ({} µs); goal ≥ 10×", val(&srp, "speedup"), val(&srp, "pycognito_us")),
            format!(
                "constant-time (crypto-bigint); the floor: one power mod N with a 1025-bit exponent takes {} µs ({} µs a 3072-bit multiplication), and a login with pycognito's 1024-bit `a` needs two (A = g^a, S)",
                val(&srp, "pow1025_us"),
                val(&srp, "mul_us")
            ),
        ),
        (
            "full SRP login + identity credentials against moto",
            format!("{} ms", val(&login, "median_ms")),
            String::new(),
            String::new(),
        ),
    ];
    let mut md = format!(
        "# Benchmarks\n\nMachine: {machine}. Mode: {}. `ccc`: {}. Medians of {runs} runs where timed per process.\n\n| what | time | ratio | note |\n|---|---|---|---|\n",
        if quick { "quick" } else { "full" },
        if quick {
            "debug build"
        } else {
            "`cargo xtask dist` (optimised; the `ccc` front fully static, `ccc-full` position-dependent)"
        }
    );
    for (what, t, r, n) in &rows {
        let _ = writeln!(md, "| {what} | {t} | {r} | {n} |");
    }
    let json_rows: Vec<String> = rows
        .iter()
        .map(|(w, t, r, n)| {
            format!(
                "{{\"what\":{},\"time\":{},\"ratio\":{},\"note\":{}}}",
                json_str(w),
                json_str(t),
                json_str(r),
                json_str(n)
            )
        })
        .collect();
    let json = format!("{{\"machine\":{},\"quick\":{quick},\"rows\":[{}]}}\n", json_str(&machine), json_rows.join(","));
    let dir = cmd::root().join("target/bench");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    fs::write(dir.join("report.md"), &md).map_err(|e| e.to_string())?;
    fs::write(dir.join("report.json"), json).map_err(|e| e.to_string())?;
    println!("{md}");
    println!("written: {} and report.json", dir.join("report.md").display());
    Ok(())
}

/// `ccc sessions token` for an Azure CLI session, with and without a kept token.
struct AzureRuns {
    fresh: Duration,
    fresh_calls: usize,
    fresh_az_runs: usize,
    kept: Duration,
    kept_calls: usize,
    kept_az_runs: usize,
}

/// Times `ccc sessions token` for a `use_azure_cli` session in a HOME of its own, a fake `az`
/// (which logs each run) first on `PATH`: `fresh_runs` with the token store emptied before
/// each, then `runs` with the token kept; the log says how many times `az` ran in each.
fn azure_cli_runs(ccc: &str, home: &std::path::Path, runs: usize, fresh_runs: usize) -> Result<AzureRuns, String> {
    let dir = home.join("azure");
    let bin = dir.join("bin");
    fs::create_dir_all(&bin).map_err(|e| e.to_string())?;
    let log = dir.join("az-calls.log");
    let az = bin.join("az");
    fs::write(
        &az,
        format!(
            "#!/bin/sh\necho \"$*\" >> \"{}\"\nprintf '{{\"accessToken\": \"bench-az-token\", \"expiresOn\": \"unused\", \"expires_on\": %s, \"subscription\": \"0\", \"tenant\": \"bench\", \"tokenType\": \"Bearer\"}}\\n' $(( $(date +%s) + 3600 ))\n",
            log.display()
        ),
    )
    .map_err(|e| e.to_string())?;
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&az, fs::Permissions::from_mode(0o755)).map_err(|e| e.to_string())?;
    }
    let config = dir.join("sessions.yaml");
    fs::write(&config, "cloud_sessions:\n  - name: cli\n    session_type: azure\n    use_azure_cli: true\n")
        .map_err(|e| e.to_string())?;
    let config = config.display().to_string();
    let args = ["sessions", "token", "--config", &config, "--name", "cli"];
    let envs = [("HOME", dir.display().to_string()), ("PATH", format!("{}:/usr/bin:/bin", bin.display()))];
    let az_runs = || fs::read_to_string(&log).map(|t| t.lines().count()).unwrap_or(0);
    let store = dir.join(".ccc/tokens.json");
    let _ = fs::remove_file(&log);
    let forget = || {
        let _ = fs::remove_file(&store);
    };
    let fresh = time_runs(fresh_runs, ccc, &args, &envs, &forget)?;
    let fresh_az_runs = az_runs();
    let kept = time_runs(runs, ccc, &args, &envs, &|| {})?;
    Ok(AzureRuns {
        fresh,
        fresh_calls: fresh_runs,
        fresh_az_runs,
        kept,
        kept_calls: runs,
        kept_az_runs: az_runs() - fresh_az_runs,
    })
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn machine() -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let mem = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| t.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<u64>().ok()))
        .map(|kb| format!("{} GiB", kb / 1024 / 1024))
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), {mem}")
}
