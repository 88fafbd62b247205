//! `ccc keys`: IAM users' long-term keys kept sealed in the token store (aws-vault's `add`,
//! `rotate`, `list`, `remove`), and `import` from `~/.aws/credentials`. The profile is pointed
//! at `ccc creds`, which serves GetSessionToken sessions of the kept key (the engine's
//! `Base::StoredKey`).

use core_types::{ErrorKind, ExposeSecret, SecretString};
use cred_store::{AwsFiles, StoredKey};

use crate::cli::{KeysCommand, Output};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::print_json;

pub async fn keys(ctx: &Ctx, cmd: KeysCommand) -> CliResult {
    let store = ctx.token_store();
    match cmd {
        KeysCommand::Add { profile, stdin } => {
            cred_store::validate_profile_name(&profile)?;
            let files = AwsFiles::new(&ctx.paths);
            if files.load_credentials(&profile)?.is_some() {
                return Err(CliError::new(format!(
                    "profile {profile} has keys in {}",
                    ctx.paths.credentials_file.display()
                ))
                .kind(ErrorKind::InvalidInput)
                .hint(format!("move them with `ccc keys import {profile}`")));
            }
            let (id, secret) = if stdin { from_stdin()? } else { asked()? };
            keep(ctx, &store, &profile, StoredKey::new(id.clone(), secret, ctx.clock.now()))?;
            eprintln!(
                "kept key {id} for profile {profile} ({}); profile {profile} now runs `ccc creds`",
                store.describe()
            );
            Ok(())
        }
        KeysCommand::Import { profile } => {
            let files = AwsFiles::new(&ctx.paths);
            let Some(keys) = files.load_credentials(&profile)? else {
                return Err(CliError::new(format!(
                    "profile {profile} has no keys in {}",
                    ctx.paths.credentials_file.display()
                ))
                .kind(ErrorKind::NotConfigured)
                .hint(format!("`ccc keys add {profile}` keeps a key you paste")));
            };
            if keys.session_token().is_some() {
                return Err(CliError::new(format!(
                    "profile {profile} holds temporary credentials (a session token), not an IAM user's key"
                ))
                .kind(ErrorKind::InvalidInput)
                .hint("only long-term keys are kept; temporary ones expire on their own"));
            }
            let id = keys.access_key_id().expose_secret().to_owned();
            let key = StoredKey::new(id.clone(), keys.secret_access_key().clone(), ctx.clock.now());
            // kept first: were the file edits to fail, the key is in both places, never lost
            keep(ctx, &store, &profile, key)?;
            files.remove_static_keys(&profile)?;
            eprintln!(
                "moved key {id} of profile {profile} out of {} into {}",
                ctx.paths.credentials_file.display(),
                store.describe()
            );
            Ok(())
        }
        KeysCommand::List => {
            let now = ctx.clock.now();
            let mut rows = Vec::new();
            for profile in store.access_key_profiles()? {
                let Some(k) = store.access_key(&profile)? else { continue };
                rows.push((profile, k));
            }
            let days = |t: std::time::SystemTime| now.duration_since(t).map_or(0, |d| d.as_secs() / 86_400);
            match ctx.output {
                Output::Json => print_json(&serde_json::Value::Array(
                    rows.iter()
                        .map(|(p, k)| {
                            serde_json::json!({
                                "profile": p,
                                "access_key_id": k.access_key_id,
                                "added_at": cred_store::format_rfc3339(k.added_at),
                                "age_days": days(k.rotated_at.unwrap_or(k.added_at)),
                                "rotated_at": k.rotated_at.map(cred_store::format_rfc3339),
                                "rotation_interrupted": k.rotation.is_some(),
                            })
                        })
                        .collect(),
                )),
                Output::Table => {
                    let width = rows.iter().map(|(p, _)| p.chars().count()).max().unwrap_or(0).max("PROFILE".len());
                    println!("{:<width$}  {:<20}  {:>8}  LAST ROTATION", "PROFILE", "ACCESS KEY ID", "AGE");
                    for (p, k) in &rows {
                        let rotated = k.rotated_at.map_or_else(|| "never".to_owned(), cred_store::format_rfc3339);
                        let note =
                            if k.rotation.is_some() { " (interrupted: `ccc keys rotate` finishes it)" } else { "" };
                        let age = format!("{} d", days(k.rotated_at.unwrap_or(k.added_at)));
                        println!("{p:<width$}  {:<20}  {age:>8}  {rotated}{note}", k.access_key_id);
                    }
                }
            }
            Ok(())
        }
        KeysCommand::Remove { profile } => {
            if !store.remove_access_key(&profile)? {
                return Err(CliError::new(format!("no key is kept for profile {profile}"))
                    .kind(ErrorKind::NotConfigured)
                    .hint("`ccc keys list` shows the kept keys"));
            }
            eprintln!(
                "forgot the key of profile {profile}; IAM still has it (delete it there if it is no longer used)"
            );
            Ok(())
        }
        KeysCommand::Rotate { profile } => {
            let config = ctx.config()?;
            let options = ctx.engine_options(&config, cred_store::DEFAULT_REFRESH_LOCK_WAIT)?;
            let done = cloud_sessions::rotate_access_key(&profile, &options)
                .await
                .map_err(|e| ctx.profile_error(&profile, e))?;
            for r in &done.recovered {
                eprintln!("recovered an interrupted rotation: {r}");
            }
            eprintln!(
                "rotated profile {profile}: {} replaced by {} (the old key is deleted in IAM)",
                done.old_access_key_id, done.new_access_key_id
            );
            Ok(())
        }
    }
}

/// `ccc console`: a federation sign-in URL for the profile, opened in the browser or printed.
pub async fn console(ctx: &Ctx, args: crate::cli::ConsoleArgs) -> CliResult {
    let config = ctx.config()?;
    let profile = ctx.profile(&config);
    let options = ctx.engine_options(&config, cred_store::DEFAULT_REFRESH_LOCK_WAIT)?;
    let mut request = cloud_sessions::console::ConsoleRequest::default();
    request.destination = args.destination.clone();
    request.region = ctx.region_flag.clone();
    if let Some(endpoint) = &ctx.federation_endpoint {
        request.federation_endpoint = endpoint.clone();
    }
    let named = match ctx.profile_flag {
        Some(_) => cloud_sessions::Named::Explicitly,
        None => cloud_sessions::Named::ByDefault,
    };
    let (url, federated) = cloud_sessions::console::console_url(&profile, named, &request, &options)
        .await
        .map_err(|e| ctx.profile_error(&profile, e))?;
    let how = if federated { " (a federated user's session: GetFederationToken with the profile's keys)" } else { "" };
    if args.print || !crate::prompt::open_browser(&url) {
        // the URL signs in whoever has it: on stdout only, never in a log
        println!("{url}");
        eprintln!("the sign-in URL for profile {profile}{how} works once, for 15 minutes");
    } else {
        eprintln!("opened the console for profile {profile}{how} in the browser");
    }
    Ok(())
}

/// Keeps `key` for `profile` and points the profile at `ccc creds` (whose engine serves
/// sessions of it), leaving the profile's other settings as they are.
fn keep(ctx: &Ctx, store: &cred_store::TokenStore, profile: &str, key: StoredKey) -> CliResult {
    if !key.access_key_id.starts_with("AKIA") {
        return Err(CliError::new(format!(
            "{} is not an IAM user's access key id (they start with AKIA)",
            key.access_key_id
        ))
        .kind(ErrorKind::InvalidInput));
    }
    store.put_access_key(profile, &key)?;
    let line = super::creds::process_line(profile)?;
    AwsFiles::new(&ctx.paths).set_profile_values(profile, &[("credential_process", line.as_str())])?;
    Ok(())
}

/// The key id and secret from standard input: two lines.
fn from_stdin() -> CliResult<(String, SecretString)> {
    let id = crate::prompt::secret_from_stdin("access key id")?.expose_secret().trim().to_owned();
    let secret = crate::prompt::secret_from_stdin("secret access key")?;
    Ok((id, secret))
}

/// The key id and secret asked on the terminal (the secret not echoed).
fn asked() -> CliResult<(String, SecretString)> {
    if !crate::prompt::interactive() {
        return Err(CliError::new("no terminal to ask the key on")
            .kind(ErrorKind::InvalidInput)
            .hint("give the key id and secret on standard input, one per line, with --stdin"));
    }
    let id = crate::prompt::ask("Access key id", None)?.trim().to_owned();
    let secret = crate::prompt::ask_secret("Secret access key")?;
    Ok((id, secret))
}
