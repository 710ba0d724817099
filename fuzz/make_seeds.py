#!/usr/bin/env python3
"""Builds the seed corpora in corpus/<target>/ from the agent traces.

Usage: python3 make_seeds.py [TRACES_DIR]   (default: ../testdata/agent, else
../../shared/traces/agent). Deterministic; keeps every seed small (the whole
corpus is a few dozen KB). `ops` and `ops_threads` take structured inputs
decoded by `arbitrary`, which trace text does not map onto: their seeds are
pseudo-random bytes from a fixed seed.
"""
import hashlib
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def traces_dir():
    if len(sys.argv) > 1:
        return sys.argv[1]
    for d in ("../testdata/agent", "../../shared/traces/agent"):
        p = os.path.join(HERE, d)
        if os.path.isdir(p):
            return p
    sys.exit("no agent traces found")


def write(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def short(v, n=120):
    """The value with long strings cut (outputs, file contents)."""
    if isinstance(v, str):
        return v[:n]
    if isinstance(v, list):
        return [short(x, n) for x in v[:6]]
    if isinstance(v, dict):
        return {k: short(x, n) for k, x in list(v.items())[:8]}
    return v


def main():
    src = traces_dir()
    calls = []
    for name in sorted(os.listdir(src)):
        if not name.endswith(".jsonl"):
            continue
        with open(os.path.join(src, name), encoding="utf-8") as f:
            lines = f.read().splitlines()
        header = json.loads(lines[0])
        body = [json.loads(l) for l in lines[1:] if l.strip()]
        calls += [(header, c) for c in body]
        # trace: the header and the first calls, outputs cut.
        head = [json.dumps(header)] + [json.dumps(short(c, 80)) for c in body[:8]]
        write("trace", ("\n".join(head) + "\n").encode())
        # ... and a few calls alone, and a broken line among good ones.
        for c in body[8:40:8]:
            write("trace", (json.dumps(short(c, 80)) + "\n").encode())
        write("trace", (head[1] + "\n{\"tool\": 1}\nnot json\n\n" + head[2] + "\r\n").encode())

    rng = random.Random(8)
    # shell: distinct commands of shell tools, short ones.
    commands = sorted(
        {
            c["args"].get("command")
            for _, c in calls
            if isinstance(c.get("args"), dict) and isinstance(c["args"].get("command"), str)
        }
        - {None}
    )
    commands = [c for c in commands if len(c) <= 240]
    for c in rng.sample(commands, min(60, len(commands))):
        write("shell", b"\x07" + c.encode())

    # tool_args: up to four calls of each tool, arguments cut.
    per_tool = {}
    for _, c in calls:
        per_tool.setdefault(c["tool"], []).append(c.get("args", {}))
    for tool, argss in sorted(per_tool.items()):
        for a in argss[:: max(1, len(argss) // 4)][:4]:
            write("tool_args", (tool + "\n" + json.dumps(short(a, 60))).encode())

    # paths: path arguments, with another one and the trace's workspace.
    paths = []
    for header, c in calls:
        args = c.get("args") if isinstance(c.get("args"), dict) else {}
        for k in ("path", "filePath", "dirPath", "file_path", "directory", "cwd"):
            if isinstance(args.get(k), str) and len(args[k]) <= 120:
                paths.append((args[k], header.get("workspace", ".")))
    paths = sorted(set(paths))
    for (p, ws) in rng.sample(paths, min(30, len(paths))):
        other = rng.choice(paths)[0]
        write("paths", b"\0".join([p.encode(), other.encode(), ws.encode()]))

    # ops, ops_threads: pseudo-random structured inputs.
    for target in ("ops", "ops_threads"):
        for i in range(8):
            n = rng.choice([256, 512, 1024, 1536])
            write(target, bytes(rng.getrandbits(8) for _ in range(n)))


main()
