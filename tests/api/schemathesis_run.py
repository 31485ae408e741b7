"""api.schemathesis: schemathesis, with every check, against a real coordinator.

Starts gthulhu-coordinator on 127.0.0.1 (random port; SQLite in a temporary directory,
a freshly generated RSA key, a low Argon2 cost, a static pod inventory so strategies
match pods), lets schemathesis generate requests from the coordinator's own OpenAPI
document (/swagger/doc.json) for every operation, as the administrator (see
schemathesis_hooks.py), with a bounded number of examples per operation, and fails on
any failed check: a server error, a status, header, content type or body the document
does not describe, valid data refused or invalid data accepted. It then reads the
recorded traffic (HAR) and fails unless the create paths of strategies, users and
roles answered 201 to generated data at least once.
"""
import argparse
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter

ADMIN_USER = "admin@example.com"
# Random per run: the document's example password is "correct horse battery staple",
# and a fuzzer that sends documented examples to PUT /api/v1/users/self/password would
# otherwise change the very password the auth hook signs in with.
ADMIN_PASSWORD = "st-" + secrets.token_urlsafe(18)
INVENTORY = {
    "pods": [
        {"uid": "0a0a0a0a-0000-0000-0000-000000000001", "name": "prometheus-0", "namespace": "default",
         "labels": {"app": "prometheus"}, "nodeName": "node-a", "phase": "Running"},
        {"uid": "0a0a0a0a-0000-0000-0000-000000000005", "name": "nginx-0", "namespace": "web",
         "labels": {"app": "nginx", "tier": "front"}, "nodeName": "node-b", "phase": "Running"},
    ]
}
# Generated-data creates that must have succeeded at least once.
MUST_CREATE = [("POST", "/api/v1/strategies"), ("POST", "/api/v1/users"), ("POST", "/api/v1/roles")]
START_TIMEOUT_S = 30


def start_coordinator(binary, workdir):
    key = os.path.join(workdir, "jwt.pem")
    subprocess.run(["openssl", "genrsa", "-traditional", "-out", key, "2048"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    inventory = os.path.join(workdir, "inventory.json")
    with open(inventory, "w") as f:
        json.dump(INVENTORY, f)
    with open(key) as f:
        pem = f.read()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GTHULHU_SERVER_LISTEN": "127.0.0.1:0",
        "GTHULHU_SERVER_ACCESS_LOG": "false",
        "GTHULHU_AUTH_PRIVATE_KEY": pem,
        "GTHULHU_SQLITE_PATH": os.path.join(workdir, "coordinator.db"),
        "GTHULHU_AUTH_ARGON2_MEMORY_KIB": "64",
        "GTHULHU_AUTH_ARGON2_ITERATIONS": "1",
        "GTHULHU_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "GTHULHU_PODS_INVENTORY_FILE": inventory,
        # schemathesis signs in again after each revocation, and its negative cases send
        # wrong passwords: the brute-force throttle must not slow the run down.
        "GTHULHU_AUTH_LOGIN_ATTEMPTS_PER_IP": "1000000",
        "GTHULHU_AUTH_LOGIN_FAILURES_PER_USER": "1000000",
    }
    log_path = os.path.join(workdir, "coordinator.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen([binary], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT_S
    port = None
    while time.monotonic() < deadline and port is None:
        if proc.poll() is not None:
            sys.exit(f"the coordinator exited ({proc.returncode}):\n" + open(log_path).read())
        m = re.search(r"listening on port (\d+)", open(log_path, errors="replace").read())
        if m:
            port = int(m.group(1))
        else:
            time.sleep(0.05)  # polling the log for the line that says it listens
    if port is None:
        proc.kill()
        sys.exit(f"the coordinator did not listen within {START_TIMEOUT_S} s:\n" + open(log_path).read())
    base = f"http://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as r:
                if r.status == 200:
                    return proc, base, log_path
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("the coordinator never answered /health with 200:\n" + open(log_path).read())


def route_of(path, documented):
    """The documented path template a concrete request path belongs to."""
    for template in documented:
        rx = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)).replace(r"\*", ".*") + "$"
        if re.match(rx, path):
            return template
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--coordinator", required=True)
    ap.add_argument("--schemathesis", required=True)
    ap.add_argument("--report-dir", required=True)
    ap.add_argument("--max-examples", type=int, default=int(os.environ.get("GTHULHU_ST_EXAMPLES", "20")))
    args = ap.parse_args()

    shutil.rmtree(args.report_dir, ignore_errors=True)
    os.makedirs(args.report_dir)
    workdir = tempfile.mkdtemp(prefix="gthulhu-schemathesis-")
    proc, base, log_path = start_coordinator(args.coordinator, workdir)
    try:
        with urllib.request.urlopen(base + "/swagger/doc.json", timeout=10) as r:
            doc = json.load(r)
        env = dict(os.environ)
        env.update({
            "GTHULHU_ST_BASE": base,
            "GTHULHU_ST_USER": ADMIN_USER,
            "GTHULHU_ST_PASSWORD": ADMIN_PASSWORD,
            "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
            "PYTHONPATH": os.path.dirname(os.path.abspath(__file__)),
        })
        har = os.path.join(args.report_dir, "traffic.har")
        config = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemathesis.toml")
        cmd = [args.schemathesis, "--config-file", config, "run", base + "/swagger/doc.json", "--url", base,
               "--checks", "all", "--max-examples", str(args.max_examples), "--seed", "1",
               "--workers", "1", "--request-timeout", "10", "--no-color",
               "--report", "junit,har", "--report-dir", args.report_dir, "--report-har-path", har]
        print("+", " ".join(cmd), flush=True)
        started = time.monotonic()
        st = subprocess.run(cmd, env=env, cwd=args.report_dir, timeout=540)
        elapsed = time.monotonic() - started
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        coordinator_log = open(log_path, errors="replace").read()
        shutil.rmtree(workdir, ignore_errors=True)

    with open(os.path.join(args.report_dir, "..", "schemathesis-coordinator.log"), "w") as f:
        f.write(coordinator_log)
    failures = []
    if st.returncode != 0:
        failures.append(f"schemathesis exited {st.returncode} (failed checks above)")

    with open(har) as f:
        entries = json.load(f)["log"]["entries"]
    # Longest templates first, so /api/v1/users/self is not taken for /api/v1/users/{x}.
    documented = sorted(doc["paths"], key=len, reverse=True)
    per_op = Counter()
    statuses = {}
    for e in entries:
        method = e["request"]["method"].upper()
        path = urllib.parse.urlsplit(e["request"]["url"]).path
        op = (method, route_of(path, documented))
        per_op[op] += 1
        statuses.setdefault(op, Counter())[e["response"]["status"]] += 1
    # 503 only where the document allows it without a fault (see schemathesis.toml).
    server_errors = sum(n for op, c in statuses.items() for s, n in c.items()
                        if s >= 500 and not (s == 503 and op[1] == "/api/v1/pods/metrics"))
    operations = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    print(f"\n[schemathesis] {len(entries)} requests in {elapsed:.0f} s; {server_errors} server errors")
    undocumented = sum(n for op, n in per_op.items() if op not in operations)
    print(f"[schemathesis] {len(operations)} documented operations; {undocumented} requests with "
          "undocumented methods (all answered 405)" if all(
              statuses[op].keys() <= {405} for op in per_op if op not in operations)
          else "[schemathesis] an undocumented method was answered other than 405")
    for op in sorted(o for o in per_op if o in operations):
        shown = " ".join(f"{s}x{n}" for s, n in sorted(statuses[op].items()))
        print(f"[schemathesis]   {op[0]:6} {op[1]:40} {per_op[op]:5}  {shown}")
    for op in MUST_CREATE:
        if statuses.get(op, Counter())[201] == 0:
            failures.append(f"{op[0]} {op[1]} never answered 201 to generated data")
    if any(statuses[op].keys() - {405} for op in per_op if op not in operations):
        failures.append("an undocumented method was answered other than 405")
    if server_errors:
        failures.append(f"{server_errors} answers were server errors")
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        return 1
    print("\n[schemathesis] passed: every check, every operation; creates reached")
    return 0


if __name__ == "__main__":
    sys.exit(main())
