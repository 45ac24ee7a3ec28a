#!/usr/bin/python3
"""Read Prometheus text exposition from FILE (default: stdin) with
prometheus_client's own parser (exit 1 if it does not parse) and print each
sample as one line, 'NAME{LABEL="VALUE",...} VALUE', labels sorted, for tests
to grep."""
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    if len(sys.argv) > 1:
        with open(sys.argv[1], encoding="utf-8") as f:
            text = f.read()
    else:
        text = sys.stdin.read()
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as e:  # the parser raises ValueError and others
        print(f"not valid Prometheus text: {e}", file=sys.stderr)
        return 1
    for fam in families:
        for s in fam.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
            value = int(s.value) if s.value == int(s.value) else s.value
            print(f"{s.name}{{{labels}}} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
