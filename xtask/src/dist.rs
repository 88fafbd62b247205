//! `cargo xtask dist`: the `ccc` users install, as `cargo xtask bench` measures it —
//! `target/dist/ccc` and `target/dist/ccc-full` (optimised, stripped) and the man page
//! `target/dist/ccc.1` — and the release archive `target/dist/ccc-VERSION-TRIPLE.tar.gz` with
//! its `SHA256SUMS` (both programs, the man page, bash/zsh/fish completions, both licences and
//! the README; the same bytes from the same binaries: names sorted, mtime, owner and modes
//! fixed, gzip without a timestamp). `cargo xtask dist --check` packs the debug build the tests
//! made the same way, twice, compares, and runs the unpacked `ccc` on a clean PATH.
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
    let archive = archive(&out, &out, Compression::Best)?;
    eprintln!(
        "dist: {} (and ccc-full beside it), the man page ccc.1, and {} with SHA256SUMS",
        shipped.display(),
        archive.display()
    );
    Ok(shipped)
}

/// The version and the host's target triple: the archive's name.
fn name() -> Result<String, String> {
    let rustc = cmd::output("rustc", &["-vV"])?;
    let triple =
        rustc.lines().find_map(|l| l.strip_prefix("host: ")).ok_or_else(|| "rustc -vV named no host".to_owned())?;
    Ok(format!("ccc-{}-{}", version()?, triple.trim()))
}

/// The workspace's version (`[workspace.package] version`), which ccc-cli ships under.
fn version() -> Result<String, String> {
    let manifest = cmd::root().join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(io(&manifest))?;
    let section = text.split("[workspace.package]").nth(1).ok_or("no [workspace.package] in Cargo.toml")?;
    section
        .lines()
        .take_while(|l| !l.starts_with('['))
        .find_map(|l| l.trim().strip_prefix("version = ").map(|v| v.trim_matches('"').to_owned()))
        .ok_or_else(|| "no version in [workspace.package]".to_owned())
}

/// An I/O error of `what`, with its path.
fn io(what: &std::path::Path) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("{}: {e}", what.display())
}

/// Packs `ccc` and `ccc-full` from `bins` with the man page, completions, licences and README
/// into `out/ccc-VERSION-TRIPLE.tar.gz`, and writes `out/SHA256SUMS`. The same binaries give
/// the same bytes.
fn archive(bins: &std::path::Path, out: &std::path::Path, level: Compression) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let name = name()?;
    let stage = out.join(&name);
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(stage.join("completions")).map_err(|e| format!("{}: {e}", stage.display()))?;
    for bin in ["ccc", "ccc-full"] {
        let to = stage.join(bin);
        std::fs::copy(bins.join(bin), &to).map_err(io(&to))?;
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).map_err(io(&to))?;
    }
    let full = stage.join("ccc-full");
    let generated = |args: &[&str], file: &std::path::Path| -> Result<(), String> {
        let made = std::process::Command::new(&full)
            .args(args)
            .env_clear()
            .env("HOME", out)
            .output()
            .map_err(|e| format!("could not run {}: {e}", full.display()))?;
        if !made.status.success() {
            return Err(format!("`ccc {}` failed: {}", args.join(" "), String::from_utf8_lossy(&made.stderr)));
        }
        std::fs::write(file, &made.stdout).map_err(io(file))
    };
    generated(&["man"], &stage.join("ccc.1"))?;
    for (shell, file) in [("bash", "ccc.bash"), ("zsh", "_ccc"), ("fish", "ccc.fish")] {
        generated(&["completions", shell], &stage.join("completions").join(file))?;
    }
    let root = cmd::root();
    for file in ["LICENSE-MIT", "LICENSE-APACHE", "README.md"] {
        let to = stage.join(file);
        std::fs::copy(root.join(file), &to).map_err(io(&to))?;
    }
    for entry in walk(&stage)? {
        let mode =
            if entry.is_dir() || entry.parent() == Some(stage.as_path()) && is_program(&entry) { 0o755 } else { 0o644 };
        std::fs::set_permissions(&entry, std::fs::Permissions::from_mode(mode)).map_err(io(&entry))?;
    }
    let tarball = out.join(format!("{name}.tar.gz"));
    let tar = format!(
        "tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --format=gnu -C '{}' -cf - '{name}' | gzip -n -{} > '{}'",
        out.display(),
        level as u8,
        tarball.display()
    );
    cmd::run("sh", &["-c", &tar])?;
    let sums = cmd::output("sh", &["-c", &format!("cd '{}' && sha256sum '{name}.tar.gz'", out.display())])?;
    std::fs::write(out.join("SHA256SUMS"), sums).map_err(io(&out.join("SHA256SUMS")))?;
    std::fs::remove_dir_all(&stage).map_err(io(&stage))?;
    Ok(tarball)
}

/// How hard gzip works: the release archive's best; the check's fastest (the debug build is
/// hundreds of MB, and what is checked is the packing, not the ratio).
#[derive(Clone, Copy)]
enum Compression {
    Best = 9,
    Fast = 1,
}

fn is_program(p: &std::path::Path) -> bool {
    matches!(p.file_name().and_then(|n| n.to_str()), Some("ccc" | "ccc-full"))
}

/// Every file and directory under `dir` (itself included).
fn walk(dir: &std::path::Path) -> Result<Vec<PathBuf>, String> {
    let mut out = vec![dir.to_owned()];
    let mut i = 0;
    while i < out.len() {
        if out[i].is_dir() {
            let entries = std::fs::read_dir(&out[i]).map_err(|e| format!("{}: {e}", out[i].display()))?;
            for e in entries {
                out.push(e.map_err(|e| e.to_string())?.path());
            }
        }
        i += 1;
    }
    Ok(out)
}

/// `cargo xtask dist --check`: the debug build (what the tests built) packed as a release is,
/// twice: the two archives are the same bytes, `SHA256SUMS` verifies, and the unpacked `ccc`
/// answers `--version` and hands `completions` to the `ccc-full` beside it, on a clean PATH.
pub fn check() -> Result<(), String> {
    cmd::build_everything()?;
    let bins = cmd::root().join("target").join("debug");
    let out = cmd::root().join("target").join("dist-check");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    let first = archive(&bins, &out, Compression::Fast)?;
    let bytes = std::fs::read(&first).map_err(|e| e.to_string())?;
    let again = archive(&bins, &out, Compression::Fast)?;
    if std::fs::read(&again).map_err(|e| e.to_string())? != bytes {
        return Err(format!("two packings of the same binaries differ: {}", first.display()));
    }
    cmd::run("sh", &["-c", &format!("cd '{}' && sha256sum -c SHA256SUMS", out.display())])?;
    let unpacked = out.join("unpacked");
    std::fs::create_dir_all(&unpacked).map_err(|e| e.to_string())?;
    cmd::run("tar", &["-xzf", &first.display().to_string(), "-C", &unpacked.display().to_string()])?;
    let dir = unpacked.join(name()?);
    let run = |args: &[&str]| {
        std::process::Command::new(dir.join("ccc"))
            .args(args)
            .env_clear()
            .env("HOME", &unpacked)
            .env("PATH", "/usr/bin:/bin")
            .output()
            .map_err(|e| format!("could not run the unpacked ccc: {e}"))
    };
    let expected = format!("ccc {}", version()?);
    let answered = run(&["--version"])?;
    let said = String::from_utf8_lossy(&answered.stdout);
    if !answered.status.success() || said.trim() != expected {
        return Err(format!("the unpacked ccc --version said {said:?}"));
    }
    let completions = run(&["completions", "bash"])?;
    if !completions.status.success() || completions.stdout.is_empty() {
        return Err(format!(
            "the unpacked ccc did not hand `completions` to ccc-full: {}",
            String::from_utf8_lossy(&completions.stderr)
        ));
    }
    for needed in [
        "ccc.1",
        "completions/ccc.bash",
        "completions/_ccc",
        "completions/ccc.fish",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "README.md",
    ] {
        if !dir.join(needed).is_file() {
            return Err(format!("the archive has no {needed}"));
        }
    }
    eprintln!("dist: {} packs reproducibly, verifies, and runs unpacked", first.display());
    // the debug build packed is hundreds of MB: nothing of it is kept
    std::fs::remove_dir_all(&out).map_err(io(&out))
}
