#!/usr/bin/env python3
"""A small JSON Schema validator: the draft 2020-12 keywords docs/report.schema.json uses.

The python `jsonschema` package is not on every machine (Debian has python3-jsonschema, a pyenv
python does not see it), so the tests carry this one. When `jsonschema` can be imported, validate()
also runs it and reports what either finds, so the two keep each other honest.

Keywords: type, enum, const, properties, required, additionalProperties, items, minItems, maxItems,
minimum, minLength, pattern, $ref (local, #/$defs/NAME), allOf, anyOf, oneOf, not, if/then/else.
An unknown keyword in the schema is an error (a schema this cannot check must not pass silently).

    python3 jsonschema_lite.py SCHEMA.json FILE.jsonl...   validates every line; exit 1 on errors
"""

import json
import re
import sys

KNOWN = {"$schema", "$id", "title", "description", "$defs", "type", "enum", "const", "properties",
         "required", "additionalProperties", "items", "minItems", "maxItems", "minimum",
         "minLength", "pattern", "$ref", "allOf", "anyOf", "oneOf", "not", "if", "then", "else"}

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _equal(a, b):
    # JSON equality: true is not 1.
    return type(a) is type(b) and a == b or (
        isinstance(a, (int, float)) and isinstance(b, (int, float))
        and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


class Validator:
    def __init__(self, schema):
        self.root = schema

    def resolve(self, ref):
        if not ref.startswith("#/"):
            raise ValueError(f"only local $ref are supported: {ref}")
        node = self.root
        for part in ref[2:].split("/"):
            node = node[part]
        return node

    def errors(self, value, schema=None, path="$"):
        schema = self.root if schema is None else schema
        if schema is True:
            return []
        if schema is False:
            return [f"{path}: no value is allowed here"]
        unknown = set(schema) - KNOWN
        if unknown:
            raise ValueError(f"schema keyword(s) not supported: {sorted(unknown)}")
        errs = []
        if "$ref" in schema:
            errs += self.errors(value, self.resolve(schema["$ref"]), path)
        if "type" in schema:
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            if not any(TYPES[t](value) for t in types):
                return errs + [f"{path}: {json.dumps(value)[:60]} is not of type {'/'.join(types)}"]
        if "enum" in schema and not any(_equal(value, e) for e in schema["enum"]):
            errs.append(f"{path}: {json.dumps(value)[:60]} is not one of {schema['enum']}")
        if "const" in schema and not _equal(value, schema["const"]):
            errs.append(f"{path}: {json.dumps(value)[:60]} is not {json.dumps(schema['const'])}")
        if isinstance(value, str):
            if "minLength" in schema and len(value) < schema["minLength"]:
                errs.append(f"{path}: shorter than {schema['minLength']}")
            if "pattern" in schema and not re.search(schema["pattern"], value):
                errs.append(f"{path}: {value[:60]!r} does not match {schema['pattern']}")
        if TYPES["number"](value) and "minimum" in schema and value < schema["minimum"]:
            errs.append(f"{path}: {value} is less than {schema['minimum']}")
        if isinstance(value, list):
            if "minItems" in schema and len(value) < schema["minItems"]:
                errs.append(f"{path}: fewer than {schema['minItems']} items")
            if "maxItems" in schema and len(value) > schema["maxItems"]:
                errs.append(f"{path}: more than {schema['maxItems']} items")
            if "items" in schema:
                for i, item in enumerate(value):
                    errs += self.errors(item, schema["items"], f"{path}[{i}]")
        if isinstance(value, dict):
            props = schema.get("properties", {})
            for key in schema.get("required", []):
                if key not in value:
                    errs.append(f"{path}: missing required field {key!r}")
            for key, item in value.items():
                if key in props:
                    errs += self.errors(item, props[key], f"{path}.{key}")
                elif "additionalProperties" in schema:
                    errs += self.errors(item, schema["additionalProperties"], f"{path}.{key}")
        for sub in schema.get("allOf", []):
            errs += self.errors(value, sub, path)
        if "anyOf" in schema and not any(not self.errors(value, s, path) for s in schema["anyOf"]):
            errs.append(f"{path}: matches none of anyOf")
        if "oneOf" in schema:
            n = sum(1 for s in schema["oneOf"] if not self.errors(value, s, path))
            if n != 1:
                errs.append(f"{path}: matches {n} of oneOf, not exactly one")
        if "not" in schema and not self.errors(value, schema["not"], path):
            errs.append(f"{path}: matches a schema it must not ({json.dumps(schema['not'])[:60]})")
        if "if" in schema:
            if not self.errors(value, schema["if"], path):
                if "then" in schema:
                    errs += self.errors(value, schema["then"], path)
            elif "else" in schema:
                errs += self.errors(value, schema["else"], path)
        return errs


def validate(schema, value):
    """The problems of value against schema (empty when valid): this validator's, and the
    `jsonschema` package's when it is installed."""
    errs = Validator(schema).errors(value)
    try:
        import jsonschema  # pylint: disable=import-outside-toplevel
    except ImportError:
        return errs
    cls = getattr(jsonschema, "Draft202012Validator", None)
    if cls is None:
        return errs
    theirs = [f"jsonschema: {e.json_path if hasattr(e, 'json_path') else list(e.path)}: {e.message}"
              for e in cls(schema).iter_errors(value)]
    if bool(theirs) != bool(errs):
        # They disagree: show both sides, so that the disagreement itself fails the test.
        return errs + theirs + ["jsonschema_lite and jsonschema disagree on this value"]
    return errs


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    bad = 0
    lines = 0
    for name in argv[2:]:
        with open(name, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if not line.strip():
                    continue
                lines += 1
                errs = validate(schema, json.loads(line))
                for e in errs:
                    print(f"{name}:{lineno}: {e}")
                bad += bool(errs)
    print(f"schema: {lines} report(s), {bad} invalid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
