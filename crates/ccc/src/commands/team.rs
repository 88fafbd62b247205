//! `ccc team`: the team store (the refreshing caches' fleet level on PostgreSQL).

use crate::cli::{Output, TeamCommand};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::{expiry, print_json};

pub async fn team(ctx: &Ctx, cmd: TeamCommand) -> CliResult {
    match cmd {
        TeamCommand::Key { new } => {
            cred_store::TeamKey::generate()?.write_new(&new)?;
            eprintln!(
                "wrote a new team key to {} (0600); give it to every machine of the fleet and set CCC_TEAM_KEY={}",
                new.display(),
                new.display()
            );
            Ok(())
        }
        TeamCommand::Status => status(ctx).await,
        TeamCommand::Forget { key } => {
            let gone = store(ctx)?.forget(&key).await?;
            if !gone {
                return Err(CliError::new(format!("the team store has no entry {key}"))
                    .kind(core_types::ErrorKind::InvalidInput)
                    .hint("`ccc team status` lists the entries"));
            }
            eprintln!("removed {key} from the team store");
            Ok(())
        }
    }
}

fn store(ctx: &Ctx) -> CliResult<cred_store::TeamStore> {
    ctx.team_store(&ctx.config()?)?.ok_or_else(|| {
        CliError::new("no team store is set")
            .kind(core_types::ErrorKind::NotConfigured)
            .hint("set CCC_TEAM_STORE=postgres://… (or `ccc config set team_store postgres://…`) and CCC_TEAM_KEY")
    })
}

async fn status(ctx: &Ctx) -> CliResult {
    let store = store(ctx)?;
    let entries = store.status().await?;
    let now = ctx.clock.now();
    let age = |t: std::time::SystemTime| now.duration_since(t).unwrap_or_default().as_secs();
    let rows: Vec<serde_json::Value> = entries
        .iter()
        .map(|e| {
            serde_json::json!({
                "key": e.key,
                "version": e.version,
                "valid_until": e.expires_at.map(|t| expiry(Some(t))),
                "written_by": e.written_by,
                "written_seconds_ago": age(e.written_at),
                "refreshing": e.held_by.as_ref().map(|(who, held)| serde_json::json!({"by": who, "for_seconds": held.as_secs()})),
            })
        })
        .collect();
    match ctx.output {
        Output::Json => print_json(&serde_json::json!({ "store": store.location(), "entries": rows })),
        Output::Table => {
            let n = rows.len();
            println!("team store {} — {n} {}", store.location(), if n == 1 { "entry" } else { "entries" });
            for e in &entries {
                let refreshing = match &e.held_by {
                    Some((who, held)) => format!("  refreshing by {who} for {} s", held.as_secs()),
                    None => String::new(),
                };
                println!(
                    "{}  v{}  valid until {}  written {} s ago by {}{refreshing}",
                    e.key,
                    e.version,
                    expiry(e.expires_at),
                    age(e.written_at),
                    e.written_by
                );
            }
        }
    }
    Ok(())
}
