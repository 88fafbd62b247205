//! The verifying front judges what moto cannot: GetSessionToken's credentials, checked by an
//! independent SigV4 signer, refused as AWS refuses them (a wrong secret, a session token not
//! theirs, an expired one), and a GetCallerIdentity answered with the true principal; both
//! boto3's and the Rust SDK's signatures verify.

use std::process::Command;
use std::time::{Duration, SystemTime};

use ccc_tests::judge::Judge;
use ccc_tests::peer;
use ccc_tests::strict;

/// boto3's verdict through `endpoint` on `key`: the caller's ARN or STS's error code; with
/// `session` it first asks GetSessionToken and prints those credentials instead.
fn boto3(endpoint: &str, key: (&str, &str, Option<&str>), op: &str) -> Result<String, String> {
    let script = r#"
import boto3, json, sys
from botocore.exceptions import ClientError
endpoint, kid, secret, token, op = sys.argv[1:6]
sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=kid,
                   aws_secret_access_key=secret, aws_session_token=token or None)
try:
    if op == "session":
        c = sts.get_session_token(DurationSeconds=900)["Credentials"]
        print(json.dumps([c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"]]))
    elif op == "iam":
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=kid,
                           aws_secret_access_key=secret, aws_session_token=token or None)
        print(iam.get_user()["User"]["Arn"])
    else:
        print(sts.get_caller_identity()["Arn"])
except ClientError as e:
    print("refused: " + e.response["Error"]["Code"])
"#;
    let out = Command::new(peer("CCC_TEST_PYTHON"))
        .args(["-c", script, endpoint, key.0, key.1, key.2.unwrap_or(""), op])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    match text.strip_prefix("refused: ") {
        Some(code) => Err(code.to_owned()),
        None => Ok(text),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::disallowed_methods)] // the judge's clock is the wall clock, as AWS's is
async fn the_judge_refuses_session_credentials_as_aws_would() {
    let judge = Judge::start().await;
    let user = strict::user("judged").await;
    let long_term = (user.access_key_id.as_str(), user.secret_access_key.as_str(), None);
    // long-term keys: moto judges them, through the judge
    assert_eq!(boto3(&judge.url, long_term, "whoami"), Ok(user.arn()));
    assert_eq!(boto3(&judge.url, (&user.access_key_id, "wrong", None), "whoami"), Err("SignatureDoesNotMatch".into()));
    // GetSessionToken: the judge mints them, and judges them
    let minted: Vec<String> = serde_json::from_str(&boto3(&judge.url, long_term, "session").unwrap()).unwrap();
    let (key, secret, token) = (minted[0].as_str(), minted[1].as_str(), minted[2].as_str());
    assert!(key.starts_with("ASIAJUDGE"), "{key}");
    assert_eq!(boto3(&judge.url, (key, secret, Some(token)), "whoami"), Ok(user.arn()), "the true principal");
    assert_eq!(boto3(&judge.url, (key, "wrong-secret", Some(token)), "whoami"), Err("SignatureDoesNotMatch".into()));
    assert_eq!(boto3(&judge.url, (key, secret, Some("not-its-token")), "whoami"), Err("InvalidClientTokenId".into()));
    assert_eq!(boto3(&judge.url, (key, secret, None), "whoami"), Err("InvalidClientTokenId".into()));
    // another service's call with them is verified, then made as the administrator
    assert!(boto3(&judge.url, (key, secret, Some(token)), "iam").is_ok());
    // expired
    let (old, old_secret, old_token) =
        judge.mint(&user.arn(), SystemTime::now().checked_sub(Duration::from_secs(1)).unwrap());
    assert_eq!(boto3(&judge.url, (&old, &old_secret, Some(&old_token)), "whoami"), Err("ExpiredToken".into()));
    assert_eq!(
        judge.refused(),
        ["SignatureDoesNotMatch", "InvalidClientTokenId", "InvalidClientTokenId", "ExpiredToken"]
    );

    // the Rust SDK's signature (it signs more headers than botocore) verifies too
    let (k, s, t) = judge.mint(&user.arn(), SystemTime::now() + Duration::from_secs(600));
    let sts = |secret: &str| {
        let creds = aws_credential_types::Credentials::new(&k, secret, Some(t.clone()), None, "test");
        aws_sdk_sts::Client::from_conf(
            aws_sdk_sts::Config::builder()
                .behavior_version(aws_config::BehaviorVersion::latest())
                .region(aws_config::Region::new("us-east-1"))
                .endpoint_url(&judge.url)
                .credentials_provider(creds)
                .build(),
        )
    };
    let who = sts(&s).get_caller_identity().send().await.unwrap();
    assert_eq!(who.arn(), Some(user.arn().as_str()));
    let wrong = sts("wrong").get_caller_identity().send().await.unwrap_err();
    assert_eq!(aws_sdk_sts::error::ProvideErrorMetadata::code(&wrong), Some("SignatureDoesNotMatch"));
}
