//! The secret-leak scan's recorder. When `CCC_LEAK_DIR` is set (`cargo xtask test` sets it),
//! every test process logs at trace level — with the caps every ccc subscriber applies,
//! [`core_types::SECRET_BEARING_LOG_TARGETS`] — into `log-PID.log` there, and every secret a
//! test or stub creates or sees (passwords, secret keys, session tokens, refresh tokens,
//! client secrets) is listed in `secrets-PID.txt`. After the suite, `cargo xtask test`
//! searches every log for every secret. Without `CCC_LEAK_DIR` all of this does nothing.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Once;

/// Shorter values ("true", a region) would match innocently; no real secret is this short.
const MIN_LEN: usize = 12;

#[allow(clippy::disallowed_methods)] // the scan's switch comes from the test environment
fn dir() -> Option<PathBuf> {
    std::env::var_os("CCC_LEAK_DIR").map(PathBuf::from)
}

fn append(file: &str, text: &str) {
    let Some(dir) = dir() else { return };
    let _ = std::fs::create_dir_all(&dir);
    let path = dir.join(format!("{file}-{}.txt", std::process::id()));
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = f.write_all(text.as_bytes());
    }
}

/// Installs the trace-level file subscriber once per process (no-op without `CCC_LEAK_DIR`).
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Some(dir) = dir() else { return };
        let _ = std::fs::create_dir_all(&dir);
        let Ok(file) = std::fs::File::create(dir.join(format!("log-{}.log", std::process::id()))) else {
            return;
        };
        let mut filter = tracing_subscriber::EnvFilter::new("trace");
        for cap in core_types::SECRET_BEARING_LOG_TARGETS {
            if let Ok(d) = cap.parse() {
                filter = filter.add_directive(d);
            }
        }
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .try_init();
    });
}

/// Lists `value` as a secret the logs must not contain.
pub fn secret(value: &str) {
    let value = value.trim();
    if value.len() >= MIN_LEN && !value.contains('\n') {
        append("secrets", &format!("{value}\n"));
    }
}

/// Adds text a child process logged (a `ccc` run's stderr at `RUST_LOG=trace`) to the scan.
pub fn child_log(text: &str) {
    if !text.is_empty() {
        append("log-child", text);
        if !text.ends_with('\n') {
            append("log-child", "\n");
        }
    }
}

/// Lists the credentials in an AWS response body (awsQuery XML or JSON): secret keys,
/// session tokens, Cognito and SSO tokens, Secrets Manager values.
pub fn secrets_in_response(body: &str) {
    if dir().is_none() {
        return;
    }
    const KEYS: &[&str] = &[
        "SecretAccessKey",
        "SecretKey",
        "SessionToken",
        "AccessToken",
        "RefreshToken",
        "IdToken",
        "SecretString",
        "accessToken",
        "secretAccessKey",
        "sessionToken",
        "refreshToken",
        "clientSecret",
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
    ];
    for key in KEYS {
        // <Key>value</Key>
        let open = format!("<{key}>");
        for (i, _) in body.match_indices(&open) {
            let rest = &body[i + open.len()..];
            if let Some(end) = rest.find('<') {
                secret(&rest[..end]);
            }
        }
        // "Key": "value"
        let quoted = format!("\"{key}\"");
        for (i, _) in body.match_indices(&quoted) {
            let rest = body[i + quoted.len()..].trim_start();
            let Some(rest) = rest.strip_prefix(':') else { continue };
            let Some(rest) = rest.trim_start().strip_prefix('"') else { continue };
            if let Some(end) = rest.find('"') {
                secret(&rest[..end]);
            }
        }
    }
}

/// Lists a token set's tokens.
pub fn tokens(t: &core_types::TokenSet) {
    use core_types::ExposeSecret;
    for s in [&t.access_token, &t.refresh_token, &t.id_token].into_iter().flatten() {
        secret(s.expose_secret());
    }
}
