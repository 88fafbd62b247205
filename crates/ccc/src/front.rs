//! `ccc`: a credential_process call served from the refreshing cache's entry while it is
//! fresh — the warm path, paid before every AWS call that uses the profile — by a program that
//! links nothing else; every other call is handed to the full program, `ccc-full` beside this
//! one, by `exec`: the same process, arguments, environment, terminal and exit code.
//!
//! The warm path reads the note the full program left after it served the profile
//! (`cred_store::warm`), and serves exactly what the refreshing cache would serve without
//! refreshing; whatever it cannot decide alone (no note, a changed file, a value that is due,
//! any other command or flag) goes to `ccc-full`, found beside this program or else on `PATH`.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::ExitCode;

/// The full program, installed beside this one.
const FULL: &str = "ccc-full";

fn main() -> ExitCode {
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| OsString::from("ccc"));
    let rest: Vec<OsString> = args.collect();
    if let Some(profile) = warm_profile(&rest)
        && let Ok(paths) = cred_store::Paths::from_env()
        && let Some(creds) = cred_store::warm::serve(&paths, profile, now())
    {
        let line = cred_store::to_credential_process_json(&creds);
        return match writeln!(std::io::stdout().lock(), "{line}") {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
    }
    // the version is this program's own (the two are installed together)
    if let [only] = rest.as_slice()
        && (only == "--version" || only == "-V")
    {
        return match writeln!(std::io::stdout().lock(), "ccc {}", env!("CARGO_PKG_VERSION")) {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
    }
    let me = std::env::current_exe().ok();
    let Some(full) = partner(me.as_deref(), path_var()) else {
        return nowhere(me.as_deref());
    };
    let e = std::process::Command::new(&full).arg0(&arg0).args(&rest).exec();
    cannot_start(&full.display().to_string(), &e)
}

/// `PATH`, read once here (this program's only other input).
#[allow(clippy::disallowed_methods)] // the front reads its environment in main's helpers only
fn path_var() -> Option<OsString> {
    std::env::var_os("PATH")
}

/// The full program: beside this one (how `cargo install` and the release archive lay them
/// out), else the first on `PATH`.
fn partner(me: Option<&std::path::Path>, path: Option<OsString>) -> Option<std::path::PathBuf> {
    let beside = me.map(|m| m.with_file_name(FULL)).filter(|f| cred_store::fsutil::is_executable(f));
    beside
        .or_else(|| std::env::split_paths(&path?).map(|d| d.join(FULL)).find(|f| cred_store::fsutil::is_executable(f)))
}

/// No full program anywhere: one line, what to install.
#[allow(clippy::print_stderr)] // the only words this program ever says
fn nowhere(me: Option<&std::path::Path>) -> ExitCode {
    let beside =
        me.and_then(std::path::Path::parent).map_or_else(String::new, |d| format!("beside {} nor ", d.display()));
    eprintln!(
        "error: {FULL} (the rest of ccc) is not {beside}on PATH; install both with `cargo install --locked ccc-cli`, or unpack the release archive and keep its two programs together"
    );
    ExitCode::FAILURE
}

#[allow(clippy::disallowed_methods)] // the warm path's one clock reading
fn now() -> std::time::SystemTime {
    std::time::SystemTime::now()
}

/// `P` of `creds --profile P` (or `--profile P creds`, `creds --profile=P`), and nothing else:
/// any other argument needs the full program.
fn warm_profile(args: &[OsString]) -> Option<&str> {
    let args: Vec<&str> = args.iter().map(|a| a.to_str()).collect::<Option<_>>()?;
    let profile = match args.as_slice() {
        ["creds", "--profile", p] | ["--profile", p, "creds"] => *p,
        ["creds", a] | [a, "creds"] => a.strip_prefix("--profile=")?,
        _ => return None,
    };
    (!profile.is_empty()).then_some(profile)
}

#[allow(clippy::print_stderr)] // the only words this program ever says
fn cannot_start(what: &str, e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: cannot start {what}: {e}");
    eprintln!("hint: {FULL} is installed beside ccc (`cargo install ccc-cli` installs both)");
    ExitCode::FAILURE
}
