//! `ccc`: the command-line tool of the ccc toolkit. It parses, prompts, wires the library
//! crates together and prints; the logic lives in the libraries.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a CLI prints

mod cli;
mod commands;
mod context;
mod error;
mod mfa_role;
mod oauth_providers;
mod output;
mod prompt;
mod retries;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use cli::{Cli, Command};
use context::Ctx;
use error::{CliError, CliResult};

fn init_tracing(verbose: u8) {
    use tracing_subscriber::prelude::*;
    let default = match verbose {
        0 | 1 => "warn",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_filter(filter);
    // -vv keeps a line per retry for the error report (read from debug events that carry no
    // secret); without it nothing more is recorded
    let recorder = (verbose >= 2).then(|| retries::Recorder.with_filter(retries::targets()));
    let _ = tracing_subscriber::registry().with(fmt).with(recorder).with(secret_caps()).try_init();
}

/// At trace level the SDK dumps whole requests (bearer-token headers included) and the
/// signer its canonical requests: secrets must never reach a log, so those targets are
/// capped, whatever `RUST_LOG` says. A separate filter, so a cap only ever lowers a level:
/// as a directive of the user's filter it would raise a quiet default (`warn`) to the cap.
fn secret_caps() -> tracing_subscriber::filter::Targets {
    core_types::SECRET_BEARING_LOG_TARGETS
        .join(",")
        .parse::<tracing_subscriber::filter::Targets>()
        .unwrap_or_default()
        .with_default(tracing_subscriber::filter::LevelFilter::TRACE)
}

async fn run(cli: Cli) -> CliResult<Option<ExitCode>> {
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(shell, &mut Cli::command(), "ccc", &mut std::io::stdout());
        return Ok(None);
    }
    if let Command::Man = cli.command {
        clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?;
        return Ok(None);
    }
    let mut profiles = cli.profile.into_iter();
    let profile = profiles.next();
    let more: Vec<String> = profiles.collect();
    let command = match cli.command {
        Command::Serve(mut a) => {
            // every --profile is a slot of its own, before the --slot ones
            a.slots.splice(0..0, more);
            Command::Serve(a)
        }
        _ if !more.is_empty() => {
            return Err(CliError::new(format!("--profile is given {} times", more.len() + 1))
                .hint("name one profile; only `ccc serve` serves several (one slot per --profile)"));
        }
        c => c,
    };
    let ctx = Ctx::from_env(cli.output, cli.verbose > 0, profile, cli.region)?;
    let cli_command = match command {
        Command::Exec(a) => return commands::exec::exec(&ctx, a).await.map(Some),
        Command::Oauth(cli::OauthCommand::Exec(a)) => return commands::oauth::exec(&ctx, a).await.map(Some),
        c => c,
    };
    let done = match cli_command {
        Command::Configure(a) => commands::configure::configure(&ctx, a),
        Command::Config(c) => commands::configure::config(&ctx, c),
        Command::Login(a) => commands::login::login(&ctx, a).await,
        Command::Logout => commands::login::logout(&ctx).await,
        Command::SignUp(a) => commands::account::sign_up(&ctx, a).await,
        Command::ConfirmSignUp(a) => commands::account::confirm_sign_up(&ctx, a).await,
        Command::ForgotPassword(a) => commands::account::forgot_password(&ctx, a).await,
        Command::ConfirmForgotPassword(a) => commands::account::confirm_forgot_password(&ctx, a).await,
        Command::Creds(a) => commands::creds::creds(&ctx, a).await,
        Command::SetupProfile(args) => commands::creds::setup_profile(&ctx, &args),
        Command::Whoami => commands::creds::whoami(&ctx).await,
        Command::History(a) => commands::inspect::history(&ctx, a).await,
        Command::Resources(a) => commands::inspect::resources(&ctx, a).await,
        Command::Permissions(a) => commands::inspect::permissions(&ctx, a).await,
        Command::Sso(c) => commands::sso::sso(&ctx, c).await,
        Command::Session(c) => commands::extend::session(&ctx, c).await,
        Command::Sessions(c) => commands::sessions::sessions(&ctx, c).await,
        Command::Oauth(c) => commands::oauth::oauth(&ctx, c).await,
        Command::Team(c) => commands::team::team(&ctx, c).await,
        Command::Keys(c) => commands::keys::keys(&ctx, c).await,
        Command::Console(a) => commands::keys::console(&ctx, a).await,
        Command::Serve(a) => commands::serve::serve(&ctx, a).await,
        Command::Env(a) => commands::exec::env(&ctx, a).await,
        Command::Doctor => commands::doctor::doctor(&ctx),
        Command::Completions { .. } | Command::Man | Command::Exec(_) => Ok(()),
    };
    done.map(|()| None)
}

fn main() -> ExitCode {
    let cli = Cli::parse(); // exits 2 on usage errors
    init_tracing(cli.verbose);
    let verbosity = cli.verbose;
    #[allow(clippy::disallowed_methods)] // named in error hints only, read once
    let endpoint = std::env::var("AWS_ENDPOINT_URL").ok().filter(|v| !v.is_empty());
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    // a lock wait or file task still running after a budget ran out must not hold the exit
    runtime.shutdown_timeout(std::time::Duration::from_millis(100));
    match result {
        Ok(None) => ExitCode::from(error::exit::OK),
        Ok(Some(code)) => code,
        Err(e) => {
            let mut text = e.render(verbosity, endpoint.as_deref());
            if verbosity >= 2 {
                for line in retries::history() {
                    text.push_str(&format!("\n  retry: {line}"));
                }
            }
            eprintln!("{text}");
            ExitCode::from(e.exit_code())
        }
    }
}
