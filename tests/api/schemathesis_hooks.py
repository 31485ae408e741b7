# Loaded by schemathesis (SCHEMATHESIS_HOOKS) in api.schemathesis: authenticates every
# request as the administrator with a token from POST /api/v1/auth/login. The token is
# cached and fetched again after a 401, since the run itself revokes it (logout-all,
# and the tests of ignored authentication). The sign-in comes from another loopback
# address (127.0.0.2): schemathesis's own login cases send wrong passwords for the
# documented example user from 127.0.0.1, and the brute-force delay applies per user
# and source (a correct password from a clean source still signs in).
# schemathesis_run.py passes the base URL and the credentials in the environment.
#
# The fuzzer reuses ids it saw in responses, so it finds the administrator's own id and
# may reset that account's password or roles (PUT /api/v1/users/password and
# /api/v1/users/permissions are meant to allow that): filter_case keeps those two
# operations off the account this hook signs in with, and only off it.
import http.client
import json
import os
import urllib.parse

import schemathesis


def _request(method, path, body=None, token=None):
    url = urllib.parse.urlsplit(os.environ["GTHULHU_ST_BASE"])
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10,
                                      source_address=("127.0.0.2", 0))
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn.request(method, path, None if body is None else json.dumps(body), headers)
    r = conn.getresponse()
    data = r.read()
    conn.close()
    if r.status != 200:
        raise RuntimeError(f"{method} {path} answered {r.status}: {data[:200]!r}")
    return json.loads(data)["data"]


def _sign_in():
    return _request("POST", "/api/v1/auth/login",
                    {"username": os.environ["GTHULHU_ST_USER"],
                     "password": os.environ["GTHULHU_ST_PASSWORD"]})["accessToken"]


_admin_id = None


def _signed_in_id():
    global _admin_id
    if _admin_id is None:
        _admin_id = _request("GET", "/api/v1/users/self", token=_sign_in())["id"]
    return _admin_id


_ACCOUNT_CHANGES = {("PUT", "/api/v1/users/password"), ("PUT", "/api/v1/users/permissions")}


@schemathesis.hook
def filter_case(ctx, case):
    op = (case.operation.method.upper(), case.operation.path)
    if op not in _ACCOUNT_CHANGES or not isinstance(case.body, dict):
        return True
    ids = [case.body.get(k) for k in ("userID", "userId", "UserID", "id")]
    return _signed_in_id() not in ids


@schemathesis.auth(refresh_interval=120)
class AdminToken:
    def get(self, case, ctx):
        return _sign_in()

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
