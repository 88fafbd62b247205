//! `ccc configure` and `ccc config get|set`.

use cognito_auth::{AuthFlow, CognitoConfig, keys, validate_identity_pool_id, validate_region, validate_user_pool_id};
use cred_store::{CccConfig, get_config_value, save_config, set_config_value};

use crate::cli::{ConfigCommand, ConfigureArgs, Output};
use crate::context::{Ctx, PROFILE_KEY};
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
    let default = cognito_auth::default_profile(&config).to_owned();
    let profile = value(ctx.profile_flag.clone(), Some(&default), "AWS profile", interactive, true)?
        .unwrap_or_else(|| "default".to_owned());
    cred_store::validate_profile_name(&profile)?;
    // a second profile in another pool (or with another client) gets settings of its own;
    // the first one configured, and the default profile, use the file's top-level settings
    let own = CognitoConfig::profile_has_own(&config, &profile)
        || (config.get_str(keys::USER_POOL_ID).is_some() && profile != default);
    let view = CognitoConfig::profile_view(&config, &profile);
    let current = |key: &str| view.get_str(key).map(str::to_owned);
    let pool =
        value(args.user_pool_id, current(keys::USER_POOL_ID).as_deref(), "Cognito user pool id", interactive, true)?;
    let client =
        value(args.app_client_id, current(keys::APP_CLIENT_ID).as_deref(), "App client id", interactive, true)?;
    let identity_pool = value(
        args.identity_pool_id,
        current(keys::IDENTITY_POOL_ID).as_deref(),
        "Identity pool id",
        interactive,
        false,
    )?;
    let default_region =
        current(keys::REGION).or_else(|| pool.as_deref().and_then(|p| p.split('_').next()).map(str::to_owned));
    let region = value(ctx.region_flag.clone(), default_region.as_deref(), "AWS region", interactive, true)?;
    let missing: Vec<&str> =
        [("--user-pool-id", pool.is_none()), ("--app-client-id", client.is_none()), ("--region", region.is_none())]
            .into_iter()
            .filter_map(|(k, m)| m.then_some(k))
            .collect();
    let (Some(pool), Some(client), Some(region)) = (pool, client, region) else {
        return Err(CliError::new(format!("missing {}", missing.join(", ")))
            .hint("pass them as flags, or run `ccc configure` on a terminal"));
    };
    // validate everything before writing anything
    let mut cognito = match CognitoConfig::from_ccc_config(&view) {
        Ok(c) => c,
        Err(_) => CognitoConfig::new(pool.clone(), client.clone(), region.clone()),
    };
    (cognito.user_pool_id, cognito.app_client_id, cognito.region) = (pool, client, region);
    cognito.identity_pool_id = identity_pool;
    if args.app_client_secret_stdin {
        cognito.app_client_secret = Some(prompt::secret_from_stdin("app client secret")?);
    }
    if args.password_auth {
        cognito.auth_flow = AuthFlow::Password;
    }
    cognito.validate()?;
    if own {
        let mut settings = CccConfig::default();
        cognito.write_to(&mut settings);
        for key in keys::PER_PROFILE {
            cred_store::set_profile_setting(&ctx.paths, &profile, key, settings.get_str(key))?;
        }
    } else {
        cognito.write_to(&mut config);
        config.set(PROFILE_KEY, profile.clone());
        save_config(&ctx.paths, &config)?;
    }
    match ctx.output {
        Output::Json => print_json(
            &serde_json::json!({"saved": ctx.paths.ccc_config_file(), "profile": profile, "own_settings": own}),
        ),
        Output::Table => println!(
            "Saved {} (profile {profile}{}).",
            ctx.paths.ccc_config_file().display(),
            if own { ", its own pool settings" } else { "" }
        ),
    }
    Ok(())
}

/// A setting as `config get` shows it: a secret anywhere inside it (a profile's
/// `app_client_secret`) as `[REDACTED]`, a URL's password hidden (a team store's).
fn shown(text: &str) -> String {
    fn hide(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, inner) in m.iter_mut() {
                    if keys::SECRETS.contains(&k.as_str()) {
                        *inner = "[REDACTED]".into();
                    } else {
                        hide(inner);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(hide),
            serde_json::Value::String(s) => *s = cred_store::redact_url(s),
            _ => {}
        }
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(mut v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
            hide(&mut v);
            v.to_string()
        }
        _ => cred_store::redact_url(text),
    }
}

pub fn config(ctx: &Ctx, cmd: ConfigCommand) -> CliResult {
    match cmd {
        ConfigCommand::Get { key } => match get_config_value(&ctx.paths, &key)? {
            Some(_) if keys::SECRETS.contains(&key.as_str()) => {
                println!("[REDACTED]");
                Ok(())
            }
            Some(v) => {
                println!("{}", shown(&v));
                Ok(())
            }
            None => Err(CliError::new(format!("{key} is not set")).hint(format!("run `ccc config set {key} VALUE`"))),
        },
        ConfigCommand::Set { key, value, value_stdin } => {
            let value = match (value, value_stdin) {
                (Some(v), _) if keys::SECRETS.contains(&key.as_str()) || cred_store::redact_url(&v) != v => {
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
                keys::REGION => validate_region(&value)?,
                keys::USER_POOL_ID => validate_user_pool_id(&value)?,
                keys::IDENTITY_POOL_ID => validate_identity_pool_id(&value)?,
                PROFILE_KEY => cred_store::validate_profile_name(&value)?,
                _ => {}
            }
            set_config_value(&ctx.paths, &key, Some(&value))?;
            Ok(())
        }
    }
}
