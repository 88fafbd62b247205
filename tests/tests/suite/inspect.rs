//! aws-inspect against moto, with the front serving CloudTrail LookupEvents and IAM
//! SimulatePrincipalPolicy (which moto lacks) and injecting faults. These judge what the
//! inspection makes of the services' answers, not whether a credential works: the front
//! stands before the lenient moto (`Front::start_lenient`), whose resources the tests create
//! with any key.

use std::process::Command;
use std::time::{Duration, SystemTime};

use aws_inspect::{
    HistoryOptions, HistorySource, ResourceOptions, format_events, format_permissions, format_resources,
    get_user_history, get_user_permissions, list_user_resources, test_permissions,
};
use ccc_tests::cognito::unique;
use ccc_tests::front::{Fault, Front};
use ccc_tests::peer;
use core_types::SystemClock;
use serde_json::json;

async fn sdk(endpoint: &str, key: Option<(&str, &str)>) -> aws_config::SdkConfig {
    let (id, secret) = key.unwrap_or(("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sts::config::Credentials::new(id, secret, None, None, "test"))
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(10)),
        )
        .load()
        .await
}

/// A new role (named like an IAM Identity Center role, under `path`) in moto, and a session
/// of it named `session`: (role name, role ARN, the session's credentials).
async fn sso_like_role_session(path: &str, session: &str) -> (String, String, aws_sdk_sts::types::Credentials) {
    let admin = sdk(&peer("CCC_TEST_AWS_ENDPOINT"), None).await;
    let role = unique("AWSReservedSSO_Dev_");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}"#;
    let created = aws_sdk_iam::Client::new(&admin)
        .create_role()
        .role_name(&role)
        .path(path)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    let role_arn = created.role().unwrap().arn().to_owned();
    let assumed = aws_sdk_sts::Client::new(&admin)
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name(session)
        .send()
        .await
        .unwrap();
    (role, role_arn, assumed.credentials().unwrap().clone())
}

/// An SDK configuration at `endpoint` with a role session's credentials.
async fn session_config(endpoint: &str, c: &aws_sdk_sts::types::Credentials) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sts::config::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "test",
        ))
        .load()
        .await
}

#[allow(clippy::disallowed_methods)]
fn now() -> SystemTime {
    SystemTime::now()
}

fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64;
    time::OffsetDateTime::from_unix_timestamp(secs)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

const SEED_RESOURCES: &str = r#"
import boto3, sys
user, regions = sys.argv[1], sys.argv[2:]
for r in regions:
    boto3.client("sqs", region_name=r).create_queue(QueueName="q-" + user, tags={"Owner": user})
    boto3.client("sns", region_name=r).create_topic(Name="t-" + user, Tags=[{"Key": "CreatedBy", "Value": user}])
"#;

fn seed_resources(user: &str, regions: &[&str]) {
    let out = Command::new(peer("CCC_TEST_PYTHON"))
        .args(["-c", SEED_RESOURCES, user])
        .args(regions)
        .env("AWS_ENDPOINT_URL", peer("CCC_TEST_AWS_ENDPOINT"))
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .output()
        .unwrap();
    assert!(out.status.success(), "seeding failed: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_owned_per_user_across_regions_with_a_failing_region_reported() {
    let (a, b) = (unique("alice"), unique("bob"));
    let regions = ["us-east-1", "eu-west-1", "ap-southeast-2"];
    seed_resources(&a, &regions);
    seed_resources(&b, &regions);
    let front = Front::start_lenient().await;
    front.inject("tagging:GetResources", Some("eu-west-3"), 100, Fault::Error(500, "InternalServiceException"));
    let config = sdk(&front.url, None).await;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = done.clone();
    let options =
        ResourceOptions::default().regions(regions.iter().chain(&["eu-west-3"]).copied()).progress(move |_, _, _| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
    let mine = list_user_resources(&config, &a, 1000, false, &options).await.unwrap();
    assert_eq!(mine.total_resources, 6, "{mine:#?}");
    assert_eq!(mine.resources_by_type["sqs:queue"].len(), 3);
    assert_eq!(mine.resources_by_type["sns:topic"].len(), 3);
    assert!(mine.resources_by_type.values().flatten().all(|arn| arn.ends_with(&a)), "{mine:#?}");
    assert_eq!(mine.failed_regions.len(), 1);
    assert_eq!(mine.failed_regions[0].region, "eu-west-3");
    assert_eq!(mine.regions_scanned, ["ap-southeast-2", "eu-west-1", "us-east-1"]);
    assert_eq!(done.load(std::sync::atomic::Ordering::SeqCst), 4, "progress called per region");
    let table = format_resources(&mine, false);
    assert!(table.contains("6 resource(s) owned by") && table.contains("warning: region eu-west-3"), "{table}");

    let all = list_user_resources(&config, &a, 100_000, true, &options).await.unwrap();
    let arns: Vec<&String> = all.resources_by_type.values().flatten().collect();
    assert!(arns.iter().any(|x| x.ends_with(&a)) && arns.iter().any(|x| x.ends_with(&b)));
    // limit honoured
    let two = list_user_resources(&config, &a, 2, false, &options).await.unwrap();
    assert_eq!(two.total_resources, 2);
    assert!(two.truncated);
}

fn record(user: &str, name: &str, at: SystemTime, error: Option<&str>) -> serde_json::Value {
    json!({
        "eventVersion": "1.08",
        "eventID": format!("{user}-{name}-{}", at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs()),
        "eventTime": rfc3339(at),
        "eventName": name,
        "eventSource": "s3.amazonaws.com",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.7",
        "userIdentity": {"type": "IAMUser", "userName": user},
        "errorCode": error,
        "resources": [{"ARN": "arn:aws:s3:::bucket-1", "type": "AWS::S3::Bucket"}],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_through_cloudtrail_honouring_days_and_limit() {
    let user = unique("carol");
    let t = now();
    let hour = Duration::from_secs(3600);
    let mut records: Vec<_> = (0..120).map(|i| record(&user, "GetObject", t - hour * (i + 1), None)).collect();
    records.push(record(&user, "DeleteBucket", t - hour * 24 * 40, Some("AccessDenied"))); // too old
    records.push(record("someone-else", "GetObject", t - hour, None));
    let front = Front::start_lenient().await;
    front.set_cloudtrail_events(records);
    let config = sdk(&front.url, None).await;

    let (events, source) =
        get_user_history(&config, &user, 30, 75, &HistoryOptions::default(), &SystemClock).await.unwrap();
    assert_eq!(source, HistorySource::CloudTrail);
    assert_eq!(events.len(), 75);
    assert!(events.iter().all(|e| e.username.as_deref() == Some(user.as_str())));
    assert_eq!(events[0].source_ip.as_deref(), Some("203.0.113.7"));
    assert_eq!(events[0].region.as_deref(), Some("eu-west-1"));
    assert_eq!(front.calls("cloudtrail:LookupEvents"), 2, "75 events need two pages of 50");

    // two days back: 47 events fit (hours 1..=47)
    let (events, _) =
        get_user_history(&config, &user, 2, 1000, &HistoryOptions::default(), &SystemClock).await.unwrap();
    assert_eq!(events.len(), 47);
    let table = format_events(&events, HistorySource::CloudTrail, 3, false);
    assert!(table.contains("3 event(s) from CloudTrail") && table.contains("GetObject"), "{table}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_falls_back_to_cloudwatch_logs_when_cloudtrail_is_denied() {
    let user = unique("dan");
    let group = unique("aws-cloudtrail-logs-");
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk(&peer("CCC_TEST_AWS_ENDPOINT"), None).await);
    logs.create_log_group().log_group_name(&group).send().await.unwrap();
    logs.create_log_stream().log_group_name(&group).log_stream_name("trail").send().await.unwrap();
    let t = now();
    let mut batch = Vec::new();
    for (i, who) in [user.as_str(), "other-user", user.as_str()].iter().enumerate() {
        let at = t - Duration::from_secs(600 * (3 - i as u64));
        let msg = record(who, if i == 2 { "PutObject" } else { "GetObject" }, at, None).to_string();
        let ms = at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_millis() as i64;
        batch.push(aws_sdk_cloudwatchlogs::types::InputLogEvent::builder().timestamp(ms).message(msg).build().unwrap());
    }
    logs.put_log_events()
        .log_group_name(&group)
        .log_stream_name("trail")
        .set_log_events(Some(batch))
        .send()
        .await
        .unwrap();

    let front = Front::start_lenient().await;
    front.inject("cloudtrail:LookupEvents", None, 100, Fault::Error(400, "AccessDeniedException"));
    let config = sdk(&front.url, None).await;
    let options = HistoryOptions::default().log_group(group.clone());
    let (events, source) = get_user_history(&config, &user, 1, 50, &options, &SystemClock).await.unwrap();
    assert_eq!(source, HistorySource::CloudWatchLogs);
    assert_eq!(events.iter().map(|e| e.event_name.as_str()).collect::<Vec<_>>(), ["GetObject", "PutObject"]);
    assert!(front.calls("logs:FilterLogEvents") >= 1);
    let table = format_events(&events, source, 10, true);
    assert!(table.contains("from CloudWatch Logs") && table.contains("203.0.113.7"), "{table}");

    // neither source: a typed error naming both
    front.inject("logs:FilterLogEvents", None, 100, Fault::Error(400, "AccessDeniedException"));
    let e = get_user_history(&config, &user, 1, 50, &options, &SystemClock).await.unwrap_err();
    assert!(e.to_string().contains("CloudTrail") && e.to_string().contains("CloudWatch Logs"), "{e}");
}

async fn iam_user_with_policies(iam: &aws_sdk_iam::Client, user: &str) -> (String, String) {
    let doc = |action: &str| {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
            .to_string()
    };
    iam.create_user().user_name(user).send().await.unwrap();
    let p = iam
        .create_policy()
        .policy_name(format!("{user}-managed"))
        .policy_document(doc("s3:GetObject"))
        .send()
        .await
        .unwrap();
    iam.attach_user_policy().user_name(user).policy_arn(p.policy().unwrap().arn().unwrap()).send().await.unwrap();
    iam.put_user_policy()
        .user_name(user)
        .policy_name("inline-logs")
        .policy_document(doc("logs:*"))
        .send()
        .await
        .unwrap();
    let group = format!("{user}-devs");
    iam.create_group().group_name(&group).send().await.unwrap();
    let gp = iam
        .create_policy()
        .policy_name(format!("{user}-group"))
        .policy_document(doc("ec2:Describe*"))
        .send()
        .await
        .unwrap();
    iam.attach_group_policy().group_name(&group).policy_arn(gp.policy().unwrap().arn().unwrap()).send().await.unwrap();
    iam.put_group_policy()
        .group_name(&group)
        .policy_name("group-inline")
        .policy_document(doc("sqs:*"))
        .send()
        .await
        .unwrap();
    iam.add_user_to_group().group_name(&group).user_name(user).send().await.unwrap();
    let key = iam.create_access_key().user_name(user).send().await.unwrap();
    let k = key.access_key().unwrap();
    (k.access_key_id().to_owned(), k.secret_access_key().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn permissions_list_every_policy_and_report_denied_parts() {
    let user = unique("erin");
    let admin = aws_sdk_iam::Client::new(&sdk(&peer("CCC_TEST_AWS_ENDPOINT"), None).await);
    let (id, secret) = iam_user_with_policies(&admin, &user).await;
    let front = Front::start_lenient().await;
    let config = sdk(&front.url, Some((&id, &secret))).await;

    let perms = get_user_permissions(&config).await.unwrap();
    assert_eq!(perms.principal_type, "user");
    assert_eq!(perms.principal_name.as_deref(), Some(user.as_str()));
    assert_eq!(perms.groups, [format!("{user}-devs")]);
    let mut origins: Vec<(String, String)> =
        perms.policies.iter().map(|p| (p.origin.clone(), p.statements[0].actions.join(","))).collect();
    origins.sort();
    let g = format!("group:{user}-devs");
    assert_eq!(
        origins,
        [
            ("attached".into(), "s3:GetObject".into()),
            (format!("{g} attached"), "ec2:Describe*".into()),
            (format!("{g} inline"), "sqs:*".into()),
            ("inline".into(), "logs:*".into()),
        ]
    );
    assert!(perms.errors.is_empty(), "{:?}", perms.errors);

    front.inject("iam:ListAttachedUserPolicies", None, 100, Fault::Error(403, "AccessDenied"));
    let denied = get_user_permissions(&config).await.unwrap();
    assert_eq!(denied.errors.len(), 1);
    assert_eq!(
        (denied.errors[0].part.as_str(), denied.errors[0].error.as_str()),
        ("ListAttachedUserPolicies", "AccessDenied")
    );
    assert_eq!(denied.policies.len(), 3, "the readable parts are still listed");
    let text = format_permissions(&denied, None);
    assert!(text.contains("warning: could not read ListAttachedUserPolicies (AccessDenied)"), "{text}");

    front.set_decision("s3:GetObject", "allowed");
    front.set_decision("iam:CreateUser", "explicitDeny");
    let actions: Vec<String> =
        ["s3:GetObject", "iam:CreateUser", "ec2:RunInstances"].iter().map(|s| (*s).to_owned()).collect();
    let tests = test_permissions(&config, &actions).await.unwrap();
    let decided: Vec<(&str, &str)> = tests.iter().map(|t| (t.action.as_str(), t.decision.as_str())).collect();
    assert_eq!(decided, [("s3:GetObject", "allowed"), ("iam:CreateUser", "denied"), ("ec2:RunInstances", "denied")]);
    let requests = front.simulate_requests();
    assert_eq!(requests.len(), 1);
    assert!(requests[0].0.ends_with(&format!(":user/{user}")), "{:?}", requests[0]);
    assert_eq!(front.calls("iam:SimulatePrincipalPolicy"), 1);
    let text = format_permissions(&perms, Some(&tests));
    assert!(text.contains("explicitDeny"), "{text}");
}

/// The front's own stubs are judged by boto3's clients (AWS's service models parse every
/// answer): CloudTrail LookupEvents paged through its paginator, a modelled error, and IAM
/// SimulatePrincipalPolicy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_parses_the_fronts_cloudtrail_and_simulation_answers() {
    let front = Front::start_lenient().await;
    let t = now();
    front.set_cloudtrail_events(vec![
        record("alice", "ListBuckets", t - Duration::from_secs(300), None),
        record("alice", "GetObject", t - Duration::from_secs(200), None),
        record("bob", "DeleteBucket", t - Duration::from_secs(150), None),
        record("alice", "PutObject", t - Duration::from_secs(100), Some("AccessDenied")),
    ]);
    front.set_decision("s3:ListAllMyBuckets", "allowed");
    let script = r#"
import boto3, datetime, json, os
kw = dict(region_name='us-east-1', endpoint_url=os.environ['FRONT'], aws_access_key_id='AKIAFRONTJUDGE', aws_secret_access_key='judge')
ct = boto3.client('cloudtrail', **kw)
pages = list(ct.get_paginator('lookup_events').paginate(
    LookupAttributes=[{'AttributeKey': 'Username', 'AttributeValue': 'alice'}], PaginationConfig={'PageSize': 2}))
events = [e for p in pages for e in p['Events']]
names = [e['EventName'] for e in events]
typed = all(isinstance(e['EventTime'], datetime.datetime) for e in events)
inner = json.loads(events[0]['CloudTrailEvent'])['userIdentity']['type']
try:
    ct.lookup_events(MaxResults=99)
    modelled = False
except ct.exceptions.InvalidMaxResultsException:
    modelled = True
iam = boto3.client('iam', **kw)
r = iam.simulate_principal_policy(PolicySourceArn='arn:aws:iam::123456789012:user/alice',
                                  ActionNames=['s3:ListAllMyBuckets', 'iam:CreateUser'])
decisions = [[x['EvalActionName'], x['EvalDecision']] for x in r['EvaluationResults']]
print(json.dumps([len(pages), sorted(names), typed, inner, modelled, decisions]))
"#;
    let out = Command::new(peer("CCC_TEST_PYTHON")).args(["-c", script]).env("FRONT", &front.url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        got,
        json!([
            2,
            ["GetObject", "ListBuckets", "PutObject"],
            true,
            "IAMUser",
            true,
            [["s3:ListAllMyBuckets", "allowed"], ["iam:CreateUser", "implicitDeny"]]
        ])
    );
}

/// An IAM Identity Center role lives under a path (`/aws-reserved/sso.amazonaws.com/`) that the
/// caller's assumed-role ARN does not show: the simulation asks about the role's real ARN.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulation_uses_the_roles_real_arn_with_its_path() {
    let (role, role_arn, c) = sso_like_role_session("/aws-reserved/sso.amazonaws.com/", "alice").await;
    assert!(role_arn.contains(":role/aws-reserved/sso.amazonaws.com/") && role_arn.ends_with(&role), "{role_arn}");
    let front = Front::start_lenient().await;
    let config = session_config(&front.url, &c).await;
    test_permissions(&config, &["s3:GetObject".to_owned()]).await.unwrap();
    let requests = front.simulate_requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].0, role_arn, "the path is kept");
    assert_eq!(front.calls("iam:GetRole"), 1);
}

/// A record as CloudTrail writes it for a role session (AWS's documented example shape:
/// `AssumedRole`, the session's ARN, the issuing role in `sessionContext`).
fn role_record(role: &str, session: &str, name: &str, at: SystemTime) -> serde_json::Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": format!("AROAEXAMPLEID:{session}"),
            "arn": format!("arn:aws:sts::123456789012:assumed-role/{role}/{session}"),
            "accountId": "123456789012",
            "accessKeyId": "ASIAEXAMPLEKEY",
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": "AROAEXAMPLEID",
                    "arn": format!("arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/{role}"),
                    "accountId": "123456789012",
                    "userName": role
                },
                "attributes": {"creationDate": rfc3339(at - Duration::from_secs(60)), "mfaAuthenticated": "false"}
            }
        },
        "eventTime": rfc3339(at),
        "eventSource": "s3.amazonaws.com",
        "eventName": name,
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15",
        "eventID": format!("{role}-{session}-{name}"),
        "readOnly": true,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": "123456789012"
    })
}

/// Without a user name, history is the caller's: a role session is looked up by its session
/// name (CloudTrail's `Username` for assumed roles, SSO included) and only that exact
/// session's records are kept (another role's session of the same name is someone else).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_sessions_history_is_looked_up_as_cloudtrail_records_it() {
    let session = "alice@example.com";
    let (role, _, c) = sso_like_role_session("/", session).await;
    let front = Front::start_lenient().await;
    let t = now();
    front.set_cloudtrail_events(vec![
        role_record(&role, session, "ListBuckets", t - Duration::from_secs(300)),
        role_record("SomeOtherRole", session, "DeleteBucket", t - Duration::from_secs(200)),
        record("bob", "PutObject", t - Duration::from_secs(150), None),
        role_record(&role, session, "GetObject", t - Duration::from_secs(100)),
    ]);
    let config = session_config(&front.url, &c).await;
    let h = aws_inspect::caller_history(&config, 1, 50, &HistoryOptions::default(), &SystemClock).await.unwrap();
    assert_eq!(h.source, HistorySource::CloudTrail);
    let mut names: Vec<&str> = h.events.iter().map(|e| e.event_name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["GetObject", "ListBuckets"], "only this session of this role");
    assert!(h.events.iter().all(|e| e.username.as_deref() == Some(session)), "{:?}", h.events);
}

/// The front's ListRegions is judged by boto3's account client: paged through its paginator,
/// filtered by status, and a modelled error for a page size out of range.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn boto3_parses_the_fronts_list_regions_answers() {
    let front = Front::start_lenient().await;
    let script = r#"
import boto3, json, os
a = boto3.client('account', region_name='us-east-1', endpoint_url=os.environ['FRONT'],
                 aws_access_key_id='AKIAFRONTJUDGE', aws_secret_access_key='judge')
pages = list(a.get_paginator('list_regions').paginate(PaginationConfig={'PageSize': 3}))
every = [[r['RegionName'], r['RegionOptStatus']] for p in pages for r in p['Regions']]
enabled = [r['RegionName'] for p in a.get_paginator('list_regions').paginate(
    RegionOptStatusContains=['ENABLED', 'ENABLED_BY_DEFAULT']) for r in p['Regions']]
try:
    a.list_regions(MaxResults=99)
    modelled = False
except a.exceptions.ValidationException:
    modelled = True
print(json.dumps([len(pages), every, enabled, modelled]))
"#;
    let out = Command::new(peer("CCC_TEST_PYTHON")).args(["-c", script]).env("FRONT", &front.url).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = ccc_tests::front::ACCOUNT_REGIONS;
    let enabled: Vec<&str> = all.iter().filter(|(_, s)| s.starts_with("ENABLED")).map(|(r, _)| *r).collect();
    assert_eq!(got, json!([all.len().div_ceil(3), all, enabled, true]));
    assert_eq!(front.calls("account:ListRegions"), 4 + 1 + 1);
}

/// Without named regions the scan covers the account's enabled regions (opted-in ones
/// included), says which were skipped and why; when the account's list cannot be read
/// (AccessDenied), it scans the built-in list and warns.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resources_scan_the_accounts_enabled_regions() {
    let me = unique("carol");
    seed_resources(&me, &["ap-east-1", "us-west-2"]);
    let front = Front::start_lenient().await;
    let config = sdk(&front.url, None).await;
    let found = list_user_resources(&config, &me, 1000, false, &ResourceOptions::default()).await.unwrap();
    let enabled: Vec<&str> =
        ccc_tests::front::ACCOUNT_REGIONS.iter().filter(|(_, s)| s.starts_with("ENABLED")).map(|(r, _)| *r).collect();
    assert_eq!(found.regions_from, aws_inspect::RegionsFrom::Account);
    assert_eq!(found.regions_scanned, enabled);
    // the opted-in region's resources are found
    assert_eq!(found.total_resources, 4, "{found:#?}");
    let skipped: Vec<(&str, &str)> =
        found.regions_skipped.iter().map(|s| (s.region.as_str(), s.status.as_str())).collect();
    assert_eq!(skipped, [("af-south-1", "DISABLED"), ("eu-south-1", "DISABLED"), ("me-south-1", "DISABLING")]);
    assert_eq!(front.calls("tagging:GetResources"), enabled.len() * 3, "three owner keys per region");
    let table = format_resources(&found, true);
    assert!(table.contains("(the account's enabled regions)") && table.contains("af-south-1 (DISABLED)"), "{table}");

    front.inject("account:ListRegions", None, 1, Fault::Error(403, "AccessDeniedException"));
    let fallback = list_user_resources(&config, &me, 1000, false, &ResourceOptions::default()).await.unwrap();
    assert_eq!(fallback.regions_from, aws_inspect::RegionsFrom::BuiltIn);
    assert_eq!(fallback.regions_scanned.len(), aws_inspect::DEFAULT_REGIONS.len());
    assert!(fallback.regions_skipped.is_empty());
    assert!(
        fallback.warnings.len() == 1
            && fallback.warnings[0].contains("ListRegions")
            && fallback.warnings[0].contains("AccessDenied"),
        "{:?}",
        fallback.warnings
    );
    // ap-east-1 is not in the list every account has: its resources are not found
    assert_eq!(fallback.total_resources, 2);
}

/// A Cognito identity's history: CloudTrail records every identity of the pool's role under
/// the session name `CognitoIdentityCredentials`; only this identity's records are kept (its
/// id in the web-identity federation data), not the other identity's nor an IAM user's who
/// happens to bear that name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cognito_identitys_history_is_its_own() {
    use ccc_tests::front::cognito_identity_record;
    let t = now();
    let at = |mins: u64| rfc3339(t - Duration::from_secs(mins * 60));
    let pool = "us-east-1:00000000-0000-0000-0000-0000000000aa";
    let (me, other) =
        ("us-east-1:11111111-aaaa-bbbb-cccc-000000000001", "us-east-1:22222222-aaaa-bbbb-cccc-000000000002");
    let front = Front::start_lenient().await;
    front.set_cloudtrail_events(vec![
        cognito_identity_record(me, pool, "GetObject", &at(30)),
        cognito_identity_record(other, pool, "DeleteObject", &at(20)),
        cognito_identity_record(me, pool, "PutObject", &at(10)),
        record(aws_inspect::COGNITO_SESSION_NAME, "ListUsers", t - Duration::from_secs(300), None),
    ]);
    let config = sdk(&front.url, None).await;
    let h = aws_inspect::identity_history(&config, me, 1, 50, &HistoryOptions::default(), &SystemClock).await.unwrap();
    let names: Vec<&str> = h.events.iter().map(|e| e.event_name.as_str()).collect();
    assert_eq!(names, ["PutObject", "GetObject"]);
    assert_eq!(front.calls("cloudtrail:LookupEvents"), 1);
    assert_eq!(front.calls("sts:GetCallerIdentity"), 0, "the identity id alone identifies the principal");
}
