//! `cargo xtask dist`: the `ccc` users install, as `cargo xtask bench` measures it —
//! `target/dist/ccc` and `target/dist/ccc-full` (optimised, stripped) and the man page
//! `target/dist/ccc.1`.
//!
//! `ccc` is the warm-path front, linked fully static (glibc's `crt-static`): no dynamic
//! loader runs before the JSON a `credential_process` call prints. The binaries are linked
//! position-dependent (`-C relocation-model=static` on the final crate,
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
    // the front is linked statically as well (glibc's crt-static): no dynamic loader at all
    // for the call paid before every AWS request; ccc-full stays dynamic (it resolves names)
    for (bin, link) in [("ccc", &["-C", "target-feature=+crt-static"][..]), ("ccc-full", &[][..])] {
        let mut args = vec![
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
        ];
        args.extend_from_slice(link);
        cmd::run("cargo", &args)?;
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
