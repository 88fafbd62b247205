//! `ccc oauth login|token|refresh|revoke`: oauth-pkce, tokens kept in the token store.

use std::time::Duration;

use core_types::ExposeSecret;
use cred_store::TokenKey;
use oauth_pkce::{OAuthClient, OAuthConfig, OAuthError, OAuthSession};

use crate::cli::{OauthArgs, OauthCommand, OauthLogin, Output};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::{expiry, print_json};
use crate::prompt;

fn oauth_error(e: OAuthError) -> CliError {
    let hint = match core_types::Kinded::kind(&e) {
        core_types::ErrorKind::NotAuthorized => Some("run `ccc oauth login` again"),
        core_types::ErrorKind::Unavailable => Some("check the issuer URL and the network"),
        _ => None,
    };
    CliError::from_kinded(&e).hint_opt(hint)
}

async fn client(args: &OauthArgs, scopes: &[String]) -> CliResult<OAuthClient> {
    let mut config = OAuthConfig::new(&args.issuer, &args.client_id);
    if !scopes.is_empty() {
        config.scopes = scopes.to_vec();
    } else {
        config.scopes = vec!["openid".into(), "offline_access".into()];
    }
    if args.client_secret_stdin {
        config.client_secret = Some(prompt::secret_from_stdin("client secret")?);
    }
    OAuthClient::discover(config).await.map_err(oauth_error)
}

fn key(args: &OauthArgs) -> TokenKey {
    TokenKey::new("oauth", args.issuer.trim_end_matches('/'), &args.client_id)
}

/// A session over the tokens a sign-in stored. Nothing is seeded: another process may rotate
/// the tokens between this read and a refresh; the session re-reads them under the entry's
/// refresh lock.
async fn stored_session(ctx: &Ctx, args: &OauthArgs) -> CliResult<OAuthSession> {
    let stored = ctx.token_store().get(&key(args))?.ok_or_else(|| {
        CliError::new("not signed in to this provider")
            .kind(core_types::ErrorKind::NotConfigured)
            .hint("run `ccc oauth login`")
    })?;
    // the configured window (`refresh_window_seconds`), as for every other credential
    let policy = crate::context::refresh_window(&ctx.config()?)?;
    Ok(OAuthSession::from_store(client(args, &stored.scopes).await?, policy, ctx.token_store().entry(key(args))))
}

pub async fn oauth(ctx: &Ctx, cmd: OauthCommand) -> CliResult {
    match cmd {
        OauthCommand::Login(login) => self::login(ctx, login).await,
        OauthCommand::Token(args) => {
            let session = stored_session(ctx, &args).await?;
            // printing the token is this command's purpose (like `gcloud auth print-access-token`)
            println!("{}", session.access_token().await.map_err(oauth_error)?.expose_secret());
            Ok(())
        }
        OauthCommand::Refresh(args) => {
            let fresh = stored_session(ctx, &args).await?.refresh_now().await.map_err(oauth_error)?;
            report(ctx, "refreshed", &fresh);
            Ok(())
        }
        OauthCommand::Revoke(args) => {
            let store = ctx.token_store();
            if let Some(stored) = store.get(&key(&args))? {
                client(&args, &stored.scopes).await?.sign_out(&stored).await.map_err(oauth_error)?;
            }
            store.remove(&key(&args))?;
            println!("Signed out of {} ({}).", args.issuer, args.client_id);
            Ok(())
        }
    }
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
    let c = client(&login.args, &login.scopes).await?;
    let timeout = Duration::from_secs(login.timeout);
    let tokens = if login.device {
        let device = c.device_authorization().await.map_err(oauth_error)?;
        eprintln!("To sign in, open {} and enter the code {}", device.verification_uri(), device.user_code());
        if let Some(u) = device.verification_uri_complete() {
            eprintln!("(or open {u})");
        }
        c.poll_device_token(&device, timeout).await.map_err(oauth_error)?
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
        .map_err(oauth_error)?
    };
    ctx.token_store().put(&key(&login.args), &tokens)?;
    report(ctx, "stored", &tokens);
    Ok(())
}
