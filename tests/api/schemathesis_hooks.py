# Loaded by schemathesis (SCHEMATHESIS_HOOKS) in api.schemathesis: authenticates every
# request as the administrator with a token from POST /api/v1/auth/login. The token is
# cached and fetched again after a 401, since the run itself revokes it (logout-all,
# and the tests of ignored authentication). schemathesis_run.py passes the base URL and
# the credentials in the environment.
import os

import requests
import schemathesis


@schemathesis.auth(refresh_interval=120)
class AdminToken:
    def get(self, case, ctx):
        r = requests.post(
            os.environ["GTHULHU_ST_BASE"] + "/api/v1/auth/login",
            json={"username": os.environ["GTHULHU_ST_USER"], "password": os.environ["GTHULHU_ST_PASSWORD"]},
            timeout=10,
        )
        r.raise_for_status()
        return r.json()["data"]["accessToken"]

    def set(self, case, data, ctx):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"
