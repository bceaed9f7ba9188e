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
import os
import sys

from kosoku import FailureError, run_fuzzingclient

# Every case: 1.* to 10.* (Autobahn has no section 8; 11 does not exist)
# and the permessage-deflate sections 12.* and 13.*, 517 in all.
# AUTOBAHN_CASES (comma-separated patterns, e.g. "12.*,13.1.*") runs a subset.
CASES = [c for c in os.environ.get("AUTOBAHN_CASES", "").split(",") if c] or [
    f"{n}.*" for n in (1, 2, 3, 4, 5, 6, 7, 9, 10, 12, 13)
]
EXCLUDE: list[str] = []
PASSING = {"OK", "NON-STRICT", "INFORMATIONAL"}


def bytes_payloads_for_compression_cases() -> None:
    """Autobahn's harness hands `onMessage` every payload as bytes; kosoku's
    shim hands uncompressed messages over as str (text, or latin-1 for
    binary) and only compressed ones as bytes. The 12.* and 13.* handlers
    (Autobahn's own code) hash the payload, which fails with a client-side
    exception on str. A server may send any message of a compression
    session uncompressed (RFC 7692: compression is per message; Snow does
    for messages under its threshold and for data that does not shrink), so
    give those handlers bytes, as Autobahn does."""
    from kosoku import _caseindex

    _caseindex.initialize_shims()
    import case12_x_x  # noqa: E402 (on the path initialize_shims sets)

    for cls in case12_x_x.Case12_X_X + case12_x_x.Case13_X_X:
        original = cls.onMessage

        def on_message(self, msg, binary, _original=original):
            if isinstance(msg, str):
                msg = msg.encode("latin-1" if binary else "utf-8")
            return _original(self, msg, binary)

        cls.onMessage = on_message


def verdict(r) -> tuple[str, str, bool]:
    b, bc = r.behavior.value, r.behavior_close.value
    return b, bc, b in PASSING and bc in PASSING


async def run(url: str, concurrency: int):
    bytes_payloads_for_compression_cases()
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
