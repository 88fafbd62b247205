//! What may a user do: the caller's IAM policies (attached, inline, through groups; or the
//! assumed role's), decoded and summarised, and `SimulatePrincipalPolicy` for a list of
//! actions. A part that cannot be read (AccessDenied) is reported in the result.

use aws_config::SdkConfig;
use aws_failure::{HttpResponse, ProvideErrorMetadata, SdkError};
use aws_sdk_iam::types::AttachedPolicy;
use serde::Serialize;
use serde_json::Value;

use crate::error::InspectError;

/// Actions tested when the caller names none.
pub const DEFAULT_TEST_ACTIONS: &[&str] = &[
    "s3:ListAllMyBuckets",
    "s3:GetObject",
    "s3:PutObject",
    "ec2:DescribeInstances",
    "ec2:RunInstances",
    "iam:ListUsers",
    "iam:CreateUser",
    "lambda:ListFunctions",
    "dynamodb:ListTables",
    "cloudtrail:LookupEvents",
    "sts:AssumeRole",
];

/// One statement of a policy, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct StatementSummary {
    /// `Allow` or `Deny`.
    pub effect: String,
    /// Actions (or `NotAction:` prefixed).
    pub actions: Vec<String>,
    /// Resources.
    pub resources: Vec<String>,
}

/// A policy and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PolicySummary {
    /// Its name.
    pub name: String,
    /// `attached`, `inline`, `group:NAME attached`, `group:NAME inline`, `role attached`, ...
    pub origin: String,
    /// The ARN of a managed policy.
    pub arn: Option<String>,
    /// The statements (empty when the document could not be read).
    pub statements: Vec<StatementSummary>,
}

/// A part of the permissions that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PartError {
    /// What was being read (`ListAttachedUserPolicies`, ...).
    pub part: String,
    /// The error code, e.g. `AccessDenied`.
    pub error: String,
}

/// The caller's permissions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PermissionsResult {
    /// The caller's ARN.
    pub arn: String,
    /// The account.
    pub account: String,
    /// `user`, `assumed-role`, `root` or `other`.
    pub principal_type: String,
    /// The IAM user or role name.
    pub principal_name: Option<String>,
    /// Groups of an IAM user.
    pub groups: Vec<String>,
    /// Every policy found.
    pub policies: Vec<PolicySummary>,
    /// Parts that could not be read.
    pub errors: Vec<PartError>,
}

/// A simulated decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct PermissionTest {
    /// The action.
    pub action: String,
    /// `allowed`, `denied` or `unknown`.
    pub decision: String,
    /// AWS's decision name (`allowed`, `explicitDeny`, `implicitDeny`).
    pub detail: String,
}

/// The decoded statements of a policy document (URL-encoded JSON, as IAM returns it).
pub fn summarize_document(document: &str) -> Vec<StatementSummary> {
    let decoded = url::form_urlencoded::parse(format!("d={document}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default();
    let json: Value = serde_json::from_str(&decoded).or_else(|_| serde_json::from_str(document)).unwrap_or(Value::Null);
    let statements = match json.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    };
    let list = |v: Option<&Value>, prefix: &str| -> Vec<String> {
        match v {
            Some(Value::String(s)) => vec![format!("{prefix}{s}")],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(|s| format!("{prefix}{s}")).collect(),
            _ => Vec::new(),
        }
    };
    statements
        .iter()
        .map(|st| {
            let mut actions = list(st.get("Action"), "");
            actions.extend(list(st.get("NotAction"), "NotAction:"));
            let mut resources = list(st.get("Resource"), "");
            resources.extend(list(st.get("NotResource"), "NotResource:"));
            StatementSummary {
                effect: st.get("Effect").and_then(Value::as_str).unwrap_or("Allow").to_owned(),
                actions,
                resources,
            }
        })
        .collect()
}

struct Reader {
    iam: aws_sdk_iam::Client,
    result: PermissionsResult,
}

impl Reader {
    fn failed(&mut self, part: &str, e: &InspectError) {
        // the service's code when it sent one, else what the answer was, in one line
        let error = match e.failure() {
            Some(f) => f.code.clone().or_else(|| f.summary.clone()).unwrap_or_else(|| f.kind.to_string()),
            None => e.to_string(),
        };
        self.result.errors.push(PartError { part: part.to_owned(), error });
    }

    async fn managed(&mut self, name: &str, arn: &str, origin: &str) {
        let doc = async {
            let policy =
                self.iam.get_policy().policy_arn(arn).send().await.map_err(|e| InspectError::aws("GetPolicy", e))?;
            let version = policy.policy().and_then(|p| p.default_version_id()).unwrap_or("v1").to_owned();
            let v = self
                .iam
                .get_policy_version()
                .policy_arn(arn)
                .version_id(version)
                .send()
                .await
                .map_err(|e| InspectError::aws("GetPolicyVersion", e))?;
            Ok::<_, InspectError>(v.policy_version().and_then(|p| p.document()).unwrap_or_default().to_owned())
        }
        .await;
        let statements = match doc {
            Ok(d) => summarize_document(&d),
            Err(e) => {
                self.failed(&format!("GetPolicyVersion {name}"), &e);
                Vec::new()
            }
        };
        self.result.policies.push(PolicySummary {
            name: name.to_owned(),
            origin: origin.to_owned(),
            arn: Some(arn.to_owned()),
            statements,
        });
    }

    fn inline(&mut self, name: &str, origin: &str, document: Result<String, InspectError>) {
        let statements = match document {
            Ok(d) => summarize_document(&d),
            Err(e) => {
                self.failed(&format!("get inline policy {name}"), &e);
                Vec::new()
            }
        };
        self.result.policies.push(PolicySummary {
            name: name.to_owned(),
            origin: origin.to_owned(),
            arn: None,
            statements,
        });
    }

    /// Reads each attached (managed) policy of a list that was paged through.
    async fn attached<E>(
        &mut self,
        op: &str,
        origin: &str,
        listed: Result<Vec<AttachedPolicy>, SdkError<E, HttpResponse>>,
    ) where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        match listed {
            Ok(ps) => {
                for (name, arn) in ps.iter().map(|p| names(p.policy_name(), p.policy_arn())) {
                    self.managed(&name, &arn, origin).await;
                }
            }
            Err(e) => self.failed(op, &InspectError::aws(op.split(' ').next().unwrap_or(op), e)),
        }
    }

    /// Reads each inline policy of a list that was paged through, with `get`.
    async fn inlines<E, F, Fut>(
        &mut self,
        op: &str,
        origin: &str,
        listed: Result<Vec<String>, SdkError<E, HttpResponse>>,
        get: F,
    ) where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = Result<String, InspectError>>,
    {
        match listed {
            Ok(inline) => {
                for name in inline {
                    let doc = get(name.clone()).await;
                    self.inline(&name, origin, doc);
                }
            }
            Err(e) => self.failed(op, &InspectError::aws(op.split(' ').next().unwrap_or(op), e)),
        }
    }

    async fn user(&mut self, user: &str) {
        // every list is paged through: a user with more policies than one page holds
        let iam = self.iam.clone();
        let listed = iam.list_attached_user_policies().user_name(user).into_paginator().items().send().collect().await;
        self.attached("ListAttachedUserPolicies", "attached", listed).await;
        let listed = iam.list_user_policies().user_name(user).into_paginator().items().send().collect().await;
        let get = |name: String| {
            let iam = iam.clone();
            async move {
                let out = iam.get_user_policy().user_name(user).policy_name(name).send().await;
                out.map(|o| o.policy_document().to_owned()).map_err(|e| InspectError::aws("GetUserPolicy", e))
            }
        };
        self.inlines("ListUserPolicies", "inline", listed, get).await;
        let groups = iam
            .list_groups_for_user()
            .user_name(user)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await;
        match groups {
            Ok(gs) => {
                let groups: Vec<String> = gs.iter().map(|g| g.group_name().to_owned()).collect();
                for g in &groups {
                    self.group(g).await;
                }
                self.result.groups = groups;
            }
            Err(e) => self.failed("ListGroupsForUser", &InspectError::aws("ListGroupsForUser", e)),
        }
    }

    async fn group(&mut self, g: &str) {
        let iam = self.iam.clone();
        let listed = iam.list_attached_group_policies().group_name(g).into_paginator().items().send().collect().await;
        self.attached(&format!("ListAttachedGroupPolicies {g}"), &format!("group:{g} attached"), listed).await;
        let listed = iam.list_group_policies().group_name(g).into_paginator().items().send().collect().await;
        let get = |name: String| {
            let iam = iam.clone();
            async move {
                let out = iam.get_group_policy().group_name(g).policy_name(name).send().await;
                out.map(|o| o.policy_document().to_owned()).map_err(|e| InspectError::aws("GetGroupPolicy", e))
            }
        };
        self.inlines(&format!("ListGroupPolicies {g}"), &format!("group:{g} inline"), listed, get).await;
    }

    async fn role(&mut self, role: &str) {
        let iam = self.iam.clone();
        let listed = iam.list_attached_role_policies().role_name(role).into_paginator().items().send().collect().await;
        self.attached("ListAttachedRolePolicies", "role attached", listed).await;
        let listed = iam.list_role_policies().role_name(role).into_paginator().items().send().collect().await;
        let get = |name: String| {
            let iam = iam.clone();
            async move {
                let out = iam.get_role_policy().role_name(role).policy_name(name).send().await;
                out.map(|o| o.policy_document().to_owned()).map_err(|e| InspectError::aws("GetRolePolicy", e))
            }
        };
        self.inlines("ListRolePolicies", "role inline", listed, get).await;
    }
}

/// A policy's name and ARN.
fn names(name: Option<&str>, arn: Option<&str>) -> (String, String) {
    (name.unwrap_or_default().to_owned(), arn.unwrap_or_default().to_owned())
}

/// Parses a caller ARN into (type, name).
fn principal(arn: &str) -> (String, Option<String>) {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or_default();
    let mut parts = resource.split('/');
    match parts.next() {
        Some("user") => ("user".into(), resource.rsplit('/').next().map(str::to_owned)),
        Some("assumed-role") => ("assumed-role".into(), parts.next().map(str::to_owned)),
        Some("root") => ("root".into(), None),
        _ => ("other".into(), None),
    }
}

/// The IAM ARN to simulate for a caller ARN (an assumed-role session → its role).
pub fn simulation_arn(caller_arn: &str) -> String {
    let (kind, name) = principal(caller_arn);
    if kind == "assumed-role"
        && let Some(role) = name
    {
        let account = caller_arn.split(':').nth(4).unwrap_or_default();
        let partition = caller_arn.split(':').nth(1).unwrap_or("aws");
        return format!("arn:{partition}:iam::{account}:role/{role}");
    }
    caller_arn.to_owned()
}

/// Who the credentials of `sdk` belong to (`GetCallerIdentity`).
pub(crate) async fn caller(
    sdk: &SdkConfig,
) -> Result<aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput, InspectError> {
    aws_sdk_sts::Client::new(sdk)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| InspectError::aws("sts:GetCallerIdentity", e))
}

/// The caller's policies. Only `GetCallerIdentity` failing is an error; denied IAM reads are
/// listed in `errors`.
pub async fn get_user_permissions(sdk: &SdkConfig) -> Result<PermissionsResult, InspectError> {
    let who = caller(sdk).await?;
    let arn = who.arn().unwrap_or_default().to_owned();
    let (principal_type, principal_name) = principal(&arn);
    let mut reader = Reader {
        iam: aws_sdk_iam::Client::new(sdk),
        result: PermissionsResult {
            arn: arn.clone(),
            account: who.account().unwrap_or_default().to_owned(),
            principal_type: principal_type.clone(),
            principal_name: principal_name.clone(),
            groups: Vec::new(),
            policies: Vec::new(),
            errors: Vec::new(),
        },
    };
    match (principal_type.as_str(), principal_name) {
        ("user", Some(name)) => reader.user(&name).await,
        ("assumed-role", Some(role)) => reader.role(&role).await,
        _ => {}
    }
    Ok(reader.result)
}

/// Simulates `actions` (or [`DEFAULT_TEST_ACTIONS`]) for the caller.
pub async fn test_permissions(sdk: &SdkConfig, actions: &[String]) -> Result<Vec<PermissionTest>, InspectError> {
    let actions: Vec<String> = if actions.is_empty() {
        DEFAULT_TEST_ACTIONS.iter().map(|a| (*a).to_owned()).collect()
    } else {
        actions.to_vec()
    };
    let who = caller(sdk).await?;
    let iam = aws_sdk_iam::Client::new(sdk);
    let caller = who.arn().unwrap_or_default();
    // a role's ARN carries its path (SSO roles live under /aws-reserved/sso.amazonaws.com/…),
    // which the caller's assumed-role ARN does not show: GetRole knows it
    let source = match principal(caller) {
        (kind, Some(role)) if kind == "assumed-role" => match iam.get_role().role_name(&role).send().await {
            Ok(out) => out.role().map(|r| r.arn().to_owned()).unwrap_or_else(|| simulation_arn(caller)),
            Err(e) => {
                tracing::debug!(error = %InspectError::aws("iam:GetRole", e), "GetRole refused; simulating without the role's path");
                simulation_arn(caller)
            }
        },
        _ => simulation_arn(caller),
    };
    let out = iam
        .simulate_principal_policy()
        .policy_source_arn(source)
        .set_action_names(Some(actions.clone()))
        .send()
        .await
        .map_err(|e| InspectError::aws("iam:SimulatePrincipalPolicy", e))?;
    let mut tests: Vec<PermissionTest> = actions
        .iter()
        .map(|a| PermissionTest { action: a.clone(), decision: "unknown".into(), detail: "not evaluated".into() })
        .collect();
    for r in out.evaluation_results() {
        let detail = r.eval_decision().as_str().to_owned();
        let decision = if detail == "allowed" { "allowed" } else { "denied" };
        if let Some(t) = tests.iter_mut().find(|t| t.action == r.eval_action_name()) {
            t.decision = decision.into();
            t.detail = detail;
        }
    }
    Ok(tests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_decode_from_url_encoding_and_plain_json() {
        let plain = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
        let encoded: String = url::form_urlencoded::byte_serialize(plain.as_bytes()).collect();
        for doc in [plain.to_owned(), encoded] {
            let s = summarize_document(&doc);
            assert_eq!(
                s,
                vec![StatementSummary {
                    effect: "Allow".into(),
                    actions: vec!["s3:*".into()],
                    resources: vec!["*".into()]
                }]
            );
        }
        assert!(summarize_document("%%%garbage").is_empty());
    }

    #[test]
    fn principals_and_simulation_arns() {
        assert_eq!(principal("arn:aws:iam::123456789012:user/dev/alice"), ("user".into(), Some("alice".into())));
        assert_eq!(
            simulation_arn("arn:aws:sts::123456789012:assumed-role/Admin/session1"),
            "arn:aws:iam::123456789012:role/Admin"
        );
        assert_eq!(principal("arn:aws:iam::123456789012:root").0, "root");
    }
}
