//! `ccc oauth add|list|remove|login|token|refresh|revoke|exec`: oauth-pkce, providers saved
//! by name in the ccc config, tokens (and client secrets) in the token store.

use std::process::ExitCode;
use std::time::Duration;

use core_types::{ExposeSecret, SecretString};
use cred_store::TokenKey;
use oauth_pkce::{OAuthClient, OAuthConfig, OAuthError, OAuthSession};

use crate::cli::{OauthAdd, OauthArgs, OauthCommand, OauthExec, OauthLogin, Output};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::oauth_providers::{Provider, check_var};
use crate::output::{expiry, print_json};
use crate::prompt;

/// What a command acts on: a saved provider, or `--issuer` / `--client-id` given.
struct Target {
    /// The saved provider's name, if any (for hints).
    name: Option<String>,
    issuer: String,
    client_id: String,
    secret: Option<SecretString>,
    scopes: Vec<String>,
    token_var: String,
}

impl Target {
    /// Where its tokens are kept (the same for a saved provider and the flags).
    fn key(&self) -> TokenKey {
        TokenKey::new("oauth", self.issuer.trim_end_matches('/'), &self.client_id)
    }

    /// Its team store entry: the same on every machine.
    fn fleet_key(&self) -> String {
        format!("oauth|{}|{}", self.issuer.trim_end_matches('/'), self.client_id)
    }

    /// `ccc oauth login NAME` or `ccc oauth login --issuer …`.
    fn login_hint(&self) -> String {
        match &self.name {
            Some(n) => format!("run `ccc oauth login {n}`"),
            None => "run `ccc oauth login`".to_owned(),
        }
    }
}

fn target(ctx: &Ctx, args: &OauthArgs) -> CliResult<Target> {
    let stdin_secret = if args.client_secret_stdin { Some(prompt::secret_from_stdin("client secret")?) } else { None };
    match (&args.name, &args.issuer, &args.client_id) {
        (Some(name), _, _) => {
            let p = Provider::load(&ctx.config()?, name)?;
            let secret = match stdin_secret {
                Some(s) => Some(s),
                None => p.secret(&ctx.token_store())?,
            };
            Ok(Target {
                name: Some(p.name.clone()),
                token_var: p.token_var().to_owned(),
                issuer: p.issuer,
                client_id: p.client_id,
                secret,
                scopes: p.scopes,
            })
        }
        (None, Some(issuer), Some(client_id)) => Ok(Target {
            name: None,
            issuer: issuer.clone(),
            client_id: client_id.clone(),
            secret: stdin_secret,
            scopes: Vec::new(),
            token_var: crate::oauth_providers::DEFAULT_TOKEN_VAR.to_owned(),
        }),
        _ => Err(CliError::new("name a saved provider, or give --issuer and --client-id")
            .hint("`ccc oauth list` shows the saved providers")),
    }
}

fn oauth_error(e: OAuthError, t: Option<&Target>) -> CliError {
    // every hint names an OAuth command: a revoked or expired sign-in is renewed by
    // `ccc oauth login NAME`, never by the Cognito sign-in's `ccc login`
    let hint = match core_types::Kinded::kind(&e) {
        core_types::ErrorKind::NotAuthorized | core_types::ErrorKind::ExpiredToken => {
            Some(t.map(Target::login_hint).unwrap_or_else(|| "run `ccc oauth login NAME` again".to_owned()))
        }
        core_types::ErrorKind::Unavailable => Some("check the issuer URL and the network".to_owned()),
        core_types::ErrorKind::NotConfigured => Some("`ccc oauth list` shows the saved providers".to_owned()),
        _ => None,
    };
    let e = CliError::from_kinded(&e);
    match hint {
        Some(h) => e.hint(h),
        None => e,
    }
}

async fn client(t: &Target, scopes: &[String]) -> CliResult<OAuthClient> {
    OAuthClient::discover(config(t, scopes)).await.map_err(|e| oauth_error(e, Some(t)))
}

fn config(t: &Target, scopes: &[String]) -> OAuthConfig {
    let mut config = OAuthConfig::new(&t.issuer, &t.client_id);
    config.scopes = if !scopes.is_empty() {
        scopes.to_vec()
    } else if !t.scopes.is_empty() {
        t.scopes.clone()
    } else {
        vec!["openid".into(), "offline_access".into()]
    };
    config.client_secret = t.secret.clone();
    // the same per-attempt deadline as every AWS call ccc makes (the library's default is
    // 30 s, and a stalled provider cost a reader that much per retry)
    config.with_attempt_timeout(crate::context::ATTEMPT_TIMEOUT)
}

/// A session over the tokens a sign-in stored. Nothing is seeded: another process may rotate
/// the tokens between this read and a refresh; the session re-reads them under the entry's
/// refresh lock. The issuer is asked for its discovery document only when a refresh is due:
/// a valid stored token is printed without a network call (and while the issuer is down).
fn stored_session(ctx: &Ctx, t: &Target) -> CliResult<OAuthSession> {
    let ccc_config = ctx.config()?;
    let team = ctx.team_store(&ccc_config)?;
    let stored = ctx.token_store().get(&t.key())?;
    // on a machine of a fleet, the team store may hold the sign-in this machine never made
    if stored.is_none() && team.is_none() {
        return Err(CliError::new("not signed in to this provider")
            .kind(core_types::ErrorKind::NotConfigured)
            .hint(t.login_hint()));
    }
    // the configured window (`refresh_window_seconds`), as for every other credential
    let policy = crate::context::refresh_window(&ccc_config)?;
    let scopes = stored.map(|s| s.scopes).unwrap_or_default();
    let (config, entry) = (config(t, &scopes), ctx.token_store().entry(t.key()));
    Ok(match team {
        // the fleet's entry is keyed alike on every machine: provider, issuer and client
        Some(team) => OAuthSession::discovering_in_fleet(config, policy, entry, team.entry(t.fleet_key())),
        None => OAuthSession::discovering(config, policy, entry),
    })
}

pub async fn oauth(ctx: &Ctx, cmd: OauthCommand) -> CliResult {
    match cmd {
        OauthCommand::Add(add) => self::add(ctx, add).await,
        OauthCommand::List => list(ctx),
        OauthCommand::Remove { name } => {
            let mut config = ctx.config()?;
            let p = Provider::load(&config, &name)?;
            let t = Target {
                name: Some(p.name.clone()),
                issuer: p.issuer.clone(),
                client_id: p.client_id.clone(),
                secret: None,
                scopes: Vec::new(),
                token_var: String::new(),
            };
            ctx.token_store().remove(&t.key())?;
            p.remove_secret(&ctx.token_store())?;
            Provider::remove_from(&mut config, &name);
            cred_store::save_config(&ctx.paths, &config)?;
            println!("Removed provider {name} (its stored tokens and client secret too).");
            Ok(())
        }
        OauthCommand::Login(login) => self::login(ctx, login).await,
        OauthCommand::Token(args) => {
            let t = target(ctx, &args)?;
            let session = stored_session(ctx, &t)?;
            // printing the token is this command's purpose (like `gcloud auth print-access-token`)
            println!("{}", session.access_token().await.map_err(|e| oauth_error(e, Some(&t)))?.expose_secret());
            Ok(())
        }
        OauthCommand::Refresh(args) => {
            let t = target(ctx, &args)?;
            let fresh = stored_session(ctx, &t)?.refresh_now().await.map_err(|e| oauth_error(e, Some(&t)))?;
            report(ctx, "refreshed", &fresh);
            Ok(())
        }
        OauthCommand::Revoke(args) => {
            let t = target(ctx, &args)?;
            let store = ctx.token_store();
            if let Some(stored) = store.get(&t.key())? {
                client(&t, &stored.scopes).await?.sign_out(&stored).await.map_err(|e| oauth_error(e, Some(&t)))?;
            }
            store.remove(&t.key())?;
            if let Some(team) = ctx.team_store(&ctx.config()?)? {
                // the fleet's tokens may be newer than this machine's: revoked too, and gone
                let entry = team.entry(t.fleet_key());
                if let Some((theirs, _)) = entry.get::<core_types::TokenSet>().await? {
                    client(&t, &theirs.scopes).await?.sign_out(&theirs).await.map_err(|e| oauth_error(e, Some(&t)))?;
                    team.forget(entry.key()).await?;
                    eprintln!("removed from the team store: every machine of the fleet is signed out");
                }
            }
            println!("Signed out of {} ({}).", t.issuer, t.client_id);
            Ok(())
        }
        OauthCommand::Exec(_) => Ok(()), // run by `exec`, which returns the command's exit code
    }
}

async fn add(ctx: &Ctx, add: OauthAdd) -> CliResult {
    let mut p = Provider::new(&add.name, &add.issuer, &add.client_id)?;
    p.scopes = add.scopes;
    if let Some(v) = &add.token_var {
        check_var(v)?;
        p.token_var = Some(v.clone());
    }
    let secret = if add.client_secret_stdin { Some(prompt::secret_from_stdin("client secret")?) } else { None };
    p.confidential = secret.is_some();
    if !add.no_check {
        // a typo in the issuer is found now, not at the first sign-in
        let t = Target {
            name: Some(p.name.clone()),
            issuer: p.issuer.clone(),
            client_id: p.client_id.clone(),
            secret: secret.clone(),
            scopes: p.scopes.clone(),
            token_var: String::new(),
        };
        client(&t, &[]).await?;
    }
    if let Some(s) = secret {
        p.save_secret(&ctx.token_store(), s)?;
    }
    let mut config = ctx.config()?;
    p.write_to(&mut config);
    cred_store::save_config(&ctx.paths, &config)?;
    println!("Saved provider {} ({} at {}); sign in with `ccc oauth login {}`.", p.name, p.client_id, p.issuer, p.name);
    Ok(())
}

fn list(ctx: &Ctx) -> CliResult {
    let store = ctx.token_store();
    let rows: Vec<serde_json::Value> = Provider::list(&ctx.config()?)?
        .into_iter()
        .map(|p| {
            let key = TokenKey::new("oauth", &p.issuer, &p.client_id);
            let tokens = store.get(&key).ok().flatten();
            serde_json::json!({
                "name": p.name, "issuer": p.issuer, "client_id": p.client_id, "scopes": p.scopes,
                "confidential": p.confidential, "token_var": p.token_var(),
                "signed_in": tokens.as_ref().is_some_and(|t| t.refresh_token.is_some() || t.access_token.is_some()),
                "access_token_valid_until": tokens.map(|t| expiry(t.expires_at)),
            })
        })
        .collect();
    match ctx.output {
        Output::Json => print_json(&serde_json::Value::Array(rows)),
        Output::Table => {
            for r in &rows {
                let signed = if r["signed_in"] == true { "signed in" } else { "not signed in" };
                println!(
                    "{}  {}  {}  {signed}",
                    r["name"].as_str().unwrap_or_default(),
                    r["issuer"].as_str().unwrap_or_default(),
                    r["client_id"].as_str().unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

fn report(ctx: &Ctx, what: &str, tokens: &core_types::TokenSet) {
    match ctx.output {
        Output::Json => print_json(
            &serde_json::json!({"status": what, "expires_at": expiry(tokens.expires_at), "refresh_token": tokens.refresh_token.is_some()}),
        ),
        Output::Table => println!("Tokens {what}; access token valid until {}.", expiry(tokens.expires_at)),
    }
}

async fn login(ctx: &Ctx, login: OauthLogin) -> CliResult {
    let t = target(ctx, &login.args)?;
    let c = client(&t, &login.scopes).await?;
    let timeout = Duration::from_secs(login.timeout);
    let err = |e| oauth_error(e, Some(&t));
    let tokens = if login.device {
        let device = c.device_authorization().await.map_err(err)?;
        crate::prompt::show_device_code(&device);
        c.poll_device_token(&device, timeout).await.map_err(err)?
    } else {
        let no_browser = login.no_browser;
        c.login_with_loopback(
            |url| {
                eprintln!("Open this URL to sign in:\n{url}");
                !no_browser && crate::prompt::open_browser(url.as_str())
            },
            timeout,
        )
        .await
        .map_err(err)?
    };
    ctx.token_store().put(&t.key(), &tokens)?;
    if let Some(team) = ctx.team_store(&ctx.config()?)? {
        // the rest of the fleet takes the sign-in from here
        team.entry(t.fleet_key()).put(&tokens, ctx.clock.now()).await?;
    }
    report(ctx, "stored", &tokens);
    Ok(())
}

/// `ccc oauth exec`: the command runs with a valid access token in its environment (the
/// provider's variable, `--var`, or ACCESS_TOKEN); its exit code is ccc's.
pub async fn exec(ctx: &Ctx, args: OauthExec) -> CliResult<ExitCode> {
    let t = target(ctx, &args.args)?;
    let var = args.var.clone().unwrap_or_else(|| t.token_var.clone());
    check_var(&var)?;
    let token = stored_session(ctx, &t)?.access_token().await.map_err(|e| oauth_error(e, Some(&t)))?;
    let Some((program, rest)) = args.command.split_first() else {
        return Err(CliError::new("no command to run").hint("ccc oauth exec NAME -- COMMAND ARGS…"));
    };
    let status =
        tokio::process::Command::new(program).args(rest).env(&var, token.expose_secret()).status().await.map_err(
            |e| {
                CliError::new(format!("cannot run {program}: {e}"))
                    .hint("check the command name and that it is on PATH")
            },
        )?;
    Ok(super::exec::exit_code(status))
}
