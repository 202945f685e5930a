#!/usr/bin/env python3
"""Runs the shell commands of examples/ci/github-actions.yml or examples/ci/gitlab-ci.yml locally,
as far as a local machine can: the `run:` steps (GitHub) or the before_script/script/after_script
lines (GitLab), in order, with bash -e -o pipefail, in a directory that stands for the checkout.
Steps that use an action (`uses:`) and steps or lines marked "not run locally" are skipped.

GitHub: a step runs when every step before it succeeded, or when it has `if: always()`.
GitLab: before_script and script stop at the first failing line; after_script always runs.

    ci_local.py github|gitlab FILE.yml WORKDIR SUMMARY.json

Prints each step and its exit status, writes [{"name", "status"}] to SUMMARY.json, exits 0 (the
caller checks the statuses and what the steps left in WORKDIR). Only the subset of YAML these two
files use is read (block scalars after `run: |`, plain one-line values, `- ` list items); a file
this cannot read is an error (exit 2), not a silent pass.
"""

import json
import os
import re
import subprocess
import sys

MARK = "not run locally"


def indent(line):
    return len(line) - len(line.lstrip(" "))


def github_steps(text):
    lines = text.splitlines()
    start = next((i for i, l in enumerate(lines) if l.strip() == "steps:"), None)
    if start is None:
        raise ValueError("no 'steps:' in the workflow")
    item_indent = None
    steps, cur = [], None
    for line in lines[start + 1:]:
        if not line.strip():
            if cur is not None:
                cur.append(line)
            continue
        ind = indent(line)
        if item_indent is None and line.lstrip().startswith("- "):
            item_indent = ind
        if item_indent is not None and ind < item_indent:
            break  # the end of the steps list
        if ind == item_indent and line.lstrip().startswith("- "):
            cur = [" " * (ind + 2) + line.lstrip()[2:]]
            steps.append(cur)
        elif cur is not None:
            cur.append(line)
    out = []
    for body in steps:
        key_indent = indent(body[0])
        step = {"name": None, "run": None, "uses": None, "always": False, "local": True}
        i = 0
        while i < len(body):
            line = body[i]
            if MARK in line:
                step["local"] = False
            m = re.match(r"^(\s*)([A-Za-z_-]+):\s*(.*)$", line)
            if m and indent(line) == key_indent:
                key, value = m.group(2), m.group(3)
                if key == "run" and value.strip() in ("|", "|-", ">"):
                    block = []
                    i += 1
                    while i < len(body) and (not body[i].strip() or indent(body[i]) > key_indent):
                        block.append(body[i])
                        i += 1
                    ind = min((indent(l) for l in block if l.strip()), default=0)
                    step["run"] = "\n".join(l[ind:] for l in block).strip() + "\n"
                    continue
                if key == "run":
                    step["run"] = value
                elif key == "name":
                    step["name"] = value.strip().strip('"')
                elif key == "uses":
                    step["uses"] = value.strip()
                elif key == "if":
                    step["always"] = "always()" in value
            i += 1
        step["name"] = step["name"] or step["uses"] or (step["run"] or "").splitlines()[0]
        out.append(step)
    return out


def gitlab_steps(text):
    out = []
    section = None
    for line in text.splitlines():
        m = re.match(r"^\s*(before_script|script|after_script):\s*$", line)
        if m:
            section = m.group(1)
            continue
        if section and re.match(r"^\s*- ", line):
            cmd = line.strip()[2:]
            out.append({"name": f"{section}: {cmd[:60]}", "run": cmd, "section": section,
                        "local": MARK not in cmd, "uses": None,
                        "always": section == "after_script"})
        elif section and line.strip() and not re.match(r"^\s*- ", line):
            section = None
    if not any(s["section"] == "script" for s in out):
        raise ValueError("no 'script:' lines in the job")
    return out


def main(argv):
    if len(argv) != 5 or argv[1] not in ("github", "gitlab"):
        print("usage: ci_local.py github|gitlab FILE.yml WORKDIR SUMMARY.json", file=sys.stderr)
        return 2
    kind, path, workdir, summary = argv[1:]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        steps = github_steps(text) if kind == "github" else gitlab_steps(text)
    except ValueError as e:
        print(f"ci_local: {path}: {e}", file=sys.stderr)
        return 2
    env = dict(os.environ)
    env.setdefault("CI_PROJECT_DIR", workdir)
    env.setdefault("GITHUB_WORKSPACE", workdir)
    failed = False
    results = []
    for step in steps:
        if step["uses"] or not step["run"]:
            print(f"ci_local: skip (action) {step['name']}")
            continue
        if not step["local"]:
            print(f"ci_local: skip (not run locally) {step['name']}")
            continue
        if failed and not step["always"]:
            print(f"ci_local: skip (an earlier step failed) {step['name']}")
            results.append({"name": step["name"], "status": None})
            continue
        print(f"ci_local: run {step['name']}", flush=True)
        rc = subprocess.call(["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=workdir,
                             env=env)
        print(f"ci_local: exit status {rc}: {step['name']}", flush=True)
        results.append({"name": step["name"], "status": rc})
        failed = failed or rc != 0
    with open(summary, "w", encoding="utf-8") as f:
        json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
