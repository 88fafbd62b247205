//! What a tracing subscriber must cap to keep secrets out of logs.

/// `EnvFilter` directives for log targets whose trace output carries credentials: the AWS
/// SDK's orchestrator dumps whole requests (bearer-token headers included) at trace, the
/// signer its canonical requests, the HTTP and TLS stacks raw bytes. Apply them, whatever
/// `RUST_LOG` says, as a filter of their own beside the user's (a `tracing_subscriber`
/// `Targets` parsed from `join(",")`, default `TRACE`), so that a cap only ever lowers a
/// level: added as directives to a `warn` filter they would *raise* these targets to the cap.
///
/// ```
/// assert!(core_types::SECRET_BEARING_LOG_TARGETS.contains(&"aws_smithy_runtime=debug"));
/// ```
pub const SECRET_BEARING_LOG_TARGETS: &[&str] = &[
    "aws_smithy_runtime=debug",
    "aws_smithy_runtime_api=debug",
    "aws_smithy_http_client=debug",
    "aws_sigv4=debug",
    "aws_runtime=debug",
    "hyper=info",
    "hyper_util=info",
    "h2=info",
    "rustls=info",
    "sqlx=info",
];
