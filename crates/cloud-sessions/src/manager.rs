//! `CloudSessionManager`: the built sessions, looked up by name and guarded by roles. Cheap
//! clones share everything. Building is `plan` then `build`; health checks and rotation are
//! in health.rs and rotation.rs.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use core_types::{Admission, CallOutcome, CircuitBreaker, CircuitState, Kinded, Verdict};

#[cfg(feature = "azure")]
use crate::azure::AzureSession;
use crate::config::RoleSpec;
use crate::error::SessionError;
use crate::options::ManagerOptions;
use crate::plan::{Plan, plan};
use crate::reports::RotationReport;
use crate::session::{AwsSession, Session};

pub(crate) struct Inner {
    pub(crate) roles: BTreeMap<String, RoleSpec>,
    /// The user's role: the options', else the file's `user.role`.
    pub(crate) user_role: Option<String>,
    pub(crate) warnings: Vec<String>,
    pub(crate) options: ManagerOptions,
    pub(crate) aws: BTreeMap<String, AwsSession>,
    #[cfg(feature = "azure")]
    pub(crate) azure: BTreeMap<String, AzureSession>,
    pub(crate) rotations: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    pub(crate) reports: Arc<Mutex<Vec<RotationReport>>>,
    /// One circuit breaker per session name, made on first use.
    pub(crate) breakers: Mutex<BTreeMap<String, Arc<CircuitBreaker>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for t in self.rotations.lock().unwrap_or_else(PoisonError::into_inner).drain(..) {
            t.abort();
        }
    }
}

/// The declared sessions. Cheap to clone: clones share everything (no process-global state).
#[derive(Clone)]
pub struct CloudSessionManager {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for CloudSessionManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudSessionManager").field("sessions", &self.session_names()).finish()
    }
}

impl CloudSessionManager {
    /// Plans and builds every session of `yaml` (resolving `ENV/` and `SEC/` references).
    pub async fn from_yaml(yaml: &str, options: ManagerOptions) -> Result<Self, SessionError> {
        Self::from_plan(plan(yaml)?, options).await
    }

    /// Builds every session of `plan`, in its order.
    pub async fn from_plan(plan: Plan, options: ManagerOptions) -> Result<Self, SessionError> {
        for w in &plan.warnings {
            tracing::warn!("{w}");
        }
        let built = crate::build::build(&plan, &options).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                user_role: options.user_role.clone().or(plan.user_role),
                roles: plan.roles,
                warnings: plan.warnings,
                options,
                aws: built.aws,
                #[cfg(feature = "azure")]
                azure: built.azure,
                rotations: Mutex::default(),
                reports: Arc::default(),
                breakers: Mutex::default(),
            }),
        })
    }

    /// Reads, plans and builds a YAML file.
    pub async fn from_file(path: &std::path::Path, options: ManagerOptions) -> Result<Self, SessionError> {
        let text = cred_store::fsutil::read_text(path).map_err(|e| SessionError::Config {
            path: path.display().to_string(),
            message: match e {
                cred_store::Error::Io { source, .. } => format!("cannot read: {source}"),
                e => e.to_string(),
            },
        })?;
        Self::from_yaml(&text, options).await
    }

    /// Session `name`'s circuit breaker.
    pub(crate) fn breaker(&self, name: &str) -> Arc<CircuitBreaker> {
        let (threshold, cool_down) = self.inner.options.breaker;
        self.inner
            .breakers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(name.to_owned())
            .or_insert_with(|| Arc::new(CircuitBreaker::new(threshold, cool_down)))
            .clone()
    }

    /// Calls `op` for session `name` until it succeeds, retrying throttling / unavailable
    /// errors only, per the manager's retry policy, each attempt through the session's circuit
    /// breaker: an open circuit fails fast (`SessionError::CircuitOpen`, not retried). Returns
    /// the result and the attempts made.
    pub(crate) async fn with_retry<T, F, Fut>(&self, name: &str, mut op: F) -> (Result<T, SessionError>, u32)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, SessionError>>,
    {
        let breaker = self.breaker(name);
        let clock = self.inner.options.clock.clone();
        let attempt = || {
            let (breaker, clock) = (breaker.clone(), clock.clone());
            let call = match breaker.admit(clock.now()) {
                Admission::FailFast { retry_at } => {
                    Err(SessionError::CircuitOpen { session: name.to_owned(), failures: breaker.threshold(), retry_at })
                }
                _ => Ok(op()),
            };
            async move {
                let result = call?.await;
                breaker.record(
                    clock.now(),
                    match &result {
                        Ok(_) => CallOutcome::Success,
                        Err(e) if e.kind().is_retryable() => CallOutcome::Transient,
                        Err(_) => CallOutcome::Final,
                    },
                );
                result
            }
        };
        let judge = |e: &SessionError| match e {
            SessionError::CircuitOpen { .. } => Verdict::Final,
            e if e.kind().is_retryable() => Verdict::Retry { after: None },
            _ => Verdict::Final,
        };
        self.inner.options.retry.run(attempt, judge, tokio::time::sleep).await
    }

    /// Where session `name`'s circuit stands.
    pub fn circuit_state(&self, name: &str) -> CircuitState {
        self.breaker(name).state(self.inner.options.clock.now())
    }

    /// Warnings found at load (plaintext secrets).
    pub fn warnings(&self) -> &[String] {
        &self.inner.warnings
    }

    /// Every session name (regional ones included).
    pub fn session_names(&self) -> Vec<String> {
        let names = self.inner.aws.keys().cloned();
        #[cfg(feature = "azure")]
        let names = names.chain(self.inner.azure.keys().cloned());
        names.collect()
    }

    /// A session by name.
    pub fn get_session(&self, name: &str) -> Result<Session, SessionError> {
        if let Some(s) = self.inner.aws.get(name) {
            return Ok(Session::Aws(Box::new(s.clone())));
        }
        #[cfg(feature = "azure")]
        if let Some(s) = self.inner.azure.get(name) {
            return Ok(Session::Azure(s.clone()));
        }
        Err(SessionError::UnknownSession(name.to_owned()))
    }

    /// An AWS session by name (an Azure one of that name is an error saying so).
    pub fn aws_session(&self, name: &str) -> Result<AwsSession, SessionError> {
        match self.get_session(name)? {
            Session::Aws(s) => Ok(*s),
            #[cfg(feature = "azure")]
            Session::Azure(_) => Err(wrong_kind(name, "an Azure", "AWS")),
        }
    }

    /// An Azure session by name (an AWS one of that name is an error saying so).
    #[cfg(feature = "azure")]
    pub fn azure_session(&self, name: &str) -> Result<AzureSession, SessionError> {
        match self.get_session(name)? {
            Session::Azure(s) => Ok(s),
            Session::Aws(_) => Err(wrong_kind(name, "an AWS", "Azure")),
        }
    }

    /// The user's role (`ManagerOptions::user_role`, else the file's `user.role`), if any.
    pub fn user_role(&self) -> Option<&str> {
        self.inner.user_role.as_deref()
    }

    /// A session, if the user may use it: with a user role (the options' or the file's
    /// `user.role`), only a session its `allowed_sessions` names (`*`: every one), else a
    /// `PermissionDenied` naming the role and the session; with none, any session.
    pub fn get_user_session(&self, name: &str) -> Result<Session, SessionError> {
        match self.user_role() {
            Some(role) => self.get_authorized_session(role, name),
            None => self.get_session(name),
        }
    }

    /// A session, if `role` may use it (`roles.ROLE.allowed_sessions`).
    pub fn get_authorized_session(&self, role: &str, name: &str) -> Result<Session, SessionError> {
        let allowed =
            self.inner.roles.get(role).is_some_and(|r| r.allowed_sessions.iter().any(|s| s == "*" || s == name));
        if !allowed {
            return Err(SessionError::PermissionDenied { role: role.to_owned(), session: name.to_owned() });
        }
        self.get_session(name)
    }
}

#[cfg(feature = "azure")]
fn wrong_kind(name: &str, is: &str, wanted: &str) -> SessionError {
    SessionError::Unsupported {
        name: name.to_owned(),
        message: format!("is {is} session; this needs an {wanted} session"),
    }
}

#[allow(dead_code)]
fn _is_send_sync() {
    fn is<T: Send + Sync>() {}
    is::<CloudSessionManager>();
}
