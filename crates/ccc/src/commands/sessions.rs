//! `ccc sessions list|check`: cloud-sessions over a YAML file.

use cloud_sessions::{CloudSessionManager, ManagerOptions};

use crate::cli::{Output, SessionsCommand};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::print_json;

pub fn session_error(e: cloud_sessions::SessionError) -> CliError {
    CliError::from_kinded(&e)
}

/// The manager's options from the environment: the endpoint override, ccc's token store (the
/// `store_type: local` secrets, and Azure sessions' tokens between runs), its files and clock.
pub fn options(ctx: &Ctx) -> ManagerOptions {
    // the engine's environment (a damaged ccc config leaves its defaults), with Azure tokens
    // kept in the token store too
    let config = ctx.config().unwrap_or_default();
    let options = ctx
        .engine_options(&config, cred_store::DEFAULT_REFRESH_LOCK_WAIT)
        .or_else(|_| ctx.engine_options(&cred_store::CccConfig::default(), cred_store::DEFAULT_REFRESH_LOCK_WAIT));
    match options {
        Ok(o) => o.azure_token_cache(ctx.token_store()),
        Err(_) => ManagerOptions::default().paths(ctx.paths.clone()).clock(ctx.clock.clone()),
    }
}

/// The file's text, planned: validated and ordered, nothing built.
fn plan_file(path: &std::path::Path) -> CliResult<cloud_sessions::Plan> {
    let text = cred_store::fsutil::read_text(path)?;
    cloud_sessions::plan(&text).map_err(session_error)
}

/// A manager of the one session `name` of the file (and what it needs), nothing else built.
async fn one_session(ctx: &Ctx, file: &std::path::Path, name: &str) -> CliResult<CloudSessionManager> {
    let plan = cloud_sessions::plan_for(&cred_store::fsutil::read_text(file)?, name).map_err(session_error)?;
    authorize(ctx, &plan, name)?;
    CloudSessionManager::from_plan(plan, options(ctx)).await.map_err(session_error)
}

/// Whether the user may use session `name`: as `CCC_ROLE`, else as the file's `user.role`
/// (`roles.ROLE.allowed_sessions`); with neither, every session. Checked before anything is
/// built or served.
pub fn authorize(ctx: &Ctx, plan: &cloud_sessions::Plan, name: &str) -> CliResult {
    plan.authorize(ctx.role.as_deref(), name).map_err(|e| {
        let hint = match ctx.role {
            Some(_) => "CCC_ROLE names the role; its roles.ROLE.allowed_sessions in the file name what it may use",
            None => "user.role in the file names the role; its roles.ROLE.allowed_sessions name what it may use",
        };
        session_error(e).hint(hint)
    })
}

/// One line a session: name, health, latency, then who it is or what failed.
fn print_health(reports: &[cloud_sessions::HealthReport]) {
    let width = reports.iter().map(|r| r.name.chars().count()).max().unwrap_or(0).max("SESSION".len());
    println!("{:<width$}  {:<6}  {:>8}  IDENTITY / ERROR", "SESSION", "HEALTH", "LATENCY");
    for r in reports {
        let who = r
            .arn
            .clone()
            .or_else(|| r.credential.as_ref().map(|c| format!("azure: {c}")))
            .or_else(|| r.error.clone())
            .unwrap_or_default();
        let health = if r.healthy { "ok" } else { "FAILED" };
        println!("{:<width$}  {health:<6}  {:>5} ms  {who}", r.name, r.latency.as_millis());
    }
}

pub async fn sessions(ctx: &Ctx, cmd: SessionsCommand) -> CliResult {
    match cmd {
        SessionsCommand::List(args) => {
            let plan = plan_file(&args.config)?;
            for w in &plan.warnings {
                eprintln!("warning: {w}");
            }
            match ctx.output {
                Output::Json => {
                    print_json(&serde_json::json!({"sessions": plan.session_names(), "warnings": plan.warnings}))
                }
                Output::Table => {
                    for n in plan.session_names() {
                        println!("{n}");
                    }
                }
            }
            Ok(())
        }
        SessionsCommand::Check { args, name, watch, rounds } => {
            let plan = plan_file(&args.config)?;
            for w in &plan.warnings {
                eprintln!("warning: {w}");
            }
            // with a role, only the sessions it may use (a named one it may not is refused)
            let names: Vec<String> = match &name {
                Some(n) => {
                    authorize(ctx, &plan, n)?;
                    vec![n.clone()]
                }
                None => {
                    let all = plan.session_names();
                    let allowed: Vec<String> =
                        all.iter().filter(|n| plan.authorize(ctx.role.as_deref(), n).is_ok()).cloned().collect();
                    if allowed.len() < all.len() {
                        eprintln!(
                            "note: {} of {} session(s) are not the role's to use and were not checked",
                            all.len() - allowed.len(),
                            all.len()
                        );
                    }
                    allowed
                }
            };
            let manager = CloudSessionManager::from_plan(plan, options(ctx)).await.map_err(session_error)?;
            let Some(every) = watch else {
                return check_round(ctx, &manager, &names).await;
            };
            // the manager lives across rounds: what it cached and renewed is what a
            // long-running program would see
            let mut round = 0u64;
            loop {
                round += 1;
                let outcome = check_round(ctx, &manager, &names).await;
                let summary = match &outcome {
                    Ok(()) => "all healthy".to_owned(),
                    Err(e) => e.to_string(),
                };
                println!("round {round}: {summary}");
                if rounds.is_some_and(|r| round >= r) {
                    return outcome;
                }
                tokio::select! {
                    () = tokio::time::sleep(std::time::Duration::from_secs(every)) => {}
                    _ = tokio::signal::ctrl_c() => return outcome,
                }
            }
        }
        SessionsCommand::Login { args, name, device, no_browser, timeout } => {
            let manager = one_session(ctx, &args.config, &name).await?;
            let session = manager.azure_session(&name).map_err(session_error)?;
            let timeout = std::time::Duration::from_secs(timeout);
            let until = if device {
                session.device_sign_in(&[], crate::prompt::show_device_code, timeout).await
            } else {
                session
                    .browser_sign_in(
                        &[],
                        |url| {
                            eprintln!("Open this URL to sign in:\n{url}");
                            !no_browser && crate::prompt::open_browser(url.as_str())
                        },
                        timeout,
                    )
                    .await
            }
            .map_err(session_error)?;
            println!(
                "Signed in for session {name}; the first token is valid until {}.",
                crate::output::expiry(Some(until))
            );
            Ok(())
        }
        SessionsCommand::Logout { args, name } => {
            let manager = one_session(ctx, &args.config, &name).await?;
            let gone = manager.azure_session(&name).map_err(session_error)?.sign_out().map_err(session_error)?;
            println!("Forgot {gone} kept entr{} of session {name}.", if gone == 1 { "y" } else { "ies" });
            Ok(())
        }
        SessionsCommand::SetSecret { name } => {
            let value = crate::prompt::secret_from_stdin(&format!("value for SEC/{name}"))?;
            cloud_sessions::LocalSecretStore::new(ctx.token_store()).put(&name, value).map_err(session_error)?;
            println!("Kept SEC/{name} in {} (for store_type: local).", ctx.paths.token_store_file().display());
            Ok(())
        }
        SessionsCommand::Creds { args, name } => super::creds::serve_session(ctx, &args.config, &name).await,
        SessionsCommand::Token { args, name, scopes } => {
            let manager = one_session(ctx, &args.config, &name).await?;
            let session = manager.azure_session(&name).map_err(session_error)?;
            let scopes: Vec<&str> = if scopes.is_empty() {
                vec![cloud_sessions::MANAGEMENT_SCOPE]
            } else {
                scopes.iter().map(String::as_str).collect()
            };
            let token = session.token(&scopes).await.map_err(session_error)?;
            match ctx.output {
                Output::Json => print_json(&serde_json::json!({
                    "accessToken": token.token.secret(),
                    "expiresOn": cred_store::format_rfc3339(std::time::SystemTime::from(token.expires_on)),
                    "tenant": session.tenant_id(),
                    "subscription": session.subscription_id(),
                })),
                Output::Table => println!("{}", token.token.secret()),
            }
            Ok(())
        }
    }
}

/// One round of health checks: the table (or JSON), then the exit-code contract (an
/// unhealthy session is a failure naming it).
async fn check_round(ctx: &Ctx, manager: &CloudSessionManager, names: &[String]) -> CliResult {
    let reports = manager.check_names(names).await.map_err(session_error)?;
    match ctx.output {
        Output::Json => print_json(&serde_json::to_value(&reports).unwrap_or_default()),
        Output::Table => print_health(&reports),
    }
    let unhealthy: Vec<String> = reports
        .iter()
        .filter(|r| !r.healthy)
        .map(|r| match r.error_kind {
            Some(k) => format!("{} ({k})", r.name),
            None => r.name.clone(),
        })
        .collect();
    if !unhealthy.is_empty() {
        // which ones, and why in a word; the table above has each one's error
        return Err(CliError::new(format!("{} session(s) unhealthy: {}", unhealthy.len(), unhealthy.join(", ")))
            .hint("the table above shows each session's error; `-v` shows more"));
    }
    Ok(())
}
