#!/usr/bin/python3
"""test_logs.py - CloudWatch Logs end to end, through Debian's aws CLI v2
(including `aws logs tail` and `aws logs tail --follow`, exactly as the
runbooks use them) and boto3.

Covers every operation fogbank implements and their error paths:
groups (prefix/pattern, pages, KMS association), retention (AWS's fixed
values, and really enforced: expired events are deleted from the store),
streams (orders, pages), PutLogEvents batch rules, GetLogEvents tokens,
FilterLogEvents (streams, patterns, pages, eventIds), tags through both
APIs, account isolation, and durability across kill -9 right after a put.
"""
import json
import os
import queue
import sqlite3
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lib  # noqa: E402
from lib import expect_error  # noqa: E402

DAY = 86400 * 1000


def logs(fb, **kw):
    return fb.client("logs", **kw)


def now_ms():
    return int(time.time() * 1000)


def expect_invalid(fn, *args, **kwargs):
    """A constraint the model states (pattern, range): CloudWatch Logs
    answers InvalidParameterException, not the ValidationException of
    other JSON services."""
    try:
        fn(*args, **kwargs)
    except Exception as e:  # botocore ClientError or lib.AwsError
        code = getattr(e, "code", None) or e.response["Error"]["Code"]
        assert code == "InvalidParameterException", e
        return
    raise AssertionError("expected a validation error")


def make_stream(fb, group, stream, messages=(), ts=None):
    """Creates group (if needed) and stream, and puts messages one ms apart."""
    c = logs(fb)
    try:
        c.create_log_group(logGroupName=group)
    except c.exceptions.ResourceAlreadyExistsException:
        pass
    c.create_log_stream(logGroupName=group, logStreamName=stream)
    if messages:
        t = ts if ts is not None else now_ms() - len(messages)
        c.put_log_events(logGroupName=group, logStreamName=stream,
                         logEvents=[{"timestamp": t + i, "message": m} for i, m in enumerate(messages)])


def all_filtered(c, **kw):
    """Every FilterLogEvents page, following nextToken."""
    events, tok, calls = [], None, 0
    while True:
        args = dict(kw)
        if tok:
            args["nextToken"] = tok
        r = c.filter_log_events(**args)
        calls += 1
        events += r["events"]
        tok = r.get("nextToken")
        if not tok:
            return events, calls


# ---- groups ---------------------------------------------------------------


def test_group_lifecycle_cli(fb):
    fb.aws("logs", "create-log-group", "--log-group-name", "/ecs/web", "--tags", "team=web")
    e = expect_error("ResourceAlreadyExistsException", fb.aws, "logs", "create-log-group",
                     "--log-group-name", "/ecs/web")
    assert "already exists" in e.message
    g = fb.aws("logs", "describe-log-groups", "--log-group-name-prefix", "/ecs/web")["logGroups"]
    assert len(g) == 1, g
    g = g[0]
    assert g["logGroupName"] == "/ecs/web"
    assert g["arn"] == "arn:aws:logs:us-east-1:000000000000:log-group:/ecs/web:*"
    assert abs(g["creationTime"] - now_ms()) < 60000
    assert g["storedBytes"] == 0 and "retentionInDays" not in g and "kmsKeyId" not in g
    fb.aws("logs", "delete-log-group", "--log-group-name", "/ecs/web")
    expect_error("ResourceNotFoundException", fb.aws, "logs", "delete-log-group",
                 "--log-group-name", "/ecs/web")
    assert fb.aws("logs", "describe-log-groups", "--log-group-name-prefix", "/ecs/web")["logGroups"] == []
    expect_invalid(fb.aws, "logs", "create-log-group", "--log-group-name", "bad name")


def test_describe_log_groups_pages(fb):
    c = logs(fb)
    names = ["/pg/%02d" % i for i in range(7)] + ["/other/x", "/pg-not/y"]
    for n in names:
        c.create_log_group(logGroupName=n)
    seen, tok, pages = [], None, 0
    while True:
        args = {"logGroupNamePrefix": "/pg/", "limit": 3}
        if tok:
            args["nextToken"] = tok
        r = c.describe_log_groups(**args)
        pages += 1
        seen += [g["logGroupName"] for g in r["logGroups"]]
        tok = r.get("nextToken")
        if not tok:
            break
    assert seen == sorted(names[:7]) and pages == 3, (seen, pages)
    # the paginator and the CLI's auto-pagination agree
    got = [g["logGroupName"] for p in c.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix="/pg", PaginationConfig={"PageSize": 2}) for g in p["logGroups"]]
    assert got == sorted(names[:7] + ["/pg-not/y"]), got
    cli = fb.aws("logs", "describe-log-groups", "--log-group-name-prefix", "/pg/", "--page-size", "2")
    assert [g["logGroupName"] for g in cli["logGroups"]] == sorted(names[:7])
    pat = c.describe_log_groups(logGroupNamePattern="not")["logGroups"]
    assert [g["logGroupName"] for g in pat] == ["/pg-not/y"]
    assert c.describe_log_groups(logGroupNamePattern="NOT")["logGroups"] == []  # case-sensitive
    expect_error("InvalidParameterException", c.describe_log_groups, logGroupNamePrefix="/pg",
                 logGroupNamePattern="x")
    expect_error("InvalidParameterException", c.describe_log_groups, nextToken="zz")
    expect_invalid(fb.aws, "logs", "describe-log-groups", "--limit", "51")


def test_groups_are_per_account_and_region(fb):
    c = logs(fb)
    c.create_log_group(logGroupName="/iso/a")
    other = logs(fb, access_key="111111111111")
    assert other.describe_log_groups(logGroupNamePrefix="/iso/")["logGroups"] == []
    expect_error("ResourceNotFoundException", other.delete_log_group, logGroupName="/iso/a")
    west = logs(fb, region="us-west-2")
    assert west.describe_log_groups(logGroupNamePrefix="/iso/")["logGroups"] == []
    west.create_log_group(logGroupName="/iso/a")  # same name, other region
    arn = west.describe_log_groups(logGroupNamePrefix="/iso/")["logGroups"][0]["arn"]
    assert ":us-west-2:" in arn


def test_kms_association(fb):
    c = logs(fb)
    key_arn = fb.client("kms").create_key()["KeyMetadata"]["Arn"]
    c.create_log_group(logGroupName="/kms/a", kmsKeyId=key_arn)
    g = c.describe_log_groups(logGroupNamePrefix="/kms/a")["logGroups"][0]
    assert g["kmsKeyId"] == key_arn
    c.disassociate_kms_key(logGroupName="/kms/a")
    assert "kmsKeyId" not in c.describe_log_groups(logGroupNamePrefix="/kms/a")["logGroups"][0]
    fb.aws("logs", "associate-kms-key", "--log-group-name", "/kms/a", "--kms-key-id", key_arn)
    assert c.describe_log_groups(logGroupNamePrefix="/kms/a")["logGroups"][0]["kmsKeyId"] == key_arn
    missing = key_arn[:-4] + ("0000" if not key_arn.endswith("0000") else "1111")
    expect_error("InvalidParameterException", c.associate_kms_key, logGroupName="/kms/a",
                 kmsKeyId=missing)
    expect_error("InvalidParameterException", c.create_log_group, logGroupName="/kms/b",
                 kmsKeyId="not-an-arn")
    expect_error("ResourceNotFoundException", c.associate_kms_key, logGroupName="/kms/none",
                 kmsKeyId=key_arn)
    expect_error("ResourceNotFoundException", c.disassociate_kms_key, logGroupName="/kms/none")


# ---- retention ------------------------------------------------------------


def test_retention_values(fb):
    c = logs(fb)
    c.create_log_group(logGroupName="/ret/v")
    for days in (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192,
                 2557, 2922, 3288, 3653):
        c.put_retention_policy(logGroupName="/ret/v", retentionInDays=days)
    assert c.describe_log_groups(logGroupNamePrefix="/ret/v")["logGroups"][0]["retentionInDays"] == 3653
    for bad in (0, 2, 10, 4000, -1):
        e = expect_error("InvalidParameterException", c.put_retention_policy, logGroupName="/ret/v",
                         retentionInDays=bad)
        assert "retentionInDays" in str(e)
    fb.aws("logs", "delete-retention-policy", "--log-group-name", "/ret/v")
    assert "retentionInDays" not in c.describe_log_groups(logGroupNamePrefix="/ret/v")["logGroups"][0]
    expect_error("ResourceNotFoundException", c.put_retention_policy, logGroupName="/ret/none",
                 retentionInDays=1)
    expect_error("ResourceNotFoundException", c.delete_retention_policy, logGroupName="/ret/none")


def test_retention_enforced(fb):
    """Events 2 days old are accepted; a 1-day retention then deletes them
    from the store (checked in the database file itself), keeps the
    recent ones, and later puts report expired events."""
    c = logs(fb)
    t = now_ms()
    make_stream(fb, "/ret/e", "s", ["old-%d" % i for i in range(5)], ts=t - 2 * DAY)
    c.put_log_events(logGroupName="/ret/e", logStreamName="s",
                     logEvents=[{"timestamp": t - 1000 + i, "message": "new-%d" % i} for i in range(3)])
    before = c.describe_log_groups(logGroupNamePrefix="/ret/e")["logGroups"][0]["storedBytes"]
    assert before == 5 * 5 + 3 * 5, before
    assert len(all_filtered(c, logGroupName="/ret/e")[0]) == 8
    fb.aws("logs", "put-retention-policy", "--log-group-name", "/ret/e", "--retention-in-days", "1")
    msgs = [e["message"] for e in all_filtered(c, logGroupName="/ret/e")[0]]
    assert msgs == ["new-0", "new-1", "new-2"], msgs
    got = c.get_log_events(logGroupName="/ret/e", logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in got] == msgs
    assert c.describe_log_groups(logGroupNamePrefix="/ret/e")["logGroups"][0]["storedBytes"] == 15
    r = c.put_log_events(logGroupName="/ret/e", logStreamName="s",
                         logEvents=[{"timestamp": t - 2 * DAY, "message": "expired"},
                                    {"timestamp": t - 2 * DAY + 1, "message": "expired"},
                                    {"timestamp": t, "message": "kept"}])
    assert r["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 2}, r
    # the rows are really gone from the store, not just hidden
    fb.stop()
    db = sqlite3.connect(os.path.join(fb.data_dir, "state.db"))
    rows = db.execute("SELECT count(*), sum(ts < ?) FROM logs_events e JOIN logs_groups g ON "
                      "g.id = e.group_id WHERE g.name = '/ret/e'", (t - DAY,)).fetchone()
    db.close()
    fb.start()
    assert rows == (4, 0), rows


# ---- streams --------------------------------------------------------------


def test_streams(fb):
    c = logs(fb)
    c.create_log_group(logGroupName="/st/a")
    t = now_ms()
    for i, name in enumerate(["web/3", "web/1", "api/1", "web/2"]):
        c.create_log_stream(logGroupName="/st/a", logStreamName=name)
        # web/3 gets the newest event, api/1 the oldest; web/2 none
        if name != "web/2":
            c.put_log_events(logGroupName="/st/a", logStreamName=name,
                             logEvents=[{"timestamp": t - 1000 * (3 - i) if name != "web/3" else t,
                                         "message": "m"}])
    expect_error("ResourceAlreadyExistsException", c.create_log_stream, logGroupName="/st/a",
                 logStreamName="web/1")
    expect_error("ResourceNotFoundException", c.create_log_stream, logGroupName="/st/none",
                 logStreamName="x")
    names = lambda r: [s["logStreamName"] for s in r["logStreams"]]  # noqa: E731
    assert names(c.describe_log_streams(logGroupName="/st/a")) == ["api/1", "web/1", "web/2", "web/3"]
    assert names(c.describe_log_streams(logGroupName="/st/a", descending=True)) == \
        ["web/3", "web/2", "web/1", "api/1"]
    assert names(c.describe_log_streams(logGroupName="/st/a", logStreamNamePrefix="web/")) == \
        ["web/1", "web/2", "web/3"]
    assert names(c.describe_log_streams(logGroupName="/st/a", logStreamNamePrefix="web/",
                                        descending=True)) == ["web/3", "web/2", "web/1"]
    by_time = c.describe_log_streams(logGroupName="/st/a", orderBy="LastEventTime", descending=True)
    assert names(by_time) == ["web/3", "api/1", "web/1", "web/2"], names(by_time)
    s = by_time["logStreams"][0]
    assert s["lastEventTimestamp"] == t and s["firstEventTimestamp"] == t
    assert abs(s["lastIngestionTime"] - now_ms()) < 60000 and s["uploadSequenceToken"]
    assert s["arn"] == "arn:aws:logs:us-east-1:000000000000:log-group:/st/a:log-stream:web/3"
    empty = [x for x in by_time["logStreams"] if x["logStreamName"] == "web/2"][0]
    assert "lastEventTimestamp" not in empty and "firstEventTimestamp" not in empty
    for order, desc in (("LogStreamName", False), ("LogStreamName", True), ("LastEventTime", False),
                        ("LastEventTime", True)):
        full = names(c.describe_log_streams(logGroupName="/st/a", orderBy=order, descending=desc))
        paged, tok = [], None
        while True:
            args = dict(logGroupName="/st/a", orderBy=order, descending=desc, limit=1)
            if tok:
                args["nextToken"] = tok
            r = c.describe_log_streams(**args)
            paged += names(r)
            tok = r.get("nextToken")
            if not tok:
                break
        assert paged == full, (order, desc, paged, full)
    tok = c.describe_log_streams(logGroupName="/st/a", limit=1)["nextToken"]
    expect_error("InvalidParameterException", c.describe_log_streams, logGroupName="/st/a",
                 orderBy="LastEventTime", nextToken=tok)  # a token of another order
    expect_error("InvalidParameterException", c.describe_log_streams, logGroupName="/st/a",
                 orderBy="LastEventTime", logStreamNamePrefix="web")
    expect_error("ResourceNotFoundException", c.describe_log_streams, logGroupName="/st/none")
    cli = fb.aws("logs", "describe-log-streams", "--log-group-name", "/st/a", "--order-by",
                 "LastEventTime", "--descending", "--max-items", "1")
    assert names(cli) == ["web/3"]
    c.delete_log_stream(logGroupName="/st/a", logStreamName="web/3")
    expect_error("ResourceNotFoundException", c.delete_log_stream, logGroupName="/st/a",
                 logStreamName="web/3")
    assert "web/3" not in names(c.describe_log_streams(logGroupName="/st/a"))
    # a recreated stream starts empty
    c.create_log_stream(logGroupName="/st/a", logStreamName="web/3")
    assert c.get_log_events(logGroupName="/st/a", logStreamName="web/3")["events"] == []


# ---- PutLogEvents -----------------------------------------------------------


def test_put_log_events_rules(fb):
    c = logs(fb)
    make_stream(fb, "/put/r", "s")
    t = now_ms()
    args = dict(logGroupName="/put/r", logStreamName="s")
    e = expect_error("InvalidParameterException", c.put_log_events, **args,
                     logEvents=[{"timestamp": t, "message": "b"}, {"timestamp": t - 1, "message": "a"}])
    assert "chronological" in str(e)
    big = "x" * (262144 - 26)
    r = c.put_log_events(**args, logEvents=[{"timestamp": t, "message": big}])  # exactly the limit
    expect_error("InvalidParameterException", c.put_log_events, **args,
                 logEvents=[{"timestamp": t, "message": big + "x"}])
    e = expect_error("InvalidParameterException", c.put_log_events, **args,
                     logEvents=[{"timestamp": t, "message": big}] * 4 + [{"timestamp": t, "message": "y"}])
    assert "1048576" in str(e)
    expect_invalid(c.put_log_events, **args,
                   logEvents=[{"timestamp": t, "message": "m"}] * 10001)
    e = expect_error("InvalidParameterException", c.put_log_events, **args,
                     logEvents=[{"timestamp": t - DAY - 1000, "message": "a"}, {"timestamp": t, "message": "b"}])
    assert "24 hours" in str(e)
    # too old (> 14 days) and too new (> 2 hours ahead) are skipped and reported
    r = c.put_log_events(**args, sequenceToken="whatever-AWS-ignores-it", logEvents=[
        {"timestamp": t - 15 * DAY, "message": "old0"},
        {"timestamp": t - 15 * DAY + 1, "message": "old1"},
        {"timestamp": t, "message": "ok0"},
        {"timestamp": t + 1, "message": "ok1"},
        {"timestamp": t + 3 * 3600 * 1000, "message": "new"}])
    assert r["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 2, "tooNewLogEventStartIndex": 4}, r
    assert len(r["nextSequenceToken"]) == 56
    msgs = [e["message"] for e in c.get_log_events(**args, startFromHead=True)["events"]]
    assert msgs == [big, "ok0", "ok1"], [m[:5] for m in msgs]
    # every event rejected: still an answer, nothing stored
    r2 = c.put_log_events(**args, logEvents=[{"timestamp": t + 5 * 3600 * 1000, "message": "n"}])
    assert r2["rejectedLogEventsInfo"] == {"tooNewLogEventStartIndex": 0}
    expect_error("ResourceNotFoundException", c.put_log_events, logGroupName="/put/none",
                 logStreamName="s", logEvents=[{"timestamp": t, "message": "m"}])
    expect_error("ResourceNotFoundException", c.put_log_events, logGroupName="/put/r",
                 logStreamName="none", logEvents=[{"timestamp": t, "message": "m"}])
    # the CLI with a file of 10,000 events: one call
    path = os.path.join(fb.data_dir, "..", "events-%d.json" % os.getpid())
    with open(path, "w") as f:
        json.dump([{"timestamp": t + i // 100, "message": "bulk %d" % i} for i in range(10000)], f)
    try:
        out = fb.aws("logs", "put-log-events", "--log-group-name", "/put/r", "--log-stream-name", "s",
                     "--log-events", "file://" + os.path.abspath(path))
    finally:
        os.unlink(path)
    assert "rejectedLogEventsInfo" not in out
    assert len(all_filtered(c, logGroupName="/put/r", filterPattern="bulk")[0]) == 10000


# ---- GetLogEvents -----------------------------------------------------------


def test_get_log_events_tokens(fb):
    c = logs(fb)
    t = now_ms() - 100000
    make_stream(fb, "/get/t", "s", ["m%02d" % i for i in range(25)], ts=t)
    args = dict(logGroupName="/get/t", logStreamName="s")
    msgs = lambda r: [e["message"] for e in r["events"]]  # noqa: E731
    r1 = c.get_log_events(**args, startFromHead=True, limit=10)
    assert msgs(r1) == ["m%02d" % i for i in range(10)]
    e = r1["events"][0]
    assert e["timestamp"] == t and set(e) == {"timestamp", "message", "ingestionTime"}
    assert r1["nextForwardToken"].startswith("f/") and r1["nextBackwardToken"].startswith("b/")
    r2 = c.get_log_events(**args, nextToken=r1["nextForwardToken"], limit=10)
    assert msgs(r2) == ["m%02d" % i for i in range(10, 20)]
    r3 = c.get_log_events(**args, nextToken=r2["nextForwardToken"], limit=10)
    assert msgs(r3) == ["m%02d" % i for i in range(20, 25)]
    r4 = c.get_log_events(**args, nextToken=r3["nextForwardToken"], limit=10)
    assert r4["events"] == [] and r4["nextForwardToken"] == r3["nextForwardToken"]  # the end
    # new events show up through the same forward token
    c.put_log_events(**args, logEvents=[{"timestamp": t + 100, "message": "late"}])
    r5 = c.get_log_events(**args, nextToken=r4["nextForwardToken"])
    assert msgs(r5) == ["late"]
    # backward from the middle page, then past the start
    b1 = c.get_log_events(**args, nextToken=r2["nextBackwardToken"], limit=4)
    assert msgs(b1) == ["m06", "m07", "m08", "m09"]
    b2 = c.get_log_events(**args, nextToken=b1["nextBackwardToken"], limit=10)
    assert msgs(b2) == ["m%02d" % i for i in range(6)]
    b3 = c.get_log_events(**args, nextToken=b2["nextBackwardToken"], limit=10)
    assert b3["events"] == [] and b3["nextBackwardToken"] == b2["nextBackwardToken"]
    # without a token: the newest events, oldest first
    assert msgs(c.get_log_events(**args, limit=3)) == ["m23", "m24", "late"]
    # startTime inclusive, endTime exclusive
    assert msgs(c.get_log_events(**args, startTime=t + 5, endTime=t + 8, startFromHead=True)) == \
        ["m05", "m06", "m07"]
    expect_error("InvalidParameterException", c.get_log_events, **args, nextToken="f/123")
    expect_error("ResourceNotFoundException", c.get_log_events, logGroupName="/get/t",
                 logStreamName="none")
    cli = fb.aws("logs", "get-log-events", "--log-group-name", "/get/t", "--log-stream-name", "s",
                 "--start-from-head", "--limit", "2")
    assert msgs(cli) == ["m00", "m01"]


# ---- FilterLogEvents --------------------------------------------------------


def test_filter_log_events(fb):
    c = logs(fb)
    t = now_ms() - 60000
    c.create_log_group(logGroupName="/f/a")
    lines = {
        "app/1": ['{"level":"error","latency":150,"user":{"id":7}}', "INFO GET /health 200 3",
                  "ERROR db timeout"],
        "app/2": ['{"level":"info","latency":20}', "WARN slow query 900", '127.0.0.1 - - [x] "GET / HTTP/1.1" 404 512'],
        "worker/1": ["ERROR job failed retry", "INFO done"],
    }
    for k, (name, ms) in enumerate(lines.items()):
        c.create_log_stream(logGroupName="/f/a", logStreamName=name)
        c.put_log_events(logGroupName="/f/a", logStreamName=name,
                         logEvents=[{"timestamp": t + 10 * i + k, "message": m} for i, m in enumerate(ms)])
    evs, _ = all_filtered(c, logGroupName="/f/a")
    assert len(evs) == 8
    assert [e["timestamp"] for e in evs] == sorted(e["timestamp"] for e in evs)  # interleaved by time
    for e in evs:
        assert set(e) == {"logStreamName", "timestamp", "message", "ingestionTime", "eventId"}, e
    assert len({e["eventId"] for e in evs}) == 8
    cases = {
        "ERROR": {"ERROR db timeout", "ERROR job failed retry"},
        "ERROR -retry": {"ERROR db timeout"},
        "?WARN ?timeout": {"ERROR db timeout", "WARN slow query 900"},
        '"GET /health"': {"INFO GET /health 200 3"},
        '{ $.level = "error" }': {lines["app/1"][0]},
        "{ $.latency > 100 }": {lines["app/1"][0]},
        "{ $.latency < 100 || $.user.id = 7 }": {lines["app/1"][0], lines["app/2"][0]},
        "{ $.missing NOT EXISTS && $.level = info }": {lines["app/2"][0]},
        "[ip, id, user, ts, req, status = 404, bytes > 500]": {lines["app/2"][2]},
        "[level = WARN, ..., ms > 500]": {"WARN slow query 900"},
        "%^(INFO|WARN)%": None,  # groups: rejected
    }
    for pat, want in cases.items():
        if want is None:
            e = expect_error("InvalidParameterException", c.filter_log_events, logGroupName="/f/a",
                             filterPattern=pat)
            assert "Invalid filter pattern" in str(e)
            continue
        got = {e["message"] for e in all_filtered(c, logGroupName="/f/a", filterPattern=pat)[0]}
        assert got == want, (pat, got)
    one = all_filtered(c, logGroupName="/f/a", logStreamNames=["app/2"], filterPattern="WARN")[0]
    assert [(e["logStreamName"], e["message"]) for e in one] == [("app/2", "WARN slow query 900")]
    two = all_filtered(c, logGroupName="/f/a", logStreamNames=["app/1", "worker/1", "nope"],
                       filterPattern="ERROR")[0]
    assert {e["logStreamName"] for e in two} == {"app/1", "worker/1"} and len(two) == 2
    pre = c.filter_log_events(logGroupName="/f/a", logStreamNamePrefix="app/")
    assert {e["logStreamName"] for e in pre["events"]} == {"app/1", "app/2"}
    assert sorted(s["logStreamName"] for s in pre["searchedLogStreams"]) == ["app/1", "app/2"]
    assert c.filter_log_events(logGroupName="/f/a", logStreamNamePrefix="zzz")["events"] == []
    # startTime and endTime are both inclusive
    win = c.filter_log_events(logGroupName="/f/a", startTime=t + 10, endTime=t + 20)["events"]
    assert sorted(e["timestamp"] for e in win) == [t + 10, t + 11, t + 12, t + 20]
    # pages of 3 give every event once, in order
    paged, calls = all_filtered(c, logGroupName="/f/a", limit=3)
    assert [e["eventId"] for e in paged] == [e["eventId"] for e in evs] and calls == 3
    expect_error("InvalidParameterException", c.filter_log_events, logGroupName="/f/a",
                 logStreamNames=["app/1"], logStreamNamePrefix="app")
    expect_error("InvalidParameterException", c.filter_log_events, logGroupName="/f/a",
                 nextToken="bogus")
    e = expect_error("InvalidParameterException", fb.aws, "logs", "filter-log-events",
                     "--log-group-name", "/f/a", "--filter-pattern", '{ $.level = }')
    assert "Invalid filter pattern" in e.message
    expect_error("ResourceNotFoundException", c.filter_log_events, logGroupName="/f/none")


def test_filter_scans_many_events_in_pages(fb):
    """30,000 events, one match in the middle: found through pages whose
    cost does not grow (keyset tokens), and the unfiltered walk returns
    each event exactly once."""
    c = logs(fb)
    make_stream(fb, "/f/many", "s")
    t = now_ms() - 50000
    for b in range(3):
        c.put_log_events(logGroupName="/f/many", logStreamName="s", logEvents=[
            {"timestamp": t + b * 10000 + i, "message": "needle" if (b, i) == (1, 5000) else "hay %d" % i}
            for i in range(10000)])
    found, _ = all_filtered(c, logGroupName="/f/many", filterPattern="needle")
    assert [e["timestamp"] for e in found] == [t + 15000]
    every, calls = all_filtered(c, logGroupName="/f/many")
    assert len(every) == 30000 and len({e["eventId"] for e in every}) == 30000 and calls == 3


# ---- aws logs tail ------------------------------------------------------------


def test_tail_cli(fb):
    t = now_ms() - 5000
    make_stream(fb, "/ecs/tail", "ecs/app/abc", ["GET /a 200", "ERROR boom", "GET /b 500"], ts=t)
    make_stream(fb, "/ecs/tail", "ecs/app/def", ["ERROR other task"], ts=t + 10)
    out = fb.aws("logs", "tail", "/ecs/tail", "--since", "10m", "--filter-pattern", "ERROR", raw=True)
    lines = out.strip().splitlines()
    assert len(lines) == 2, out
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime((t + 1) / 1000.0))
    assert lines[0] == "%s.%03d000+00:00 ecs/app/abc ERROR boom" % (iso, (t + 1) % 1000), lines[0]
    assert lines[1].endswith(" ecs/app/def ERROR other task"), lines[1]
    out = fb.aws("logs", "tail", "/ecs/tail", "--since", "10m", "--format", "short", raw=True)
    assert [l.split(" ", 1)[1] for l in out.strip().splitlines()] == \
        ["GET /a 200", "ERROR boom", "GET /b 500", "ERROR other task"], out
    out = fb.aws("logs", "tail", "/ecs/tail", "--since", "10m", "--log-stream-name-prefix",
                 "ecs/app/d", raw=True)
    assert out.strip().endswith("ERROR other task") and len(out.strip().splitlines()) == 1
    expect_error("ResourceNotFoundException", fb.aws, "logs", "tail", "/ecs/none")


def test_tail_follow_shows_new_lines(fb):
    """`aws logs tail --follow` as a subprocess: a line put before it starts
    shows first (so it is polling); a line put afterwards appears within
    seconds (the CLI polls every 5 s)."""
    make_stream(fb, "/ecs/follow", "ecs/web/1", ["before follow"])
    env = lib._cli_env("test", "test", "us-east-1", {"PYTHONUNBUFFERED": "1"})
    p = subprocess.Popen([lib.AWS_V2, "--endpoint-url", fb.endpoint, "logs", "tail", "/ecs/follow",
                          "--follow", "--since", "5m", "--filter-pattern=-noise"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines, seen = queue.Queue(), []
    threading.Thread(target=lambda: [lines.put(l) for l in iter(p.stdout.readline, "")],
                     daemon=True).start()

    def wait_for(text, seconds):
        """The first output line containing text, read with a deadline."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                line = lines.get(timeout=max(0.05, deadline - time.time()))
            except queue.Empty:
                break
            seen.append(line)
            if text in line:
                return line
        if p.poll() is not None:
            seen.append(p.stderr.read())
        raise AssertionError("%r not seen in %ss; output so far: %r" % (text, seconds, seen))

    try:
        assert wait_for("before follow", 20).rstrip().endswith("ecs/web/1 before follow")
        c = logs(fb)
        t0 = time.time()
        c.put_log_events(logGroupName="/ecs/follow", logStreamName="ecs/web/1", logEvents=[
            {"timestamp": now_ms(), "message": "noise"}, {"timestamp": now_ms(), "message": "after follow"}])
        wait_for("after follow", 12)
        assert time.time() - t0 < 12
        c.create_log_stream(logGroupName="/ecs/follow", logStreamName="ecs/web/2")
        c.put_log_events(logGroupName="/ecs/follow", logStreamName="ecs/web/2",
                         logEvents=[{"timestamp": now_ms(), "message": "second task"}])
        assert "ecs/web/2 second task" in wait_for("second task", 12)
        assert p.poll() is None  # still following
    finally:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    assert not [l for l in seen if "noise" in l], seen  # the filter pattern applies
    assert sum("before follow" in l for l in seen) == 1, seen  # deduplicated by eventId


# ---- tags -----------------------------------------------------------------------


def test_tags_both_apis(fb):
    c = logs(fb)
    c.create_log_group(logGroupName="/tags/a", tags={"env": "dev"})
    c.tag_log_group(logGroupName="/tags/a", tags={"team": "web", "env": "prod"})
    assert c.list_tags_log_group(logGroupName="/tags/a")["tags"] == {"env": "prod", "team": "web"}
    c.untag_log_group(logGroupName="/tags/a", tags=["team", "absent"])
    assert c.list_tags_log_group(logGroupName="/tags/a")["tags"] == {"env": "prod"}
    arn = "arn:aws:logs:us-east-1:000000000000:log-group:/tags/a"
    c.tag_resource(resourceArn=arn, tags={"cost": "42"})
    assert c.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "prod", "cost": "42"}
    c.untag_resource(resourceArn=arn, tagKeys=["env"])
    out = fb.aws("logs", "list-tags-for-resource", "--resource-arn", arn)
    assert out["tags"] == {"cost": "42"}
    expect_error("ResourceNotFoundException", c.list_tags_for_resource,
                 resourceArn=arn.replace("us-east-1", "eu-west-1"))
    expect_error("ResourceNotFoundException", c.tag_resource,
                 resourceArn="arn:aws:logs:us-east-1:000000000000:destination:d", tags={"a": "b"})
    expect_error("ResourceNotFoundException", c.list_tags_log_group, logGroupName="/tags/none")
    expect_error("InvalidParameterException", c.tag_log_group, logGroupName="/tags/a",
                 tags={"aws:reserved": "x"})
    many = {"k%d" % i: "v" for i in range(50)}
    expect_error("TooManyTagsException", c.tag_resource, resourceArn=arn, tags=many)
    expect_error("InvalidParameterException", c.tag_log_group, logGroupName="/tags/a", tags=many)
    assert c.list_tags_log_group(logGroupName="/tags/a")["tags"] == {"cost": "42"}  # unchanged
    c.delete_log_group(logGroupName="/tags/a")
    c.create_log_group(logGroupName="/tags/a")
    assert c.list_tags_log_group(logGroupName="/tags/a")["tags"] == {}


# ---- durability -----------------------------------------------------------------


def test_delete_group_removes_everything(fb):
    c = logs(fb)
    make_stream(fb, "/del/g", "s", ["one", "two"])
    c.delete_log_group(logGroupName="/del/g")
    c.create_log_group(logGroupName="/del/g")
    assert c.describe_log_streams(logGroupName="/del/g")["logStreams"] == []
    assert c.filter_log_events(logGroupName="/del/g")["events"] == []
    assert c.describe_log_groups(logGroupNamePrefix="/del/g")["logGroups"][0]["storedBytes"] == 0


def test_kill9_right_after_put_loses_nothing(fb):
    make_stream(fb, "/dur/g", "s")
    t = now_ms()
    out = fb.aws("logs", "put-log-events", "--log-group-name", "/dur/g", "--log-stream-name", "s",
                 "--log-events", "timestamp=%d,message=first" % t, "timestamp=%d,message=second" % (t + 1))
    assert out["nextSequenceToken"]
    fb.restart(kill=True)
    c = logs(fb)
    got = c.get_log_events(logGroupName="/dur/g", logStreamName="s", startFromHead=True)["events"]
    assert [e["message"] for e in got] == ["first", "second"]
    s = c.describe_log_streams(logGroupName="/dur/g")["logStreams"][0]
    assert s["lastEventTimestamp"] == t + 1 and s["uploadSequenceToken"] == out["nextSequenceToken"]
    # the next batch still appends after the restart
    c.put_log_events(logGroupName="/dur/g", logStreamName="s", logEvents=[{"timestamp": t + 2, "message": "third"}])
    fb.restart(kill=True)
    got = logs(fb).filter_log_events(logGroupName="/dur/g")["events"]
    assert [e["message"] for e in got] == ["first", "second", "third"]


if __name__ == "__main__":
    lib.main(globals())
