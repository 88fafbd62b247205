//! Prompts on a terminal; nothing is ever echoed for secrets.

use std::io::{BufRead, IsTerminal, Write};

use core_types::SecretString;

use crate::error::{CliError, CliResult};

/// Whether we may prompt (stdin and stderr are terminals).
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks for a value on stderr, reading a line from stdin. `default` is shown and used on an
/// empty answer.
pub fn ask(label: &str, default: Option<&str>) -> CliResult<String> {
    ask_on(&mut std::io::stderr(), &mut std::io::stdin().lock(), label, default)
}

/// Asks for a value on the controlling terminal (a credential_process's stdin and stderr are
/// the AWS tool's).
pub fn ask_terminal(label: &str, default: Option<&str>) -> CliResult<String> {
    let tty = cred_store::fsutil::controlling_terminal().ok_or_else(|| CliError::new("no terminal to ask on"))?;
    let mut reader = std::io::BufReader::new(tty.try_clone()?);
    ask_on(&mut &tty, &mut reader, label, default)
}

fn ask_on(out: &mut impl Write, input: &mut impl BufRead, label: &str, default: Option<&str>) -> CliResult<String> {
    match default {
        Some(d) => write!(out, "{label} [{d}]: ")?,
        None => write!(out, "{label}: ")?,
    }
    out.flush()?;
    let mut line = String::new();
    input.read_line(&mut line)?;
    let answer = line.trim().to_owned();
    if answer.is_empty() {
        return default.map(str::to_owned).ok_or_else(|| CliError::new(format!("{label} is required")));
    }
    Ok(answer)
}

/// Where a person is asked: the command's own terminal (stdin and stderr), or the
/// controlling terminal of a process whose stdin and stdout belong to someone else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asking {
    /// stdin and stderr.
    Stdio,
    /// `/dev/tty`.
    Terminal,
}

impl Asking {
    /// Whether there is someone to ask.
    pub fn possible(self) -> bool {
        match self {
            Self::Stdio => interactive(),
            Self::Terminal => has_terminal(),
        }
    }
    /// Shows a line.
    pub fn say(self, line: &str) -> CliResult {
        match self {
            Self::Stdio => {
                eprintln!("{line}");
                Ok(())
            }
            Self::Terminal => tell_terminal(line),
        }
    }
    /// Asks for a value shown as typed.
    pub fn ask(self, label: &str, default: Option<&str>) -> CliResult<String> {
        match self {
            Self::Stdio => ask(label, default),
            Self::Terminal => ask_terminal(label, default),
        }
    }
    /// Asks for a secret, never echoed (rpassword always reads the controlling terminal).
    pub fn secret(self, label: &str) -> CliResult<SecretString> {
        ask_secret(label)
    }
}

/// Whether this process has a controlling terminal to prompt on (`/dev/tty` opens), whatever
/// its stdin, stdout and stderr are (a credential_process has them all taken).
pub fn has_terminal() -> bool {
    cred_store::fsutil::controlling_terminal().is_some()
}

/// Writes a line on the controlling terminal.
pub fn tell_terminal(line: &str) -> CliResult {
    let mut tty = cred_store::fsutil::controlling_terminal().ok_or_else(|| CliError::new("no terminal to write to"))?;
    writeln!(tty, "{line}")?;
    Ok(())
}

/// Asks for a secret without echo.
pub fn ask_secret(label: &str) -> CliResult<SecretString> {
    let value = rpassword::prompt_password(format!("{label}: "))?;
    if value.is_empty() {
        return Err(CliError::new(format!("{label} is required")));
    }
    Ok(SecretString::from(value))
}

/// Reads a secret from standard input (first line, trailing newline removed).
pub fn secret_from_stdin(what: &str) -> CliResult<SecretString> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    let value = line.trim_end_matches(['\n', '\r']).to_owned();
    if value.is_empty() {
        return Err(CliError::new(format!("no {what} on standard input")));
    }
    Ok(SecretString::from(value))
}

/// Opens `url` in the desktop's browser (the `webbrowser` crate: the platform's own opener,
/// the URL one argument, never a shell string); whether a browser was started. On a machine
/// without a desktop nothing opens and the caller's printed URL is the way.
pub fn open_browser(url: &str) -> bool {
    // a page a server named: only a web page, never a file or another scheme's handler
    let web = url.starts_with("https://") || url.starts_with("http://");
    web && url.chars().all(|c| !c.is_control() && !c.is_whitespace()) && webbrowser::open(url).is_ok()
}

/// Shows a device sign-in's page and code (stderr: stdout may be a pipe to a program). The
/// server wrote them: see [`terminal_safe`].
pub fn show_device_code(device: &oauth_pkce::DeviceAuthorization) {
    eprintln!(
        "To sign in, open {} and enter the code {}",
        terminal_safe(device.verification_uri()),
        terminal_safe(device.user_code())
    );
    if let Some(u) = device.verification_uri_complete() {
        eprintln!("(or open {})", terminal_safe(u));
    }
}

/// Text a server chose, made safe to print on a terminal: control characters (an escape
/// sequence could retitle the window, rewrite earlier lines or worse) and invisible or
/// direction-changing characters (which make a URL read as another) become `?`.
pub fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            let invisible = matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{feff}');
            if c.is_control() || invisible { '?' } else { c }
        })
        .collect()
}

#[cfg(test)]
mod safe_tests {
    #[test]
    fn escape_sequences_and_bidi_controls_never_reach_the_terminal() {
        let hostile = "https://sso.example/\u{1b}]0;owned\u{7}\u{1b}[2J\r\nABCD\u{202e}FGH\u{9b}31m";
        let safe = super::terminal_safe(hostile);
        assert!(safe.chars().all(|c| !c.is_control() && c != '\u{202e}'), "{safe:?}");
        assert_eq!(safe, "https://sso.example/?]0;owned??[2J??ABCD?FGH?31m");
        assert_eq!(super::terminal_safe("WDJB-MJHT"), "WDJB-MJHT");
    }
}
