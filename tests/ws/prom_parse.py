"""Parses a Prometheus text exposition (on stdin) with the Prometheus
project's own Python parser (`prometheus_client.parser`, installed by
scripts/pyclients.sh) for snowc/cli/tests/ops_e2e.rs, checks that every
family has a `# HELP` and a `# TYPE`, and prints one line per family and
per sample in a form the test reads without a parser of its own:

    family NAME TYPE
    sample NAME{label="value",...} VALUE      (labels sorted by name)

Exit status 1 (with the reason on stderr) when the text does not parse or
a family lacks its help or type.
"""

import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    text = sys.stdin.read()
    helped, typed = set(), {}
    for line in text.splitlines():
        parts = line.split(None, 3)
        if len(parts) >= 3 and parts[0] == "#" and parts[1] == "HELP":
            helped.add(parts[2])
        if len(parts) >= 4 and parts[0] == "#" and parts[1] == "TYPE":
            typed[parts[2]] = parts[3]
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and others
        print(f"the exposition does not parse: {e!r}", file=sys.stderr)
        sys.exit(1)
    for f in families:
        # The parser names a counter without its `_total`; the exposition
        # declares it with it.
        declared = f.name + "_total" if f.type == "counter" else f.name
        if declared not in helped or not f.documentation:
            print(f"{declared}: no # HELP", file=sys.stderr)
            sys.exit(1)
        if typed.get(declared) != f.type or f.type in ("unknown", "untyped"):
            print(f"{declared}: # TYPE {typed.get(declared)!r}, parsed as {f.type}", file=sys.stderr)
            sys.exit(1)
        print(f"family {declared} {f.type}")
        for s in f.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            print(f"sample {s.name}{{{labels}}} {s.value!r}")


if __name__ == "__main__":
    main()
