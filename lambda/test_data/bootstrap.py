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
if MODE == "flaky_init":
    # Fails its first init (the task root is shared by the environment's init attempts).
    marker = os.path.join(os.getcwd(), ".failed_once")
    if not os.path.exists(marker):
        open(marker, "w").close()
        print("first init fails", flush=True)
        sys.exit(4)

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
    if action == "spam":
        # Many lines written right before the response: all of them belong to this invocation.
        for i in range(int(event.get("lines", 1000))):
            sys.stdout.write("line %d\n" % i)
        sys.stdout.flush()
        print("done spamming", file=sys.stderr, flush=True)
    if action == "background":
        # A thread that keeps counting after the response (it must not run while frozen).
        import threading

        def count():
            n = 0
            while True:
                n += 1
                with open(os.path.join(os.getcwd(), "counter"), "w") as f:
                    f.write(str(n))
                time.sleep(0.001)
        threading.Thread(target=count, daemon=True).start()
    if action == "layers":
        # What a function sees of its layers: the directory, the search paths, a data file that
        # two layers both ship (the later one wins) and a module from a layer's python/.
        opt = os.environ.get("NUBIS_LAMBDA_OPT", "")
        out = {"opt": opt, "path": os.environ.get("PATH", ""),
               "ld": os.environ.get("LD_LIBRARY_PATH"), "pythonpath": os.environ.get("PYTHONPATH")}
        try:
            with open(os.path.join(opt, "data.txt")) as f:
                out["data"] = f.read()
        except OSError:
            out["data"] = None
        try:
            import layermod
            out["mod"] = layermod.VALUE
        except ImportError:
            out["mod"] = None
        post("/invocation/%s/response" % rid, json.dumps(out).encode())
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
