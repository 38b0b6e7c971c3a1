#!/usr/bin/env python3
"""Counts test cases from a `bazel test --test_summary=short` log and the test.xml
files under bazel-testlogs, and prints "N passed, N failed[, N skipped]".

A target that did not build, timed out or has no result counts as one failure;
with --ignore-unfinished (a run cut short on purpose, e.g. at a time budget),
targets left without a result (NO STATUS, INCOMPLETE) are listed as not finished
instead. Exits 1 when anything failed.

Usage: count_tests.py [--ignore-unfinished] LOG TESTLOGS_DIR"""

import os
import re
import sys
import xml.etree.ElementTree as ET

STATUS = re.compile(
    r"^(//\S+)\s+(?:\(cached\)\s+)?(PASSED|FAILED TO BUILD|FAILED|TIMEOUT|NO STATUS|FLAKY|"
    r"INCOMPLETE|REMOTE FAILURE|SKIPPED)\b")


def count_cases(xml_path):
    passed = failed = skipped = 0
    tree = ET.parse(xml_path)
    for case in tree.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None or case.get("result") == "skipped" or \
                case.get("status") == "notrun":
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def main():
    args = sys.argv[1:]
    ignore_unfinished = "--ignore-unfinished" in args
    log_path, testlogs = [a for a in args if a != "--ignore-unfinished"]
    unfinished = []
    targets = {}
    with open(log_path, errors="replace") as log:
        for line in log:
            match = STATUS.match(line.strip())
            if match:
                targets[match.group(1)] = match.group(2)
    passed = failed = skipped = 0
    for target, status in sorted(targets.items()):
        package, _, name = target[2:].partition(":")
        xml_path = os.path.join(testlogs, package, name, "test.xml")
        if status in ("PASSED", "FAILED", "FLAKY") and os.path.exists(xml_path):
            try:
                p, f, s = count_cases(xml_path)
            except ET.ParseError:
                p, f, s = (0, 1, 0)
            if status == "FAILED" and f == 0:
                f = 1  # crashed before writing a failure
            if p + f + s == 0:
                p, f = (1, 0) if status == "PASSED" else (0, 1)
            passed, failed, skipped = passed + p, failed + f, skipped + s
        elif status == "SKIPPED":
            skipped += 1
        elif ignore_unfinished and status in ("NO STATUS", "INCOMPLETE"):
            unfinished.append(target)
        else:
            failed += 1
            print(f"{target}: {status}")
    if unfinished:
        print(f"{len(unfinished)} test targets not finished (run cut short): "
              + ", ".join(unfinished))
    if not targets:
        print("no test results found in the bazel output")
        failed += 1
    line = f"{passed} passed, {failed} failed"
    if skipped:
        line += f", {skipped} skipped"
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
