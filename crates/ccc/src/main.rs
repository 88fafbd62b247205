//! `ccc`: the command-line tool of the ccc toolkit. Only `--version` and `--help` exist yet.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a CLI prints

use std::process::ExitCode;

fn main() -> ExitCode {
    let arg = std::env::args().nth(1);
    match arg.as_deref() {
        Some("--version" | "-V") => {
            println!("ccc {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        None | Some("--help" | "-h") => {
            println!("ccc {}: no commands are implemented yet.", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("error: `{other}` is not implemented yet; see `ccc --help`");
            ExitCode::from(2)
        }
    }
}
