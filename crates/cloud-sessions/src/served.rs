//! One session of a sessions file served on its own (a `credential_process` asking for it):
//! built on a cache miss only as far as it needs, its credentials kept in a refreshing cache
//! with the manager's window, clock and lock wait. An assumed role's is kept across runs in
//! an entry keyed by the file's text and the session's name, so an edited file is a new entry.

use core_types::AwsCredentials;
use cred_store::Refreshing;

use crate::error::SessionError;
use crate::manager::CloudSessionManager;
use crate::options::ManagerOptions;
use crate::plan::{AwsCredentialPlan, Plan, Step};

/// Session `name`'s credentials, from `plan` (the file `text`'s plan for it, see
/// [`crate::plan_for`]).
pub async fn session_credentials(
    text: &str,
    plan: Plan,
    name: &str,
    options: &ManagerOptions,
) -> Result<AwsCredentials, SessionError> {
    let expiring = plan.steps.iter().any(|s| {
        matches!(s, Step::Aws(a) if a.session_names().iter().any(|n| n == name)
            && matches!(a.credentials, AwsCredentialPlan::AssumeRole { .. } | AwsCredentialPlan::WebIdentity { .. }))
    });
    let source = SessionSource { plan, name: name.to_owned(), options: options.clone() };
    let mut cache = Refreshing::builder(source)
        .refresh_window(options.refresh_window)
        .clock(options.clock.clone())
        .lock_wait(options.lock_wait);
    if expiring && let Ok(paths) = options.resolved_paths() {
        cache = cache.persist_to(paths.cache_entry("session", &[text, name]));
    }
    Ok(cache.build().get().await?)
}

/// A session of a sessions file, built when the cache needs fresh credentials.
struct SessionSource {
    plan: Plan,
    name: String,
    options: ManagerOptions,
}

impl std::fmt::Debug for SessionSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionSource").field("name", &self.name).finish_non_exhaustive()
    }
}

impl core_types::CredentialSource for SessionSource {
    type Output = AwsCredentials;
    type Error = SessionError;

    fn name(&self) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Owned(format!("session {}", self.name))
    }

    async fn fetch(&self) -> Result<AwsCredentials, SessionError> {
        let manager = CloudSessionManager::from_plan(self.plan.clone(), self.options.clone()).await?;
        let provider = manager.aws_session(&self.name)?.credentials_provider();
        Ok(core_types::CredentialSource::fetch(&cred_store::SdkProviderSource::new(self.name.clone(), provider))
            .await?)
    }
}
