#!/usr/bin/env python3
"""Evaluates one Python expression over the JSON Lines reports of a threadwatch run.

    jsoncheck.py FILE EXPR

Names the expression can use: `reports` (every report, a list of dicts, in file order; empty when
FILE does not exist), `R(kind)` (the reports of one kind), `fns(stack)` (the set of function names
of a stack's frames), `has(stack, name)` (a frame's function name contains `name`: C++ names come
demangled with their namespaces and parameters). Exit status 0 when the expression is true; otherwise 1, after printing what
the file held. Used by tests/api/run.sh.
"""
import json
import os
import sys


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    path, expr = sys.argv[1], sys.argv[2]
    reports = []
    if os.path.exists(path):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                try:
                    reports.append(json.loads(line))
                except ValueError as e:
                    print(f"  {path}:{n}: not JSON: {e}")
                    return 1

    def R(kind):
        return [r for r in reports if r.get("kind") == kind]

    def fns(stack):
        return {fr.get("function") for fr in stack or []}

    def has(stack, name):
        return any(name in (f or "") for f in fns(stack))

    ok = eval(expr, {"reports": reports, "R": R, "fns": fns, "has": has, "len": len, "any": any, "all": all,
                     "set": set, "sorted": sorted})
    if ok:
        return 0
    print(f"  expression: {expr}")
    print(f"  {len(reports)} report(s) in {path}:")
    for r in reports:
        print(f"    {r.get('kind')}/{r.get('what')}: {r.get('message', '')[:300]}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
