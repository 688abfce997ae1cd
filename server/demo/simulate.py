"""Keeps the demo company's integrations moving while `make run` serves: every few seconds a
run of one of its flows, posted as OpenLineage START and COMPLETE (or FAIL) events through the
real ingest endpoint with the stock Python client and a real service token. Beside it, a BGP
collector: it reports every demo session established, then now and then drops one and brings
it back, through the state API with the network team's `network-state` service token (an admin,
alice, makes it).

It signs in at the development identity provider as alice (an admin), makes an `ingest` token
for the integrations team the way the token page does, then posts. The card-network clearing
import fails about one run in four; bank statements are left out, so their schedule runs late.

    simulate.py http://127.0.0.1:3000
"""
import random
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests
from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.facet_v2 import error_message_run
from openlineage.client.transport.http import HttpConfig, HttpTransport

FLOWS = [
    ("sfdc-opportunities-to-netsuite", 0.0),
    ("workday-leavers-to-okta", 0.0),
    ("zendesk-merchants-from-portal", 0.02),
    ("sfdc-merchants-to-portal", 0.0),
    ("mastercard-ipm-in", 0.25),
    ("portal-leads-to-sfdc", 0.0),
]


class FormFinder(HTMLParser):
    """The first form's action and its inputs."""

    def __init__(self):
        super().__init__()
        self.action, self.fields = None, {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and self.action is None:
            self.action = a.get("action", "")
        if tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")


def sign_in(base: str, user: str) -> requests.Session:
    s = requests.Session()
    page = s.get(f"{base}/auth/login", timeout=10)
    form = FormFinder()
    form.feed(page.text)
    fields = {**form.fields, "username": user, "password": user}
    s.post(urljoin(page.url, form.action), data=fields, timeout=10).raise_for_status()
    if not any("switchyard" in c.name for c in s.cookies):
        sys.exit("simulate: signing in as alice did not give a session")
    return s


def ingest_token(base: str) -> str:
    s = sign_in(base, "alice")
    r = s.post(
        f"{base}/api/iam/create-token",
        data={"name": f"demo-simulator-{int(time.time())}", "team": "integrations", "ingest": "on", "days": "1"},
        headers={"origin": base, "accept": "application/json"},
        timeout=10,
    )
    r.raise_for_status()
    return r.json()["secret"]


def network_token(base: str) -> str:
    s = sign_in(base, "alice")
    r = s.post(
        f"{base}/api/iam/create-token",
        data={"name": f"demo-bgp-collector-{int(time.time())}", "team": "network", "read": "on", "network_state": "on", "days": "1"},
        headers={"origin": base, "accept": "application/json"},
        timeout=10,
    )
    r.raise_for_status()
    return r.json()["secret"]


def bgp_collector(base: str) -> None:
    """Reports the demo's BGP sessions: all established, then one flapping now and then."""
    auth = {"authorization": f"Bearer {network_token(base)}"}
    sessions = []
    for p in requests.get(f"{base}/api/v1/topology/partners?limit=500", headers=auth, timeout=10).json()["items"]:
        detail = requests.get(f"{base}/api/v1/topology/partners/{requests.utils.quote(p['name'], safe='')}", headers=auth, timeout=10).json()
        sessions += [{"device": s["device"], "remote_address": s["remote_address"]} for s in detail["sessions"]]

    def report(batch):
        now = datetime.now(timezone.utc).isoformat()
        r = requests.post(f"{base}/api/v1/topology/bgp-sessions/state", json=[{**s, "at": now} for s in batch], headers=auth, timeout=10)
        r.raise_for_status()

    if not sessions:
        return
    report([{**s, "state": "established", "prefixes_received": random.randint(5, 900)} for s in sessions])
    print(f"simulate: {len(sessions)} BGP sessions established; one flaps now and then", flush=True)
    while True:
        time.sleep(random.uniform(20, 45))
        s = random.choice(sessions)
        report([{**s, "state": random.choice(["idle", "active", "connect"])}])
        time.sleep(random.uniform(8, 20))
        report([{**s, "state": "established", "prefixes_received": random.randint(5, 900)}])


def main(base: str) -> None:
    for _ in range(60):
        try:
            requests.get(f"{base}/readyz", timeout=2).raise_for_status()
            break
        except requests.RequestException:
            time.sleep(1)
    threading.Thread(target=bgp_collector, args=(base,), daemon=True).start()
    token = ingest_token(base)
    config = HttpConfig.from_dict({"type": "http", "url": base, "auth": {"type": "api_key", "apiKey": token}, "compression": "gzip"})
    client = OpenLineageClient(transport=HttpTransport(config))
    print(f"simulate: posting runs to {base}/api/v1/lineage", flush=True)
    while True:
        job, failure_rate = random.choice(FLOWS)
        run = Run(runId=str(uuid.uuid4()))
        start = datetime.now(timezone.utc)
        client.emit(RunEvent(eventType=RunState.START, eventTime=start.isoformat(), run=run,
                             job=Job(namespace="switchyard", name=job), producer="https://github.com/switchyard/demo-simulator"))
        time.sleep(random.uniform(1, 4))
        failed = random.random() < failure_rate
        facets = {"errorMessage": error_message_run.ErrorMessageRunFacet(message="Clearing file rejected: record 1042 has a bad PAN checksum", programmingLanguage="python")} if failed else {}
        end = datetime.now(timezone.utc)
        client.emit(RunEvent(eventType=RunState.FAIL if failed else RunState.COMPLETE, eventTime=end.isoformat(),
                             run=Run(runId=run.runId, facets=facets), job=Job(namespace="switchyard", name=job),
                             producer="https://github.com/switchyard/demo-simulator"))
        time.sleep(random.uniform(2, 6))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:3000")
