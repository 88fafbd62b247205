//! `cargo xtask`: the only entry point for CI and for anything a developer runs besides cargo.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a developer tool reports on the terminal

mod bench;
mod buildtime;
mod cmd;
mod demo;
mod dist;
mod leak;
mod lint;
mod peers;
mod soak;

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <command>

commands:
  peers up|down|status   install (pinned, under target/peers) and run the real test peers
  test [ARGS..]          peers up, the whole test suite (nextest + doctests), peers down
  lint [--matrix]        fmt, clippy -D warnings, doc -D warnings, cargo deny, cargo package;
                         --matrix: every crate alone with default and no features, all at once
  ci                     lint, then test
  demo                   the end-to-end story against the peers
  bench [--quick]        performance ratios -> target/bench/report.md + report.json
  bench --build          a clean build and a fresh clone's demo, timed -> target/bench/build.md
  dist [--check]         the binaries users install -> target/dist/ (+ ccc.1, the release archive
                         ccc-VERSION-TRIPLE.tar.gz and SHA256SUMS); --check packs the debug
                         build twice, compares, and runs it unpacked
  soak [--minutes N] [--seed S]
                         16 processes of credential traffic under seeded faults and kills
                         -> target/soak/report.md + report.json";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("peers") => peers::command(args.get(1).map(String::as_str)),
        Some("test") => test(&args[1..]),
        Some("lint") => lint::run(args.iter().any(|a| a == "--matrix")),
        Some("ci") => lint::run(false).and_then(|()| test(&[])),
        Some("demo") => demo(),
        Some("dist") if args.iter().any(|a| a == "--check") => dist::check(),
        Some("dist") => dist::build().map(|_| ()),
        Some("soak") => soak::run(&args[1..]),
        Some("bench") if args.iter().any(|a| a == "--build") => buildtime::run(),
        Some("bench") => bench::run(args.iter().any(|a| a == "--quick")),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Peers up, the whole workspace's tests with the peers' environment, peers down (always).
fn test(extra: &[String]) -> Result<(), String> {
    let (env, started) = peers::up()?;
    let result = run_tests(&env, extra);
    // leave running what someone else started with `cargo xtask peers up`
    let down = if started { peers::down() } else { Ok(()) };
    result.and(down)
}

fn run_tests(env: &[(String, String)], extra: &[String]) -> Result<(), String> {
    let nextest = cmd::succeeds("cargo", &["nextest", "--version"]);
    // nextest does not run doctests: run them first, so the runner's summary closes the log.
    let doc = if nextest && extra.is_empty() {
        cmd::run_with_env("cargo", &["test", "--workspace", "--doc"].map(String::from), env)
    } else {
        Ok(())
    };
    let mut args: Vec<String> = if nextest {
        ["nextest", "run", "--workspace", "--no-fail-fast"].map(String::from).to_vec()
    } else {
        ["test", "--workspace", "--no-fail-fast"].map(String::from).to_vec()
    };
    args.extend(extra.iter().cloned());
    // every test process logs at trace level into the leak directory and lists the secrets
    // it saw; afterwards no secret may appear in any log
    let leak_dir = cmd::root().join("target/leak-scan");
    let _ = std::fs::remove_dir_all(&leak_dir);
    let mut env = env.to_vec();
    env.push(("CCC_LEAK_DIR".into(), leak_dir.display().to_string()));
    env.push(("RUST_LOG".into(), "trace".into()));
    let unit = cmd::run_with_env("cargo", &args, &env);
    let scan = leak::scan(&leak_dir).map(|summary| eprintln!("{summary}"));
    doc.and(scan).and(unit)
}

/// The story a new user lives through, against the real peers, every step real.
fn demo() -> Result<(), String> {
    let (env, started) = peers::up()?;
    let result = demo::run(&env);
    let down = if started { peers::down() } else { Ok(()) };
    result.and(down)
}
