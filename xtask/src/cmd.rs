//! Running commands and reporting what failed.

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Runs a command in the workspace root, inheriting stdio; fails if it exits non-zero.
/// Builds every target of the workspace (what `cargo xtask test` builds, with the same
/// dependency features), so the demo, the bench and the soak reuse one build: a narrower
/// selection (`-p ccc-tests --bin X`, or bins without the dev-dependencies' features) would
/// resolve features differently and build the AWS SDKs a second time.
pub fn build_everything() -> Result<(), String> {
    run("cargo", &["build", "--quiet", "--workspace", "--all-targets"])
}

pub fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
    run_with_env(program, &args, &[])
}

/// Like [`run`], with extra environment variables.
pub fn run_with_env(program: &str, args: &[String], env: &[(String, String)]) -> Result<(), String> {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .current_dir(root())
        .status()
        .map_err(|e| format!("could not start `{program}`: {e}"))?;
    if status.success() { Ok(()) } else { Err(format!("`{program} {}` failed ({status})", args.join(" "))) }
}

/// Whether a command runs and exits 0 (output discarded).
pub fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .current_dir(root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs a command and returns its stdout, failing with its stderr.
pub fn output(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(root())
        .output()
        .map_err(|e| format!("could not start `{program}`: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("`{program} {}` failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// Runs a prepared command with `stdin` written to it (or none), capturing stdout and stderr.
pub fn capture(mut command: Command, program: &str, stdin: Option<&str>) -> Result<std::process::Output, String> {
    let mut child = command
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        use std::io::Write;
        pipe.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    }
    child.wait_with_output().map_err(|e| e.to_string())
}
