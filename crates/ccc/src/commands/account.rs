//! `ccc sign-up`, `confirm-sign-up`, `forgot-password`, `confirm-forgot-password`.

use core_types::{ExposeSecret, SecretString};

use crate::cli::{CodeArgs, NewPasswordArgs, Output, SignUpArgs, UserArgs};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::print_json;
use crate::prompt;

fn authenticator(ctx: &Ctx) -> CliResult<cognito_auth::CognitoAuthenticator> {
    let config = ctx.config()?;
    let cognito = ctx.cognito_config(&config, &ctx.profile(&config))?;
    let sdk = ctx.sdk_config(&cognito.region);
    Ok(cognito_auth::CognitoAuthenticator::new(cognito, &sdk).with_clock(ctx.clock.clone()))
}

/// A new password: from standard input, or asked twice on a terminal.
/// A confirmation code: from standard input, or asked for on the terminal (never argv).
fn code(from_stdin: bool) -> CliResult<SecretString> {
    if from_stdin {
        return prompt::secret_from_stdin("code");
    }
    if !prompt::interactive() {
        return Err(CliError::new("no terminal to ask for the code").hint("pass --code-stdin and write the code to it"));
    }
    prompt::ask_secret("Code")
}

fn new_password(from_stdin: bool) -> CliResult<SecretString> {
    if from_stdin {
        return prompt::secret_from_stdin("password");
    }
    if !prompt::interactive() {
        return Err(CliError::new("no terminal to ask for the password").hint("pass --password-stdin"));
    }
    let password = prompt::ask_secret("New password")?;
    if prompt::ask_secret("Repeat it")?.expose_secret() != password.expose_secret() {
        return Err(CliError::new("the passwords do not match"));
    }
    Ok(password)
}

fn done(ctx: &Ctx, json: serde_json::Value, text: String) {
    match ctx.output {
        Output::Json => print_json(&json),
        Output::Table => println!("{text}"),
    }
}

pub async fn sign_up(ctx: &Ctx, args: SignUpArgs) -> CliResult {
    let mut attributes = Vec::new();
    for a in &args.attributes {
        let (k, v) = a.split_once('=').ok_or_else(|| {
            CliError::new(format!("attribute {a:?} is not NAME=VALUE")).kind(core_types::ErrorKind::InvalidInput)
        })?;
        attributes.push((k.to_owned(), v.to_owned()));
    }
    let password = new_password(args.password_stdin)?;
    let out = authenticator(ctx)?.sign_up(&args.username, &password, &attributes).await?;
    let text = match (&out.confirmed, &out.code_sent_to) {
        (true, _) => format!("Signed up {}; `ccc login` works now.", args.username),
        (false, Some(to)) => format!(
            "Signed up {}. Confirm with the code sent to {to}: ccc confirm-sign-up --username {}",
            args.username, args.username
        ),
        (false, None) => format!(
            "Signed up {}. Confirm with the code Cognito sent: ccc confirm-sign-up --username {}",
            args.username, args.username
        ),
    };
    done(
        ctx,
        serde_json::json!({"username": args.username, "confirmed": out.confirmed, "code_sent_to": out.code_sent_to}),
        text,
    );
    Ok(())
}

pub async fn confirm_sign_up(ctx: &Ctx, args: CodeArgs) -> CliResult {
    let code = code(args.code_stdin)?;
    authenticator(ctx)?.confirm_sign_up(&args.username, code.expose_secret()).await?;
    done(
        ctx,
        serde_json::json!({"username": args.username, "confirmed": true}),
        format!("Confirmed {}; sign in with `ccc login --username {}`.", args.username, args.username),
    );
    Ok(())
}

pub async fn forgot_password(ctx: &Ctx, args: UserArgs) -> CliResult {
    let to = authenticator(ctx)?.forgot_password(&args.username).await?;
    let text = format!(
        "A code to reset the password of {} was sent{}. Then: ccc confirm-forgot-password --username {}",
        args.username,
        to.as_deref().map(|t| format!(" to {t}")).unwrap_or_default(),
        args.username
    );
    done(ctx, serde_json::json!({"username": args.username, "code_sent_to": to}), text);
    Ok(())
}

pub async fn confirm_forgot_password(ctx: &Ctx, args: NewPasswordArgs) -> CliResult {
    let code = code(args.code_stdin)?;
    let password = new_password(args.password_stdin)?;
    authenticator(ctx)?.confirm_forgot_password(&args.username, code.expose_secret(), &password).await?;
    done(
        ctx,
        serde_json::json!({"username": args.username, "password_reset": true}),
        format!("The password of {} is reset; sign in with `ccc login --username {}`.", args.username, args.username),
    );
    Ok(())
}
