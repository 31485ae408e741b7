# Loaded by schemathesis (SCHEMATHESIS_HOOKS) in api.schemathesis: authenticates every
# request as the administrator with a token from POST /api/v1/auth/login. The token is
# cached and fetched again after a 401, since the run itself revokes it (logout-all,
# and the tests of ignored authentication). The sign-in comes from another loopback
# address (127.0.0.2): schemathesis's own login cases send wrong passwords for the
# documented example user from 127.0.0.1, and the brute-force delay applies per user
# and source (a correct password from a clean source still signs in).
# schemathesis_run.py passes the base URL and the credentials in the environment.
import http.client
import json
import os
import urllib.parse

import schemathesis


@schemathesis.auth(refresh_interval=120)
class AdminToken:
    def get(self, case, ctx):
        url = urllib.parse.urlsplit(os.environ["GTHULHU_ST_BASE"])
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10,
                                          source_address=("127.0.0.2", 0))
        body = json.dumps({"username": os.environ["GTHULHU_ST_USER"],
                           "password": os.environ["GTHULHU_ST_PASSWORD"]})
        conn.request("POST", "/api/v1/auth/login", body, {"Content-Type": "application/json"})
        r = conn.getresponse()
        data = r.read()
        conn.close()
        if r.status != 200:
            raise RuntimeError(f"admin sign-in answered {r.status}: {data[:200]!r}")
        return json.loads(data)["data"]["accessToken"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
