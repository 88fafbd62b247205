//! `ccc doctor`: which stores are in use, and whether every file ccc owns is safe.

use cred_store::doctor::{Finding, check_files};

use crate::cli::Output;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::print_json;

pub fn doctor(ctx: &Ctx) -> CliResult {
    let ledger_file = match &ctx.ledger_location {
        Some(loc) if loc.starts_with("postgres") => None,
        Some(loc) => Some(std::path::PathBuf::from(loc.strip_prefix("sqlite://").unwrap_or(loc))),
        None => Some(ctx.paths.default_ledger_db()),
    };
    let ledger = match &ctx.ledger_location {
        Some(loc) => cred_store::redact_url(loc),
        None => format!("SQLite file {}", ctx.paths.default_ledger_db().display()),
    };
    let token_store = format!("file {}", ctx.token_store().describe());
    let checks = check_files(&ctx.paths, ledger_file.as_deref());
    let problems: Vec<_> = checks.iter().filter(|c| c.is_problem()).collect();
    match ctx.output {
        Output::Json => print_json(&serde_json::json!({
            "token_store": token_store, "ledger": ledger, "files": checks,
        })),
        Output::Table => {
            println!("token store: {token_store}");
            println!("ledger:      {ledger}");
            for c in &checks {
                let mode = c.mode.map(|m| format!("{m:04o}")).unwrap_or_else(|| "-".into());
                let status = match &c.finding {
                    Finding::Missing => "missing (not written yet)".to_owned(),
                    Finding::Ok => "ok".to_owned(),
                    Finding::TooOpen { fix } => format!("TOO OPEN: {fix}"),
                    Finding::NotOwned { uid } => format!("OWNED BY uid {uid}"),
                    Finding::Unreadable { error } => format!("UNREADABLE: {error}"),
                    _ => "?".to_owned(),
                };
                println!("{:<24} {mode:>5}  {}  {status}", c.what, c.path.display());
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    let fixes: Vec<String> = problems
        .iter()
        .filter_map(|c| match &c.finding {
            Finding::TooOpen { fix } => Some(fix.clone()),
            _ => None,
        })
        .collect();
    let e = CliError::new(format!("{} file(s) ccc owns are not safe", problems.len()));
    Err(if fixes.is_empty() {
        e.hint("files owned by another user: remove them, or run ccc as their owner")
    } else {
        e.hint(fixes.join("; "))
    })
}
