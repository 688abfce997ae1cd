"""Reads an iCalendar feed from stdin with the icalendar package (PyPI) and prints what it
found as JSON: the calendar's name and each VEVENT's UID, SUMMARY, DTSTART, DTEND and URL."""
import json
import sys

import icalendar

calendar = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
events = []
for event in calendar.walk("VEVENT"):
    events.append(
        {
            "uid": str(event["UID"]),
            "summary": str(event["SUMMARY"]),
            "start": event.decoded("DTSTART").isoformat(),
            "end": event.decoded("DTEND").isoformat(),
            "url": str(event.get("URL", "")),
            "stamped": "DTSTAMP" in event,
        }
    )
print(json.dumps({"name": str(calendar.get("X-WR-CALNAME", calendar.get("NAME", ""))), "events": events}))
