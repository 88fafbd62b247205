//! `cargo xtask bench --build`: how long a newcomer waits. A clean `cargo build` of the
//! workspace (a target directory of its own, `--timings`), then `cargo xtask demo` in a fresh
//! clone of the committed HEAD (its own target directory, peers installed from nothing), with
//! the compile units that took longest. Not in CI (it builds the workspace twice from
//! nothing); the peers of this checkout must be down (the clone's demo starts its own).
//! Report: target/bench/build.md and build.json.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::cmd;

/// Runs `program args` in `dir` with `CARGO_TARGET_DIR=target`; how long it took.
fn timed(program: &str, args: &[&str], dir: &Path, target: &Path) -> Result<Duration, String> {
    eprintln!("$ (in {}) {program} {}", dir.display(), args.join(" "));
    let start = Instant::now();
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .status()
        .map_err(|e| format!("could not start `{program}`: {e}"))?;
    if !status.success() {
        return Err(format!("`{program} {}` failed ({status})", args.join(" ")));
    }
    Ok(start.elapsed())
}

/// The `n` packages whose compile units took longest in a `--timings` report (seconds,
/// summed over a package's units: build script, library, binaries).
fn slowest(timings_html: &Path, n: usize) -> Result<Vec<(String, f64)>, String> {
    let html = fs::read_to_string(timings_html).map_err(|e| format!("{}: {e}", timings_html.display()))?;
    let start =
        html.find("const UNIT_DATA = ").ok_or("no UNIT_DATA in the timings report")? + "const UNIT_DATA = ".len();
    let end = start + html[start..].find(";\n").ok_or("UNIT_DATA does not end")?;
    let units: serde_json::Value = serde_json::from_str(&html[start..end]).map_err(|e| format!("UNIT_DATA: {e}"))?;
    let mut by_package = std::collections::BTreeMap::<String, f64>::new();
    for u in units.as_array().into_iter().flatten() {
        let name = u.get("name").and_then(serde_json::Value::as_str).unwrap_or("?").to_owned();
        *by_package.entry(name).or_default() += u.get("duration").and_then(serde_json::Value::as_f64).unwrap_or(0.0);
    }
    let mut sorted: Vec<(String, f64)> = by_package.into_iter().collect();
    sorted.sort_by(|a, b| b.1.total_cmp(&a.1));
    sorted.truncate(n);
    Ok(sorted)
}

pub fn run() -> Result<(), String> {
    let root = cmd::root();
    let work = root.join("target/bench-build");
    let _ = fs::remove_dir_all(&work);
    fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let head = cmd::output("git", &["rev-parse", "--short", "HEAD"])?.trim().to_owned();

    eprintln!("bench --build: a clean `cargo build --workspace`");
    let clean_target = work.join("target");
    let clean = timed("cargo", &["build", "--quiet", "--workspace", "--timings"], &root, &clean_target)?;
    let slow = slowest(&clean_target.join("cargo-timings/cargo-timing.html"), 10)?;
    let _ = fs::remove_dir_all(&clean_target);

    eprintln!("bench --build: `cargo xtask demo` in a fresh clone of {head}");
    let clone = work.join("clone");
    cmd::run(
        "git",
        &["clone", "--quiet", "--no-hardlinks", &root.display().to_string(), &clone.display().to_string()],
    )?;
    let demo = timed("cargo", &["xtask", "demo"], &clone, &clone.join("target"))?;
    let _ = fs::remove_dir_all(&clone);

    let mut md = format!(
        "# Build times\n\nMachine: {}. Commit {head}.\n\n| what | time |\n|---|---|\n| clean `cargo build --workspace` (dev profile) | {:.0} s |\n| `cargo xtask demo` in a fresh clone (peers installed, everything built) | {:.0} s |\n\nSlowest packages of the clean build (compile units summed, seconds; they overlap on 2 cores):\n\n| package | s |\n|---|---|\n",
        crate::bench::machine(),
        clean.as_secs_f64(),
        demo.as_secs_f64()
    );
    for (name, secs) in &slow {
        let _ = writeln!(md, "| {name} | {secs:.1} |");
    }
    let json = serde_json::json!({
        "commit": head,
        "clean_build_s": clean.as_secs_f64(),
        "fresh_clone_demo_s": demo.as_secs_f64(),
        "slowest": slow.iter().map(|(n, s)| serde_json::json!({"package": n, "s": s})).collect::<Vec<_>>(),
    });
    let dir = root.join("target/bench");
    fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    fs::write(dir.join("build.md"), &md).map_err(|e| e.to_string())?;
    fs::write(dir.join("build.json"), format!("{json}\n")).map_err(|e| e.to_string())?;
    println!("{md}");
    println!("written: {} and build.json", dir.join("build.md").display());
    Ok(())
}
