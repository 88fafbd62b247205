"""Bootstraps the strict moto (authentication on after INITIAL_NO_AUTH_ACTION_COUNT=3 calls):
an administrator user with an access key, whose key every later set-up call is signed with.
Prints {"access_key_id": ..., "secret_access_key": ...}."""
import json
import sys

import boto3

endpoint = sys.argv[1]
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
# the three unauthenticated calls moto allows before it checks every signature
iam.create_user(UserName="admin")
iam.put_user_policy(UserName="admin", PolicyName="everything", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="admin")["AccessKey"]
admin = {"access_key_id": key["AccessKeyId"], "secret_access_key": key["SecretAccessKey"]}
# authentication is on now: an unsigned or wrongly signed call is refused
sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                   aws_access_key_id=admin["access_key_id"], aws_secret_access_key="wrong")
try:
    sts.get_caller_identity()
    sys.exit("the strict moto accepted a wrong secret")
except sts.exceptions.ClientError as e:
    assert e.response["Error"]["Code"] == "SignatureDoesNotMatch", e.response
print(json.dumps(admin))
