//! `ccc creds`, `ccc setup-profile`, `ccc whoami`.

use cred_store::{AwsFiles, to_credential_process_json};

use crate::cli::{CredsArgs, Output};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::output::{expiry, print_json, print_rows};

use super::sessions::session_error;

/// credential_process output: the one command that prints a secret, on purpose. The whole
/// command has a budget: a caller (the AWS CLI, boto3) is never left hanging.
pub async fn creds(ctx: &Ctx, args: CredsArgs) -> CliResult {
    let budget = std::time::Duration::from_secs(args.timeout);
    let work = async {
        if let (Some(name), Some(file)) = (&args.session, &args.sessions_config) {
            return session_credentials(ctx, file, name, budget).await.map(Fetched::Now);
        }
        let config = ctx.config()?;
        let profile = ctx.profile(&config);
        // whatever serves the profile: a Cognito sign-in, an IAM Identity Center profile's
        // refreshing role credentials, or the AWS SDK's provider for any other profile (for
        // tools that only speak credential_process)
        match ctx.profile_credentials(&config, &profile, budget).await {
            Ok(served) => {
                // the next start serves this entry without the rest of ccc while it is fresh
                if let Some(entry) = &served.entry
                    && let Err(e) = cred_store::warm::note(&ctx.paths, &profile, entry)
                {
                    tracing::debug!(error = %e, "could not note the warm path");
                }
                Ok(Fetched::Now(cred_store::from_sdk_credentials(&served.credentials)))
            }
            // a sign-in that ended (its renewal refused, or none yet) needs a person
            Err(e) if needs_person(&e) => match SignIn::of(ctx, &config, &profile)? {
                Some(how) => Ok(Fetched::NeedsSignIn { config, profile, how, why: e }),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    };
    let creds = match tokio::time::timeout(budget, work).await.map_err(|_| over_budget(budget))?? {
        Fetched::Now(c) => c,
        // no budget here: a person is typing
        Fetched::NeedsSignIn { config, profile, how, why } => {
            sign_in_on_terminal(ctx, &config, &profile, &how, why, budget).await?
        }
    };
    println!("{}", to_credential_process_json(&creds));
    Ok(())
}

/// What the first look at the profile found.
enum Fetched {
    /// Credentials.
    Now(core_types::AwsCredentials),
    /// A sign-in that only a person can renew: the config, the profile, how, and why.
    NeedsSignIn { config: cred_store::CccConfig, profile: String, how: SignIn, why: CliError },
}

/// The sign-in a profile needs a person for.
enum SignIn {
    /// A Cognito user's password (and MFA code).
    Cognito { user: String },
    /// An IAM Identity Center device sign-in (a browser page and a code), shared by every
    /// profile of the same SSO session.
    Sso,
    /// A code from the MFA device a role profile names (`mfa_serial`).
    Mfa { role: String, serial: String },
}

impl SignIn {
    /// Whether `profile` is signed in by a person, and how (`None`: nobody can help it here).
    fn of(ctx: &Ctx, config: &cred_store::CccConfig, profile: &str) -> CliResult<Option<Self>> {
        if let Some(user) = cognito_auth::signed_in_user(config, profile) {
            return Ok(Some(Self::Cognito { user }));
        }
        let Some(aws) = AwsFiles::new(&ctx.paths).load_profile(profile)? else { return Ok(None) };
        if aws.is_sso() {
            return Ok(Some(Self::Sso));
        }
        Ok(crate::mfa_role::role_and_device(&aws).map(|(role, serial)| Self::Mfa { role, serial }))
    }

    /// The one line for a process with no terminal to ask on.
    fn instruction(&self, profile: &str) -> CliError {
        let message = match self {
            Self::Cognito { user } => format!(
                "profile {profile}: the sign-in of {user} has ended (its renewal was refused) and there is no terminal to ask on; run `ccc login --profile {profile}`"
            ),
            Self::Sso => format!(
                "profile {profile}: the IAM Identity Center sign-in has ended (or never happened) and there is no terminal to ask on; run `ccc sso login --profile {profile}`"
            ),
            Self::Mfa { role, serial } => format!(
                "profile {profile}: {role} needs a code from the MFA device {serial} and there is no terminal to ask on; run `ccc login --profile {profile}`"
            ),
        };
        CliError::new(message).kind(core_types::ErrorKind::NotAuthorized)
    }
}

/// Whether only a person can fix this: the renewal was refused (not: the service was down).
fn needs_person(e: &CliError) -> bool {
    matches!(e.kind, core_types::ErrorKind::ExpiredToken | core_types::ErrorKind::NotAuthorized)
}

/// How long a process waits for another one's interactive sign-in (a person typing).
const SIGN_IN_WAIT: std::time::Duration = std::time::Duration::from_secs(300);

/// A credential_process whose renewal needs a person: stdout belongs to the AWS tool and stderr
/// is often swallowed, so the prompt goes to the controlling terminal (`/dev/tty`) when there
/// is one, and only one process of however many asked at once prompts or opens a browser (the
/// others wait for its sign-in under the same lock and use it). With no terminal (or
/// `CCC_NO_PROMPT` set): one line naming the command.
async fn sign_in_on_terminal(
    ctx: &Ctx,
    config: &cred_store::CccConfig,
    profile: &str,
    how: &SignIn,
    why: CliError,
    budget: std::time::Duration,
) -> CliResult<core_types::AwsCredentials> {
    if ctx.no_prompt || !crate::prompt::has_terminal() {
        tracing::debug!(error = %why, "the renewal needs a person");
        return Err(how.instruction(profile));
    }
    // one sign-in at a time: per profile for Cognito, per SSO session (every profile of it
    // shares the one browser window)
    let lock = match how {
        SignIn::Cognito { .. } => ctx.paths.cache_entry("sign-in", &[profile]),
        SignIn::Mfa { .. } => ctx.paths.cache_entry("sign-in", &["mfa", profile]),
        SignIn::Sso => ctx.paths.cache_entry("sign-in", &["sso", ctx.sso(profile).await?.profile().cache_key()]),
    };
    let _lock = tokio::task::spawn_blocking(move || cred_store::fsutil::lock_within(&lock, SIGN_IN_WAIT))
        .await
        .map_err(|e| CliError::new(format!("lock task failed: {e}")))??;
    // another process may have signed in while this one waited
    if let Ok(served) = ctx.profile_credentials(config, profile, budget).await {
        return Ok(cred_store::from_sdk_credentials(&served.credentials));
    }
    match how {
        SignIn::Cognito { user } => cognito_on_terminal(ctx, config, profile, user).await,
        SignIn::Sso => {
            sso_on_terminal(ctx, profile).await?;
            let served = ctx.profile_credentials(config, profile, budget).await?;
            Ok(cred_store::from_sdk_credentials(&served.credentials))
        }
        SignIn::Mfa { role, serial } => {
            crate::prompt::tell_terminal(&format!(
                "ccc: profile {profile} uses {role} with MFA and its credentials have ended."
            ))?;
            let code = crate::prompt::Asking::Terminal.secret(&format!("MFA code for {serial}"))?;
            ctx.assume_with_mfa_code(config, profile, code, budget).await
        }
    }
}

/// The Cognito user's password (and MFA code) asked on the terminal; a sign-in with them.
async fn cognito_on_terminal(
    ctx: &Ctx,
    config: &cred_store::CccConfig,
    profile: &str,
    user: &str,
) -> CliResult<core_types::AwsCredentials> {
    crate::prompt::tell_terminal(&format!(
        "ccc: the sign-in of {user} (profile {profile}) has ended; sign in again to go on."
    ))?;
    let password = crate::prompt::Asking::Terminal.secret(&format!("Password for {user}"))?;
    let process_profile =
        cred_store::AwsFiles::new(&ctx.paths).load_profile(profile)?.is_some_and(|p| p.credential_process.is_some());
    let cognito = ctx.cognito_profile(config, profile)?.write_credentials_file(!process_profile).build();
    let signed = cognito
        .sign_in(user, &password, |c| {
            super::login::answer(c, crate::prompt::Asking::Terminal)
                .map_err(|e| Box::new(e) as cognito_auth::PromptError)
        })
        .await
        .map_err(|e| match e {
            cognito_auth::CognitoError::Prompt(inner) => match inner.downcast::<CliError>() {
                Ok(cli) => *cli,
                Err(other) => CliError::from(cognito_auth::CognitoError::Prompt(other)),
            },
            e => e.into(),
        })?;
    Ok(signed.credentials)
}

/// The IAM Identity Center device sign-in, shown on the terminal (and its page opened in the
/// browser, once), unless another process signed in meanwhile.
async fn sso_on_terminal(ctx: &Ctx, profile: &str) -> CliResult {
    let sso = ctx.sso(profile).await?;
    if sso.signed_in_until()?.is_some() {
        return Ok(());
    }
    let start_url = sso.profile().start_url.clone();
    crate::prompt::tell_terminal(&format!(
        "ccc: the IAM Identity Center sign-in for profile {profile} has ended; sign in to go on."
    ))?;
    sso.device_sign_in(|code| {
        let page = code.verification_uri_complete.as_deref().unwrap_or(&code.verification_uri);
        let line = super::sso::device_code_text(&start_url, code, " ", " ");
        if let Err(e) = crate::prompt::tell_terminal(&line) {
            tracing::warn!(error = %e, "could not show the sign-in code on the terminal");
        }
        crate::prompt::open_browser(page);
    })
    .await?;
    Ok(())
}

fn over_budget(budget: std::time::Duration) -> CliError {
    CliError::new(format!(
        "no credentials within {} s: the sign-in service did not answer in time, or another process's refresh did not finish",
        budget.as_secs()
    ))
    .kind(core_types::ErrorKind::Unavailable)
    .hint("check the network and retry; `--timeout` sets the budget")
}

/// `ccc sessions creds`: a session's credential_process JSON, within the default budget.
pub async fn serve_session(ctx: &Ctx, file: &std::path::Path, name: &str) -> CliResult {
    let budget = std::time::Duration::from_secs(60);
    let creds = tokio::time::timeout(budget, session_credentials(ctx, file, name, budget))
        .await
        .map_err(|_| over_budget(budget))??;
    println!("{}", to_credential_process_json(&creds));
    Ok(())
}

/// One session of a cloud-sessions file, served by the engine
/// (`cloud_sessions::session_credentials`: built on a cache miss only as far as it needs,
/// an assumed role kept across runs in an entry keyed by the file's text and the name),
/// after the user's role is checked against the file's access control.
async fn session_credentials(
    ctx: &Ctx,
    file: &std::path::Path,
    name: &str,
    lock_wait: std::time::Duration,
) -> CliResult<core_types::AwsCredentials> {
    let text = cred_store::fsutil::read_text(file)?;
    let plan = cloud_sessions::plan_for(&text, name).map_err(session_error)?;
    // a session the user's role may not use is refused before anything is served or built
    super::sessions::authorize(ctx, &plan, name)?;
    let options = ctx.engine_options(&ctx.config().unwrap_or_default(), lock_wait)?;
    cloud_sessions::session_credentials(&text, plan, name, &options).await.map_err(session_error)
}

/// The `credential_process` line that runs `ccc creds --profile PROFILE`: the `ccc` beside
/// this program (it serves the warm path alone: that is the one AWS tools run).
pub fn process_line(profile: &str) -> CliResult<String> {
    let exe = std::env::current_exe().map_err(|e| CliError::new(format!("cannot find the ccc executable: {e}")))?;
    let front = exe.with_file_name("ccc");
    let exe = if front.is_file() { front } else { exe };
    Ok(format!("{} creds --profile {}", shell_quote(&exe.display().to_string()), shell_quote(profile)))
}

fn shell_quote(s: &str) -> String {
    if s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:@".contains(c)) {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Why `setup-profile` must leave `profile` as it is: it changes only a profile ccc can serve
/// (a Cognito sign-in's), never deletes an IAM user's long-term keys, and replaces another
/// tool's `credential_process` only with `--force`. `Ok(old)` names a process line to keep as
/// a comment.
fn setup_refusal(ctx: &Ctx, config: &cred_store::CccConfig, profile: &str, force: bool) -> CliResult<Option<String>> {
    let refuse = |why: String, hint: &str| {
        Err(CliError::new(format!("setup-profile left profile {profile} as it is: {why}"))
            .kind(core_types::ErrorKind::InvalidInput)
            .hint(hint.to_owned()))
    };
    if ctx.cognito_config(config, profile).is_err() {
        return refuse(
            "ccc serves a Cognito sign-in through credential_process, and none is configured for it".into(),
            "run `ccc configure --profile PROFILE` first, or give --profile a Cognito sign-in's profile",
        );
    }
    let set = AwsFiles::new(&ctx.paths).profile_set()?;
    let Some(settings) = set.profile(profile) else { return Ok(None) };
    let own_keys = AwsFiles::new(&ctx.paths).load_credentials(profile)?;
    if let Some(keys) = own_keys.filter(|k| k.session_token().is_none()) {
        let _ = keys;
        return refuse(
            format!(
                "{} holds long-term access keys for it, which do not expire and would be lost",
                ctx.paths.credentials_file.display()
            ),
            "keep using them as they are, or remove them from the file yourself before serving a Cognito sign-in on this profile",
        );
    }
    for key in ["role_arn", "sso_session", "sso_start_url", "credential_source", "web_identity_token_file"] {
        if settings.contains_key(key) {
            return refuse(
                format!("it is configured by `{key}`, which ccc's credential_process would replace"),
                "choose another profile name for the Cognito sign-in (--profile NAME)",
            );
        }
    }
    match settings.get("credential_process") {
        Some(c) if !(c.contains("ccc") && c.split_whitespace().any(|w| w == "creds")) => {
            if force {
                Ok(Some(c.clone()))
            } else {
                refuse(
                    format!("another tool serves it (credential_process = {c})"),
                    "add --force to replace it (its line is kept as a comment)",
                )
            }
        }
        _ => Ok(None),
    }
}

pub fn setup_profile(ctx: &Ctx, args: &crate::cli::SetupProfileArgs) -> CliResult {
    let config = ctx.config()?;
    let profile = ctx.profile(&config);
    let replaced = setup_refusal(ctx, &config, &profile, args.force)?;
    let command = process_line(&profile)?;
    let mut values = vec![("credential_process", command.as_str())];
    if let Some(r) = config.get_str(cognito_auth::keys::REGION) {
        values.push(("region", r));
    }
    let files = AwsFiles::new(&ctx.paths);
    if replaced.is_some() {
        files.comment_out(&profile, "credential_process", "replaced by `ccc setup-profile --force`")?;
    }
    files.set_profile_values(&profile, &values)?;
    // every AWS SDK reads ~/.aws/credentials before credential_process: the temporary keys a
    // sign-in wrote there would be served instead, and fail once they expire (long-term keys
    // were refused above)
    let removed_keys = files.remove_static_keys(&profile)?;
    // a new process profile serves the user signed in on the configured profile; a profile
    // with a user of its own keeps it
    cognito_auth::CognitoProfile::bind_like(&ctx.paths, &profile, cognito_auth::default_profile(&config))?;
    match ctx.output {
        Output::Json => print_json(
            &serde_json::json!({"profile": profile, "credential_process": command, "removed_static_keys": removed_keys}),
        ),
        Output::Table => {
            println!("Profile {profile} in {} now runs:", ctx.paths.config_file.display());
            println!("  credential_process = {command}");
            if removed_keys {
                println!(
                    "Removed its temporary keys from {} (they would have been used instead, and expire).",
                    ctx.paths.credentials_file.display()
                );
            }
        }
    }
    Ok(())
}

/// Who an ARN names: `alice` for `…:user/path/alice`, `Role/session` for an assumed role,
/// `root` for the account's root.
pub fn principal_name(arn: &str) -> Option<String> {
    let resource = arn.splitn(6, ':').nth(5)?;
    if resource == "root" {
        return Some("root".to_owned());
    }
    let (kind, rest) = resource.split_once('/')?;
    match kind {
        "assumed-role" | "federated-user" => Some(rest.to_owned()),
        _ => rest.rsplit('/').next().map(str::to_owned),
    }
}

pub async fn whoami(ctx: &Ctx) -> CliResult {
    let config = ctx.config()?;
    let profile = ctx.profile(&config);
    let region = ctx.region(&config, &profile);
    let (sdk, user, creds) = ctx.profile_sdk(&config, &profile).await?;
    let who = aws_sdk_sts::Client::new(&sdk).get_caller_identity().send().await.map_err(|e| {
        CliError::from_failure(aws_failure::call_failure("STS", "GetCallerIdentity", &e))
            .context(format!("profile {profile}, {region}"))
    })?;
    // a Cognito user's identity-pool identity: what CloudTrail records for their calls
    let identity = match &user {
        Some(_) => Some(ctx.cognito_identity(&config, &profile).await?),
        None => None,
    };
    let arn = who.arn().map(str::to_owned);
    // the ccc user, else who the ARN names (`user/alice`, `assumed-role/Role/session`)
    let user = user.or_else(|| arn.as_deref().and_then(principal_name));
    let rows: [(&str, Option<String>); 6] = [
        ("user", user),
        ("identity", identity),
        ("profile", Some(profile)),
        ("account", who.account().map(str::to_owned)),
        ("arn", arn),
        ("valid until", Some(expiry(creds.expiry()))),
    ];
    match ctx.output {
        // absent is null, never a placeholder string
        Output::Json => print_json(&serde_json::Value::Object(
            rows.iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone().map_or(serde_json::Value::Null, Into::into)))
                .collect(),
        )),
        Output::Table => {
            let rows: Vec<(&str, String)> =
                rows.into_iter().map(|(k, v)| (k, v.unwrap_or_else(|| "-".to_owned()))).collect();
            print_rows(&rows)
        }
    }
    Ok(())
}
