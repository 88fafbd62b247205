//! `cargo xtask lint`: every static gate CI applies.

use crate::cmd;

/// The packages that publish to crates.io: every workspace member under `crates/`, by the
/// package name its manifest gives (the CLI's directory is `ccc`, its package `ccc-cli`).
fn published() -> Result<Vec<String>, String> {
    let manifest = std::fs::read_to_string(cmd::root().join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    let members = manifest.split("members = [").nth(1).and_then(|m| m.split(']').next()).unwrap_or_default();
    let mut crates = Vec::new();
    for dir in members.split(',').filter_map(|m| m.trim().trim_matches('"').strip_prefix("crates/")) {
        let path = cmd::root().join("crates").join(dir).join("Cargo.toml");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = text
            .lines()
            .find_map(|l| l.strip_prefix("name = \"").and_then(|r| r.strip_suffix('"')))
            .ok_or_else(|| format!("{}: no package name", path.display()))?;
        crates.push(name.to_owned());
    }
    if crates.is_empty() { Err("no crates/ members in Cargo.toml".into()) } else { Ok(crates) }
}

const CARGO_DENY_VERSION: &str = "0.20.2";

pub fn run() -> Result<(), String> {
    cmd::run("cargo", &["fmt", "--all", "--check"])?;
    cmd::run("cargo", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    doc()?;
    deny()?;
    for krate in &published()? {
        let files = cmd::output("cargo", &["package", "--list", "--allow-dirty", "-p", krate])?;
        for needed in ["README.md", "LICENSE-MIT", "LICENSE-APACHE"] {
            if !files.lines().any(|l| l == needed) {
                return Err(format!("crate {krate} would publish without its {needed}"));
            }
        }
    }
    eprintln!("lint: all gates passed");
    Ok(())
}

fn doc() -> Result<(), String> {
    eprintln!("$ RUSTDOCFLAGS='-D warnings' cargo doc --workspace --no-deps");
    let status = std::process::Command::new("cargo")
        .args(["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .current_dir(cmd::root())
        .status()
        .map_err(|e| format!("could not start cargo doc: {e}"))?;
    if status.success() { Ok(()) } else { Err("cargo doc found warnings".into()) }
}

/// Licenses, bans and sources. Advisories need the advisory database from the network, which
/// this machine cannot reach, so that check is skipped and said so.
fn deny() -> Result<(), String> {
    if !cmd::succeeds("cargo", &["deny", "--version"]) {
        eprintln!("cargo-deny missing: installing {CARGO_DENY_VERSION} (once; cached in $CARGO_HOME/bin)");
        cmd::run(
            "cargo",
            &["install", "--locked", &format!("cargo-deny@{CARGO_DENY_VERSION}"), "--no-default-features"],
        )?;
    }
    eprintln!("note: `cargo deny check advisories` skipped: the advisory database needs a network this machine lacks");
    cmd::run("cargo", &["deny", "check", "--hide-inclusion-graph", "licenses", "bans", "sources"])
}
