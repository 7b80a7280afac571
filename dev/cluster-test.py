"""The cluster test (dev/cluster --test): through HAProxy, sign in, load pages that land on both
replicas, launch a workspace and follow its event stream while the replica that served the
launch is killed with SIGKILL. The stream reconnects through the other replica, the workspace
becomes available exactly once, and no request after the kill gets a 5xx."""

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.parse

BASE = os.environ["CLUSTER_URL"]
DIR = os.environ["CLUSTER_DIR"]
HOST = urllib.parse.urlparse(BASE).netloc


def request(method, path, cookie=None, form=None):
    """(status, headers, body) of one request through the proxy, redirects not followed."""
    conn = http.client.HTTPConnection(HOST, timeout=30)
    headers = {"Origin": BASE}
    if cookie:
        headers["Cookie"] = cookie
    body = None
    if form is not None:
        body = urllib.parse.urlencode(form)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, response.headers, data


def check(condition, message):
    if not condition:
        print(f"cluster test FAILED: {message}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {message}")


def psql(query):
    return subprocess.run(["psql", os.environ["DATABASE_URL"], "-tAc", query], check=True, capture_output=True, text=True).stdout.split()


status, headers, _ = request("POST", "/auth/sign-in", form={"username": "ada", "password": "AtriumDemo-2026"})
cookie = next((c.split(";")[0] for c in headers.get_all("Set-Cookie") or [] if c.startswith("atrium_session=")), None)
check(status == 303 and cookie, f"ada signs in through the proxy ({status})")

served = set()
for _ in range(6):
    status, headers, _ = request("GET", "/teams/genomics", cookie)
    check(status == 200, f"the team home answers 200 on {headers['X-Served-By']}")
    served.add(headers["X-Served-By"])
check(served == {"replica1", "replica2"}, f"pages land on both replicas with one session: {sorted(served)}")

launched, refusals = None, []
for configuration in psql("SELECT c.id FROM workspace_configurations c JOIN workspace_types t ON t.id = c.workspace_type_id "
                          "WHERE t.status = 'approved' AND 'genomics' = ANY (c.allowed_teams) ORDER BY c.id"):
    form = {"team": "genomics", "configuration_id": configuration, "name": "ada-cluster", "launch_key": "cluster-launch-0001"}
    status, headers, body = request("POST", "/api/launch_workspace", cookie, form)
    if status == 200:
        launched = (json.loads(body), headers["X-Served-By"])
        break
    refusals.append((status, body[:200]))
check(launched is not None, f"ada launches a workspace {refusals}")
workspace, victim = launched

events, stream_errors = [], []


def follow():
    """What a browser's EventSource does: read events, reconnect when the stream breaks."""
    deadline = time.time() + 90
    while time.time() < deadline and not any('"available"' in e for e in events):
        try:
            conn = http.client.HTTPConnection(HOST, timeout=30)
            conn.request("GET", f"/events/workspaces/{workspace}", headers={"Cookie": cookie})
            response = conn.getresponse()
            if response.status != 200:
                stream_errors.append(response.status)
                time.sleep(0.5)
                continue
            while True:
                line = response.fp.readline()
                if not line:
                    break
                if line.startswith(b"data:"):
                    events.append(line.decode())
                    if '"available"' in events[-1]:
                        return
        except OSError:
            pass
        time.sleep(0.5)


follower = threading.Thread(target=follow)
follower.start()
time.sleep(1)
check(events, "the event stream sends the workspace at once")

pid = int(open(f"{DIR}/replica-{victim[-1]}.pid").read())
os.kill(pid, signal.SIGKILL)
print(f"killed {victim} (pid {pid}), which served the launch")

statuses = []
for _ in range(20):
    status, headers, _ = request("GET", "/teams/genomics", cookie)
    statuses.append((status, headers["X-Served-By"]))
    time.sleep(0.1)
check(all(s < 500 for s, _ in statuses), f"no 5xx after the kill: {sorted(set(statuses))}")
check(all(by != victim for _, by in statuses), "every page is served by the surviving replica")

follower.join(timeout=100)
check(any('"available"' in e for e in events), f"the stream, reconnected, shows the workspace available ({len(events)} events)")
check(not [s for s in stream_errors if s >= 500], f"no reconnection got a 5xx: {stream_errors}")
available = psql(f"SELECT count(*) FROM workspace_events WHERE workspace_id = '{workspace}' AND to_state = 'available'")
check(available == ["1"], f"the workspace became available exactly once ({available})")
print("cluster test passed")
