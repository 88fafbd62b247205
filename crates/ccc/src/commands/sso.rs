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
        SsoCommand::Logout(target) => {
            let sso = ctx.sso_for(&profile, target.sso_session.as_deref()).await?;
            sign_out(ctx, &sso).await?;
        }
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

/// Signs out of IAM Identity Center (`ccc sso logout`, and `ccc logout` on an SSO profile).
pub(crate) async fn sign_out(ctx: &Ctx, sso: &sso_refresh::AwsSso) -> CliResult {
    let told = sso.sign_out().await?;
    let name = sso.profile().name();
    match ctx.output {
        Output::Json => print_json(&serde_json::json!({"signed_out": name, "portal_told": told})),
        Output::Table if told => println!("Signed out of {} ({name}).", sso.profile().start_url),
        Output::Table => {
            println!("Signed out of {} ({name}) on this machine (the portal was not reached).", sso.profile().start_url)
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
    // the page and code are the server's words: nothing in them may drive the terminal
    let safe = crate::prompt::terminal_safe;
    format!(
        "To sign in to {}, open{before_page}{}{after_page}and confirm the code {} (valid {} min).",
        safe(start_url),
        safe(&code.verification_uri),
        safe(&code.user_code),
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

/// The longest profile name populate writes (a portal's names may be hundreds of characters).
const MAX_NAME: usize = 128;

/// A profile name from `template`: every character botocore would not read back as itself
/// (quotes, backslashes, whitespace, brackets, comment and invisible characters) becomes `-`,
/// runs of `-` become one, and the name is cut at [`MAX_NAME`] characters.
fn profile_name(template: &str, a: &sso_refresh::Assignment, session: &str) -> String {
    let name = template
        .replace("{account_name}", &a.account_name)
        .replace("{account_id}", &a.account_id)
        .replace("{role_name}", &a.role_name)
        .replace("{sso_session}", session);
    let mut out = String::new();
    for c in name.chars() {
        let keep = cred_store::validate_profile_name(&c.to_string()).is_ok();
        let c = if keep { c } else { '-' };
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out.trim_matches('-').chars().take(MAX_NAME).collect::<String>().trim_end_matches('-').to_owned()
}

/// Every assignment's profile name. A name populate wrote before stays its account's and
/// role's (read back from the marked profiles in the file), whoever else the portal adds; a
/// newcomer whose name is taken (by another account, or a profile populate did not write)
/// gets `.ACCOUNT_ID` after it; one that still has no free name is skipped with a warning.
fn assign_names(
    set: &cred_store::ProfileSet,
    session: &str,
    template: &str,
    assignments: &[sso_refresh::Assignment],
) -> (Vec<(String, usize)>, Vec<String>) {
    use std::collections::{BTreeMap, BTreeSet};
    let ours = |s: &cred_store::Settings| s.get(POPULATED).map(String::as_str) == Some(session);
    let held: BTreeMap<(&str, &str), &str> = set
        .profiles
        .iter()
        .filter(|(_, s)| ours(s))
        .filter_map(|(n, s)| Some(((s.get("sso_account_id")?.as_str(), s.get("sso_role_name")?.as_str()), n.as_str())))
        .collect();
    let mut taken: BTreeSet<String> = set.profiles.keys().cloned().collect();
    let mut named = Vec::new();
    let mut warnings = Vec::new();
    let mut newcomers = Vec::new();
    for (i, a) in assignments.iter().enumerate() {
        match held.get(&(a.account_id.as_str(), a.role_name.as_str())) {
            Some(name) => named.push(((*name).to_owned(), i)),
            None => newcomers.push(i),
        }
    }
    // newcomers in account-id order, so which one gets the plain name does not depend on the
    // order the portal lists them in
    newcomers.sort_by_key(|&i| (&assignments[i].account_id, &assignments[i].role_name));
    for i in newcomers {
        let a = &assignments[i];
        let base = profile_name(template, a, session);
        let candidates = [base.clone(), format!("{base}.{}", a.account_id)];
        match candidates.into_iter().find(|n| cred_store::validate_profile_name(n).is_ok() && !taken.contains(n)) {
            Some(name) => {
                taken.insert(name.clone());
                named.push((name, i));
            }
            None => warnings.push(format!(
                "skipped role {:?} of account {} ({:?}): no profile name is free for it (tried {base:?})",
                a.role_name, a.account_id, a.account_name
            )),
        }
    }
    named.sort_by_key(|(_, i)| *i);
    (named, warnings)
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
    let (named, warnings) = assign_names(&files.profile_set()?, session, &args.template, &assignments);
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let mut profiles = Vec::new();
    for (name, i) in named {
        let a = &assignments[i];
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
            "warnings": warnings,
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
