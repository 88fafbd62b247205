//! `ccc login` and `ccc logout`.

use cognito_auth::{Challenge, ChallengeAnswer, ChallengeName, CognitoError, PromptError, signed_in_user};
use core_types::ExposeSecret;

use crate::cli::{LoginArgs, Output};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::{expiry, print_json, print_rows};
use crate::prompt::{self, Asking};

/// A sign-in challenge answered by a person, asked where `asking` says: `ccc login`'s own
/// terminal, or the controlling terminal of a credential_process (whose stdin and stdout
/// belong to the AWS tool). Nobody to ask: exit 3 naming `ccc login`.
pub(crate) fn answer(challenge: &Challenge, asking: Asking) -> CliResult<ChallengeAnswer> {
    if !asking.possible() {
        // a person must answer: exit 3, like any sign-in that needs one
        return Err(CliError::new(format!("sign-in needs the {:?} challenge answered", challenge.name))
            .kind(core_types::ErrorKind::NotAuthorized)
            .hint("run `ccc login` on a terminal"));
    }
    Ok(match &challenge.name {
        ChallengeName::NewPasswordRequired => {
            asking.say(&format!("A new password is required for {}.", challenge.username()))?;
            let password = asking.secret("New password")?;
            let again = asking.secret("Repeat new password")?;
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
                let value = asking.ask(&name, None)?;
                attributes.push((name, value));
            }
            ChallengeAnswer::NewPassword { password, attributes }
        }
        ChallengeName::SmsMfa | ChallengeName::SoftwareTokenMfa => {
            let label = if challenge.name == ChallengeName::SmsMfa { "SMS code" } else { "Authenticator code" };
            ChallengeAnswer::MfaCode(asking.secret(label)?.expose_secret().to_owned())
        }
        ChallengeName::MfaSetup => {
            // the pool requires an authenticator app: show the secret to add, then its code
            if let Some(setup) = challenge.totp_setup() {
                asking.say(
                    "This account needs an authenticator app. Add this secret to it (or scan the URI as a QR code):",
                )?;
                asking.say(&format!("  secret: {}", setup.secret.expose_secret()))?;
                asking.say(&format!("  uri:    {}", setup.uri.expose_secret()))?;
            }
            ChallengeAnswer::MfaCode(asking.secret("The app's current code")?.expose_secret().to_owned())
        }
        ChallengeName::SelectMfaType => ChallengeAnswer::SelectMfaType(
            asking.ask("MFA type (SMS_MFA or SOFTWARE_TOKEN_MFA)", Some("SOFTWARE_TOKEN_MFA"))?,
        ),
        ChallengeName::CustomChallenge => {
            // the pool's own question: its parameters, as the pool sent them (made safe to print)
            let mut asked: Vec<_> = challenge.parameters.iter().filter(|(k, _)| k.as_str() != "USERNAME").collect();
            asked.sort();
            for (k, v) in asked {
                asking.say(&format!("{}: {}", crate::prompt::terminal_safe(k), crate::prompt::terminal_safe(v)))?;
            }
            ChallengeAnswer::Custom(asking.secret("Answer")?)
        }
        other => return Err(CliError::new(format!("the {other:?} challenge is not supported by ccc yet"))),
    })
}

pub async fn login(ctx: &Ctx, args: LoginArgs) -> CliResult {
    let config = ctx.config()?;
    let profile = ctx.profile(&config);
    let aws = cred_store::AwsFiles::new(&ctx.paths).load_profile(&profile)?;
    if let Some((role, serial)) = aws.as_ref().and_then(crate::mfa_role::role_and_device) {
        return mfa_login(ctx, &config, &profile, (&role, &serial), args.password_stdin).await;
    }
    // a profile served by credential_process gets no static keys: they would shadow it
    let process_profile = aws.is_some_and(|p| p.credential_process.is_some());
    let cognito = ctx
        .cognito_profile(&config, &profile)?
        .ledger(ctx.ledger().await?)
        .write_credentials_file(!process_profile)
        .build();
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
    let signed_in = cognito
        .sign_in(&username, &password, |c| answer(c, Asking::Stdio).map_err(|e| Box::new(e) as PromptError))
        .await
        .map_err(|e| match e {
            // the prompt's own error (its hint names what to do)
            CognitoError::Prompt(inner) => match inner.downcast::<CliError>() {
                Ok(cli) => *cli,
                Err(other) => CliError::from(CognitoError::Prompt(other)),
            },
            e => e.into(),
        })?;
    let creds = signed_in.credentials;

    match ctx.output {
        Output::Json => print_json(&serde_json::json!({
            "username": username, "profile": profile, "expires_at": expiry(creds.expiration()),
            "credential_process": process_profile,
        })),
        Output::Table => {
            println!("Signed in as {username}.");
            let served = if process_profile {
                ("credential_process", ctx.paths.config_file.display().to_string())
            } else {
                ("credentials file", ctx.paths.credentials_file.display().to_string())
            };
            print_rows(&[("profile", profile.clone()), served, ("valid until", expiry(creds.expiration()))]);
        }
    }
    Ok(())
}

/// A role profile that names `mfa_serial`: the role assumed with a code from the device (asked
/// only when the kept credentials have ended), kept for every process that uses the profile.
async fn mfa_login(
    ctx: &Ctx,
    config: &cred_store::CccConfig,
    profile: &str,
    (role, serial): (&str, &str),
    code_stdin: bool,
) -> CliResult {
    const BUDGET: std::time::Duration = std::time::Duration::from_secs(30);
    let (creds, already) = match ctx.profile_credentials(config, profile, BUDGET).await {
        Ok(served) => (cred_store::from_sdk_credentials(&served.credentials), true),
        Err(e) if e.kind == core_types::ErrorKind::NotAuthorized => {
            let code = if code_stdin {
                prompt::secret_from_stdin("MFA code")?
            } else if prompt::interactive() {
                prompt::ask_secret(&format!("MFA code for {serial}"))?
            } else {
                return Err(CliError::new("no terminal to ask for the MFA code").hint("pass it with --password-stdin"));
            };
            (ctx.assume_with_mfa_code(config, profile, code, BUDGET).await?, false)
        }
        Err(e) => return Err(e),
    };
    match ctx.output {
        Output::Json => print_json(&serde_json::json!({
            "profile": profile, "role_arn": role.strip_prefix("role "), "mfa_serial": serial,
            "expires_at": expiry(creds.expiration()), "already_valid": already,
        })),
        Output::Table => {
            println!("{}", if already { "The credentials are still valid." } else { "Signed in with MFA." });
            print_rows(&[
                ("profile", profile.to_owned()),
                ("with", role.to_owned()),
                ("valid until", expiry(creds.expiration())),
            ]);
        }
    }
    Ok(())
}

pub async fn logout(ctx: &Ctx) -> CliResult {
    let config = ctx.config()?;
    let profile = ctx.profile(&config);
    // an IAM Identity Center profile signs out of its portal
    if cognito_auth::signed_in_user(&config, &profile).is_none()
        && cred_store::AwsFiles::new(&ctx.paths).load_profile(&profile)?.is_some_and(|p| p.is_sso())
    {
        let sso = ctx.sso(&profile).await?;
        return super::sso::sign_out(ctx, &sso).await;
    }
    let out = ctx.cognito_profile(&config, &profile)?.build().sign_out().await?;
    for n in &out.warnings {
        eprintln!("warning: {n}; local credentials removed anyway");
    }
    match ctx.output {
        Output::Json => print_json(
            &serde_json::json!({"profile": profile, "removed": out.removed_credentials, "signed_out": out.warnings.is_empty()}),
        ),
        Output::Table => println!(
            "Signed out{}; profile {profile} {}.",
            out.username.map(|u| format!(" {u}")).unwrap_or_default(),
            if out.removed_credentials { "removed" } else { "was not in the credentials file" }
        ),
    }
    Ok(())
}
