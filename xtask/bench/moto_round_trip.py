"""moto's own round-trip for the calls a cold `ccc creds` makes on a Cognito profile whose
tokens are fresh (GetId, then GetCredentialsForIdentity), made with the least client there
is: a new HTTP connection per call, as a new `ccc creds` process opens, and no SDK. Prints
the median of RUNS in milliseconds. Usage: moto_round_trip.py HOME ENDPOINT RUNS"""
import http.client
import json
import sys
import time
import urllib.parse

home, endpoint, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
cfg = json.load(open(home + "/.ccc/config.json"))
entry = list(json.load(open(home + "/.ccc/tokens.json"))["entries"].values())[0]
logins = {f"cognito-idp.{cfg['region']}.amazonaws.com/{cfg['user_pool_id']}": entry["id_token"]}
url = urllib.parse.urlparse(endpoint)


def call(target, body):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    headers = {
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "AWSCognitoIdentityService." + target,
    }
    conn.request("POST", "/", json.dumps(body), headers)
    resp = conn.getresponse()
    data = json.loads(resp.read())
    conn.close()
    if resp.status != 200:
        raise SystemExit(f"{target}: HTTP {resp.status}")
    return data


times = []
for _ in range(runs):
    start = time.perf_counter()
    identity = call("GetId", {"IdentityPoolId": cfg["identity_pool_id"], "Logins": logins})["IdentityId"]
    call("GetCredentialsForIdentity", {"IdentityId": identity, "Logins": logins})
    times.append(time.perf_counter() - start)
times.sort()
print(f"{times[len(times) // 2] * 1000:.2f}")
