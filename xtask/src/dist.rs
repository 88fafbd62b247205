//! `cargo xtask dist`: the `ccc` users install, as `cargo xtask bench` measures it —
//! `target/dist/ccc` and `target/dist/ccc-full` (optimised, stripped) and the man page
//! `target/dist/ccc.1`.
//!
//! The binary is linked position-dependent (`-C relocation-model=static` on the final crate,
//! so rustc links with `-no-pie`): a PIE of this size carries tens of thousands of relative
//! relocations that the dynamic loader applies at every start, which is most of what a
//! `credential_process` call costs (docs/ARCHITECTURE.md, decisions). The dependencies stay
//! position-independent code, which a position-dependent executable may contain.

use std::path::PathBuf;

use crate::cmd;

/// The cargo profile of the shipped binary (release settings, stripped).
pub const PROFILE: &str = "bench-ccc";

/// Builds the shipped binaries (`ccc`, the warm-path front, and `ccc-full` beside it) and
/// the man page; returns the path of `ccc`.
pub fn build() -> Result<PathBuf, String> {
    let out = cmd::root().join("target").join("dist");
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    for bin in ["ccc", "ccc-full"] {
        cmd::run(
            "cargo",
            &[
                "rustc",
                "--quiet",
                "--profile",
                PROFILE,
                "-p",
                "ccc-cli",
                "--bin",
                bin,
                "--",
                "-C",
                "relocation-model=static",
            ],
        )?;
        let built = cmd::root().join("target").join(PROFILE).join(bin);
        std::fs::copy(&built, out.join(bin)).map_err(|e| format!("copy {}: {e}", built.display()))?;
    }
    let shipped = out.join("ccc");
    let man = std::process::Command::new(&shipped)
        .arg("man")
        .output()
        .map_err(|e| format!("could not run {}: {e}", shipped.display()))?;
    if !man.status.success() {
        return Err(format!("`ccc man` failed: {}", String::from_utf8_lossy(&man.stderr)));
    }
    std::fs::write(out.join("ccc.1"), &man.stdout).map_err(|e| format!("ccc.1: {e}"))?;
    eprintln!("dist: {} (and ccc-full beside it) and the man page ccc.1", shipped.display());
    Ok(shipped)
}
