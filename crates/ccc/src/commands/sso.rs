//! `ccc sso status|ensure|refresh`: sso-refresh over an AWS SSO profile.

use sso_refresh::{AwsSso, SsoConfig, SsoError};

use crate::cli::{Output, SsoCommand};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::{expiry, print_json, print_rows};

fn sso_error(e: SsoError) -> CliError {
    let hint = match core_types::Kinded::kind(&e) {
        core_types::ErrorKind::NotAuthorized => Some("run `aws sso login` yourself to finish the browser sign-in"),
        core_types::ErrorKind::Unavailable => Some("retry in a moment"),
        _ => None,
    };
    let mut err = CliError::from_kinded(&e).hint_opt(hint);
    if core_types::Kinded::kind(&e) == core_types::ErrorKind::NotConfigured {
        // the message says what the profile lacks; `ccc configure` is for Cognito, not SSO
        err.hint = None;
    }
    err
}

async fn open(ctx: &Ctx, profile: &str) -> CliResult<AwsSso> {
    let mut config = SsoConfig::from_env().map_err(sso_error)?;
    if config.db_path.is_none() {
        config.db_path = ctx.ledger_location.clone();
    }
    let mut sdk = aws_config::SdkConfig::builder().behavior_version(aws_config::BehaviorVersion::latest());
    sdk.set_endpoint_url(ctx.endpoint_url.clone());
    AwsSso::builder(config, &ctx.paths, profile)
        .sdk_config(&sdk.build())
        .clock(ctx.clock.clone())
        .build()
        .await
        .map_err(sso_error)
}

pub async fn sso(ctx: &Ctx, cmd: SsoCommand) -> CliResult {
    // an SSO profile does not need the ccc config; a damaged one must not stop it
    let profile = ctx.profile(&ctx.config().unwrap_or_default());
    match cmd {
        SsoCommand::Status => {
            let sso = open(ctx, &profile).await?;
            let due = sso.should_refresh_credentials().await.map_err(sso_error)?;
            let creds = sso.credentials_provider().peek().await;
            let ledger = ctx.ledger().await?;
            let status = ledger.status(&sso.source_name(), &profile).await?;
            let p = sso.profile();
            let rows = [
                ("profile", p.profile.clone()),
                ("sso session", p.session.clone().unwrap_or_else(|| "-".into())),
                ("start url", p.start_url.clone()),
                ("account / role", format!("{} / {}", p.account_id, p.role_name)),
                ("refresh due", if due { "yes" } else { "no" }.to_owned()),
                ("credentials valid until", creds.map(|c| expiry(c.expiration())).unwrap_or_else(|| "-".into())),
                (
                    "last sign-in",
                    status.as_ref().and_then(|s| s.obtained_at).map(|t| expiry(Some(t))).unwrap_or_else(|| "-".into()),
                ),
                ("last attempt", status.as_ref().and_then(|s| s.last_outcome.clone()).unwrap_or_else(|| "-".into())),
            ];
            match ctx.output {
                Output::Json => print_json(&serde_json::Value::Object(
                    rows.iter().map(|(k, v)| ((*k).replace(' ', "_"), v.clone().into())).collect(),
                )),
                Output::Table => print_rows(&rows),
            }
        }
        SsoCommand::Ensure => {
            let creds = open(ctx, &profile).await?.ensure_valid_credentials().await.map_err(sso_error)?;
            report(ctx, &profile, creds.expiration());
        }
        SsoCommand::Refresh => {
            let creds = open(ctx, &profile).await?.refresh_credentials().await.map_err(sso_error)?;
            report(ctx, &profile, creds.expiration());
        }
    }
    Ok(())
}

fn report(ctx: &Ctx, profile: &str, until: Option<std::time::SystemTime>) {
    match ctx.output {
        Output::Json => print_json(&serde_json::json!({"profile": profile, "valid_until": expiry(until)})),
        Output::Table => println!("SSO credentials for {profile} valid until {}.", expiry(until)),
    }
}
