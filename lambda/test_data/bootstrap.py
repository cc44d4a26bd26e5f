#!/usr/bin/env python3
# A custom runtime written against the Lambda Runtime API with the standard library only, used by
# the process tests. MODE (a function environment variable) picks the init behaviour; the event's
# "action" picks the invocation behaviour.
import json
import os
import sys
import time
import urllib.request

BASE = "http://%s/2018-06-01/runtime" % os.environ["AWS_LAMBDA_RUNTIME_API"]
MODE = os.environ.get("MODE", "serve")


def post(path, body, headers=None):
    req = urllib.request.Request(BASE + path, data=body, method="POST", headers=headers or {})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


if MODE == "init_error":
    post("/init/error", json.dumps({"errorMessage": "bad config", "errorType": "Config.Error"}).encode(),
         {"Lambda-Runtime-Function-Error-Type": "Config.Error"})
    sys.exit(1)
if MODE == "exit_at_init":
    print("giving up", flush=True)
    sys.exit(3)
if MODE == "never_next":
    time.sleep(3600)

print("init done", flush=True)
while True:
    with urllib.request.urlopen(BASE + "/invocation/next") as r:
        rid = r.headers["Lambda-Runtime-Aws-Request-Id"]
        headers = {k.lower(): v for k, v in r.headers.items() if k.lower().startswith("lambda-runtime")}
        event = json.loads(r.read() or b"{}")
    action = event.get("action") if isinstance(event, dict) else None
    print("handling %s" % rid, flush=True)
    if action == "crash":
        sys.exit(2)
    if action == "hang":
        time.sleep(3600)
    if action == "error":
        post("/invocation/%s/error" % rid,
             json.dumps({"errorMessage": "handled badly", "errorType": "App.Error", "stackTrace": []}).encode(),
             {"Lambda-Runtime-Function-Error-Type": "App.Error"})
        continue
    if action == "wrong_id":
        status, body = post("/invocation/not-the-id/response", b"{}")
        post("/invocation/%s/response" % rid, json.dumps({"status": status, "body": json.loads(body)}).encode())
        continue
    if action == "big":
        status, body = post("/invocation/%s/response" % rid, b"\"" + b"x" * 6300000 + b"\"")
        continue
    env = {k: os.environ.get(k) for k in [
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
        "_HANDLER", "LAMBDA_TASK_ROOT", "AWS_REGION", "AWS_LAMBDA_LOG_GROUP_NAME", "GREETING",
        "AWS_LAMBDA_INITIALIZATION_TYPE"]}
    out = {"event": event, "env": env, "headers": headers, "pid": os.getpid(), "cwd": os.getcwd()}
    post("/invocation/%s/response" % rid, json.dumps(out).encode())
