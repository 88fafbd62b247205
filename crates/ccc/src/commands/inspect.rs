//! `ccc history`, `ccc resources`, `ccc permissions`: aws-inspect over the signed-in user's
//! self-refreshing credentials.

use std::io::IsTerminal;
use std::sync::Arc;

use aws_inspect::{HistoryOptions, ResourceOptions};

use crate::cli::{HistoryArgs, Output, PermissionsArgs, ResourcesArgs};

use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::print_json;

/// The profile's SDK configuration, the ccc user signed in on it (if any), and where
/// (`profile P, REGION`) for error reports.
async fn user_sdk(ctx: &Ctx) -> CliResult<(aws_config::SdkConfig, String, String)> {
    let (sdk, user, at, _) = profile_sdk(ctx).await?;
    Ok((sdk, user, at))
}

/// Like `user_sdk`, with the ccc config and the profile's name.
async fn profile_sdk(ctx: &Ctx) -> CliResult<(aws_config::SdkConfig, String, String, (cred_store::CccConfig, String))> {
    let config = ctx.config()?;
    let profile = ctx.profile(&config);
    let region = ctx.region(&config, &profile);
    let (sdk, user, _) = ctx.profile_sdk(&config, &profile).await?;
    Ok((sdk, user.unwrap_or_default(), format!("profile {profile}, {region}"), (config, profile)))
}

pub async fn history(ctx: &Ctx, args: HistoryArgs) -> CliResult {
    let (sdk, me, at, (config, profile)) = profile_sdk(ctx).await?;
    let options = HistoryOptions::default().log_group(args.log_group);
    let clock = ctx.clock.as_ref();
    // a named user; the Cognito user signed in on the profile, by their identity-pool
    // identity (as CloudTrail records identity-pool sessions); otherwise whoever the
    // profile's credentials belong to, looked up as CloudTrail records that principal
    let history = match args.user {
        Some(user) => aws_inspect::user_history(&sdk, &user, args.days, args.limit, &options, clock).await,
        None if !me.is_empty() => {
            let identity = ctx.cognito_identity(&config, &profile).await.map_err(|e| e.context(&at))?;
            aws_inspect::identity_history(&sdk, &identity, args.days, args.limit, &options, clock).await
        }
        None => aws_inspect::caller_history(&sdk, args.days, args.limit, &options, clock).await,
    }
    .map_err(|e| CliError::from(e).context(&at))?;
    let (events, source) = (history.events, history.source);
    if let Some(why) = &history.cloudtrail_failure {
        // a partial answer says so, in one line, and still shows what it found
        eprintln!("note: {why}; showing the trail's CloudWatch Logs instead");
    }
    match ctx.output {
        Output::Json => print_json(&serde_json::json!({"source": source, "events": events})),
        Output::Table => print!("{}", aws_inspect::format_events(&events, source, args.limit, ctx.verbose)),
    }
    Ok(())
}

/// Who owns what the caller owns, when no ccc user is signed in: the principal STS names for
/// the profile's credentials (`user/alice` → `alice`; an assumed role's session name).
async fn caller_owner(sdk: &aws_config::SdkConfig, at: &str) -> CliResult<String> {
    let who = aws_sdk_sts::Client::new(sdk).get_caller_identity().send().await.map_err(|e| {
        let e =
            CliError::from_failure(aws_failure::call_failure("STS", "GetCallerIdentity", &e)).context(at.to_owned());
        // a refusal is answered by naming the owner; an outage keeps its network hint
        match e.kind {
            core_types::ErrorKind::NotAuthorized | core_types::ErrorKind::AccessDenied => {
                e.hint("STS would not name the caller: name the owner with --user NAME, or list everything with --all")
            }
            _ => e,
        }
    })?;
    let arn = who.arn().unwrap_or_default();
    let name = super::creds::principal_name(arn).unwrap_or_default();
    // an assumed role's session: the session name is the person (`Role/alice` → `alice`)
    let owner =
        if arn.contains(":assumed-role/") { name.rsplit('/').next().unwrap_or_default().to_owned() } else { name };
    if owner.is_empty() {
        return Err(CliError::new(format!("STS named no user for these credentials ({arn})"))
            .hint("name the owner with --user NAME, or list everything with --all"));
    }
    Ok(owner)
}

pub async fn resources(ctx: &Ctx, args: ResourcesArgs) -> CliResult {
    let (sdk, me, at) = user_sdk(ctx).await?;
    let user = match (args.user, me.is_empty() && !args.all) {
        (Some(u), _) => u,
        (None, true) => caller_owner(&sdk, &at).await?,
        (None, false) => me,
    };
    let mut options = ResourceOptions::default();
    if !args.regions.is_empty() {
        options.regions = args.regions;
    }
    if !args.owner_tag.is_empty() {
        options.owner_tag_keys = args.owner_tag;
    }
    if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(options.regions.len() as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} scanning regions {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let b = bar.clone();
        options.progress = Some(Arc::new(move |done, total, region| {
            // the regions may come from the account: the total is known once the scan starts
            b.set_length(total as u64);
            b.set_position(done as u64);
            b.set_message(region.to_owned());
        }));
        let result = aws_inspect::list_user_resources(&sdk, &user, args.limit, args.all, &options).await;
        bar.finish_and_clear();
        return print_resources(ctx, result.map_err(|e| CliError::from(e).context(&at))?, args.verbose_list);
    }
    let result = aws_inspect::list_user_resources(&sdk, &user, args.limit, args.all, &options)
        .await
        .map_err(|e| CliError::from(e).context(&at))?;
    print_resources(ctx, result, args.verbose_list)
}

fn print_resources(ctx: &Ctx, result: aws_inspect::ResourceResult, verbose: bool) -> CliResult {
    match ctx.output {
        Output::Json => print_json(&serde_json::to_value(&result).unwrap_or_default()),
        Output::Table => print!("{}", aws_inspect::format_resources(&result, verbose || ctx.verbose)),
    }
    Ok(())
}

pub async fn permissions(ctx: &Ctx, args: PermissionsArgs) -> CliResult {
    let (sdk, _, at) = user_sdk(ctx).await?;
    let result = aws_inspect::get_user_permissions(&sdk).await.map_err(|e| CliError::from(e).context(&at))?;
    let tests = match args.test {
        Some(actions) => {
            Some(aws_inspect::test_permissions(&sdk, &actions).await.map_err(|e| CliError::from(e).context(&at))?)
        }
        None => None,
    };
    match ctx.output {
        Output::Json => print_json(&serde_json::json!({"permissions": result, "tests": tests})),
        Output::Table => print!("{}", aws_inspect::format_permissions(&result, tests.as_deref())),
    }
    Ok(())
}
