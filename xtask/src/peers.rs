//! The real servers the tests talk to (see docs/PEERS.md): moto_server, oidc-provider and
//! PostgreSQL, installed pinned under `target/peers/` and started on free loopback ports.
//! `up` writes `target/peers/env`; `down` stops only the processes whose pid files it wrote.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process_group};

use crate::cmd;

const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) fn dir() -> PathBuf {
    cmd::root().join("target").join("peers")
}

pub fn command(sub: Option<&str>) -> Result<(), String> {
    match sub {
        Some("up") => {
            let (env, _) = up()?;
            for (k, v) in env {
                println!("{k}={v}");
            }
            Ok(())
        }
        Some("down") => down(),
        Some("status") => {
            status();
            Ok(())
        }
        _ => Err("usage: cargo xtask peers up|down|status".into()),
    }
}

/// Installs what is missing, starts every peer that is not already running, waits until each
/// answers, and returns (and writes to `target/peers/env`) the variables the tests read, and
/// whether this call started them (false when an earlier `up` is still running).
pub fn up() -> Result<(Vec<(String, String)>, bool), String> {
    let dir = dir();
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if let Some(env) = running_env(&dir) {
        eprintln!("peers: already running (reusing {})", dir.join("env").display());
        return Ok((env, false));
    }
    // A half-started earlier run: stop what it left before starting afresh.
    down()?;

    install_python(&dir)?;
    install_node(&dir)?;
    let pg_bin = install_postgres()?;

    let moto_port = free_port()?;
    spawn(
        &dir,
        "moto",
        Command::new(dir.join("venv/bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &moto_port.to_string()])
            .env("MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP", "true"),
    )?;
    // the strict judge: the same moto with authentication on (after the administrator's
    // three bootstrap calls): a key it never issued, a wrong secret or a session token that
    // is not the key's is refused, as AWS refuses them
    let strict_port = free_port()?;
    spawn(
        &dir,
        "moto-strict",
        Command::new(dir.join("venv/bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &strict_port.to_string()])
            .env("INITIAL_NO_AUTH_ACTION_COUNT", "3"),
    )?;
    let oidc_port = free_port()?;
    spawn(
        &dir,
        "oidc",
        Command::new("node")
            .arg(dir.join("oidc/server.mjs"))
            .env("PORT", oidc_port.to_string())
            .current_dir(dir.join("oidc")),
    )?;
    let pg_port = free_port()?;
    start_postgres(&dir, &pg_bin, pg_port)?;

    wait_http(moto_port, "/moto-api/data.json", "moto")?;
    wait_http(oidc_port, "/.well-known/openid-configuration", "oidc-provider")?;
    wait_http(strict_port, "/moto-api/data.json", "moto-strict")?;
    let strict_url = format!("http://127.0.0.1:{strict_port}");
    let script = cmd::root().join("xtask/peers/strict_admin.py").display().to_string();
    let admin = cmd::output(&dir.join("venv/bin/python").display().to_string(), &[&script, &strict_url])?;
    let admin = admin.trim();
    let field = |name: &str| {
        admin
            .split(&format!("\"{name}\": \""))
            .nth(1)
            .and_then(|r| r.split('"').next())
            .map(str::to_owned)
            .ok_or_else(|| format!("strict moto bootstrap printed no {name}"))
    };
    let (admin_key, admin_secret) = (field("access_key_id")?, field("secret_access_key")?);

    let env = vec![
        ("CCC_TEST_AWS_ENDPOINT".to_owned(), format!("http://127.0.0.1:{moto_port}")),
        ("CCC_TEST_OIDC_ISSUER".to_owned(), format!("http://127.0.0.1:{oidc_port}")),
        ("CCC_TEST_DATABASE_URL".to_owned(), format!("postgres://postgres@127.0.0.1:{pg_port}/postgres")),
        ("CCC_TEST_STRICT_AWS_ENDPOINT".to_owned(), strict_url),
        ("CCC_TEST_STRICT_ADMIN_KEY_ID".to_owned(), admin_key),
        ("CCC_TEST_STRICT_ADMIN_SECRET".to_owned(), admin_secret),
        ("CCC_TEST_PYTHON".to_owned(), dir.join("venv/bin/python").display().to_string()),
        ("CCC_TEST_PEERS_DIR".to_owned(), dir.display().to_string()),
    ];
    let text: String = env.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    fs::write(dir.join("env"), text).map_err(|e| format!("cannot write peers env file: {e}"))?;
    eprintln!(
        "peers: up (moto :{moto_port}, strict moto :{strict_port}, oidc-provider :{oidc_port}, postgres :{pg_port})"
    );
    Ok((env, true))
}

/// Stops the peers this harness started (by pid file) and removes the env file.
pub fn down() -> Result<(), String> {
    let dir = dir();
    for (name, marker) in [("moto", "moto_server"), ("moto-strict", "moto_server"), ("oidc", "server.mjs")] {
        let pid_file = dir.join(format!("{name}.pid"));
        if let Ok(pid) = fs::read_to_string(&pid_file) {
            let pid = pid.trim();
            // Each peer leads its own process group: stop the group (workers included).
            // A stale pid may have been reused: only signal the peer we started.
            let ours = fs::read(Path::new("/proc").join(pid).join("cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker));
            if let Some(group) = pid.parse::<i32>().ok().filter(|p| *p > 1).and_then(Pid::from_raw)
                && ours
                && alive(pid)
            {
                let _ = kill_process_group(group, Signal::TERM);
                let deadline = Instant::now() + Duration::from_secs(10);
                while alive(pid) && Instant::now() < deadline {
                    sleep(Duration::from_millis(100));
                }
                if alive(pid) {
                    let _ = kill_process_group(group, Signal::KILL);
                }
            }
            let _ = fs::remove_file(&pid_file);
        }
    }
    let data = dir.join("pg/data");
    if data.join("postmaster.pid").exists()
        && let Ok(bin) = pg_bin_dir()
    {
        let pg_ctl = bin.join("pg_ctl").display().to_string();
        let data_s = data.display().to_string();
        let _ = as_postgres(&pg_ctl, &["-D", &data_s, "-m", "fast", "-w", "stop"]).status();
    }
    let _ = fs::remove_file(dir.join("env"));
    Ok(())
}

fn status() {
    let dir = dir();
    let mut any = false;
    for name in ["moto", "moto-strict", "oidc"] {
        if let Ok(pid) = fs::read_to_string(dir.join(format!("{name}.pid"))) {
            let state = if alive(pid.trim()) { "running" } else { "dead (stale pid file)" };
            println!("{name}: pid {} {state}", pid.trim());
            any = true;
        }
    }
    if let Ok(pid) = fs::read_to_string(dir.join("pg/data/postmaster.pid")) {
        let pid = pid.lines().next().unwrap_or("").trim().to_owned();
        let state = if alive(&pid) { "running" } else { "dead (stale pid file)" };
        println!("postgres: pid {pid} {state}");
        any = true;
    }
    if !any {
        println!("no peers running");
    }
}

/// The env of a complete, live earlier `up`, if there is one.
fn running_env(dir: &Path) -> Option<Vec<(String, String)>> {
    let text = fs::read_to_string(dir.join("env")).ok()?;
    let pids_alive = ["moto", "moto-strict", "oidc"]
        .iter()
        .all(|n| fs::read_to_string(dir.join(format!("{n}.pid"))).is_ok_and(|p| alive(p.trim())));
    if !pids_alive || !dir.join("pg/data/postmaster.pid").exists() {
        return None;
    }
    Some(text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
}

fn alive(pid: &str) -> bool {
    !pid.is_empty() && Path::new("/proc").join(pid).exists() && {
        // a zombie is not alive
        fs::read_to_string(Path::new("/proc").join(pid).join("stat"))
            .map(|s| !s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'))
            .unwrap_or(false)
    }
}

pub(crate) fn install_python(dir: &Path) -> Result<(), String> {
    let wanted = fs::read_to_string(cmd::root().join("xtask/peers/requirements.txt"))
        .map_err(|e| format!("cannot read xtask/peers/requirements.txt: {e}"))?;
    let stamp = dir.join("venv/.installed-requirements");
    if fs::read_to_string(&stamp).is_ok_and(|s| s == wanted) && dir.join("venv/bin/moto_server").exists() {
        return Ok(());
    }
    eprintln!("peers: installing the Python venv (moto, boto3, pycognito) under {}", dir.display());
    let venv = dir.join("venv").display().to_string();
    if !dir.join("venv/bin/python").exists() {
        cmd::run("python3", &["-m", "venv", &venv])?;
    }
    let pip = dir.join("venv/bin/pip").display().to_string();
    let req = cmd::root().join("xtask/peers/requirements.txt").display().to_string();
    cmd::run(&pip, &["install", "--quiet", "--disable-pip-version-check", "-r", &req])?;
    fs::write(&stamp, wanted).map_err(|e| format!("cannot write {}: {e}", stamp.display()))
}

fn install_node(dir: &Path) -> Result<(), String> {
    let src = cmd::root().join("xtask/peers/oidc");
    let dst = dir.join("oidc");
    fs::create_dir_all(&dst).map_err(|e| format!("cannot create {}: {e}", dst.display()))?;
    for f in ["package.json", "package-lock.json", "server.mjs"] {
        fs::copy(src.join(f), dst.join(f)).map_err(|e| format!("cannot copy {f}: {e}"))?;
    }
    let lock = fs::read_to_string(src.join("package-lock.json")).map_err(|e| e.to_string())?;
    let stamp = dst.join(".installed-lock");
    if fs::read_to_string(&stamp).is_ok_and(|s| s == lock) && dst.join("node_modules/oidc-provider").exists() {
        return Ok(());
    }
    eprintln!("peers: installing oidc-provider (npm ci) under {}", dst.display());
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dst)
        .status()
        .map_err(|e| format!("could not run npm (is Node.js installed?): {e}"))?;
    if !status.success() {
        return Err(format!("npm ci failed in {}", dst.display()));
    }
    fs::write(&stamp, lock).map_err(|e| e.to_string())
}

/// A new, empty database `name` on the PostgreSQL peer (dropped first if it exists): its URL.
pub fn fresh_database(env: &[(String, String)], name: &str) -> Result<String, String> {
    let admin = env
        .iter()
        .find(|(k, _)| k == "CCC_TEST_DATABASE_URL")
        .map(|(_, v)| v.clone())
        .ok_or("peer variable CCC_TEST_DATABASE_URL missing")?;
    let psql = pg_bin_dir()?.join("psql").display().to_string();
    let drop = format!("DROP DATABASE IF EXISTS {name}");
    let create = format!("CREATE DATABASE {name}");
    cmd::output(&psql, &["-q", "-v", "ON_ERROR_STOP=1", &admin, "-c", &drop, "-c", &create])?;
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    Ok(format!("{base}/{name}"))
}

fn pg_bin_dir() -> Result<PathBuf, String> {
    if let Ok(out) = cmd::output("sh", &["-c", "command -v initdb"]) {
        let p = PathBuf::from(out.trim());
        if let Ok(real) = fs::canonicalize(&p)
            && let Some(parent) = real.parent()
        {
            return Ok(parent.to_path_buf());
        }
    }
    let mut found: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.filter_map(Result::ok).map(|e| e.path().join("bin")).filter(|p| p.join("initdb").exists()).collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().ok_or_else(|| "no PostgreSQL server binaries found".to_owned())
}

fn install_postgres() -> Result<PathBuf, String> {
    if let Ok(bin) = pg_bin_dir() {
        return Ok(bin);
    }
    eprintln!("peers: PostgreSQL server not found; installing Debian's postgresql (needs root)");
    cmd::run("apt-get", &["update", "-qq"])?;
    cmd::run("apt-get", &["install", "-y", "-qq", "postgresql"])?;
    pg_bin_dir()
}

fn is_root() -> bool {
    cmd::output("id", &["-u"]).is_ok_and(|s| s.trim() == "0")
}

/// PostgreSQL refuses to run as root: as root, run its tools as the `postgres` user.
fn as_postgres(program: &str, args: &[&str]) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]).args(args);
        c
    } else {
        let mut c = Command::new(program);
        c.args(args);
        c
    }
}

fn start_postgres(dir: &Path, bin: &Path, port: u16) -> Result<(), String> {
    let pg = dir.join("pg");
    let data = pg.join("data");
    fs::create_dir_all(&pg).map_err(|e| e.to_string())?;
    if is_root() {
        cmd::run("chown", &["-R", "postgres:postgres", &pg.display().to_string()])?;
    }
    let data_s = data.display().to_string();
    if !data.join("PG_VERSION").exists() {
        let initdb = bin.join("initdb").display().to_string();
        let out = as_postgres(&initdb, &["-D", &data_s, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
            .output()
            .map_err(|e| format!("could not run initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!("initdb failed: {}", String::from_utf8_lossy(&out.stderr)));
        }
    }
    let pg_ctl = bin.join("pg_ctl").display().to_string();
    let log = pg.join("postgres.log").display().to_string();
    let opts = format!("-p {port} -h 127.0.0.1 -k {} -c fsync=off -c max_connections=200", pg.display());
    let out = as_postgres(&pg_ctl, &["-D", &data_s, "-l", &log, "-o", &opts, "-w", "-t", "60", "start"])
        .output()
        .map_err(|e| format!("could not run pg_ctl: {e}"))?;
    if !out.status.success() {
        let tail = fs::read_to_string(pg.join("postgres.log")).unwrap_or_default();
        return Err(format!(
            "PostgreSQL did not start: {}\n{}",
            String::from_utf8_lossy(&out.stderr).trim(),
            tail.lines().rev().take(10).collect::<Vec<_>>().join("\n")
        ));
    }
    Ok(())
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free loopback port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

fn spawn(dir: &Path, name: &str, command: &mut Command) -> Result<(), String> {
    let log = fs::File::create(dir.join(format!("{name}.log"))).map_err(|e| e.to_string())?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    let child = command
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("could not start {name}: {e}"))?;
    fs::write(dir.join(format!("{name}.pid")), child.id().to_string()).map_err(|e| e.to_string())
}

fn wait_http(port: u16, path: &str, name: &str) -> Result<(), String> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let req = format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n");
            let mut buf = [0u8; 16];
            if s.write_all(req.as_bytes()).is_ok() && s.read(&mut buf).is_ok_and(|n| n >= 12) && buf[9..12] == *b"200" {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            let log = fs::read_to_string(dir().join(format!("{name}.log")))
                .or_else(|_| fs::read_to_string(dir().join(format!("{}.log", name.split('-').next().unwrap_or(name)))))
                .unwrap_or_default();
            return Err(format!("{name} did not answer on 127.0.0.1:{port} within {READY_TIMEOUT:?}\n{log}"));
        }
        sleep(Duration::from_millis(100));
    }
}
