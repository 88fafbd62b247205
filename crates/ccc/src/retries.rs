//! The retry history `-vv` shows under an error: every retry the AWS SDK or our own retry
//! loops decided on, read from their debug events (which carry no secret: an attempt number,
//! an error category, a delay), in plain words.

use std::fmt::Write as _;
use std::sync::{Mutex, PoisonError};

use tracing::field::{Field, Visit};
use tracing_subscriber::layer::Context;

/// The AWS SDK's standard retry strategy.
const SDK_RETRIES: &str = "aws_smithy_runtime::client::retries::strategy::standard";

static HISTORY: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The retries seen so far, one line each.
pub fn history() -> Vec<String> {
    HISTORY.lock().unwrap_or_else(PoisonError::into_inner).clone()
}

/// The targets whose debug events the recorder reads.
pub fn targets() -> tracing_subscriber::filter::Targets {
    tracing_subscriber::filter::Targets::new()
        .with_target(SDK_RETRIES, tracing::Level::DEBUG)
        .with_target("oauth_pkce", tracing::Level::DEBUG)
        .with_target("cloud_sessions", tracing::Level::DEBUG)
}

/// A tracing layer that keeps a line per retry.
#[derive(Debug, Default)]
pub struct Recorder;

#[derive(Default)]
struct Fields {
    message: String,
    what: Option<String>,
    delay_ms: Option<String>,
    error: Option<String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "what" => self.what = Some(value.to_owned()),
            _ => self.record_debug(field, &value),
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if field.name() == "delay_ms" {
            self.delay_ms = Some(value.to_string());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        match field.name() {
            "message" => {
                let _ = write!(self.message, "{value:?}");
            }
            "error" => self.error = Some(format!("{value:?}").trim_matches('"').to_owned()),
            "what" => self.what = Some(format!("{value:?}").trim_matches('"').to_owned()),
            _ => {}
        }
    }
}

/// `attempt #1 failed with RetryIndicated(RetryableError { kind: ServerError, .. }); retrying
/// after 1.2s` → `attempt 1 failed (ServerError); retried after 1.2s`.
fn sdk_line(message: &str) -> Option<String> {
    let rest = message.strip_prefix("attempt #")?;
    let (n, rest) = rest.split_once(' ')?;
    let (_, after) = rest.split_once("retrying after ")?;
    let why = ["ServerError", "TransientError", "ThrottlingError", "ClientError"]
        .into_iter()
        .find(|k| rest.contains(k))
        .unwrap_or("a retryable error");
    Some(format!("attempt {n} failed ({why}); retried after {}", after.trim()))
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Recorder {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        event.record(&mut fields);
        let line = if event.metadata().target() == SDK_RETRIES {
            sdk_line(&fields.message)
        } else if fields.message == "retrying" || fields.message.ends_with("retrying") {
            // our own loops: what was retried, why, and after how long
            let what = fields.what.as_deref().unwrap_or("a call");
            let why = fields.error.as_deref().unwrap_or("a transient failure");
            Some(match &fields.delay_ms {
                Some(ms) => format!("{what} failed ({why}); retried after {ms} ms"),
                None => format!("{what} failed ({why}); retried"),
            })
        } else {
            None
        };
        if let Some(l) = line {
            HISTORY.lock().unwrap_or_else(PoisonError::into_inner).push(l);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sdk_retry_events_read_in_plain_words() {
        assert_eq!(
            sdk_line(
                "attempt #2 failed with RetryIndicated(RetryableError { kind: ServerError, retry_after: None }); retrying after 1.436s"
            )
            .as_deref(),
            Some("attempt 2 failed (ServerError); retried after 1.436s")
        );
        assert_eq!(sdk_line("attempt #1 classified as NoActionIndicated, not retrying"), None);
    }
}
