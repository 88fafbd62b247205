//! The command line, as clap sees it.

/// The exit codes, shown under `--help` (see `error::exit`).
const EXIT_CODES: &str = "Exit codes: 0 ok, 1 failure, 2 usage error, 3 a person must sign in or configure first, 4 an upstream service is unavailable or throttling (retry later); `ccc exec` exits with its command's code, or 126 / 127 when the command cannot be executed / is not found.";

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Credentials that are valid when asked for — AWS (IAM Identity Center, Cognito, roles, any
/// profile), Azure and OAuth — through credential_process, `exec` and `env`; and what the
/// signed-in user did, owns and may do.
#[derive(Debug, Parser)]
#[command(name = "ccc", version, propagate_version = true, after_help = EXIT_CODES)]
pub struct Cli {
    /// Output format for commands that print data.
    #[arg(long, short = 'o', global = true, value_enum, default_value_t = Output::Table)]
    pub output: Output,
    /// More detail when something fails (-v the causes, -vv request ids too) and more logging
    /// on stderr (-vv debug, -vvv trace); RUST_LOG overrides the logging.
    #[arg(long, short = 'v', global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// The AWS profile every command acts on (default: AWS_PROFILE, then the ccc config's
    /// `profile`, then `default`); `ccc serve` takes it more than once, one slot each.
    #[arg(long, global = true, action = clap::ArgAction::Append)]
    pub profile: Vec<String>,
    /// The AWS region of AWS calls (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's
    /// `region`, the ccc config's `region`, then us-east-1).
    #[arg(long, global = true)]
    pub region: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// How data is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Aligned columns for people.
    Table,
    /// JSON for programs.
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Set up the Cognito pool, app client, identity pool, region and profile.
    Configure(ConfigureArgs),
    /// Read or change one configuration value.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Sign in and save AWS credentials to the configured profile (for a role profile that
    /// names `mfa_serial`: assume the role with a code from the MFA device).
    Login(LoginArgs),
    /// Sign out everywhere and remove the saved credentials and tokens.
    Logout,
    /// Create a Cognito account (the password from the terminal or standard input).
    SignUp(SignUpArgs),
    /// Confirm a new account with the code sent at sign-up.
    ConfirmSignUp(CodeArgs),
    /// Ask Cognito for a code to reset a forgotten password.
    ForgotPassword(UserArgs),
    /// Set a new password with the code `forgot-password` sent.
    ConfirmForgotPassword(NewPasswordArgs),
    /// Print credentials as credential_process JSON, refreshing them silently when needed.
    Creds(CredsArgs),
    /// Run a command with the profile's fresh credentials in its environment.
    Exec(ExecArgs),
    /// Print the profile's fresh credentials as environment variables (for `eval`).
    Env(EnvArgs),
    /// Add a profile to ~/.aws/config whose credential_process is `ccc creds`.
    ///
    /// Only a Cognito sign-in's profile: keys, roles, SSO and another tool's credential_process
    /// are refused and left as they are (`--force` replaces another tool's process).
    SetupProfile(SetupProfileArgs),
    /// Show who the current credentials belong to and until when they are valid.
    Whoami,
    /// What the signed-in user did: CloudTrail events (CloudWatch Logs fallback).
    History(HistoryArgs),
    /// What the signed-in user owns: tagged resources in every region.
    Resources(ResourcesArgs),
    /// What the signed-in user may do: IAM policies, and simulated actions with --test.
    Permissions(PermissionsArgs),
    /// Keep IAM Identity Center (SSO) credentials valid.
    #[command(subcommand)]
    Sso(SsoCommand),
    /// Credentials for a long run (GetSessionToken, or AssumeRole with a duration).
    #[command(subcommand)]
    Session(SessionCommand),
    /// Cloud sessions declared in YAML.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// OAuth 2 / OIDC sign-in against any provider.
    #[command(subcommand)]
    Oauth(OauthCommand),
    /// The team store machines share refreshes through (CCC_TEAM_STORE, PostgreSQL).
    #[command(subcommand)]
    Team(TeamCommand),
    /// Open the AWS console as the profile (a federation sign-in URL).
    Console(ConsoleArgs),
    /// Long-term IAM keys kept sealed in the token store, served as sessions.
    ///
    /// Not in ~/.aws/credentials: the profile is served GetSessionToken sessions of its key.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Serve profiles' fresh credentials to containers and SDKs (the container credentials
    /// protocol) on loopback or a unix socket.
    Serve(ServeArgs),
    /// Check the files ccc owns (modes, owners) and say which token store and ledger are in use.
    Doctor,
    /// Print the manual page (roff; `ccc man > ccc.1`, then `man ./ccc.1`).
    Man,
    /// Print a shell completion script.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    /// Cognito user pool id (us-east-1_AbCdEf123).
    #[arg(long)]
    pub user_pool_id: Option<String>,
    /// App client id.
    #[arg(long)]
    pub app_client_id: Option<String>,
    /// Read the app client secret from standard input (for clients that have one).
    #[arg(long)]
    pub app_client_secret_stdin: bool,
    /// Identity pool id (us-east-1:uuid).
    #[arg(long)]
    pub identity_pool_id: Option<String>,
    /// Sign in with USER_PASSWORD_AUTH instead of SRP.
    #[arg(long)]
    pub password_auth: bool,
    /// Never prompt: fail if a required value is missing.
    #[arg(long)]
    pub non_interactive: bool,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print a value.
    Get {
        /// user_pool_id, app_client_id, app_client_secret, identity_pool_id, region, profile, ...
        key: String,
    },
    /// Set a value.
    Set {
        /// The key.
        key: String,
        /// The value (secret keys such as app_client_secret take it from standard input).
        #[arg(required_unless_present = "value_stdin")]
        value: Option<String>,
        /// Read the value from standard input (never from argv, where shell history and `ps`
        /// would see it); required for app_client_secret.
        #[arg(long, conflicts_with = "value")]
        value_stdin: bool,
    },
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The username (prompted for when omitted).
    #[arg(long, short = 'u')]
    pub username: Option<String>,
    /// Read the password (for an MFA role profile: the code) from standard input instead of
    /// prompting.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct SignUpArgs {
    /// The username.
    #[arg(long, short = 'u')]
    pub username: String,
    /// An attribute (`email=me@example.com`), repeatable.
    #[arg(long = "attribute", value_name = "NAME=VALUE")]
    pub attributes: Vec<String>,
    /// Read the password from standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct UserArgs {
    /// The username.
    #[arg(long, short = 'u')]
    pub username: String,
}

#[derive(Debug, Args)]
pub struct CodeArgs {
    /// The username.
    #[arg(long, short = 'u')]
    pub username: String,
    /// Read the code Cognito sent from standard input (else it is asked for on the
    /// terminal; never an argument, where other users see it).
    #[arg(long)]
    pub code_stdin: bool,
}

#[derive(Debug, Args)]
pub struct NewPasswordArgs {
    /// The username.
    #[arg(long, short = 'u')]
    pub username: String,
    /// Read the code `forgot-password` sent from standard input, first line (else it is asked
    /// for on the terminal; never an argument, where other users see it).
    #[arg(long)]
    pub code_stdin: bool,
    /// Read the new password from standard input instead of prompting (after the code, with
    /// `--code-stdin`).
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct CredsArgs {
    /// Serve a session declared in a cloud-sessions YAML file instead of a profile.
    #[arg(long, value_name = "NAME", requires = "sessions_config", conflicts_with = "profile")]
    pub session: Option<String>,
    /// The YAML file with `cloud_sessions:` (for `--session`).
    #[arg(long, value_name = "FILE", env = "CCC_SESSIONS_CONFIG")]
    pub sessions_config: Option<std::path::PathBuf>,
    /// The most seconds the whole command may take (upstream calls and waiting for another
    /// process's refresh included); then it fails rather than hang its caller.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Run under extended credentials (see `ccc session extend`) rather than the profile's own.
    #[arg(long)]
    pub extended: bool,
    /// How long the extended credentials live, in hours (with --extended).
    #[arg(long, requires = "extended", default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=36))]
    pub hours: u32,
    /// The command and its arguments (after `--`).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    /// How to print them.
    #[arg(long, value_enum, default_value_t = EnvFormat::Sh)]
    pub format: EnvFormat,
}

/// Shells and files `ccc env` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvFormat {
    /// `export K='v'` (bash, zsh, sh; `source` the file).
    #[value(alias = "env")]
    Sh,
    /// `set -gx K 'v';`.
    Fish,
    /// `$Env:K = 'v'`.
    Powershell,
    /// One JSON object.
    Json,
    /// `K=v` lines.
    Dotenv,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Whose history (default: the signed-in user).
    #[arg(long)]
    pub user: Option<String>,
    /// How many days back.
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// At most this many events.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// The trail's CloudWatch Logs group, for the fallback.
    #[arg(long, default_value = aws_inspect::DEFAULT_TRAIL_LOG_GROUP)]
    pub log_group: String,
}

#[derive(Debug, Args)]
pub struct ResourcesArgs {
    /// Whose resources (default: the signed-in user).
    #[arg(long)]
    pub user: Option<String>,
    /// Every tagged resource, whoever owns it.
    #[arg(long)]
    pub all: bool,
    /// Regions to scan (default: the regions enabled for the account, from account:ListRegions;
    /// the regions every account has when that cannot be read).
    #[arg(long, value_delimiter = ',')]
    pub regions: Vec<String>,
    /// Owner tag keys (default: Owner, owner, CreatedBy).
    #[arg(long, value_delimiter = ',')]
    pub owner_tag: Vec<String>,
    /// At most this many resources.
    #[arg(long, default_value_t = 1000)]
    pub limit: usize,
    /// List every ARN, not just counts per type.
    #[arg(long)]
    pub verbose_list: bool,
}

#[derive(Debug, Args)]
pub struct PermissionsArgs {
    /// Simulate these actions (repeatable; `--test` alone uses a default set).
    #[arg(long = "test", num_args = 0.., value_name = "ACTION")]
    pub test: Option<Vec<String>>,
}

#[derive(Debug, Subcommand)]
pub enum SsoCommand {
    /// Whether the profile's SSO credentials need refreshing, and the ledger's view.
    Status,
    /// Sign in with the device flow (no AWS CLI needed); the token goes to the SSO cache
    /// where `aws`, boto3 and the SDKs find it.
    Login(SsoLoginArgs),
    /// The accounts the signed-in user can use.
    Accounts(SsoSessionArg),
    /// The roles the signed-in user can assume (in every account, or one).
    Roles(SsoRolesArgs),
    /// Write a profile for every account and role the signed-in user can use.
    Populate(SsoPopulateArgs),
    /// Sign out: the portal is told, the token leaves the SSO cache, and no credential that
    /// sign-in gave is served again.
    Logout(SsoSessionArg),
    /// Refresh if needed (silently when the token cache allows), then show the expiry.
    Ensure,
    /// Refresh now.
    Refresh,
}

#[derive(Debug, Args)]
pub struct SsoPopulateArgs {
    /// The `[sso-session NAME]` whose signed-in user's accounts and roles become profiles.
    #[arg(long, value_name = "NAME")]
    pub sso_session: String,
    /// How profiles are named, from {account_name}, {account_id}, {role_name}, {sso_session}.
    #[arg(long, default_value = "{account_name}.{role_name}")]
    pub template: String,
    /// Also remove the profiles this command wrote for this sso-session earlier whose account
    /// or role is gone.
    #[arg(long)]
    pub prune: bool,
    /// Calls per second to IAM Identity Center at most (it throttles at about 20).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_rps: u32,
}

#[derive(Debug, Args)]
pub struct SsoLoginArgs {
    #[command(flatten)]
    pub target: SsoSessionArg,
    /// Print the page and code only; do not try to open a browser.
    #[arg(long)]
    pub no_browser: bool,
    /// Sign in again even when the cached sign-in is still valid.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SsoSessionArg {
    /// An `[sso-session NAME]` of ~/.aws/config, used without a profile (instead of
    /// `--profile`), as `aws sso login --sso-session NAME` does.
    #[arg(long, value_name = "NAME", conflicts_with = "profile")]
    pub sso_session: Option<String>,
}

#[derive(Debug, Args)]
pub struct SsoRolesArgs {
    #[command(flatten)]
    pub target: SsoSessionArg,
    /// Only this account.
    #[arg(long)]
    pub account: Option<String>,
}

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// The console page to open (default: the console home, in --region when given).
    #[arg(long)]
    pub destination: Option<String>,
    /// Print the sign-in URL instead of opening it (it signs in whoever has it: keep it private).
    #[arg(long)]
    pub print: bool,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Keep an access key for PROFILE (its id and secret from standard input, one per line,
    /// or asked on the terminal; never on the command line), and point the profile at it.
    Add {
        /// The AWS profile.
        profile: String,
        /// Read the key id and secret from standard input (two lines) instead of asking.
        #[arg(long)]
        stdin: bool,
    },
    /// Move PROFILE's plaintext keys out of ~/.aws/credentials into the store (one lossless
    /// edit of each file).
    Import {
        /// The AWS profile.
        profile: String,
    },
    /// The kept keys: profile, key id, age and last rotation (never a secret).
    List,
    /// Forget the key kept for PROFILE (IAM still has it: delete it there too if it is done).
    Remove {
        /// The AWS profile.
        profile: String,
    },
    /// Replace PROFILE's key with a new one and delete the old one in IAM.
    Rotate {
        /// The AWS profile.
        profile: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum SessionCommand {
    /// Obtain credentials that last `--hours` (GetSessionToken for IAM user keys, AssumeRole
    /// with that duration for a role profile) and write them to a file for `source`.
    Extend(ExtendArgs),
}

#[derive(Debug, Args)]
pub struct ExtendArgs {
    /// How long they live, in hours (GetSessionToken allows 36, a role its MaxSessionDuration;
    /// default: a role profile's `duration_seconds`, else 12).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=36))]
    pub hours: Option<u32>,
    /// How to write them (`env`: `export` lines to `source`).
    #[arg(long, value_enum, default_value_t = EnvFormat::Sh)]
    pub format: EnvFormat,
    /// The file (created 0600; `-` prints them instead).
    #[arg(long, default_value = ".env.extended")]
    pub out: std::path::PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// The declared sessions (and configuration warnings).
    List(SessionsArgs),
    /// GetCallerIdentity through every AWS session (or one), with latency.
    Check {
        #[command(flatten)]
        args: SessionsArgs,
        /// Only this session.
        #[arg(long)]
        name: Option<String>,
        /// Check again every SECONDS, with a summary line per round (until interrupted, or
        /// `--rounds`); the exit code is the last round's.
        #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
        watch: Option<u64>,
        /// With --watch: stop after this many rounds.
        #[arg(long, requires = "watch")]
        rounds: Option<u64>,
    },
    /// credential_process JSON for an AWS session (as `ccc creds --session`).
    Creds {
        #[command(flatten)]
        args: SessionsArgs,
        /// The session.
        #[arg(long)]
        name: String,
    },
    /// Sign in with the browser (or a device code) for a `use_interactive_browser` Azure
    /// session (the refresh token goes to the token store).
    Login {
        #[command(flatten)]
        args: SessionsArgs,
        /// The session.
        #[arg(long)]
        name: String,
        /// Use the device flow (for machines without a browser: open the page elsewhere and
        /// type the code).
        #[arg(long, conflicts_with = "no_browser")]
        device: bool,
        /// Print the page only; do not try to open a browser.
        #[arg(long)]
        no_browser: bool,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 300)]
        timeout: u64,
    },
    /// Forget an Azure session's kept tokens (every scope set) and its browser sign-in, so
    /// the next token is asked of its credential (e.g. after `az login` as someone else).
    Logout {
        #[command(flatten)]
        args: SessionsArgs,
        /// The session.
        #[arg(long)]
        name: String,
    },
    /// Keep a secret in ccc's token store, for `SEC/NAME` values of `store_type: local`
    /// (the value from standard input, never argv).
    SetSecret {
        /// The secret's name (`SEC/NAME` in the YAML).
        name: String,
    },
    /// Print an Azure session's access token (on purpose, like `az account get-access-token`).
    Token {
        #[command(flatten)]
        args: SessionsArgs,
        /// The session.
        #[arg(long)]
        name: String,
        /// The scope (repeatable; default the Azure Resource Manager's).
        #[arg(long = "scope")]
        scopes: Vec<String>,
    },
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// The YAML file with `cloud_sessions:`.
    #[arg(long, env = "CCC_SESSIONS_CONFIG")]
    pub config: std::path::PathBuf,
}

#[derive(Debug, Args)]
pub struct SetupProfileArgs {
    /// Replace another tool's credential_process (its line is kept as a comment).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// A profile to serve (repeatable, as is --profile here); with neither, the profile
    /// (AWS_PROFILE, the ccc config's, `default`).
    #[arg(long = "slot", value_name = "PROFILE")]
    pub slots: Vec<String>,
    /// Where to listen: a loopback address and port (default: a free port on 127.0.0.1).
    #[arg(long, default_value = "127.0.0.1:0", conflicts_with = "socket")]
    pub listen: String,
    /// Listen on a unix socket instead (created 0600), e.g. to forward over SSH.
    #[arg(long, value_name = "PATH")]
    pub socket: Option<std::path::PathBuf>,
    /// Print the two variables a client needs for SLOT of the running server, and exit.
    #[arg(long, value_name = "SLOT")]
    pub print_env: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Each entry's version, expiry, writer, and who is refreshing it now (never a secret).
    Status,
    /// Make a new team key (32 random bytes, base64) in a new 0600 file.
    Key {
        /// The file to create (it must not exist).
        #[arg(long = "new", value_name = "FILE")]
        new: std::path::PathBuf,
    },
    /// Remove an entry: the next refresh starts from a machine's own value, or a sign-in.
    Forget {
        /// The entry's key, as `ccc team status` shows it.
        key: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OauthCommand {
    /// Save a provider under a name (a client secret goes to the token store, never the config).
    Add(OauthAdd),
    /// The saved providers, and whether each is signed in.
    List,
    /// Forget a saved provider (its stored tokens and client secret too).
    Remove {
        /// The provider's name.
        name: String,
    },
    /// Sign in (browser with a loopback redirect, or --device) and store the tokens.
    Login(OauthLogin),
    /// Print a valid access token, refreshing it when needed.
    Token(OauthArgs),
    /// Refresh now.
    Refresh(OauthArgs),
    /// Revoke the stored tokens at the provider and forget them.
    Revoke(OauthArgs),
    /// Run a command with a valid access token in its environment.
    Exec(OauthExec),
}

#[derive(Debug, Args)]
pub struct OauthArgs {
    /// A saved provider (`ccc oauth add`), instead of --issuer and --client-id.
    #[arg(conflicts_with_all = ["issuer", "client_id"], required_unless_present = "issuer")]
    pub name: Option<String>,
    /// The provider's issuer URL (discovery at /.well-known/openid-configuration).
    #[arg(long, requires = "client_id")]
    pub issuer: Option<String>,
    /// The client id.
    #[arg(long, requires = "issuer")]
    pub client_id: Option<String>,
    /// Read a client secret from standard input (confidential clients).
    #[arg(long)]
    pub client_secret_stdin: bool,
}

#[derive(Debug, Args)]
pub struct OauthAdd {
    /// The name to use in later commands.
    pub name: String,
    /// The provider's issuer URL.
    #[arg(long)]
    pub issuer: String,
    /// The client id.
    #[arg(long)]
    pub client_id: String,
    /// Scopes to ask for (repeatable; default openid offline_access).
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// Read the client secret from standard input (confidential clients).
    #[arg(long)]
    pub client_secret_stdin: bool,
    /// The variable `ccc oauth exec` sets (default ACCESS_TOKEN).
    #[arg(long)]
    pub token_var: Option<String>,
    /// Save without asking the issuer for its discovery document.
    #[arg(long)]
    pub no_check: bool,
}

#[derive(Debug, Args)]
pub struct OauthExec {
    #[command(flatten)]
    pub args: OauthArgs,
    /// The variable to set (default: the provider's, else ACCESS_TOKEN).
    #[arg(long)]
    pub var: Option<String>,
    /// The command and its arguments (after `--`).
    #[arg(last = true, required = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct OauthLogin {
    #[command(flatten)]
    pub args: OauthArgs,
    /// Scopes (default: openid offline_access).
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// Use the device flow (for machines without a browser).
    #[arg(long)]
    pub device: bool,
    /// Do not try to open a browser; print the URL.
    #[arg(long)]
    pub no_browser: bool,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 300)]
    pub timeout: u64,
}
