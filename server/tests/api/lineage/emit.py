"""Sends a run's events to Switchyard with the stock OpenLineage Python client (its HTTP
transport, gzip on): `emit.py URL TOKEN NAMESPACE NAME RUN_ID START_TIME EVENT_TYPE...`, the first
event at START_TIME (ISO 8601), each next one a minute later. Exits non-zero when the server refuses an event."""
import sys
from datetime import datetime, timedelta

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
from openlineage.client.transport.http import HttpConfig, HttpTransport

url, token, namespace, name, run_id, first, *kinds = sys.argv[1:]
config = HttpConfig.from_dict(
    {
        "type": "http",
        "url": url,
        "endpoint": "api/v1/lineage",
        "auth": {"type": "api_key", "apiKey": token},
        "compression": "gzip",
    }
)
client = OpenLineageClient(transport=HttpTransport(config))
start = datetime.fromisoformat(first)
for i, kind in enumerate(kinds):
    event = RunEvent(
        eventType=RunState[kind],
        eventTime=(start + timedelta(minutes=i)).isoformat(),
        run=Run(runId=run_id),
        job=Job(namespace=namespace, name=name),
        producer="https://github.com/OpenLineage/OpenLineage/tree/main/client/python",
    )
    response = client.transport.emit(event)
    status = getattr(response, "status_code", None)
    if status is None or status >= 300:
        sys.exit(f"{kind}: the server answered {status}")
    print(kind, status)
