//! `ccc serve`: a local credential server speaking the container credentials protocol the AWS
//! SDKs already read (`AWS_CONTAINER_CREDENTIALS_FULL_URI` + `AWS_CONTAINER_AUTHORIZATION_TOKEN`),
//! so a container, an SSH-forwarded session or a ten-hour run gets fresh credentials without
//! holding long-lived keys.
//!
//! One slot per profile, each with its own random bearer token; every slot is served from a
//! refreshing cache (one refresh however many clients ask across an expiry). Loopback or a
//! unix socket (0600) only. A request without the slot's token is refused and logged without
//! the token. The running server keeps its address and the slots' tokens in
//! `~/.ccc/serve.json` (0600) for `ccc serve --print-env SLOT`, and removes it when it stops.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use core_types::{ErrorKind, ExposeSecret, Kinded, SecretString};
use std::convert::Infallible;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::cli::ServeArgs;
use crate::context::Ctx;
use crate::error::{CliError, CliResult};

/// How long one connection may take to send its request head (an idle one must not hold a task).
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest request head accepted.
const MAX_HEAD: usize = 16 * 1024;
/// How long a refresh may take before the client is told to retry.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// The path a slot is served at.
fn slot_path(slot: &str) -> String {
    format!("/creds/{slot}")
}

struct Slot {
    token: SecretString,
    served: cloud_sessions::ProfileCredentials,
}

type Slots = Arc<BTreeMap<String, Slot>>;

/// A new bearer token: 32 bytes of OS randomness, hex.
fn new_token() -> CliResult<SecretString> {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| CliError::new("no randomness for a token"))?;
    Ok(SecretString::from(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

pub async fn serve(ctx: &Ctx, args: ServeArgs) -> CliResult {
    let state_file = ctx.paths.ccc_dir.join("serve.json");
    if let Some(slot) = &args.print_env {
        return print_env(&state_file, slot);
    }
    // what is at --socket and is no socket is not ccc's to delete: refused before anything
    if let Some(path) = &args.socket
        && cred_store::fsutil::is_socket(path)? == Some(false)
    {
        return Err(CliError::new(format!("--socket {}: something that is not a socket is there", path.display()))
            .kind(ErrorKind::InvalidInput)
            .hint("choose a path that does not exist (ccc replaces only a socket it may have left)"));
    }
    let config = ctx.config()?;
    let mut names: Vec<String> = args.slots.clone();
    if names.is_empty() || ctx.profile_flag.is_some() {
        names.insert(0, ctx.profile(&config));
    }
    let mut seen = std::collections::BTreeSet::new();
    names.retain(|n| seen.insert(n.clone()));
    let mut slots = BTreeMap::new();
    for name in &names {
        // resolved now: a profile that cannot give credentials fails here, not at a client
        let crate::context::ProfileCredentials { built, credentials: creds, .. } =
            ctx.profile_credentials(&config, name, cred_store::DEFAULT_REFRESH_LOCK_WAIT).await?;
        let creds = cred_store::from_sdk_credentials(&creds);
        // never hand out long-term keys
        if creds.session_token().is_none() {
            // the way that works: a role whose source is these keys, served by its own name
            let (what, source) = if ctx.uses_environment_keys() {
                ("the environment's keys are long-term".to_owned(), "credential_source = Environment".to_owned())
            } else {
                (format!("profile {name} has long-term keys"), format!("source_profile = {name}"))
            };
            return Err(CliError::new(format!("{what}: ccc serve hands out temporary credentials only"))
                .kind(ErrorKind::InvalidInput)
                .hint(format!("serve a profile with temporary credentials: a role profile with `role_arn` and `{source}` (`ccc serve --profile ROLE`), or an SSO or Cognito profile")));
        }
        slots.insert(name.clone(), Slot { token: new_token()?, served: built });
    }
    let slots: Slots = Arc::new(slots);
    let (address, listener) = match (&args.socket, &args.listen) {
        (Some(path), _) => {
            // a socket left by an earlier server is replaced (anything else was refused above)
            cred_store::fsutil::remove_optional(path)?;
            let l = tokio::net::UnixListener::bind(path)
                .map_err(|e| CliError::new(format!("cannot listen on {}: {e}", path.display())))?;
            cred_store::fsutil::make_private(path)?;
            (Address::Socket(path.clone()), Listener::Unix(l))
        }
        (None, listen) => {
            let addr: SocketAddr = listen.parse().map_err(|_| {
                CliError::new(format!("--listen {listen} is not an address"))
                    .kind(ErrorKind::InvalidInput)
                    .hint("e.g. --listen 127.0.0.1:9911")
            })?;
            if !addr.ip().is_loopback() {
                return Err(CliError::new(format!(
                    "--listen {addr} is not a loopback address: credentials are served to this machine only"
                ))
                .kind(ErrorKind::InvalidInput)
                .hint("use 127.0.0.1:PORT (forward it with ssh -L or --network host), or --socket PATH"));
            }
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| CliError::new(format!("cannot listen on {addr}: {e}")).hint("choose another port"))?;
            let bound = l.local_addr().map_err(|e| CliError::new(e.to_string()))?;
            (Address::Tcp(bound), Listener::Tcp(l))
        }
    };
    write_state(&state_file, &address, &slots)?;
    for name in slots.keys() {
        match &address {
            Address::Tcp(a) => eprintln!("serving profile {name} at http://{a}{}", slot_path(name)),
            Address::Socket(p) => eprintln!("serving profile {name} at {}{}", p.display(), slot_path(name)),
        }
    }
    eprintln!("a client's variables: `ccc serve --print-env SLOT`; stop with Ctrl-C");
    let stopped = run(listener, slots).await;
    let _ = cred_store::fsutil::remove_optional(&state_file);
    if let Address::Socket(p) = &address {
        let _ = cred_store::fsutil::remove_optional(p);
    }
    stopped
}

enum Address {
    Tcp(SocketAddr),
    Socket(std::path::PathBuf),
}

enum Listener {
    Tcp(tokio::net::TcpListener),
    Unix(tokio::net::UnixListener),
}

/// Connections served at once; more wait in the listen backlog (a client's SDK retries).
const MAX_CONNECTIONS: usize = 256;
/// How long the accept loop pauses after a failed accept (out of file descriptors, say),
/// doubling up to a second: a failing accept must not spin.
const ACCEPT_BACKOFF: (Duration, Duration) = (Duration::from_millis(10), Duration::from_secs(1));

/// Accepts connections until Ctrl-C or SIGTERM; each is served on its own task, at most
/// [`MAX_CONNECTIONS`] at once.
async fn run(listener: Listener, slots: Slots) -> CliResult {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| CliError::new(format!("cannot watch for SIGTERM: {e}")))?;
    let permits = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    let mut backoff = ACCEPT_BACKOFF.0;
    loop {
        let permit = tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => break,
            _ = term.recv() => break,
            accepted = accept(&listener) => match accepted {
                Ok(conn) => {
                    backoff = ACCEPT_BACKOFF.0;
                    let slots = slots.clone();
                    tokio::spawn(async move {
                        match conn {
                            Conn::Tcp(s) => handle(s, slots).await,
                            Conn::Unix(s) => handle(s, slots).await,
                        }
                        drop(permit);
                    });
                }
                Err(e) => {
                    // said once per pause, not once per spin
                    tracing::warn!(error = %e, pause_ms = backoff.as_millis() as u64, "accepting a connection failed");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(ACCEPT_BACKOFF.1);
                }
            },
        }
    }
    eprintln!("stopped");
    Ok(())
}

enum Conn {
    Tcp(tokio::net::TcpStream),
    Unix(tokio::net::UnixStream),
}

async fn accept(listener: &Listener) -> std::io::Result<Conn> {
    match listener {
        Listener::Tcp(l) => l.accept().await.map(|(s, _)| Conn::Tcp(s)),
        Listener::Unix(l) => l.accept().await.map(|(s, _)| Conn::Unix(s)),
    }
}

fn error_body(code: &str, message: &str) -> String {
    serde_json::json!({ "code": code, "message": message }).to_string()
}

/// Serves one connection with hyper: each request's head within [`READ_TIMEOUT`] and
/// [`MAX_HEAD`] (431 past it), one request per connection.
async fn handle(stream: impl AsyncRead + AsyncWrite + Unpin + Send + 'static, slots: Slots) {
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let slots = slots.clone();
        async move { Ok::<_, Infallible>(answer(&slots, &req).await) }
    });
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(READ_TIMEOUT)
        .max_buf_size(MAX_HEAD)
        .keep_alive(false)
        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
        .await;
}

fn reply(status: u16, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .header("cache-control", "no-store")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

/// The answer to one request: a slot's credentials for its token, else a refusal that tells
/// nothing about which slots exist.
async fn answer(slots: &Slots, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let refuse = || reply(401, error_body("AccessDenied", "missing or wrong authorization token"));
    let Some((name, slot)) = slots.iter().find(|(name, _)| slot_path(name) == req.uri().path()) else {
        tracing::warn!("refused a request for a path that is no slot");
        return refuse();
    };
    if req.method() != hyper::Method::GET {
        return reply(405, error_body("MethodNotAllowed", "GET only"));
    }
    let authorization = req.headers().get("authorization").map(|v| v.as_bytes());
    if !authorization.is_some_and(|a| core_types::constant_time_eq(a, slot.token.expose_secret().as_bytes())) {
        // said without the token the client sent (it may be a real one for another slot)
        tracing::warn!(slot = %name, "refused a request without the slot's token");
        return refuse();
    }
    match tokio::time::timeout(ANSWER_TIMEOUT, slot.served.credentials()).await {
        Ok(Ok(c)) => {
            let body = serde_json::json!({
                "AccessKeyId": c.access_key_id().expose_secret(),
                "SecretAccessKey": c.secret_access_key().expose_secret(),
                "Token": c.session_token().map(|t| t.expose_secret().to_owned()),
                "Expiration": c.expiration().map(cred_store::format_rfc3339),
                "AccountId": c.account_id(),
            });
            reply(200, body.to_string())
        }
        Ok(Err(e)) => {
            tracing::warn!(slot = %name, error = %e, "could not serve credentials");
            let status = if e.kind().is_retryable() { 503 } else { 500 };
            reply(status, error_body(e.kind().as_str(), &e.to_string()))
        }
        Err(_) => reply(503, error_body("Unavailable", "the refresh is taking too long; retry")),
    }
}

fn write_state(file: &std::path::Path, address: &Address, slots: &Slots) -> CliResult {
    let tokens: serde_json::Map<String, serde_json::Value> =
        slots.iter().map(|(n, s)| (n.clone(), serde_json::Value::from(s.token.expose_secret()))).collect();
    let where_ = match address {
        Address::Tcp(a) => serde_json::json!({ "url": format!("http://{a}") }),
        Address::Socket(p) => serde_json::json!({ "socket": p.display().to_string() }),
    };
    let state = serde_json::json!({ "pid": std::process::id(), "at": where_, "slots": tokens });
    Ok(cred_store::fsutil::write_atomic(file, state.to_string().as_bytes())?)
}

/// `ccc serve --print-env SLOT`: the two variables a client needs, from the running server.
fn print_env(file: &std::path::Path, slot: &str) -> CliResult {
    let not_running = || {
        CliError::new("no ccc serve is running for this user")
            .kind(ErrorKind::NotConfigured)
            .hint("start one: `ccc serve --slot PROFILE`")
    };
    let text = cred_store::fsutil::read_optional(file)?.ok_or_else(not_running)?;
    let state: serde_json::Value = serde_json::from_str(&text).map_err(|_| not_running())?;
    // a server killed without its cleanup leaves its file behind
    if let Some(pid) = state["pid"].as_u64()
        && std::path::Path::new("/proc/self").exists()
        && !std::path::Path::new(&format!("/proc/{pid}")).exists()
    {
        return Err(not_running());
    }
    let Some(token) = state["slots"][slot].as_str() else {
        let served: Vec<&str> =
            state["slots"].as_object().map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
        return Err(CliError::new(format!("the running ccc serve has no slot {slot}"))
            .kind(ErrorKind::InvalidInput)
            .hint(format!("it serves: {}", served.join(", "))));
    };
    let Some(url) = state["at"]["url"].as_str() else {
        return Err(CliError::new("the running ccc serve listens on a unix socket, which the SDKs cannot read")
            .kind(ErrorKind::InvalidInput)
            .hint("forward the socket to a loopback port (ssh -L 9911:SOCKET), or run `ccc serve --listen 127.0.0.1:PORT`"));
    };
    print!("{}", env_lines(url, slot, token));
    Ok(())
}

/// The `export` lines for a slot, quoted as `ccc env` quotes: a slot is a profile name, which
/// may hold anything a shell would run.
fn env_lines(url: &str, slot: &str, token: &str) -> String {
    let quote = super::exec::sh_quote;
    format!(
        "export AWS_CONTAINER_CREDENTIALS_FULL_URI={}\nexport AWS_CONTAINER_AUTHORIZATION_TOKEN={}\n",
        quote(&format!("{url}{}", slot_path(slot))),
        quote(token)
    )
}

#[cfg(test)]
mod tests {
    /// A slot name with a quote and a command in it is one word for the shell, never code.
    #[test]
    fn print_env_quotes_what_a_profile_name_may_hide() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("ran");
        let slot = format!("x';touch {};'", marker.display());
        let lines = super::env_lines("http://127.0.0.1:9", &slot, "t0k");
        let script = format!("{lines}printf %s \"$AWS_CONTAINER_CREDENTIALS_FULL_URI\"");
        let out = std::process::Command::new("sh").args(["-c", &script]).output().unwrap();
        assert!(out.status.success());
        assert_eq!(String::from_utf8_lossy(&out.stdout), format!("http://127.0.0.1:9/creds/{slot}"));
        assert!(!marker.exists(), "sourcing the lines ran code from the slot's name");
    }
}
