//! `ccc session extend` and `ccc exec --extended`: credentials for a long run through
//! cloud-sessions' extended sessions (GetSessionToken for IAM user keys, AssumeRole with a
//! duration for a role profile).

use std::time::Duration;

use cloud_sessions::CloudSessionManager;
use cred_store::CccConfig;

use crate::cli::{ExtendArgs, Output, SessionCommand};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::{expiry, print_json};

/// The name of the one session ccc declares for a profile.
const SESSION: &str = "extended";

/// A value as a YAML scalar (a JSON string is one), so no profile name or ARN can change
/// the document's structure.
fn scalar(v: &str) -> String {
    serde_json::Value::from(v).to_string()
}

/// The cloud-sessions declaration that extends long-term keys with GetSessionToken: the
/// environment's (CI), or the profile's (refused, with the reasons, when they are session
/// credentials).
fn declaration(ctx: &Ctx, profile: &str, region: &str) -> String {
    let head = format!("cloud_sessions:\n  - name: {SESSION}\n    session_type: aws\n    region: {}\n", scalar(region));
    // keys in the environment (CI) come first, as for every other command without --profile
    if ctx.uses_environment_keys() {
        let mut yaml = format!(
            "{head}    access_key_id: ENV/AWS_ACCESS_KEY_ID\n    secret_access_key: ENV/AWS_SECRET_ACCESS_KEY\n"
        );
        if ctx.environment_has_session_token() {
            yaml.push_str("    session_token: ENV/AWS_SESSION_TOKEN\n");
        }
        return yaml;
    }
    format!("{head}    profile: {}\n", scalar(profile))
}

/// How long extended credentials live when no `--hours` is given.
const DEFAULT_HOURS: u32 = 12;

/// Credentials for `profile` that live `hours` (default: a role profile's own
/// `duration_seconds`, as seed 002's solution sets it, else [`DEFAULT_HOURS`]), and how they
/// were obtained.
pub async fn extended_credentials(
    ctx: &Ctx,
    config: &CccConfig,
    profile: &str,
    hours: Option<u32>,
) -> CliResult<(core_types::AwsCredentials, &'static str)> {
    let region = ctx.region(config, profile);
    let mut seconds = u64::from(hours.unwrap_or(DEFAULT_HOURS)) * 3600;
    // a role profile (whatever its source: keys, SSO, the environment, another role) is its
    // plan with the last role assumed for the duration, built by the one engine
    if !ctx.uses_environment_keys() {
        let options = ctx.engine_options(config, cred_store::DEFAULT_REFRESH_LOCK_WAIT)?;
        if hours.is_none()
            && let Ok((plan, _)) = cloud_sessions::plan_profile(profile, cloud_sessions::Named::Explicitly, &options)
            && let Some(d) = plan.hops.last().and_then(|h| h.duration_seconds)
        {
            seconds = u64::from(d);
        }
        let extended = cloud_sessions::extended_profile_credentials(profile, Duration::from_secs(seconds), &options)
            .await
            .map_err(|e| ctx.profile_error(profile, e))?;
        if let Some(built) = extended {
            let creds = built.credentials().await.map_err(|e| ctx.profile_error(profile, e))?;
            return Ok((creds, "AssumeRole"));
        }
    }
    let (yaml, method) = (declaration(ctx, profile, &region), "GetSessionToken");
    let options = super::sessions::options(ctx).paths(ctx.paths.clone()).clock(ctx.clock.clone());
    let at = |e: cloud_sessions::SessionError| super::sessions::session_error(e).context(format!("profile {profile}"));
    let manager = CloudSessionManager::from_yaml(&yaml, options).await.map_err(at)?;
    let session = manager.extended_session(SESSION, Duration::from_secs(seconds)).await.map_err(at)?;
    Ok((session.credentials().await.map_err(at)?, method))
}

pub async fn session(ctx: &Ctx, cmd: SessionCommand) -> CliResult {
    match cmd {
        SessionCommand::Extend(args) => extend(ctx, args).await,
    }
}

async fn extend(ctx: &Ctx, args: ExtendArgs) -> CliResult {
    let config = ctx.config().unwrap_or_default();
    let profile = ctx.profile(&config);
    let region = ctx.region(&config, &profile);
    let (creds, method) = extended_credentials(ctx, &config, &profile, args.hours).await?;
    let sdk = cred_store::to_sdk_credentials(&creds);
    let text = super::exec::render(&super::exec::variables(&sdk, &region, &profile), args.format);
    let until = creds.expiration();
    if args.out.as_os_str() == "-" {
        print!("{text}");
        return Ok(());
    }
    cred_store::fsutil::write_atomic(&args.out, text.as_bytes())?;
    let left = until.and_then(|u| u.duration_since(ctx.clock.now()).ok()).unwrap_or_default();
    match ctx.output {
        Output::Json => print_json(&serde_json::json!({
            "profile": profile, "method": method, "valid_until": expiry(until), "file": args.out.display().to_string(),
        })),
        Output::Table => println!(
            "Extended credentials for profile {profile} ({method}), valid until {} ({} h {} min), in {} (0600): `source {}`",
            expiry(until),
            left.as_secs() / 3600,
            left.as_secs() % 3600 / 60,
            args.out.display(),
            args.out.display()
        ),
    }
    if left.is_zero() {
        return Err(
            CliError::new("the extended credentials are already expired").kind(core_types::ErrorKind::ExpiredToken)
        );
    }
    Ok(())
}
