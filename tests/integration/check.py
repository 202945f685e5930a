#!/usr/bin/env python3
"""Check one integration test run against its .expect file (the format is documented in run.sh).

Called by run.sh after the program ran; prints what was expected and what came when a check fails,
and exits 1 then (0 when every check passed, 2 when the .expect file itself is wrong).
"""

import argparse
import glob
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import jsonschema_lite  # noqa: E402  (next to this file)

# The JSON Schema of a report (docs/report.schema.json): every JSON line of every test is checked
# against it, besides the hand-written checks of schema_errors below.
SCHEMA_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs",
                           "report.schema.json")
with open(SCHEMA_PATH, encoding="utf-8") as _f:
    REPORT_SCHEMA = json.load(_f)

KINDS = {"thread-leak", "thread-surge", "thread-growth", "lock-order-cycle", "deadlock", "stall",
         "misuse", "race-suspect"}
STATES = {"running", "blocked", "exited", "sleeping"}
DEADLOCK_WHATS = {"wait-cycle", "self-relock", "all-asleep"}
STALL_WHATS = {"mutex", "rwlock", "condvar", "join", "pipe", "eventfd", "lost-wakeup",
               "semaphore", "barrier", "spinlock", "socket", "poll", "futex"}
# The calls a stalled thread of each `what` may wait in (a prefix, or a set of names).
STALL_CALLS = {"mutex": ("pthread_mutex_", "mtx_"), "rwlock": ("pthread_rwlock_",),
               "condvar": ("pthread_cond_", "cnd_"), "lost-wakeup": ("pthread_cond_", "cnd_"),
               "semaphore": ("sem_",), "barrier": ("pthread_barrier_wait",),
               "spinlock": ("pthread_spin_lock",), "futex": ("futex",),
               "poll": ("poll", "ppoll", "select", "pselect", "epoll_wait", "epoll_pwait"),
               "socket": ("read", "write", "accept", "connect", "recv", "send")}
MAX_LISTED_THREADS = 8

# Keys that describe how to run the program (used by run.sh; accepted and ignored here).
RUN_KEYS = {"program", "env", "args", "timeout", "needs_lib"}
# Keys checked once per test.
TEST_KEYS = {"exit", "hangs", "reports", "json_files", "stdout", "stdout_not", "stderr",
             "stderr_not", "stderr_lines", "log", "log_re", "logfile", "no_file", "no_report",
             "report_order"}
# Keys that belong to the expected report opened by the last "kind:" line.
REPORT_KEYS = {"what", "count", "count_min", "wait_call", "frame", "stack_frame", "created_frame",
               "group_count_min", "group_frame",
               # lock-order-cycle reports
               "cycle_length", "locks", "edge_threads", "edge_frame", "held_frame",
               "first_seen_frame", "lock_kind", "lock_name", "edge_mode",
               # deadlock and stall reports
               "wait_object", "held_by", "for_ms_max", "threshold_ms", "locked_at_frame",
               "signalled_by", "signalled_frame", "thread_stack_frame", "thread_wait_call",
               "thread_state",
               # misuse reports
               "object", "previous_event", "previous_frame", "locks_held",
               # any report
               "thread_name", "severity"}
REPEATABLE = {"env", "stdout", "stdout_not", "stderr", "stderr_not", "log", "log_re", "no_file",
              "no_report", "frame", "stack_frame", "created_frame", "wait_call", "group_frame",
              "edge_frame", "held_frame", "first_seen_frame", "lock_kind", "lock_name",
              "edge_mode", "wait_object", "locked_at_frame", "signalled_frame",
              "thread_stack_frame", "thread_wait_call", "thread_state", "object",
              "previous_frame", "thread_name"}
INT_KEYS = {"exit", "reports", "json_files", "stderr_lines", "count", "count_min",
            "group_count_min", "timeout", "cycle_length", "locks", "edge_threads", "for_ms_max",
            "threshold_ms", "signalled_by", "locks_held"}
# Keys whose value is "N REST": a listed thread's index (0 = threads[0]) and a value.
INDEXED_KEYS = {"thread_stack_frame", "thread_wait_call", "thread_state"}
# A lock-order-cycle report lists at most this many locks (and edges) of its cycle.
MAX_LISTED_LOCKS = 16
LOCK_KINDS = {"mutex", "rwlock", "spinlock"}
LOCK_MODES = {"read", "write"}


class ExpectError(Exception):
    pass


def substitute(value, subst):
    for key, repl in subst.items():
        value = value.replace(key, repl)
    return value


def parse_expect(path, subst):
    """Returns (test-wide dict of lists, list of expected-report dicts of lists)."""
    test, reports = {}, []
    with open(path, encoding="utf-8") as f:
        for lineno, raw in enumerate(f, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition(":")
            key, value = key.strip(), substitute(value.strip(), subst)
            where = f"{path}:{lineno}"
            if not sep:
                raise ExpectError(f"{where}: not a 'key: value' line: {line!r}")
            if key in INT_KEYS:
                try:
                    int(value)
                except ValueError:
                    raise ExpectError(f"{where}: {key} needs an integer, got {value!r}") from None
            if key == "edge_mode" and (len(value.split()) != 2
                                       or not set(value.split()) <= LOCK_MODES):
                raise ExpectError(f"{where}: edge_mode needs 'HELD ACQUIRE', each read or write, "
                                  f"got {value!r}")
            if key == "lock_kind" and value not in LOCK_KINDS:
                raise ExpectError(f"{where}: lock_kind is mutex or rwlock, got {value!r}")
            if key in ("hangs", "held_by") and value not in ("yes", "no"):
                raise ExpectError(f"{where}: {key} is yes or no, got {value!r}")
            if key in INDEXED_KEYS:
                idx, _, rest = value.partition(" ")
                if not idx.isdigit() or not rest.strip():
                    raise ExpectError(f"{where}: {key} needs 'INDEX VALUE', got {value!r}")
                if key == "thread_state" and rest.strip() not in STATES:
                    raise ExpectError(f"{where}: unknown thread state {rest.strip()!r}")
            if key == "no_report":
                words = value.split()
                if not 1 <= len(words) <= 2 or words[0] not in KINDS:
                    raise ExpectError(f"{where}: no_report needs 'KIND [WHAT]', got {value!r}")
            if key == "report_order" and (len(value.split()) < 2
                                          or not set(value.split()) <= KINDS):
                raise ExpectError(f"{where}: report_order needs two or more kinds, got {value!r}")
            if key == "kind":
                if value not in KINDS:
                    raise ExpectError(f"{where}: unknown kind {value!r}")
                reports.append({"kind": [value]})
                continue
            if key in REPORT_KEYS:
                if not reports:
                    raise ExpectError(f"{where}: {key} must follow a 'kind:' line")
                target = reports[-1]
            elif key in TEST_KEYS or key in RUN_KEYS:
                target = test
            else:
                raise ExpectError(f"{where}: unknown key {key!r}")
            if key in target and key not in REPEATABLE:
                raise ExpectError(f"{where}: {key} given twice")
            target.setdefault(key, []).append(value)
    if one(test, "hangs") == "yes" and "exit" in test:
        raise ExpectError(f"{path}: 'hangs: yes' and 'exit:' exclude each other")
    return test, reports


def one(d, key, default=None):
    return d[key][0] if key in d else default


def function_matches(want, function):
    """A frame names WANT when its function is WANT, a qualified or demangled form of it
    ("ns::want(int)"), or a mangled name holding it ("_ZL4wantv")."""
    if not isinstance(function, str):
        return False
    if re.search(r"(^|[^A-Za-z0-9_])" + re.escape(want) + r"($|[^A-Za-z0-9_])", function):
        return True
    return function.startswith("_Z") and f"{len(want)}{want}" in function


def frames_of(report, which):
    for t in report.get("threads") or []:
        if not isinstance(t, dict):
            continue
        for name in which:
            for fr in t.get(name) or []:
                if isinstance(fr, dict):
                    yield fr


def growth_errors(rep):
    """thread-growth: what `rising`, a warning, one group (the site) counting `count` threads, and
    `counts` (one period apart, oldest first) rising at every step to `count`, with `period_ms`."""
    errs = []
    if rep.get("what") != "rising":
        errs.append(f"thread-growth what {rep.get('what')!r}, expected 'rising'")
    if rep.get("severity", "warning") != "warning":
        errs.append(f"thread-growth severity {rep.get('severity')!r}, expected 'warning'")
    groups = rep.get("groups")
    if isinstance(groups, list) and len(groups) != 1:
        errs.append(f"thread-growth with {len(groups)} groups, expected one (the site)")
    elif isinstance(groups, list) and groups[0].get("count") != rep.get("count"):
        errs.append("thread-growth: groups[0].count differs from count")
    counts = rep.get("counts")
    if (not isinstance(counts, list) or len(counts) < 2
            or not all(isinstance(c, int) and not isinstance(c, bool) for c in counts)):
        errs.append(f"thread-growth counts {counts!r} is not a list of integers")
    else:
        if any(b <= a for a, b in zip(counts, counts[1:])):
            errs.append(f"thread-growth counts {counts} do not rise at every step")
        if counts[-1] != rep.get("count"):
            errs.append(f"thread-growth counts end at {counts[-1]}, count is {rep.get('count')}")
    period = rep.get("period_ms")
    if not isinstance(period, int) or isinstance(period, bool) or period <= 0:
        errs.append(f"thread-growth period_ms {period!r} is not a positive integer")
    return errs


def schema_errors(rep):
    """Checks one report against docs/report-format.md; returns a list of problems."""
    errs = []
    if not isinstance(rep, dict):
        return ["not a JSON object"]
    for key, typ in (("kind", str), ("what", str), ("message", str), ("pid", int),
                     ("count", int), ("threads", list), ("omitted_threads", int),
                     ("dropped_events", int)):
        if key not in rep:
            errs.append(f"missing field {key!r}")
        elif not isinstance(rep[key], typ) or isinstance(rep[key], bool):
            errs.append(f"field {key!r} is {type(rep[key]).__name__}, not {typ.__name__}")
    if isinstance(rep.get("kind"), str) and rep["kind"] not in KINDS:
        errs.append(f"unknown kind {rep['kind']!r}")
    if isinstance(rep.get("message"), str) and not rep["message"].strip():
        errs.append("empty message")
    threads = rep.get("threads") if isinstance(rep.get("threads"), list) else []
    if len(threads) > MAX_LISTED_THREADS:
        errs.append(f"{len(threads)} threads listed, at most {MAX_LISTED_THREADS} allowed")
    if (rep.get("kind") == "thread-leak" and isinstance(rep.get("count"), int)
            and isinstance(rep.get("omitted_threads"), int)
            and rep["count"] != len(threads) + rep["omitted_threads"]):
        errs.append(f"count {rep['count']} != {len(threads)} listed + "
                    f"{rep['omitted_threads']} omitted threads")
    for i, t in enumerate(threads):
        where = f"threads[{i}]"
        if not isinstance(t, dict):
            errs.append(f"{where} is not an object")
            continue
        for key, typ in (("id", int), ("tid", int), ("name", str), ("state", str),
                         ("parent", int), ("stack", list), ("created_at", list)):
            if key not in t:
                errs.append(f"{where}: missing field {key!r}")
            elif not isinstance(t[key], typ) or isinstance(t[key], bool):
                errs.append(f"{where}.{key} is {type(t[key]).__name__}, not {typ.__name__}")
        state = t.get("state")
        if isinstance(state, str) and state not in STATES:
            errs.append(f"{where}: unknown state {state!r}")
        if state in ("blocked", "sleeping"):
            w = t.get("wait")
            if not isinstance(w, dict) or not isinstance(w.get("call"), str):
                errs.append(f"{where}: {state} thread without a wait object with a 'call'")
            else:
                errs.extend(wait_errors(w, f"{where}.wait"))
        elif "wait" in t:
            errs.append(f"{where}: 'wait' present on a thread in state {state!r}")
        for name in ("stack", "created_at"):
            errs.extend(frame_errors(t.get(name), f"{where}.{name}"))
    if rep.get("kind") in ("thread-surge", "thread-growth"):
        groups = rep.get("groups")
        if not isinstance(groups, list) or not groups:
            errs.append(f"{rep['kind']} without a non-empty 'groups' array")
        else:
            for i, g in enumerate(groups):
                if not isinstance(g, dict) or not isinstance(g.get("count"), int):
                    errs.append(f"groups[{i}] has no integer 'count'")
                    continue
                if isinstance(rep.get("count"), int) and g["count"] > rep["count"]:
                    errs.append(f"groups[{i}].count {g['count']} is more than the {rep['count']} "
                                "live threads the report counts")
                errs.extend(frame_errors(g.get("created_at"), f"groups[{i}].created_at"))
    if rep.get("kind") == "thread-growth":
        errs.extend(growth_errors(rep))
    if rep.get("kind") == "lock-order-cycle":
        errs.extend(lock_cycle_errors(rep, threads))
    if rep.get("kind") == "deadlock":
        errs.extend(deadlock_errors(rep, threads))
    if rep.get("kind") == "stall":
        errs.extend(stall_errors(rep, threads))
    return errs


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def wait_errors(w, where):
    """The fields of a blocked thread's `wait` object: object, for_ms, and where present address,
    fd and held_by."""
    errs = []
    if not isinstance(w.get("object"), str):
        errs.append(f"{where}: missing string 'object'")
    if not is_int(w.get("for_ms")) or w["for_ms"] < 0:
        errs.append(f"{where}.for_ms {w.get('for_ms')!r} is not a number >= 0")
    if "address" in w and not (isinstance(w["address"], str)
                               and re.fullmatch(r"0x[0-9a-fA-F]+", w["address"])):
        errs.append(f"{where}.address {w['address']!r} is not a hex string")
    if "fd" in w and (not is_int(w["fd"]) or w["fd"] < 0):
        errs.append(f"{where}.fd {w['fd']!r} is not a file descriptor")
    if "held_by" in w and (not isinstance(w["held_by"], list)
                           or not all(is_int(x) and x > 0 for x in w["held_by"])):
        errs.append(f"{where}.held_by {w['held_by']!r} is not an array of thread ids")
    return errs


def deadlock_errors(rep, threads):
    """deadlock: what wait-cycle/self-relock/all-asleep, count >= 1 = listed + omitted, every listed
    thread blocked (with a wait, checked with the thread), distinct; self-relock has locked_at."""
    errs = []
    if rep.get("what") not in DEADLOCK_WHATS:
        errs.append(f"deadlock with what {rep.get('what')!r}, expected one of "
                    f"{sorted(DEADLOCK_WHATS)}")
    count, omitted = rep.get("count"), rep.get("omitted_threads")
    if is_int(count) and count < 1:
        errs.append(f"deadlock with count {count}, expected >= 1")
    if is_int(count) and is_int(omitted) and count != len(threads) + omitted:
        errs.append(f"count {count} != {len(threads)} listed + {omitted} omitted threads")
    if not threads:
        errs.append("deadlock that lists no thread")
    ids = [t.get("id") for t in threads if isinstance(t, dict)]
    if len(set(ids)) != len(ids):
        errs.append(f"a thread is listed twice: {ids}")
    for i, t in enumerate(threads):
        if isinstance(t, dict) and t.get("state") != "blocked":
            errs.append(f"threads[{i}] is {t.get('state')!r} in a deadlock, expected 'blocked'")
    if rep.get("what") == "self-relock":
        at = rep.get("locked_at")
        if not isinstance(at, list) or not at:
            errs.append("self-relock without a non-empty 'locked_at' array of frames")
        errs.extend(frame_errors(at, "locked_at"))
    return errs


def stall_errors(rep, threads):
    """stall: what is a wait class, threshold_ms, threads[0] the stalled thread (blocked longer
    than the threshold, in a call of that class); lost-wakeup has signalled_by and signalled_at."""
    errs = []
    what = rep.get("what")
    if what not in STALL_WHATS:
        errs.append(f"stall with what {what!r}, expected one of {sorted(STALL_WHATS)}")
    threshold = rep.get("threshold_ms")
    if not is_int(threshold) or threshold <= 0:
        errs.append(f"stall without a 'threshold_ms' number > 0 (got {threshold!r})")
        threshold = None
    if is_int(rep.get("count")) and rep["count"] < 1:
        errs.append(f"stall with count {rep['count']}, expected >= 1")
    t0 = threads[0] if threads and isinstance(threads[0], dict) else None
    if t0 is None:
        return errs + ["stall without the stalled thread as threads[0]"]
    w = t0.get("wait") if isinstance(t0.get("wait"), dict) else {}
    if t0.get("state") != "blocked":
        errs.append(f"threads[0] (the stalled thread) is {t0.get('state')!r}, expected 'blocked'")
    elif threshold is not None and is_int(w.get("for_ms")) and w["for_ms"] < threshold:
        errs.append(f"threads[0] blocked for {w['for_ms']} ms, under the threshold "
                    f"{threshold} ms")
    call = w.get("call") if isinstance(w.get("call"), str) else ""
    prefixes = STALL_CALLS.get(what)
    if call and prefixes and not call.startswith(prefixes):
        errs.append(f"a {what} stall whose thread waits in {call!r}")
    if call and what == "join" and "join" not in call:
        errs.append(f"a join stall whose thread waits in {call!r}")
    if what in ("pipe", "eventfd", "socket") and not is_int(w.get("fd")):
        errs.append(f"a {what} stall whose wait has no 'fd'")
    if what == "lost-wakeup":
        if not is_int(rep.get("signalled_by")):
            errs.append(f"lost-wakeup without a thread id 'signalled_by' "
                        f"(got {rep.get('signalled_by')!r})")
        at = rep.get("signalled_at")
        if not isinstance(at, list) or not at:
            errs.append("lost-wakeup without a non-empty 'signalled_at' array of frames")
        errs.extend(frame_errors(at, "signalled_at"))
    return errs


def lock_cycle_errors(rep, threads):
    """The lock-order-cycle fields: cycle_length, locks, edges, hint, and threads that match the
    edges (one per edge thread, its stack the acquisition that formed its edge)."""
    errs = []
    if rep.get("what") not in ("lock-order", "class-order"):
        errs.append(f"lock-order-cycle with what {rep.get('what')!r}, expected lock-order or "
                    "class-order")
    total = rep.get("cycle_length")
    locks, edges = rep.get("locks"), rep.get("edges")
    if not isinstance(total, int) or isinstance(total, bool) or total < 2:
        errs.append(f"cycle_length {total!r} is not an integer >= 2")
        total = None
    if not isinstance(locks, list) or not isinstance(edges, list):
        return errs + ["lock-order-cycle without 'locks' and 'edges' arrays"]
    if not isinstance(rep.get("hint"), str) or not rep["hint"].strip():
        errs.append("lock-order-cycle without a non-empty 'hint'")
    n = len(locks)
    if total is not None and n != min(total, MAX_LISTED_LOCKS):
        errs.append(f"{n} locks listed for a cycle of {total}, expected "
                    f"{min(total, MAX_LISTED_LOCKS)} (at most {MAX_LISTED_LOCKS})")
    cut = total is not None and total > n
    kinds = {}
    for i, lk in enumerate(locks):
        where = f"locks[{i}]"
        if not isinstance(lk, dict):
            errs.append(f"{where} is not an object")
            continue
        if lk.get("id") != f"M{i + 1}":
            errs.append(f"{where}.id is {lk.get('id')!r}, expected 'M{i + 1}'")
        addr = lk.get("address")
        if not isinstance(addr, str) or not re.fullmatch(r"0x[0-9a-fA-F]+", addr):
            errs.append(f"{where}.address {addr!r} is not a hex string")
        if lk.get("kind") not in LOCK_KINDS:
            errs.append(f"{where}.kind {lk.get('kind')!r} is not mutex or rwlock")
        if not isinstance(lk.get("name"), str):
            errs.append(f"{where}: missing string 'name'")
        if not isinstance(lk.get("first_seen"), list):
            errs.append(f"{where}: missing array 'first_seen'")
        errs.extend(frame_errors(lk.get("first_seen"), f"{where}.first_seen"))
        kinds[lk.get("id")] = lk.get("kind")
    # Edge i goes from M(i+1) to M(i+2), the last one back to M1; in a cut report (cycle_length
    # larger than the locks listed) the last edge leads to the next lock, M(n+1), not listed: an
    # edge from the last listed lock back to M1 was never seen.
    if len(edges) != n:
        errs.append(f"{len(edges)} edges for {n} locks, expected {n}")
    ids = [f"M{i + 1}" for i in range(n)]
    edge_threads = []
    for i, e in enumerate(edges):
        where = f"edges[{i}]"
        if not isinstance(e, dict):
            errs.append(f"{where} is not an object")
            continue
        frm, to = e.get("from"), e.get("to")
        if i < n and frm != ids[i]:
            errs.append(f"{where}.from is {frm!r}, expected {ids[i]!r}")
        if i + 1 < n and to != ids[i + 1]:
            errs.append(f"{where}.to is {to!r}, expected {ids[i + 1]!r}")
        elif i + 1 == n and not cut and to != ids[0]:
            errs.append(f"{where}.to is {to!r}, expected {ids[0]!r} (the edge closing the cycle)")
        elif i + 1 == n and cut and to != f"M{n + 1}":
            errs.append(f"{where}.to is {to!r}, expected 'M{n + 1}' (the cycle has {total} locks, "
                        f"{n} listed: the lock after {frm} is not listed)")
        t = e.get("thread")
        if not isinstance(t, int) or isinstance(t, bool):
            errs.append(f"{where}.thread {t!r} is not a thread id")
        else:
            edge_threads.append(t)
        for key, lock_id in (("held_mode", frm), ("acquire_mode", to)):
            mode = e.get(key)
            if mode not in LOCK_MODES:
                errs.append(f"{where}.{key} {mode!r} is not read or write")
            elif mode == "read" and kinds.get(lock_id) == "mutex":
                errs.append(f"{where}.{key} is 'read' but {lock_id} is a mutex")
        seen = e.get("seen")
        if not isinstance(seen, int) or isinstance(seen, bool) or seen < 1:
            errs.append(f"{where}.seen {seen!r} is not a count >= 1")
        acq = e.get("acquired_at")
        if not isinstance(acq, list) or not acq:
            errs.append(f"{where}.acquired_at is not a non-empty array of frames")
        if not isinstance(e.get("held_since"), list):
            errs.append(f"{where}: missing array 'held_since'")
        errs.extend(frame_errors(acq, f"{where}.acquired_at"))
        errs.extend(frame_errors(e.get("held_since"), f"{where}.held_since"))
    # Threads: one per distinct edge thread (at most MAX_LISTED_THREADS listed), each with the
    # stack of an acquisition that formed one of its edges.
    listed = [t.get("id") for t in threads if isinstance(t, dict)]
    distinct = set(edge_threads)
    if len(set(listed)) != len(listed):
        errs.append(f"a thread is listed twice: {listed}")
    for tid in listed:
        if tid not in distinct:
            errs.append(f"thread T{tid} is listed but takes none of the edges "
                        f"(edge threads: {sorted(distinct)})")
    omitted = rep.get("omitted_threads")
    if isinstance(omitted, int) and len(distinct) != len(listed) + omitted:
        errs.append(f"{len(distinct)} distinct edge threads, but {len(listed)} listed + "
                    f"{omitted} omitted")
    if isinstance(rep.get("count"), int) and isinstance(omitted, int) \
            and rep["count"] != len(listed) + omitted:
        errs.append(f"count {rep['count']} != {len(listed)} listed + {omitted} omitted threads")
    for t in threads:
        if not isinstance(t, dict) or not isinstance(t.get("stack"), list):
            continue
        pcs = [fr.get("pc") for fr in t["stack"] if isinstance(fr, dict)]
        mine = [[fr.get("pc") for fr in e.get("acquired_at") or [] if isinstance(fr, dict)]
                for e in edges if isinstance(e, dict) and e.get("thread") == t.get("id")]
        if not pcs:
            errs.append(f"thread T{t.get('id')} has an empty stack; expected the acquisition "
                        "that formed its edge")
        elif mine and pcs not in mine:
            errs.append(f"thread T{t.get('id')}'s stack is not the acquired_at of any of its "
                        "edges")
    return errs


def frame_errors(frames, where):
    errs = []
    if not isinstance(frames, list):
        return errs  # the missing/typed field is reported by the caller
    for j, fr in enumerate(frames):
        w = f"{where}[{j}]"
        if not isinstance(fr, dict):
            errs.append(f"{w} is not an object")
            continue
        pc = fr.get("pc")
        if not isinstance(pc, str) or not re.fullmatch(r"0x[0-9a-fA-F]+", pc):
            errs.append(f"{w}: pc {pc!r} is not a hex string")
        for key in ("function", "module"):
            if not isinstance(fr.get(key), str):
                errs.append(f"{w}: missing string {key!r}")
        off = fr.get("module_offset")
        if not isinstance(off, str) or not re.fullmatch(r"0x[0-9a-f]+", off):
            errs.append(f"{w}: module_offset {off!r} is not a hex string")
        bid = fr.get("build_id")
        if bid is not None and (not isinstance(bid, str) or not re.fullmatch(r"[0-9a-f]{2,128}", bid)):
            errs.append(f"{w}: build_id {bid!r} is not a hex string")
        if "line" in fr and not isinstance(fr["line"], int):
            errs.append(f"{w}: line is not a number")
        if ("file" in fr) != ("line" in fr):
            errs.append(f"{w}: file and line must come together")
        if isinstance(fr.get("module"), str) and "libthreadwatch" in fr["module"]:
            errs.append(f"{w}: threadwatch's own frame is shown ({fr.get('function')})")
    return errs


def report_problems(rep, exp):
    """Why REP does not satisfy the expected report EXP (empty list: it does)."""
    probs = []
    if rep.get("kind") != one(exp, "kind"):
        return [f"kind {rep.get('kind')!r}"]
    if "what" in exp and rep.get("what") != one(exp, "what"):
        probs.append(f"what {rep.get('what')!r}, expected {one(exp, 'what')!r}")
    count = rep.get("count")
    if "count" in exp and count != int(one(exp, "count")):
        probs.append(f"count {count!r}, expected {one(exp, 'count')}")
    if "count_min" in exp and not (isinstance(count, int) and count >= int(one(exp, "count_min"))):
        probs.append(f"count {count!r}, expected >= {one(exp, 'count_min')}")
    calls = [t.get("wait", {}).get("call") for t in rep.get("threads") or []
             if isinstance(t, dict) and isinstance(t.get("wait"), dict)]
    for want in exp.get("wait_call", []):
        if want not in calls:
            probs.append(f"no listed thread waits in {want!r} (wait calls: {calls})")
    for key, which in (("frame", ("stack", "created_at")), ("stack_frame", ("stack",)),
                       ("created_frame", ("created_at",))):
        for want in exp.get(key, []):
            names = [fr.get("function") for fr in frames_of(rep, which)]
            if not any(function_matches(want, n) for n in names):
                probs.append(f"no {'/'.join(which)} frame in function {want!r} "
                             f"(functions: {sorted(set(map(str, names)))})")
    names = [t.get("name") for t in rep.get("threads") or [] if isinstance(t, dict)]
    for want in exp.get("thread_name", []):
        if want not in names:
            probs.append(f"no listed thread is named {want!r} (names: {names})")
    if "severity" in exp and rep.get("severity") != one(exp, "severity"):
        probs.append(f"severity {rep.get('severity')!r}, expected {one(exp, 'severity')!r}")
    probs.extend(lock_problems(rep, exp))
    probs.extend(wait_problems(rep, exp))
    probs.extend(misuse_problems(rep, exp))
    if "group_count_min" in exp or "group_frame" in exp:
        groups = rep.get("groups")
        g0 = groups[0] if isinstance(groups, list) and groups and isinstance(groups[0], dict) \
            else {}
        gcount = g0.get("count")
        if "group_count_min" in exp and not (
                isinstance(gcount, int) and gcount >= int(one(exp, "group_count_min"))):
            probs.append(f"groups[0].count {gcount!r}, expected >= {one(exp, 'group_count_min')}")
        for want in exp.get("group_frame", []):
            names = [fr.get("function") for fr in g0.get("created_at") or []
                     if isinstance(fr, dict)]
            if not any(function_matches(want, n) for n in names):
                probs.append(f"groups[0].created_at has no frame in {want!r} "
                             f"(functions: {names})")
    return probs


def misuse_problems(rep, exp):
    """The misuse keys of an expected report: the top-level `object` string, the earlier event
    `previous` ({"event", "thread", "stack"}) and the threads' `locks_held` arrays."""
    probs = []
    for want in exp.get("object", []):
        obj = rep.get("object")
        if not isinstance(obj, str) or want not in obj:
            probs.append(f"object {obj!r} does not contain {want!r}")
    prev = rep.get("previous")
    if ("previous_event" in exp or "previous_frame" in exp) and not isinstance(prev, dict):
        probs.append(f"no 'previous' object (the earlier event), got {prev!r}")
        prev = None
    if prev is not None:
        if "previous_event" in exp and prev.get("event") != one(exp, "previous_event"):
            probs.append(f"previous.event {prev.get('event')!r}, expected "
                         f"{one(exp, 'previous_event')!r}")
        stack = prev.get("stack") if isinstance(prev.get("stack"), list) else []
        names = [fr.get("function") for fr in stack if isinstance(fr, dict)]
        for want in exp.get("previous_frame", []):
            if not any(function_matches(want, n) for n in names):
                probs.append(f"previous.stack has no frame in function {want!r} "
                             f"(functions: {names})")
    if "locks_held" in exp:
        want = int(one(exp, "locks_held"))
        counts = [len(t["locks_held"]) if isinstance(t.get("locks_held"), list) else None
                  for t in rep.get("threads") or [] if isinstance(t, dict)]
        if want not in counts:
            probs.append(f"no listed thread has {want} locks_held (per thread: {counts})")
    return probs


def lock_problems(rep, exp):
    """The lock-order-cycle keys of an expected report."""
    probs = []
    locks = [lk for lk in rep.get("locks") or [] if isinstance(lk, dict)]
    edges = [e for e in rep.get("edges") or [] if isinstance(e, dict)]
    if "cycle_length" in exp and rep.get("cycle_length") != int(one(exp, "cycle_length")):
        probs.append(f"cycle_length {rep.get('cycle_length')!r}, expected "
                     f"{one(exp, 'cycle_length')}")
    if "locks" in exp and len(locks) != int(one(exp, "locks")):
        probs.append(f"{len(locks)} locks listed, expected {one(exp, 'locks')}")
    threads = {e.get("thread") for e in edges}
    if "edge_threads" in exp and len(threads) != int(one(exp, "edge_threads")):
        probs.append(f"{len(threads)} distinct edge threads {sorted(map(str, threads))}, "
                     f"expected {one(exp, 'edge_threads')}")

    def functions(items, key):
        return [fr.get("function") for it in items for fr in it.get(key) or []
                if isinstance(fr, dict)]

    for key, items, field in (("edge_frame", edges, "acquired_at"),
                              ("held_frame", edges, "held_since"),
                              ("first_seen_frame", locks, "first_seen")):
        for want in exp.get(key, []):
            names = functions(items, field)
            if not any(function_matches(want, n) for n in names):
                what = "edge's" if items is edges else "lock's"
                probs.append(f"no {what} {field} frame in function {want!r} "
                             f"(functions: {sorted(set(map(str, names)))})")
    for want in exp.get("lock_kind", []):
        if not any(lk.get("kind") == want for lk in locks):
            probs.append(f"no listed lock is a {want} (kinds: {[lk.get('kind') for lk in locks]})")
    for want in exp.get("lock_name", []):
        if not any(want in str(lk.get("name")) for lk in locks):
            probs.append(f"no lock name contains {want!r} "
                         f"(names: {[lk.get('name') for lk in locks]})")
    for want in exp.get("edge_mode", []):
        held, acquire = want.split()
        modes = [f"{e.get('held_mode')} {e.get('acquire_mode')}" for e in edges]
        if f"{held} {acquire}" not in modes:
            probs.append(f"no edge held {held} and acquired {acquire} "
                         f"(held/acquire modes: {modes})")
    return probs


def wait_problems(rep, exp):
    """The deadlock/stall keys of an expected report."""
    probs = []
    threads = [t for t in rep.get("threads") or [] if isinstance(t, dict)]
    waits = [t["wait"] for t in threads if isinstance(t.get("wait"), dict)]

    def fnames(frames):
        return [fr.get("function") for fr in frames or [] if isinstance(fr, dict)] \
            if isinstance(frames, list) else []

    for want in exp.get("wait_object", []):
        objects = [w.get("object") for w in waits]
        if not any(isinstance(o, str) and want in o for o in objects):
            probs.append(f"no listed thread's wait.object contains {want!r} (objects: {objects})")
    if "held_by" in exp:
        ids = {t.get("id") for t in threads}
        holders = [(t.get("id"), t["wait"].get("held_by")) for t in threads
                   if isinstance(t.get("wait"), dict) and t["wait"].get("held_by")]
        if one(exp, "held_by") == "no":
            if holders:
                probs.append(f"a listed thread has a wait.held_by, expected none ({holders})")
        elif not holders:
            probs.append("no listed thread has a non-empty wait.held_by")
        else:
            for tid, hb in holders:
                unlisted = [h for h in hb if h not in ids] if isinstance(hb, list) else hb
                if unlisted:
                    probs.append(f"T{tid}'s wait.held_by {hb} names thread(s) {unlisted} that "
                                 "are not listed")
    if "for_ms_max" in exp:
        limit = int(one(exp, "for_ms_max"))
        late = [(t.get("id"), t["wait"].get("for_ms")) for t in threads
                if isinstance(t.get("wait"), dict) and not (
                    is_int(t["wait"].get("for_ms")) and t["wait"]["for_ms"] <= limit)]
        if late:
            probs.append(f"wait.for_ms above {limit} (thread, for_ms): {late}")
    for key in ("threshold_ms", "signalled_by"):
        if key in exp and rep.get(key) != int(one(exp, key)):
            probs.append(f"{key} {rep.get(key)!r}, expected {one(exp, key)}")
    for key, field in (("locked_at_frame", "locked_at"), ("signalled_frame", "signalled_at")):
        for want in exp.get(key, []):
            names = fnames(rep.get(field))
            if not any(function_matches(want, n) for n in names):
                probs.append(f"no {field} frame in function {want!r} "
                             f"(functions: {sorted(set(map(str, names)))})")
    for key in sorted(INDEXED_KEYS):
        for value in exp.get(key, []):
            idx, _, want = value.partition(" ")
            idx, want = int(idx), want.strip()
            if idx >= len(threads):
                probs.append(f"{key} {value}: only {len(threads)} thread(s) listed")
                continue
            t = threads[idx]
            w = t.get("wait") if isinstance(t.get("wait"), dict) else {}
            if key == "thread_state" and t.get("state") != want:
                probs.append(f"threads[{idx}] is {t.get('state')!r}, expected {want!r}")
            elif key == "thread_wait_call" and w.get("call") != want:
                probs.append(f"threads[{idx}] waits in {w.get('call')!r}, expected {want!r}")
            elif key == "thread_stack_frame":
                names = fnames(t.get("stack"))
                if not any(function_matches(want, n) for n in names):
                    probs.append(f"threads[{idx}].stack has no frame in function {want!r} "
                                 f"(functions: {names})")
    return probs


def read_text(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def tail(text, limit):
    return text if len(text) <= limit else "[...]\n" + text[-limit:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--expect")
    ap.add_argument("--good", action="store_true")
    ap.add_argument("--tmp", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--json", required=True, help="THREADWATCH_JSON as given (may hold %p)")
    ap.add_argument("--log-env", default="", help="THREADWATCH_LOG as given, if set")
    ap.add_argument("--status", type=int, required=True)
    ap.add_argument("--timed-out", action="store_true")
    ap.add_argument("--timeout", default="")
    args = ap.parse_args()

    subst = {"@TMP@": args.tmp, "@DIR@": args.dir, "@BUILD@": args.build}
    try:
        test, exp_reports = parse_expect(args.expect, subst) if args.expect else ({}, [])
    except (ExpectError, OSError) as e:
        print(f"  bad expectation file: {e}")
        return 2

    fails = []
    stdout = read_text(os.path.join(args.tmp, "stdout"))
    stderr = read_text(os.path.join(args.tmp, "stderr"))

    # Exit status.
    if one(test, "hangs") == "yes":
        # The program must still be running at its timeout; the reports below were then written
        # before the kill (the files are read after it).
        if not args.timed_out:
            fails.append(f"exit status {args.status}, expected the program to hang until its "
                         f"timeout ({args.timeout}s) and be killed (status 124 or 137)")
    else:
        want_exit = int(one(test, "exit", "0" if args.good else "66"))
        if args.timed_out:
            fails.append(f"timed out after {args.timeout}s (status {args.status}); expected exit "
                         f"{want_exit}")
        elif args.status != want_exit:
            fails.append(f"exit status {args.status}, expected {want_exit}")

    # JSON Lines: every file THREADWATCH_JSON names (one per process when it holds %p).
    pattern = args.json.replace("%p", "*")
    pid_re = None
    if "%p" in args.json:
        pid_re = re.compile("^" + re.escape(args.json).replace("%p", r"(\d+)") + "$")
    files = sorted(glob.glob(pattern))
    reports, nonempty, raw_json = [], 0, []
    for path in files:
        text = read_text(path)
        raw_json.append((path, text))
        try:
            with open(path, "rb") as f:
                f.read().decode("utf-8", errors="strict")
        except UnicodeDecodeError as e:
            fails.append(f"{os.path.basename(path)}: not valid UTF-8 ({e})")
        except OSError:
            pass
        if text.strip():
            nonempty += 1
        file_pid = None
        if pid_re and pid_re.match(path):
            file_pid = int(pid_re.match(path).group(1))
        for n, line in enumerate(text.splitlines(), 1):
            where = f"{os.path.basename(path)}:{n}"
            if not line.strip():
                fails.append(f"{where}: empty line in JSON Lines output")
                continue
            try:
                rep = json.loads(line)
            except ValueError as e:
                fails.append(f"{where}: not valid JSON ({e})")
                continue
            for err in schema_errors(rep):
                fails.append(f"{where}: schema: {err}")
            for err in jsonschema_lite.validate(REPORT_SCHEMA, rep):
                fails.append(f"{where}: docs/report.schema.json: {err}")
            if file_pid is not None and isinstance(rep, dict) and rep.get("pid") != file_pid:
                fails.append(f"{where}: pid {rep.get('pid')!r} but the file is for pid {file_pid}")
            if isinstance(rep, dict):
                reports.append(rep)

    if args.good:
        if reports or nonempty:
            fails.append(f"a clean program produced {len(reports)} report(s); expected none "
                         "(no JSON file, or an empty one)")
        if re.search(r"threadwatch", stderr, re.IGNORECASE):
            fails.append("threadwatch wrote to stderr for a clean program; expected nothing")

    if "reports" in test and len(reports) != int(one(test, "reports")):
        fails.append(f"{len(reports)} JSON report(s), expected exactly {one(test, 'reports')}")
    if "json_files" in test and nonempty != int(one(test, "json_files")):
        fails.append(f"{nonempty} non-empty JSON file(s) matching {pattern}, expected "
                     f"{one(test, 'json_files')}")

    for value in test.get("no_report", []):
        words = value.split()
        found = [i + 1 for i, r in enumerate(reports) if r.get("kind") == words[0]
                 and (len(words) == 1 or r.get("what") == words[1])]
        if found:
            fails.append(f"report(s) {found} are {value!r}, expected none")
    for value in test.get("report_order", []):
        kinds = value.split()
        firsts = [next((i for i, r in enumerate(reports) if r.get("kind") == k), None)
                  for k in kinds]
        if None in firsts or firsts != sorted(firsts):
            got = [r.get("kind") for r in reports]
            fails.append(f"the first reports of the kinds {kinds} do not come in that order "
                         f"(reports in order: {got})")

    for exp in exp_reports:
        if any(not report_problems(r, exp) for r in reports):
            continue
        desc = ", ".join(f"{k}={v if len(v) > 1 else v[0]}" for k, v in exp.items())
        why = [f"report {i + 1}: " + "; ".join(report_problems(r, exp))
               for i, r in enumerate(reports)]
        fails.append(f"no report matches {{{desc}}}" + ("; " + " | ".join(why) if why else
                                                        "; there are no reports"))

    # stdout / stderr.
    for want in test.get("stdout", []):
        if want not in stdout:
            fails.append(f"stdout lacks {want!r}")
    for bad in test.get("stdout_not", []):
        if bad in stdout:
            fails.append(f"stdout contains {bad!r}")
    for want in test.get("stderr", []):
        if want not in stderr:
            fails.append(f"stderr lacks {want!r}")
    for bad in test.get("stderr_not", []):
        if bad in stderr:
            fails.append(f"stderr contains {bad!r}")
    if "stderr_lines" in test and len(stderr.splitlines()) != int(one(test, "stderr_lines")):
        fails.append(f"stderr has {len(stderr.splitlines())} line(s), expected "
                     f"{one(test, 'stderr_lines')}")

    # The text report: the file matched by logfile:, else stderr when THREADWATCH_LOG is unset.
    log_text, log_name = None, None
    if "logfile" in test:
        matches = sorted(glob.glob(os.path.join(args.tmp, one(test, "logfile"))))
        if len(matches) != 1:
            fails.append(f"{len(matches)} files match logfile {one(test, 'logfile')!r}, "
                         "expected exactly 1")
        else:
            log_name, log_text = matches[0], read_text(matches[0])
    elif args.log_env in ("", "stderr", "/dev/stderr"):
        log_name, log_text = "stderr", stderr
    elif args.log_env in ("stdout", "/dev/stdout"):
        log_name, log_text = "stdout", stdout
    if log_text is not None:
        for want in test.get("log", []):
            if want not in log_text:
                fails.append(f"text report ({log_name}) lacks {want!r}")
        for regex in test.get("log_re", []):
            if not re.search(regex, log_text, re.MULTILINE):
                fails.append(f"text report ({log_name}) does not match /{regex}/")
        # Each JSON report has its text block, first line "==PID== threadwatch: KIND: MESSAGE".
        for rep in reports:
            head = f"=={rep.get('pid')}== threadwatch: {rep.get('kind')}: {rep.get('message')}"
            if not any(line.startswith(head) for line in log_text.splitlines()):
                fails.append(f"text report ({log_name}) has no headline {head!r}")
    for g in test.get("no_file", []):
        found = glob.glob(os.path.join(args.tmp, g))
        if found:
            fails.append(f"file(s) {found} exist, expected none matching {g!r}")

    if not fails:
        return 0
    print(f"  FAIL {args.name}:")
    for f in fails:
        print(f"    - {f}")
    if args.expect:
        print(f"  expected ({args.expect}):")
        for line in read_text(args.expect).splitlines():
            if line.strip() and not line.startswith("#"):
                print(f"    {line}")
    print(f"  exit status: {args.status}{' (timed out)' if args.timed_out else ''}")
    budget = 20000
    if not raw_json:
        print(f"  JSON: no file matches {pattern}")
    for path, text in raw_json:
        print(f"  JSON ({os.path.basename(path)}, {len(text)} bytes):")
        for line in text.splitlines():
            shown = line if len(line) <= budget else line[:budget] + " [...]"
            budget -= len(shown)
            print(f"    {shown}")
            if budget <= 0:
                print("    [... more JSON left out]")
                break
    if log_name and log_name != "stderr":
        print(f"  text log ({log_name}):")
        print("    " + tail(log_text or "", 6000).replace("\n", "\n    "))
    print("  stderr:" + (" (empty)" if not stderr else ""))
    if stderr:
        print("    " + tail(stderr, 6000).rstrip("\n").replace("\n", "\n    "))
    if stdout:
        print("  stdout:")
        print("    " + tail(stdout, 2000).rstrip("\n").replace("\n", "\n    "))
    return 1


if __name__ == "__main__":
    sys.exit(main())
