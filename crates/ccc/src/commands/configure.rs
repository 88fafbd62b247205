//! `ccc configure` and `ccc config get|set`.

use cognito_auth::{CognitoConfig, validate_identity_pool_id, validate_region, validate_user_pool_id};
use cred_store::{CccConfig, get_config_value, save_config, set_config_value};

use crate::cli::{ConfigCommand, ConfigureArgs, Output};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::print_json;
use crate::prompt;

fn value(
    given: Option<String>,
    current: Option<&str>,
    label: &str,
    interactive: bool,
    required: bool,
) -> CliResult<Option<String>> {
    if given.is_some() {
        return Ok(given);
    }
    if interactive {
        let answer = if required { Some(prompt::ask(label, current)?) } else { ask_optional(label, current)? };
        return Ok(answer);
    }
    Ok(current.map(str::to_owned))
}

fn ask_optional(label: &str, current: Option<&str>) -> CliResult<Option<String>> {
    match prompt::ask(&format!("{label} (optional)"), Some(current.unwrap_or("-"))) {
        Ok(v) if v == "-" => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(e) => Err(e),
    }
}

pub fn configure(ctx: &Ctx, args: ConfigureArgs) -> CliResult {
    let mut config: CccConfig = ctx.config()?;
    let interactive = !args.non_interactive && prompt::interactive();
    config.user_pool_id =
        value(args.user_pool_id, config.user_pool_id.as_deref(), "Cognito user pool id", interactive, true)?;
    config.app_client_id =
        value(args.app_client_id, config.app_client_id.as_deref(), "App client id", interactive, true)?;
    config.identity_pool_id =
        value(args.identity_pool_id, config.identity_pool_id.as_deref(), "Identity pool id", interactive, false)?;
    let default_region = config
        .region
        .clone()
        .or_else(|| config.user_pool_id.as_deref().and_then(|p| p.split('_').next()).map(str::to_owned));
    config.region = value(args.region, default_region.as_deref(), "AWS region", interactive, true)?;
    config.profile = value(args.profile, Some(config.profile_or_default()), "AWS profile", interactive, true)?;
    if args.app_client_secret_stdin {
        config.app_client_secret = Some(prompt::secret_from_stdin("app client secret")?);
    }
    if args.password_auth {
        config.extra.insert("auth_flow".into(), "password".into());
    }
    let missing: Vec<&str> = [
        ("--user-pool-id", config.user_pool_id.is_none()),
        ("--app-client-id", config.app_client_id.is_none()),
        ("--region", config.region.is_none()),
    ]
    .into_iter()
    .filter_map(|(k, m)| m.then_some(k))
    .collect();
    if !missing.is_empty() {
        return Err(CliError::new(format!("missing {}", missing.join(", ")))
            .hint("pass them as flags, or run `ccc configure` on a terminal"));
    }
    // validate everything before writing anything
    if let Some(r) = &config.region {
        validate_region(r)?;
    }
    if let Some(p) = &config.user_pool_id {
        validate_user_pool_id(p)?;
    }
    if let Some(i) = &config.identity_pool_id {
        validate_identity_pool_id(i)?;
    }
    cred_store::validate_profile_name(config.profile_or_default())?;
    CognitoConfig::from_ccc_config(&config)?;
    save_config(&ctx.paths, &config)?;
    match ctx.output {
        Output::Json => print_json(
            &serde_json::json!({"saved": ctx.paths.ccc_config_file(), "profile": config.profile_or_default()}),
        ),
        Output::Table => {
            println!("Saved {} (profile {}).", ctx.paths.ccc_config_file().display(), config.profile_or_default())
        }
    }
    Ok(())
}

/// Keys whose value is a secret: never accepted on argv.
const SECRET_KEYS: &[&str] = &["app_client_secret"];

pub fn config(ctx: &Ctx, cmd: ConfigCommand) -> CliResult {
    match cmd {
        ConfigCommand::Get { key } => match get_config_value(&ctx.paths, &key)? {
            Some(v) => {
                println!("{v}");
                Ok(())
            }
            None => Err(CliError::new(format!("{key} is not set")).hint(format!("run `ccc config set {key} VALUE`"))),
        },
        ConfigCommand::Set { key, value, value_stdin } => {
            let value = match (value, value_stdin) {
                (Some(_), _) if SECRET_KEYS.contains(&key.as_str()) => {
                    return Err(CliError::new(format!(
                        "{key} is a secret and is not taken from the command line (shell history, `ps`)"
                    ))
                    .hint(format!("run `ccc config set {key} --value-stdin` and type or pipe the value")));
                }
                (Some(v), _) => v,
                (None, _) => {
                    let secret = prompt::secret_from_stdin(&key)?;
                    core_types::ExposeSecret::expose_secret(&secret).to_owned()
                }
            };
            match key.as_str() {
                "region" => validate_region(&value)?,
                "user_pool_id" => validate_user_pool_id(&value)?,
                "identity_pool_id" => validate_identity_pool_id(&value)?,
                "profile" => cred_store::validate_profile_name(&value)?,
                _ => {}
            }
            set_config_value(&ctx.paths, &key, &value)?;
            Ok(())
        }
    }
}
