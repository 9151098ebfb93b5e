#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Parses the Prometheus text exposition format on stdin with the reference
Python client's parser and prints every sample as one line,
'name{key="value",...} value', labels sorted by key, label values escaped as
in the format, lines sorted: tests/test-metrics.c compares them with what its
snapshot holds. Exits non-zero when the parser refuses the text or is missing."""
import sys

from prometheus_client.parser import text_string_to_metric_families


def escape(value):
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def number(value):
    if value == int(value) and abs(value) < 2**63:
        return str(int(value))
    return repr(value)


def main():
    lines = []
    for family in text_string_to_metric_families(sys.stdin.read()):
        if not family.documentation:
            sys.exit(f"{family.name}: no HELP")
        for s in family.samples:
            labels = ",".join(f'{k}="{escape(v)}"' for k, v in sorted(s.labels.items()))
            lines.append(f"{s.name}{{{labels}}} {number(s.value)}" if labels
                         else f"{s.name} {number(s.value)}")
    sys.stdout.write("".join(line + "\n" for line in sorted(lines)))


if __name__ == "__main__":
    main()
