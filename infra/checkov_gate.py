"""Fail CI on any failed Checkov check, and on any file Checkov could not parse.

Checkov exits 0 when a Bicep file does not parse and silently leaves it unchecked; this
gate reads the JSON report and treats parsing errors, and an empty scan, as failures.
"""

from __future__ import annotations

import json
import sys


def main(path: str) -> int:
    with open(path) as report:
        data = json.load(report)
    reports = data if isinstance(data, list) else [data]
    problems = []
    for report in reports:
        summary = report.get("summary", {})
        for check in report.get("results", {}).get("failed_checks", []):
            problems.append(f"{check['check_id']} {check['file_path']} {check['resource']}: {check['check_name']}")
        if summary.get("parsing_errors"):
            problems.append(f"{summary['parsing_errors']} file(s) could not be parsed")
        if not summary.get("resource_count"):
            problems.append("no resource was scanned")
        print(
            f"checkov: {summary.get('passed', 0)} passed, {summary.get('failed', 0)} failed, "
            f"{summary.get('skipped', 0)} skipped (each justified inline)"
        )
    for problem in problems:
        print(f"checkov: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
