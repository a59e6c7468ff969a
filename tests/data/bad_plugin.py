#!/usr/bin/env python3
"""An exec plugin that misbehaves on purpose, for faultline's tests.

By request id modulo 4: 0 answers correctly (a read of null), 1 prints
garbage, 2 hangs, 3 exits without answering.
"""
import json
import sys
import time

for line in sys.stdin:
    req = json.loads(line)
    mode = req["id"] % 4
    if mode == 0:
        print(json.dumps({"id": req["id"], "type": "ok", "value": None}), flush=True)
    elif mode == 1:
        print("this is not JSON", flush=True)
    elif mode == 2:
        time.sleep(3600)
    else:
        sys.exit(3)
