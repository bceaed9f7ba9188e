"""Drive the Autobahn TestSuite cases (through kosoku's fuzzingclient) against
a WebSocket server and summarise the verdicts.

usage: run.py URL REPORT_JSON [CONCURRENCY]

Autobahn's usual rules: a case passes when both its behaviour and its closing
behaviour are OK, NON-STRICT or INFORMATIONAL. Prints one line per failed case
and the summary line `autobahn: N passed, M failed`; exit status 1 if any case
failed (or the run selected fewer cases than expected).
"""

from __future__ import annotations

import asyncio
import collections
import json
import sys

from kosoku import FailureError, run_fuzzingclient

# Cases 1.* to 10.* (Autobahn has no section 8); 12.* and 13.*
# (permessage-deflate) are not run.
CASES = [f"{n}.*" for n in (1, 2, 3, 4, 5, 6, 7, 9, 10)]
EXCLUDE = ["12.*", "13.*"]
PASSING = {"OK", "NON-STRICT", "INFORMATIONAL"}


def verdict(r) -> tuple[str, str, bool]:
    b, bc = r.behavior.value, r.behavior_close.value
    return b, bc, b in PASSING and bc in PASSING


async def run(url: str, concurrency: int):
    try:
        return await run_fuzzingclient(url, CASES, EXCLUDE, concurrency=concurrency)
    except FailureError as failure:
        return failure.results


def case_key(case_id: str):
    return tuple(int(p) if p.isdigit() else p for p in case_id.split("."))


def main() -> int:
    url, report = sys.argv[1], sys.argv[2]
    concurrency = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    results = sorted(asyncio.run(run(url, concurrency)), key=lambda r: case_key(r.case_id))
    passed = failed = 0
    by_behavior = collections.Counter()
    rows = []
    for r in results:
        b, bc, ok = verdict(r)
        by_behavior[f"{b}/{bc}"] += 1
        passed += ok
        failed += not ok
        rows.append(
            {
                "case": r.case_id,
                "behavior": b,
                "behavior_close": bc,
                "passed": ok,
                "remote_close_code": r.remote_close_code,
                "duration_ms": r.duration,
                "result": r.result,
                "result_close": r.result_close,
            }
        )
        if not ok:
            print(
                f"autobahn: FAILED {r.case_id}: {b} / {bc}: {r.result} {r.result_close}"
                f" (server close code {r.remote_close_code})"
            )
    with open(report, "w") as f:
        json.dump(
            {
                "url": url,
                "cases": CASES,
                "exclude": EXCLUDE,
                "passed": passed,
                "failed": failed,
                "verdicts": dict(sorted(by_behavior.items())),
                "results": rows,
            },
            f,
            indent=1,
        )
    for k, n in sorted(by_behavior.items()):
        print(f"autobahn: {n:4d} x {k}")
    print(f"autobahn: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
