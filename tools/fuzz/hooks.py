"""Schemathesis hooks for `npm run fuzz` (tools/fuzz/main.ts loads them via SCHEMATHESIS_HOOKS).

no_write_on_4xx: after every response, asks the fuzz driver what that request changed in the
database (the API runs in the driver's process, which watches its MongoDB client and the
collection counts); a 4xx answer that changed anything fails the case.
"""

import json
import os
import urllib.request

import schemathesis

PROBE_URL = os.environ["FUZZ_PROBE_URL"]


@schemathesis.check
def no_write_on_4xx(ctx, response, case):
    if not 400 <= response.status_code < 500:
        return None
    with urllib.request.urlopen(PROBE_URL, timeout=30) as answer:
        verdict = json.load(answer)
    if verdict is None or verdict.get("status") != response.status_code:
        # The driver saw another request last (should not happen with one worker).
        raise AssertionError(f"no database verdict for this request (driver saw {verdict!r})")
    changes = verdict["writes"] + verdict["countChanges"]
    if changes:
        raise AssertionError(
            f"answered {response.status_code} but changed the database: " + "; ".join(changes)
        )
    return None
