//! `ccc sso status|ensure|refresh`: sso-refresh over an AWS SSO profile.

use crate::cli::{Output, SsoCommand};
use crate::context::Ctx;
use crate::error::CliResult;
use crate::output::{expiry, print_json, print_rows};

pub async fn sso(ctx: &Ctx, cmd: SsoCommand) -> CliResult {
    // an SSO profile does not need the ccc config; a damaged one must not stop it
    let profile = ctx.profile(&ctx.config().unwrap_or_default());
    match cmd {
        SsoCommand::Status => {
            let sso = ctx.sso(&profile).await?;
            let due = sso.should_refresh_credentials().await?;
            let creds = sso.credentials_provider().peek().await;
            let ledger = ctx.ledger().await?;
            let status = ledger.status(&sso.source_name(), &profile).await?;
            let p = sso.profile();
            let rows = [
                ("profile", p.name()),
                ("sso session", p.session.clone().unwrap_or_else(|| "-".into())),
                ("start url", p.start_url.clone()),
                (
                    "account / role",
                    format!("{} / {}", p.account_id.as_deref().unwrap_or("-"), p.role_name.as_deref().unwrap_or("-")),
                ),
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
        SsoCommand::Login(args) => {
            let sso = ctx.sso_for(&profile, args.target.sso_session.as_deref()).await?;
            // a valid sign-in is kept: a browser round trip would only replace it
            if !args.force
                && let Some(until) = sso.signed_in_until()?
            {
                match ctx.output {
                    Output::Json => print_json(&serde_json::json!({
                        "profile": sso.profile().profile, "sso_session": sso.profile().session,
                        "start_url": sso.profile().start_url, "valid_until": expiry(Some(until)), "already_signed_in": true,
                    })),
                    Output::Table => println!(
                        "Already signed in to {} for {}, valid until {} (`--force` signs in again).",
                        sso.profile().start_url,
                        sso.profile().name(),
                        expiry(Some(until))
                    ),
                }
                return Ok(());
            }
            let token = sso
                .device_sign_in(|code| {
                    let page = code.verification_uri_complete.as_deref().unwrap_or(&code.verification_uri);
                    eprintln!("{}", device_code_text(&sso.profile().start_url, code, "\n  ", "\n"));
                    if !args.no_browser {
                        crate::prompt::open_browser(page);
                    }
                })
                .await?;
            match ctx.output {
                Output::Json => print_json(&serde_json::json!({
                    "profile": sso.profile().profile, "sso_session": sso.profile().session,
                    "start_url": sso.profile().start_url, "valid_until": expiry(Some(token.expires_at)), "already_signed_in": false,
                })),
                Output::Table => println!(
                    "Signed in to {} for {}; the token is valid until {}.",
                    sso.profile().start_url,
                    sso.profile().name(),
                    expiry(Some(token.expires_at))
                ),
            }
        }
        SsoCommand::Accounts(target) => {
            let accounts = ctx.sso_for(&profile, target.sso_session.as_deref()).await?.accounts().await?;
            match ctx.output {
                Output::Json => print_json(&serde_json::Value::Array(
                    accounts.iter().map(|(id, name)| serde_json::json!({"account_id": id, "name": name})).collect(),
                )),
                Output::Table => {
                    for (id, name) in &accounts {
                        println!("{id}  {name}");
                    }
                }
            }
        }
        SsoCommand::Roles(args) => {
            let sso = ctx.sso_for(&profile, args.target.sso_session.as_deref()).await?;
            let accounts = match args.account {
                Some(a) => vec![a],
                None => sso.accounts().await?.into_iter().map(|(id, _)| id).collect(),
            };
            let mut rows = Vec::new();
            for account in accounts {
                for role in sso.roles(&account).await? {
                    rows.push((account.clone(), role));
                }
            }
            match ctx.output {
                Output::Json => print_json(&serde_json::Value::Array(
                    rows.iter().map(|(a, r)| serde_json::json!({"account_id": a, "role_name": r})).collect(),
                )),
                Output::Table => {
                    for (a, r) in &rows {
                        println!("{a}  {r}");
                    }
                }
            }
        }
        SsoCommand::Populate(args) => populate(ctx, &profile, args).await?,
        SsoCommand::Ensure => {
            let creds = ctx.sso(&profile).await?.ensure_valid_credentials().await?;
            report(ctx, &profile, creds.expiration());
        }
        SsoCommand::Refresh => {
            let creds = ctx.sso(&profile).await?.refresh_credentials().await?;
            report(ctx, &profile, creds.expiration());
        }
    }
    Ok(())
}

/// What a person needs for an IAM Identity Center device sign-in: the page and the code
/// (`before_page` / `after_page` lay it out on one line or three).
pub(crate) fn device_code_text(
    start_url: &str,
    code: &sso_refresh::DeviceCode,
    before_page: &str,
    after_page: &str,
) -> String {
    format!(
        "To sign in to {start_url}, open{before_page}{}{after_page}and confirm the code {} (valid {} min).",
        code.verification_uri,
        code.user_code,
        code.expires_in.as_secs().div_ceil(60)
    )
}

fn report(ctx: &Ctx, profile: &str, until: Option<std::time::SystemTime>) {
    match ctx.output {
        Output::Json => print_json(&serde_json::json!({"profile": profile, "valid_until": expiry(until)})),
        Output::Table => println!("SSO credentials for {profile} valid until {}.", expiry(until)),
    }
}

/// The key marking the profiles `ccc sso populate` wrote (their sso-session), so `--prune`
/// removes only those.
const POPULATED: &str = "ccc_populated_from";

/// A profile name from `template`: characters a profile name cannot hold become `-`.
fn profile_name(template: &str, a: &sso_refresh::Assignment, session: &str) -> String {
    let name = template
        .replace("{account_name}", &a.account_name)
        .replace("{account_id}", &a.account_id)
        .replace("{role_name}", &a.role_name)
        .replace("{sso_session}", session);
    let name: String = name
        .chars()
        .map(|c| if c.is_control() || c.is_whitespace() || matches!(c, '[' | ']' | '#' | ';') { '-' } else { c })
        .collect();
    name.trim_matches('-').to_owned()
}

async fn populate(ctx: &Ctx, profile: &str, args: crate::cli::SsoPopulateArgs) -> CliResult {
    use std::io::IsTerminal;
    let session = args.sso_session.as_str();
    if !args.template.contains("{role_name}")
        || !(args.template.contains("{account_id}") || args.template.contains("{account_name}"))
    {
        return Err(crate::error::CliError::new(format!(
            "--template {:?} would give two roles the same profile",
            args.template
        ))
        .kind(core_types::ErrorKind::InvalidInput)
        .hint("name both the account ({account_name} or {account_id}) and the role ({role_name})"));
    }
    let files = cred_store::AwsFiles::new(&ctx.paths);
    let sso_session = files.load_sso_session(session)?.ok_or_else(|| {
        crate::error::CliError::new(format!(
            "there is no [sso-session {session}] in {}",
            ctx.paths.config_file.display()
        ))
        .kind(core_types::ErrorKind::NotConfigured)
        .hint(format!("run `ccc sso login --sso-session {session}` after adding it, as `aws configure sso` does"))
    })?;
    let sso = ctx.sso_for(profile, Some(session)).await?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg} {bar:30} {pos}/{len} accounts")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.set_message("listing roles");
        bar
    });
    let shown = bar.clone();
    let pace = sso_refresh::Pace::default().max_per_second(args.max_rps);
    let assignments = sso
        .assignments(pace, move |done, total| {
            if let Some(b) = &shown {
                b.set_length(total as u64);
                b.set_position(done as u64);
            }
        })
        .await?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let region = ctx.region_flag.clone().or_else(|| sso_session.get("sso_region").cloned());
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    let mut profiles = Vec::new();
    for a in &assignments {
        let mut name = profile_name(&args.template, a, session);
        // two accounts of the same name: the second one's profiles carry its id
        if seen.contains_key(&name) {
            name = format!("{name}.{}", a.account_id);
        }
        *seen.entry(name.clone()).or_default() += 1;
        let mut values = vec![
            ("sso_session".to_owned(), session.to_owned()),
            ("sso_account_id".to_owned(), a.account_id.clone()),
            ("sso_role_name".to_owned(), a.role_name.clone()),
        ];
        if let Some(r) = &region {
            values.push(("region".to_owned(), r.clone()));
        }
        profiles.push((name, values));
    }
    let report = files.sync_profiles((POPULATED, session), &profiles, args.prune)?;
    match ctx.output {
        Output::Json => print_json(&serde_json::json!({
            "sso_session": session, "assignments": assignments.len(),
            "added": report.added, "updated": report.kept, "skipped": report.skipped, "removed": report.removed,
        })),
        Output::Table => {
            println!(
                "{} profiles for {} roles in {} accounts: {} added, {} up to date, {} removed",
                profiles.len() - report.skipped.len(),
                assignments.len(),
                assignments.iter().map(|a| &a.account_id).collect::<std::collections::BTreeSet<_>>().len(),
                report.added.len(),
                report.kept.len(),
                report.removed.len()
            );
            for name in &report.skipped {
                println!("skipped {name}: a profile of that name exists and ccc did not write it");
            }
        }
    }
    Ok(())
}
