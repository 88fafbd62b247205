//! What a tracing subscriber must cap to keep secrets out of logs.

/// `EnvFilter` directives for log targets whose trace output carries credentials: the AWS
/// SDK's orchestrator dumps whole requests (bearer-token headers included) at trace, the
/// signer its canonical requests, the HTTP and TLS stacks raw bytes. Add these to any
/// subscriber after the user's own filter, whatever `RUST_LOG` says.
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
