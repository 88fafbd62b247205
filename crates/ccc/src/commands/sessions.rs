//! `ccc sessions list|check`: cloud-sessions over a YAML file.

use cloud_sessions::{CloudSessionManager, ManagerOptions};

use crate::cli::{Output, SessionsCommand};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::print_json;

fn session_error(e: cloud_sessions::SessionError) -> CliError {
    CliError::from_kinded(&e)
}

pub async fn sessions(ctx: &Ctx, cmd: SessionsCommand) -> CliResult {
    let (args, only) = match &cmd {
        SessionsCommand::List(a) => (a, None),
        SessionsCommand::Check { args, name } => (args, name.clone()),
    };
    let options = ManagerOptions { endpoint_url: ctx.endpoint_url.clone(), ..ManagerOptions::default() };
    let manager = CloudSessionManager::from_file(&args.config, options).await.map_err(session_error)?;
    for w in manager.warnings() {
        eprintln!("warning: {w}");
    }
    match cmd {
        SessionsCommand::List(_) => match ctx.output {
            Output::Json => {
                print_json(&serde_json::json!({"sessions": manager.session_names(), "warnings": manager.warnings()}))
            }
            Output::Table => {
                for n in manager.session_names() {
                    println!("{n}");
                }
            }
        },
        SessionsCommand::Check { .. } => {
            let reports = match only {
                Some(n) => vec![manager.check_health(&n).await.map_err(session_error)?],
                None => manager.check_all().await,
            };
            let unhealthy = reports.iter().filter(|r| !r.healthy).count();
            match ctx.output {
                Output::Json => print_json(&serde_json::Value::Array(
                    reports
                        .iter()
                        .map(|r| {
                            serde_json::json!({
                                "name": r.name, "healthy": r.healthy, "arn": r.arn, "account": r.account,
                                "credential": r.credential, "chain": r.chain,
                                "latency_ms": r.latency.as_millis() as u64, "attempts": r.attempts,
                                "error_kind": r.error_kind.map(|k| k.as_str()), "error": r.error,
                            })
                        })
                        .collect(),
                )),
                Output::Table => {
                    let rows: Vec<Vec<String>> = reports
                        .iter()
                        .map(|r| {
                            vec![
                                r.name.clone(),
                                if r.healthy { "ok".into() } else { "FAILED".into() },
                                format!("{} ms", r.latency.as_millis()),
                                r.arn
                                    .clone()
                                    .or_else(|| r.credential.as_ref().map(|c| format!("azure: {c}")))
                                    .or_else(|| r.error.clone())
                                    .unwrap_or_default(),
                            ]
                        })
                        .collect();
                    print!("{}", aws_inspect::table(&["SESSION", "HEALTH", "LATENCY", "IDENTITY / ERROR"], &rows));
                }
            }
            if unhealthy > 0 {
                // which ones, and why in a word; the table above has each one's error
                let which: Vec<String> = reports
                    .iter()
                    .filter(|r| !r.healthy)
                    .map(|r| match r.error_kind {
                        Some(k) => format!("{} ({k})", r.name),
                        None => r.name.clone(),
                    })
                    .collect();
                return Err(CliError::new(format!("{unhealthy} session(s) unhealthy: {}", which.join(", ")))
                    .hint("the table above shows each session's error; `-v` shows more"));
            }
        }
    }
    Ok(())
}
