//! Every account and role the signed-in IAM Identity Center user can use (`ListAccounts`, then
//! `ListAccountRoles` per account, every page), paced for the portal's throttling: at most
//! [`Pace::max_per_second`] calls, [`Pace::concurrency`] at a time, and a throttled call
//! (HTTP 429, `TooManyRequestsException`) retried after its `Retry-After`, so an organisation
//! of hundreds of accounts lists completely instead of failing halfway.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sso::config::http::HttpResponse;
use aws_sdk_sso::error::{ProvideErrorMetadata, SdkError};
use core_types::{ErrorKind, ExposeSecret};

use crate::error::SsoError;
use crate::sso::AwsSso;
use crate::upstream::call_error;

/// The longest pause a `Retry-After` may ask for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// One role the user can assume in one account.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub struct Assignment {
    /// The account id.
    pub account_id: String,
    /// The account's name.
    pub account_name: String,
    /// The role (permission set) name.
    pub role_name: String,
}

/// How fast [`AwsSso::assignments`] may call the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pace {
    /// Calls per second at most (the portal throttles at about 20).
    pub max_per_second: u32,
    /// Calls in flight at most.
    pub concurrency: usize,
    /// How many times one throttled call is retried before the listing fails.
    pub max_throttled_retries: u32,
}

impl Default for Pace {
    fn default() -> Self {
        Self { max_per_second: 20, concurrency: 8, max_throttled_retries: 10 }
    }
}

impl Pace {
    /// At most `n` calls per second (at least one).
    #[must_use]
    pub fn max_per_second(mut self, n: u32) -> Self {
        self.max_per_second = n.max(1);
        self
    }
}

/// Spaces calls `1 / max_per_second` apart, whichever task makes them.
#[derive(Debug)]
struct Spacing {
    gap: Duration,
    next: tokio::sync::Mutex<tokio::time::Instant>,
}

impl Spacing {
    fn new(pace: &Pace) -> Self {
        Self {
            gap: Duration::from_secs(1) / pace.max_per_second.max(1),
            next: tokio::sync::Mutex::new(tokio::time::Instant::now()),
        }
    }

    async fn wait(&self) {
        let at = {
            let mut next = self.next.lock().await;
            let at = (*next).max(tokio::time::Instant::now());
            *next = at + self.gap;
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

fn throttled<E>(e: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    let status = e.raw_response().map(|r| r.status().as_u16());
    status == Some(429) || e.code() == Some("TooManyRequestsException")
}

fn retry_after<E>(e: &SdkError<E, HttpResponse>) -> Option<Duration> {
    let header = e.raw_response()?.headers().get("retry-after")?;
    header.trim().parse::<u64>().ok().map(Duration::from_secs)
}

impl AwsSso {
    /// Every (account, role) the signed-in user can use, sorted, paced by `pace`. `progress`
    /// is told (done, total) accounts as their roles arrive.
    pub async fn assignments(
        &self,
        pace: Pace,
        progress: impl Fn(usize, usize) + Send + Sync + 'static,
    ) -> Result<Vec<Assignment>, SsoError> {
        let token = self.inner.obtain_token(false).await?;
        let access = Arc::new(token.access_token.expose_secret().to_owned());
        let spacing = Arc::new(Spacing::new(&pace));
        // throttling is retried here, after the portal's Retry-After, not by the SDK's backoff
        let no_retry =
            aws_sdk_sso::config::Builder::default().retry_config(aws_sdk_sso::config::retry::RetryConfig::disabled());
        let mut accounts = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let (sso, access, token) = (self.inner.sso.clone(), access.clone(), next.clone());
            let over = no_retry.clone();
            let page = self
                .paced(&spacing, &pace, "ListAccounts", || {
                    sso.list_accounts()
                        .access_token(access.as_str())
                        .max_results(100)
                        .set_next_token(token.clone())
                        .customize()
                        .config_override(over.clone())
                        .send()
                })
                .await?;
            accounts.extend(page.account_list().iter().map(|a| {
                (a.account_id().unwrap_or_default().to_owned(), a.account_name().unwrap_or_default().to_owned())
            }));
            next = page.next_token().map(str::to_owned);
            if next.is_none() {
                break;
            }
        }
        let total = accounts.len();
        progress(0, total);
        let progress = Arc::new(progress);
        let gate = Arc::new(tokio::sync::Semaphore::new(pace.concurrency.max(1)));
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for (account_id, account_name) in accounts {
            let (me, access, spacing, gate, over) =
                (self.clone(), access.clone(), spacing.clone(), gate.clone(), no_retry.clone());
            let (progress, done) = (progress.clone(), done.clone());
            tasks.spawn(async move {
                let _slot = gate.acquire().await.map_err(|e| SsoError::Unavailable(e.to_string()))?;
                let mut roles = Vec::new();
                let mut next: Option<String> = None;
                loop {
                    let (sso, token, account) = (me.inner.sso.clone(), next.clone(), account_id.clone());
                    let page = me
                        .paced(&spacing, &pace, "ListAccountRoles", || {
                            sso.list_account_roles()
                                .access_token(access.as_str())
                                .account_id(account.as_str())
                                .max_results(100)
                                .set_next_token(token.clone())
                                .customize()
                                .config_override(over.clone())
                                .send()
                        })
                        .await?;
                    roles.extend(page.role_list().iter().filter_map(|r| r.role_name()).map(|role| Assignment {
                        account_id: account_id.clone(),
                        account_name: account_name.clone(),
                        role_name: role.to_owned(),
                    }));
                    next = page.next_token().map(str::to_owned);
                    if next.is_none() {
                        break;
                    }
                }
                progress(done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1, total);
                Ok::<_, SsoError>(roles)
            });
        }
        let mut out = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let roles = joined.map_err(|e| SsoError::Unavailable(format!("a listing task failed: {e}")))??;
            out.extend(roles);
        }
        out.sort();
        Ok(out)
    }

    /// One call, spaced by `spacing`, retried while throttled (after its `Retry-After`, at most
    /// [`MAX_RETRY_AFTER`]; else a growing pause), up to `pace.max_throttled_retries` times.
    async fn paced<T, E, F, Fut>(&self, spacing: &Spacing, pace: &Pace, op: &str, mut call: F) -> Result<T, SsoError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError<E, HttpResponse>>>,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let mut retries = 0;
        loop {
            spacing.wait().await;
            match call().await {
                Ok(v) => return Ok(v),
                Err(e) if throttled(&e) && retries < pace.max_throttled_retries => {
                    retries += 1;
                    let pause = retry_after(&e).unwrap_or(Duration::from_millis(500) * retries).min(MAX_RETRY_AFTER);
                    tracing::debug!(
                        operation = op,
                        retry = retries,
                        pause_ms = pause.as_millis() as u64,
                        "throttled; retrying"
                    );
                    self.inner.sleeper.sleep(pause).await;
                }
                Err(e) => {
                    let kind = if throttled(&e) { ErrorKind::Throttled } else { ErrorKind::Unavailable };
                    return Err(call_error("IAM Identity Center", op, e, kind));
                }
            }
        }
    }
}
