"""Seeds the peers for `cargo xtask demo`, through the verifying front as the strict moto's
administrator: a Cognito user pool, app client, identity pool and user (on the Cognito peer);
resources tagged with the user as owner in three regions, the role identity-pool credentials
are sessions of with its policies, and an IAM user with a key for the long run (on the strict
moto, which refuses any key it did not issue). Prints KEY=VALUE lines for the demo to use."""
import json
import sys

import boto3

user, password, cognito_role = sys.argv[1], sys.argv[2], sys.argv[3]
region = "us-east-1"
idp = boto3.client("cognito-idp", region_name=region)
pool = idp.create_user_pool(PoolName="ccc-demo")["UserPool"]["Id"]
client = idp.create_user_pool_client(
    UserPoolId=pool,
    ClientName="ccc-cli",
    ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
)["UserPoolClient"]["ClientId"]
identity = boto3.client("cognito-identity", region_name=region).create_identity_pool(
    IdentityPoolName="ccc_demo",
    AllowUnauthenticatedIdentities=False,
    CognitoIdentityProviders=[{"ProviderName": f"cognito-idp.{region}.amazonaws.com/{pool}", "ClientId": client}],
)["IdentityPoolId"]
idp.admin_create_user(UserPoolId=pool, Username=user, TemporaryPassword="Temp-Passw0rd!", MessageAction="SUPPRESS")
idp.admin_set_user_password(UserPoolId=pool, Username=user, Password=password, Permanent=True)

for r in ["us-east-1", "eu-west-1", "ap-southeast-2"]:
    boto3.client("sqs", region_name=r).create_queue(QueueName=f"{user}-jobs", tags={"Owner": user})
    boto3.client("sns", region_name=r).create_topic(Name=f"{user}-alerts", Tags=[{"Key": "Owner", "Value": user}])
boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="someone-elses-queue", tags={"Owner": "bob"})

# identity-pool credentials are sessions of the pool's authenticated role: give it policies so
# `ccc permissions` has something real to read
iam = boto3.client("iam", region_name=region)
doc = lambda action: json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Federated": "cognito-identity.amazonaws.com"}, "Action": "sts:AssumeRoleWithWebIdentity"}]})
try:
    iam.create_role(RoleName=cognito_role, AssumeRolePolicyDocument=trust)
except iam.exceptions.EntityAlreadyExistsException:
    pass  # peers reused from an earlier run
try:
    arn = iam.create_policy(PolicyName="DemoReadS3", PolicyDocument=doc(["s3:GetObject", "s3:ListBucket"]))["Policy"]["Arn"]
except iam.exceptions.EntityAlreadyExistsException:
    arn = "arn:aws:iam::123456789012:policy/DemoReadS3"
iam.attach_role_policy(RoleName=cognito_role, PolicyArn=arn)
iam.put_role_policy(RoleName=cognito_role, PolicyName="demo-queues", PolicyDocument=doc("sqs:*"))

# the long run's IAM user, allowed to extend its own session
long_run = "demo-long-run"
try:
    iam.create_user(UserName=long_run)
except iam.exceptions.EntityAlreadyExistsException:
    pass
iam.put_user_policy(UserName=long_run, PolicyName="sts", PolicyDocument=doc("sts:*"))
for old in iam.list_access_keys(UserName=long_run)["AccessKeyMetadata"]:
    iam.delete_access_key(UserName=long_run, AccessKeyId=old["AccessKeyId"])  # an earlier run's
key = iam.create_access_key(UserName=long_run)["AccessKey"]

print(f"USER_POOL_ID={pool}")
print(f"APP_CLIENT_ID={client}")
print(f"IDENTITY_POOL_ID={identity}")
print(f"LONG_RUN_KEY_ID={key['AccessKeyId']}")
print(f"LONG_RUN_SECRET={key['SecretAccessKey']}")
