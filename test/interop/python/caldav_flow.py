"""The python3-caldav client (Debian) driven through a whole calendar flow against Portcullis.

Usage: caldav_flow.py URL USER PASSWORD. Prints one JSON object with what it saw; any failed
step raises, so the exit status says whether the flow went through.
"""
import datetime
import json
import sys

import caldav

url, user, password = sys.argv[1:4]
out = {}

SINGLE = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//portcullis test//EN
BEGIN:VEVENT
UID:single-1
DTSTAMP:20261101T000000Z
DTSTART:20261210T090000Z
DTEND:20261210T100000Z
SUMMARY:Board meeting
END:VEVENT
END:VCALENDAR
"""

RECURRING = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//portcullis test//EN
BEGIN:VEVENT
UID:weekly-1
DTSTAMP:20261101T000000Z
DTSTART:20261102T080000Z
DTEND:20261102T083000Z
RRULE:FREQ=WEEKLY;COUNT=10
EXDATE:20261109T080000Z
SUMMARY:Stand-up
END:VEVENT
BEGIN:VEVENT
UID:weekly-1
DTSTAMP:20261101T000000Z
RECURRENCE-ID:20261116T080000Z
DTSTART:20261216T150000Z
DTEND:20261216T153000Z
SUMMARY:Stand-up (moved)
END:VEVENT
END:VCALENDAR
"""

LATER = SINGLE.replace("single-1", "later-1").replace("20261210", "20270310").replace("Board meeting", "Later")

client = caldav.DAVClient(url=url, username=user, password=password)
principal = client.principal()
out["home"] = str(principal.calendar_home_set.url)
out["calendars_before"] = sorted(str(c.url) for c in principal.calendars())
cal = principal.make_calendar(name="Work", cal_id="work")
out["calendar"] = str(cal.url)
out["names"] = sorted(c.name for c in principal.calendars())

cal.save_event(SINGLE)
cal.save_event(RECURRING)
cal.save_event(LATER)
out["events"] = len(cal.events())

december = cal.date_search(
    start=datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc),
    end=datetime.datetime(2027, 1, 1, tzinfo=datetime.timezone.utc),
)
out["december"] = sorted(e.icalendar_component["uid"] for e in december)
november = cal.date_search(
    start=datetime.datetime(2026, 11, 8, tzinfo=datetime.timezone.utc),
    end=datetime.datetime(2026, 11, 10, tzinfo=datetime.timezone.utc),
)
out["excluded_week"] = sorted(e.icalendar_component["uid"] for e in november)
march = cal.date_search(
    start=datetime.datetime(2027, 3, 1, tzinfo=datetime.timezone.utc),
    end=datetime.datetime(2027, 4, 1, tzinfo=datetime.timezone.utc),
)
out["march"] = sorted(e.icalendar_component["uid"] for e in march)

urls = [e.url for e in cal.events()]
got = cal.calendar_multiget(urls)
out["multiget"] = sorted(e.icalendar_component["uid"] for e in got)

synced = cal.objects_by_sync_token(load_objects=True)
token = synced.sync_token
out["sync_first"] = len(list(synced))

event = cal.event_by_uid("single-1")
event.data = event.data.replace("Board meeting", "Board meeting (room 4)")
event.save()
out["updated"] = "room 4" in cal.event_by_uid("single-1").data
cal.event_by_uid("later-1").delete()

changed = cal.objects_by_sync_token(sync_token=token, load_objects=False)
out["sync_changed"] = sorted(str(o.url).rsplit("/", 1)[-1] for o in changed)
out["sync_token_moved"] = changed.sync_token != token
again = cal.objects_by_sync_token(sync_token=changed.sync_token, load_objects=False)
out["sync_again"] = len(list(again))
out["events_after"] = len(cal.events())
print(json.dumps(out))
