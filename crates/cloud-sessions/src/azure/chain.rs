//! The identity chain: credentials tried in order, the first that answers pinned, a
//! rejection final, every attempt reported.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use azure_core::credentials::{AccessToken, TokenCredential};
use core_types::ErrorKind;

use super::{AttemptOutcome, ChainAttempt};

/// One credential of the chain, or why it is not configured.
pub(crate) struct Link {
    pub(crate) name: &'static str,
    pub(crate) credential: Result<Arc<dyn TokenCredential>, String>,
    pub(crate) timeout: Duration,
    /// Whether a 4xx answer means "these credentials are wrong" (a service principal's
    /// secret, a workload's token) rather than "no identity here" (a metadata endpoint that
    /// is not Azure's, a signed-out CLI).
    pub(crate) can_reject: bool,
}

/// Tries credentials in order; the first that answers is pinned for the chain's life.
/// Tokens are cached above it, per scope set, by [`super::tokens::AzureTokens`].
pub(crate) struct AzureChain {
    pub(crate) session: String,
    pub(crate) links: Vec<Link>,
    pub(crate) pinned: Mutex<Option<usize>>,
    pub(crate) attempts: Mutex<Vec<ChainAttempt>>,
    pub(crate) fetches: std::sync::atomic::AtomicU64,
}

impl fmt::Debug for AzureChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureChain")
            .field("session", &self.session)
            .field("credentials", &self.links.iter().map(|l| l.name).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// How an azure_core failure should steer the chain.
pub(crate) fn classify(e: &azure_core::Error) -> (AttemptOutcome, ErrorKind) {
    use azure_core::error::ErrorKind as K;
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    let mut status = None;
    let mut io = false;
    while let Some(err) = cur {
        if let Some(ae) = err.downcast_ref::<azure_core::Error>() {
            match ae.kind() {
                K::HttpResponse { status: s, .. } => status = status.or(Some(u16::from(*s))),
                K::Connection | K::Io => io = true,
                _ => {}
            }
        }
        if err.downcast_ref::<std::io::Error>().is_some() || err.downcast_ref::<reqwest::Error>().is_some() {
            io = true;
        }
        cur = err.source();
    }
    let message = first_line(&e.to_string());
    match status {
        Some(429) => (AttemptOutcome::Unavailable(message), ErrorKind::Throttled),
        Some(s) if s >= 500 => (AttemptOutcome::Unavailable(message), ErrorKind::Unavailable),
        // 400 from a managed-identity endpoint means "no identity assigned here"
        Some(400) if message.contains("not been assigned") => {
            (AttemptOutcome::Unavailable(message), ErrorKind::NotConfigured)
        }
        Some(_) => (AttemptOutcome::Rejected(message), ErrorKind::NotAuthorized),
        None if io => (AttemptOutcome::Unavailable(message), ErrorKind::Unavailable),
        None => (AttemptOutcome::Unavailable(message), ErrorKind::NotConfigured),
    }
}

pub(crate) fn first_line(s: &str) -> String {
    // azure_identity appends a troubleshooting link on its own line; keep the cause
    s.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("").to_owned()
}

/// The chain's verdict, carried inside the `azure_core::Error` it returns so that
/// [`azure_error`] can recover the kind.
#[derive(Debug, Clone)]
pub(crate) struct ChainFailure {
    pub(crate) kind: ErrorKind,
    pub(crate) message: String,
}

impl core_types::Kinded for ChainFailure {
    fn kind(&self) -> ErrorKind {
        self.kind
    }
}

impl fmt::Display for ChainFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ChainFailure {}

pub(crate) fn chain_error(kind: ErrorKind, message: String) -> azure_core::Error {
    azure_core::Error::with_error(
        azure_core::error::ErrorKind::Credential,
        ChainFailure { kind, message: message.clone() },
        message,
    )
}

pub(crate) fn to_system(t: azure_core::time::OffsetDateTime) -> SystemTime {
    let secs = t.unix_timestamp();
    if secs >= 0 { SystemTime::UNIX_EPOCH + Duration::from_secs(secs.unsigned_abs()) } else { SystemTime::UNIX_EPOCH }
}

impl AzureChain {
    async fn try_link(&self, i: usize, scopes: &[&str]) -> Result<AccessToken, (AttemptOutcome, ErrorKind)> {
        let link = &self.links[i];
        let credential = match &link.credential {
            Ok(c) => c,
            Err(why) => return Err((AttemptOutcome::Skipped(why.clone()), ErrorKind::NotConfigured)),
        };
        match tokio::time::timeout(link.timeout, credential.get_token(scopes, None)).await {
            Ok(Ok(t)) => Ok(t),
            Ok(Err(e)) => match classify(&e) {
                (AttemptOutcome::Rejected(m), _) if !link.can_reject => {
                    Err((AttemptOutcome::Unavailable(m), ErrorKind::NotConfigured))
                }
                other => Err(other),
            },
            Err(_) => Err((
                AttemptOutcome::Unavailable(format!("no answer within {} ms", link.timeout.as_millis())),
                ErrorKind::Unavailable,
            )),
        }
    }

    /// A token for `scopes` from the pinned credential, or the first of the chain that answers.
    pub(crate) async fn fetch(&self, scopes: &[&str]) -> Result<AccessToken, ChainFailure> {
        self.fetches.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let pinned = *self.pinned.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(i) = pinned {
            let name = self.links[i].name;
            return self.try_link(i, scopes).await.map_err(|(outcome, kind)| {
                let attempt = ChainAttempt { credential: name, outcome };
                ChainFailure {
                    kind,
                    message: format!(
                        "session {:?}: {attempt}; it answered before, so the session does not switch to another identity",
                        self.session
                    ),
                }
            });
        }
        let mut attempts = Vec::with_capacity(self.links.len());
        let mut result = None;
        for i in 0..self.links.len() {
            let name = self.links[i].name;
            if result.is_some() {
                attempts.push(ChainAttempt { credential: name, outcome: AttemptOutcome::NotTried });
                continue;
            }
            match self.try_link(i, scopes).await {
                Ok(token) => {
                    attempts.push(ChainAttempt { credential: name, outcome: AttemptOutcome::Answered });
                    *self.pinned.lock().unwrap_or_else(PoisonError::into_inner) = Some(i);
                    tracing::info!(session = %self.session, credential = name, "azure credential answered");
                    result = Some(Ok(token));
                }
                Err((outcome @ AttemptOutcome::Rejected(_), kind)) => {
                    attempts.push(ChainAttempt { credential: name, outcome });
                    result = Some(Err(kind));
                }
                Err((outcome, _)) => {
                    tracing::debug!(session = %self.session, credential = name, ?outcome, "azure credential passed over");
                    attempts.push(ChainAttempt { credential: name, outcome });
                }
            }
        }
        let report = attempts.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ");
        *self.attempts.lock().unwrap_or_else(PoisonError::into_inner) = attempts;
        match result {
            Some(Ok(token)) => Ok(token),
            Some(Err(kind)) => Err(ChainFailure {
                kind,
                message: format!(
                    "session {:?}: a credential rejected the sign-in, so no other identity was tried: {report}",
                    self.session
                ),
            }),
            None => Err(ChainFailure {
                kind: ErrorKind::NotConfigured,
                message: format!(
                    "session {:?}: no Azure credential is available: {report}. Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, run on a managed identity, or `az login`",
                    self.session
                ),
            }),
        }
    }
}
