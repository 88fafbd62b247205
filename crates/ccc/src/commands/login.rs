//! `ccc login` and `ccc logout`.

use cognito_auth::{AuthOutcome, Challenge, ChallengeAnswer, ChallengeName, CognitoAuthenticator, CognitoSource};
use core_types::{ExposeSecret, SecretString, TokenSet};
use cred_store::{AwsFiles, Outcome, set_profile_setting};

use crate::cli::{LoginArgs, Output, ProfileArg};
use crate::context::{Ctx, USERNAME_KEY, signed_in_user};
use crate::error::{CliError, CliResult};
use crate::output::{expiry, print_json, print_rows};
use crate::prompt;

fn answer(challenge: &Challenge) -> CliResult<ChallengeAnswer> {
    if !prompt::interactive() {
        // a person must answer: exit 3, like any sign-in that needs one
        return Err(CliError::new(format!("sign-in needs the {:?} challenge answered", challenge.name))
            .kind(core_types::ErrorKind::NotAuthorized)
            .hint("run `ccc login` on a terminal"));
    }
    Ok(match &challenge.name {
        ChallengeName::NewPasswordRequired => {
            eprintln!("A new password is required for {}.", challenge.username());
            let password = prompt::ask_secret("New password")?;
            let again = prompt::ask_secret("Repeat new password")?;
            if password.expose_secret() != again.expose_secret() {
                return Err(CliError::new("the passwords do not match").hint("run `ccc login` again"));
            }
            let required: Vec<String> = challenge
                .parameters
                .get("requiredAttributes")
                .and_then(|v| serde_json::from_str(v).ok())
                .unwrap_or_default();
            let mut attributes = Vec::new();
            for attr in required {
                let name = attr.trim_start_matches("userAttributes.").to_owned();
                let value = prompt::ask(&name, None)?;
                attributes.push((name, value));
            }
            ChallengeAnswer::NewPassword { password, attributes }
        }
        ChallengeName::SmsMfa | ChallengeName::SoftwareTokenMfa => {
            let label = if challenge.name == ChallengeName::SmsMfa { "SMS code" } else { "Authenticator code" };
            ChallengeAnswer::MfaCode(prompt::ask_secret(label)?.expose_secret().to_owned())
        }
        ChallengeName::SelectMfaType => ChallengeAnswer::SelectMfaType(prompt::ask(
            "MFA type (SMS_MFA or SOFTWARE_TOKEN_MFA)",
            Some("SOFTWARE_TOKEN_MFA"),
        )?),
        other => return Err(CliError::new(format!("the {other:?} challenge is not supported by ccc yet"))),
    })
}

async fn sign_in(auth: &CognitoAuthenticator, username: &str, password: &SecretString) -> CliResult<TokenSet> {
    let mut outcome = auth.authenticate(username, password).await?;
    for _ in 0..5 {
        match outcome {
            AuthOutcome::Tokens(t) => return Ok(t),
            AuthOutcome::Challenge(c) => {
                let a = answer(&c)?;
                outcome = auth.respond_to_challenge(c, a).await?;
            }
        }
    }
    Err(CliError::new("too many sign-in challenges in a row"))
}

pub async fn login(ctx: &Ctx, args: LoginArgs) -> CliResult {
    let config = ctx.config()?;
    let cognito = ctx.cognito_config(&config)?;
    let profile = ctx.profile(&config, args.profile.as_deref());
    cred_store::validate_profile_name(&profile)?;
    let username = match args.username {
        Some(u) => u,
        None if prompt::interactive() => prompt::ask("Username", signed_in_user(&config, &profile).as_deref())?,
        None => return Err(CliError::new("no username").hint("pass --username")),
    };
    let password = if args.password_stdin {
        prompt::secret_from_stdin("password")?
    } else if prompt::interactive() {
        prompt::ask_secret("Password")?
    } else {
        return Err(CliError::new("no terminal to ask for the password").hint("pass --password-stdin"));
    };
    let auth = ctx.authenticator(&cognito);
    let tokens = sign_in(&auth, &username, &password).await?;
    let id_token = tokens.id_token.clone().ok_or_else(|| CliError::new("Cognito returned no ID token"))?;
    let creds = auth.get_aws_credentials(&id_token).await?;

    AwsFiles::new(&ctx.paths).save_credentials(&profile, &creds)?;
    ctx.token_store().put(&CognitoSource::token_key(&cognito.user_pool_id, &username), &tokens)?;
    // the profile remembers its own user: another profile's sign-in never changes it
    set_profile_setting(&ctx.paths, &profile, USERNAME_KEY, Some(&username))?;
    let config = ctx.config()?;
    ctx.refreshing(&config, &profile)?.seed(creds.clone()).await?;
    let ledger = ctx.ledger().await?;
    let source = format!("cognito:{}", cognito.user_pool_id);
    ledger
        .record_attempt(&source, &profile, ctx.clock.now(), &Outcome::Success { expires_at: creds.expiration() })
        .await?;
    ledger.close().await;

    match ctx.output {
        Output::Json => print_json(&serde_json::json!({
            "username": username, "profile": profile, "expires_at": expiry(creds.expiration()),
        })),
        Output::Table => {
            println!("Signed in as {username}.");
            print_rows(&[
                ("profile", profile.clone()),
                ("credentials file", ctx.paths.credentials_file.display().to_string()),
                ("valid until", expiry(creds.expiration())),
            ]);
        }
    }
    Ok(())
}

pub async fn logout(ctx: &Ctx, args: ProfileArg) -> CliResult {
    let config = ctx.config()?;
    let cognito = ctx.cognito_config(&config)?;
    let profile = ctx.profile(&config, args.profile.as_deref());
    cred_store::validate_profile_name(&profile)?;
    let username = signed_in_user(&config, &profile);
    let mut notes = Vec::new();
    if let Some(user) = &username {
        let key = CognitoSource::token_key(&cognito.user_pool_id, user);
        let store = ctx.token_store();
        if let Some(tokens) = store.get(&key)? {
            let auth = ctx.authenticator(&cognito);
            // GlobalSignOut ends every session of the user (it needs a live access token);
            // RevokeToken kills the refresh token itself, so a stolen copy dies too, even
            // once the access token has expired
            if let Some(access) = &tokens.access_token
                && let Err(e) = auth.sign_out(access).await
            {
                notes.push(format!("global sign-out failed ({e})"));
            }
            if let Some(refresh) = &tokens.refresh_token
                && let Err(e) = auth.revoke_token(refresh).await
            {
                notes.push(format!("revoking the refresh token failed ({e})"));
            }
        }
        // the tokens stay while another profile is signed in as the same user
        let others = config.profiles_with(USERNAME_KEY, user).into_iter().filter(|p| *p != profile).count();
        if others == 0 {
            store.remove(&key)?;
        }
        set_profile_setting(&ctx.paths, &profile, USERNAME_KEY, None)?;
        if config.profile_setting(&profile, USERNAME_KEY).is_none() {
            // the user came from a config written before profiles remembered theirs
            cred_store::set_config_value(&ctx.paths, USERNAME_KEY, "")?;
        }
    }
    let removed = AwsFiles::new(&ctx.paths).remove_credentials(&profile)?;
    ctx.refreshing_cache_remove(&profile)?;
    for n in &notes {
        eprintln!("warning: {n}; local credentials removed anyway");
    }
    match ctx.output {
        Output::Json => {
            print_json(&serde_json::json!({"profile": profile, "removed": removed, "signed_out": notes.is_empty()}))
        }
        Output::Table => println!(
            "Signed out{}; profile {profile} {}.",
            username.map(|u| format!(" {u}")).unwrap_or_default(),
            if removed { "removed" } else { "was not in the credentials file" }
        ),
    }
    Ok(())
}
