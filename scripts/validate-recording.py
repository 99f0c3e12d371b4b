#!/usr/bin/env python3
"""Validate every line of a recording (DIR/<topic>.jsonl) against schemas/<type>.v<version>.schema.json.

Usage: scripts/validate-recording.py DIR [--schemas DIR] [--allow-unparsed]

Lines the recorder wrapped as {"unparsed": …} (bytes that were never a valid envelope, e.g. injected
garbage) fail unless --allow-unparsed is given. Prints one summary line per topic and exits 1 on any failure.
"""
import json, os, sys

try:
    from jsonschema import Draft202012Validator
except ImportError:
    sys.stderr.write("python3 package 'jsonschema' is missing: pip install jsonschema\n")
    sys.exit(3)

def main():
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.stderr.write(__doc__)
        sys.exit(2)
    rec = args[0]
    schemas = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "schemas")
    if "--schemas" in args:
        schemas = args[args.index("--schemas") + 1]
    allow_unparsed = "--allow-unparsed" in args
    validators = {}
    for name in os.listdir(schemas):
        if name.endswith(".schema.json"):
            with open(os.path.join(schemas, name)) as f:
                schema = json.load(f)
            Draft202012Validator.check_schema(schema)
            validators[name[: -len(".schema.json")]] = Draft202012Validator(schema)
    failures = 0
    files = sorted(n for n in os.listdir(rec) if n.endswith(".jsonl"))
    if not files:
        print(f"no .jsonl files in {rec}")
        sys.exit(1)
    for name in files:
        counts, bad = {}, 0
        with open(os.path.join(rec, name)) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                doc = json.loads(line)
                if "unparsed" in doc and allow_unparsed:
                    counts["unparsed"] = counts.get("unparsed", 0) + 1
                    continue
                key = f"{doc.get('type')}.v{doc.get('version')}"
                v = validators.get(key)
                errors = [f"no schema {key}"] if v is None else [e.message for e in v.iter_errors(doc)]
                if errors:
                    bad += 1
                    if bad <= 5:
                        print(f"{name}:{n}: {errors[0]}")
                else:
                    counts[key] = counts.get(key, 0) + 1
        failures += bad
        print(f"{name}: " + ", ".join(f"{k} {c}" for k, c in sorted(counts.items())) + f"; invalid {bad}")
    sys.exit(1 if failures else 0)

main()
