//! `ccc exec -- CMD ARGS…` and `ccc env`: a profile's fresh credentials in a command's
//! environment, or printed for `eval`.

use std::process::ExitCode;

use aws_credential_types::Credentials;

use crate::cli::{EnvArgs, EnvFormat, ExecArgs};
use crate::context::{CCC_PROFILE_VAR, Ctx};
use crate::error::{CliError, CliResult};

/// The variables that carry credentials into a process; `ccc exec` sets or clears each.
const CREDENTIAL_VARS: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
];

/// Other credential sources a child would otherwise see (a `ccc serve` slot's bearer token
/// among them): the child gets exactly the credentials exported for it.
const OTHER_SOURCES: &[&str] = &[
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
];

/// The variables, in order: credentials, expiry, region, profile marker.
pub fn variables(creds: &Credentials, region: &str, profile: &str) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("AWS_ACCESS_KEY_ID", creds.access_key_id().to_owned()),
        ("AWS_SECRET_ACCESS_KEY", creds.secret_access_key().to_owned()),
    ];
    if let Some(t) = creds.session_token() {
        v.push(("AWS_SESSION_TOKEN", t.to_owned()));
    }
    if let Some(e) = creds.expiry() {
        v.push(("AWS_CREDENTIAL_EXPIRATION", cred_store::format_rfc3339(e)));
    }
    // the AWS CLI and boto3 read AWS_DEFAULT_REGION, the SDKs for Rust, Go and JS AWS_REGION
    v.push(("AWS_REGION", region.to_owned()));
    v.push(("AWS_DEFAULT_REGION", region.to_owned()));
    v.push((CCC_PROFILE_VAR, profile.to_owned()));
    v
}

fn refuse_nesting(ctx: &Ctx) -> CliResult {
    match &ctx.exported {
        Some(by) => Err(CliError::new(format!(
            "credentials are already exported in this environment (by {by}); running with a second set would leave it unclear which one a tool uses"
        ))
        .hint("run from a shell without them (`unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN CCC_PROFILE`)")),
        None => Ok(()),
    }
}

async fn fresh(ctx: &Ctx, extended: Option<u32>) -> CliResult<(Vec<(&'static str, String)>, String)> {
    refuse_nesting(ctx)?;
    let config = ctx.config()?;
    let profile = ctx.profile(&config);
    let region = ctx.region(&config, &profile);
    let creds = match extended {
        Some(hours) => cred_store::to_sdk_credentials(
            &super::extend::extended_credentials(ctx, &config, &profile, Some(hours)).await?.0,
        ),
        None => ctx.profile_sdk(&config, &profile).await?.2,
    };
    if creds.expiry().is_some_and(|e| e <= ctx.clock.now()) {
        return Err(CliError::new(format!("the credentials of profile {profile} have expired"))
            .kind(core_types::ErrorKind::ExpiredToken));
    }
    Ok((variables(&creds, &region, &profile), profile))
}

/// Single-quoted for POSIX shells and fish (`'` closed, escaped, reopened).
pub fn sh_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', r"'\''"))
}

/// Single-quoted for PowerShell (`'` doubled).
fn ps_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "''"))
}

pub fn render(vars: &[(&'static str, String)], format: EnvFormat) -> String {
    let mut out = String::new();
    match format {
        EnvFormat::Json => {
            let map: serde_json::Map<String, serde_json::Value> =
                vars.iter().map(|(k, v)| ((*k).to_owned(), v.clone().into())).collect();
            out = serde_json::to_string_pretty(&serde_json::Value::Object(map)).unwrap_or_default() + "\n";
        }
        _ => {
            for (k, v) in vars {
                let line = match format {
                    EnvFormat::Sh => format!("export {k}={}", sh_quote(v)),
                    EnvFormat::Fish => format!("set -gx {k} {};", sh_quote(v)),
                    EnvFormat::Powershell => format!("$Env:{k} = {}", ps_quote(v)),
                    // dotenv readers differ on quotes: plain when nothing needs them
                    _ if v.chars().all(|c| c.is_ascii_alphanumeric() || "/+=._:-".contains(c)) => format!("{k}={v}"),
                    _ => format!("{k}={}", sh_quote(v)),
                };
                out.push_str(&line);
                out.push('\n');
            }
        }
    }
    out
}

/// `ccc env`: prints the variables for `eval` (printing the secret is the purpose).
pub async fn env(ctx: &Ctx, args: EnvArgs) -> CliResult {
    let (vars, _) = fresh(ctx, None).await?;
    print!("{}", render(&vars, args.format));
    Ok(())
}

/// `ccc exec`: runs the command with the variables; its exit code is ccc's.
pub async fn exec(ctx: &Ctx, args: ExecArgs) -> CliResult<ExitCode> {
    let (vars, profile) = fresh(ctx, args.extended.then_some(args.hours)).await?;
    let Some((program, rest)) = args.command.split_first() else {
        return Err(CliError::new("no command to run").hint("ccc exec -- COMMAND ARGS…"));
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(rest);
    // the command sees these credentials and no other way to pick a profile
    for k in CREDENTIAL_VARS.iter().chain(&["AWS_PROFILE", "AWS_DEFAULT_PROFILE"]).chain(OTHER_SOURCES) {
        cmd.env_remove(k);
    }
    // ccc's own secrets (the team store's URL and key) are ccc's, not the command's
    for k in ctx.own_secret_vars() {
        cmd.env_remove(k);
    }
    cmd.envs(vars.iter().map(|(k, v)| (*k, v.as_str())));
    // as a shell: 127 for a command not found, 126 for one that cannot be executed
    let status = cmd.status().await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => CliError::new(format!("{program}: command not found"))
            .hint("check the command name and that it is on PATH")
            .exit_with(crate::error::exit::NOT_FOUND),
        _ => CliError::new(format!("cannot run {program}: {e}"))
            .hint("check that the file is an executable program and that you may run it")
            .exit_with(crate::error::exit::CANNOT_EXECUTE),
    })?;
    tracing::debug!(profile = %profile, ?status, "command finished");
    Ok(exit_code(status))
}

/// The command's exit code; a command killed by a signal exits 128 + the signal, as a shell
/// reports it.
pub fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) => ExitCode::from(u8::try_from(c).unwrap_or(1)),
        (None, Some(sig)) => ExitCode::from(u8::try_from(128 + sig).unwrap_or(1)),
        (None, None) => ExitCode::from(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_quotes_what_would_break_it() {
        let creds = Credentials::new("AKIA1", "se'cret$x", Some("tok".into()), None, "test");
        let vars = variables(&creds, "eu-west-1", "dev");
        let sh = render(&vars, EnvFormat::Sh);
        assert!(sh.contains("export AWS_SECRET_ACCESS_KEY='se'\\''cret$x'"), "{sh}");
        assert!(sh.contains("export AWS_REGION='eu-west-1'") && sh.contains("export CCC_PROFILE='dev'"), "{sh}");
        assert!(render(&vars, EnvFormat::Fish).contains("set -gx AWS_SESSION_TOKEN 'tok';"));
        assert!(render(&vars, EnvFormat::Powershell).contains("$Env:AWS_SECRET_ACCESS_KEY = 'se''cret$x'"));
        let dotenv = render(&vars, EnvFormat::Dotenv);
        assert!(
            dotenv.contains("AWS_ACCESS_KEY_ID=AKIA1\n") && dotenv.contains("AWS_SECRET_ACCESS_KEY='se'"),
            "{dotenv}"
        );
        let json: serde_json::Value = serde_json::from_str(&render(&vars, EnvFormat::Json)).unwrap();
        assert_eq!(json["AWS_SECRET_ACCESS_KEY"], "se'cret$x");
    }
}
