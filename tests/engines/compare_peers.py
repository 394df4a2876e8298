#!/usr/bin/env python3
"""Compare per-peer counts from a database query with `mailtls scan --format json`.

Usage: compare_peers.py SCAN_JSON QUERY_NDJSON

SCAN_JSON is the `mailtls.posture/2` document of `scan --format json`; QUERY_NDJSON has one
object per (peer, direction) with `peer`, `direction` (`inbound`/`outbound`), and the
counts `tls_sessions`, `tls_messages`, `plaintext_messages` (numbers or, as ClickHouse
writes 64-bit integers, quoted numbers). A (peer, direction) absent on one side counts as
all zeros there. Prints one line per difference and a summary; exits 1 on any difference,
or when either side is empty (nothing compared proves nothing).
"""
import json
import sys

FIELDS = ("tls_sessions", "tls_messages", "plaintext_messages")


def from_scan(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("schema") not in ("mailtls.posture/1", "mailtls.posture/2"):
        sys.exit(f"{path}: not a mailtls.posture/1 or /2 document")
    out = {}
    for peer in doc["peers"]:
        for direction in ("inbound", "outbound"):
            counts = tuple(int(peer[direction][k]) for k in FIELDS)
            if any(counts):
                out[(peer["peer"], direction)] = counts
    return out


def from_query(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            key = (row["peer"], row["direction"])
            if key in out:
                sys.exit(f"{path}:{n}: {key} twice")
            counts = tuple(int(row[k]) for k in FIELDS)
            if any(counts):
                out[key] = counts
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    scan, query = from_scan(sys.argv[1]), from_query(sys.argv[2])
    if not scan or not query:
        print(f"nothing to compare: scan has {len(scan)} rows, the query {len(query)}")
        return 1
    zero = (0,) * len(FIELDS)
    diffs = 0
    for key in sorted(set(scan) | set(query)):
        a, b = scan.get(key, zero), query.get(key, zero)
        if a != b:
            diffs += 1
            print(f"{key[0]} {key[1]}: scan {dict(zip(FIELDS, a))} query {dict(zip(FIELDS, b))}")
    totals = [sum(v[i] for v in scan.values()) for i in range(len(FIELDS))]
    print(
        f"{len(scan)} peer-directions compared, {diffs} differ; scan totals "
        + ", ".join(f"{k}={t}" for k, t in zip(FIELDS, totals))
    )
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())
