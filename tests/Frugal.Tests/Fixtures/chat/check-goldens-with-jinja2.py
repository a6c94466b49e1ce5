"""Cross-checks goldens.json (made by @huggingface/jinja) against Python's jinja2 set up the way Hugging Face
transformers renders chat templates (transformers/utils/chat_template_utils.py: ImmutableSandboxedEnvironment,
trim_blocks, lstrip_blocks, loopcontrols, its own tojson and raise_exception). Prints every disagreement.

The model-template goldens must agree exactly (exit code 1 otherwise), except where both render and only the text
differs: that is a JS-port deviation from Python (SmolLM3's content.lstrip("\\n") strips all whitespace in the
port), and jinja2's rendering replaces the golden in goldens.json, marked "reference": "jinja2". For the small feature templates the JS port
is known to differ from jinja2 in places (it prints true/null/JSON where Python prints True/None/repr, and lacks
some tests and str.strip(chars)); jinja2 is the engine transformers uses, so its renderings are written to
feature-goldens.json and are what the C# tests assert, with a flag saying whether the JS port agreed.
    python3 check-goldens-with-jinja2.py
"""
import json
import pathlib
import sys

import jinja2

from jinja2.exceptions import TemplateError
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

here = pathlib.Path(__file__).parent


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception

data = json.loads((here / "goldens.json").read_text(encoding="utf-8"))
templates = {t["name"]: t for t in data["templates"]}
compiled = {name: env.from_string((here / "templates" / t["file"]).read_text(encoding="utf-8")) for name, t in templates.items()}
disagreements = 0
replaced = 0
for g in data["goldens"]:
    t = templates[g["template"]]
    conv = data["conversations"][g["case"]]
    context = dict(messages=conv["messages"], add_generation_prompt=g["add_generation_prompt"], **g["variables"])
    if t["bos_token"] is not None:
        context["bos_token"] = t["bos_token"]
    if t["eos_token"] is not None:
        context["eos_token"] = t["eos_token"]
    try:
        got, err = compiled[g["template"]].render(**context), None
    except TemplateError as e:
        got, err = None, str(e)
    if err is None and "error" not in g and g.get("reference") == "jinja2":
        g["expected"] = got  # already taken from jinja2 on an earlier run
    elif err is None and "error" not in g and got != g["expected"]:
        # Both render, differently: a JS-port deviation from Python (e.g. str.lstrip(chars) stripping all
        # whitespace). jinja2 is what transformers runs, so its rendering becomes the golden, marked as such.
        print(f"JS port differs, using jinja2: {g['template']} {g['case']} agp={g['add_generation_prompt']}\n  js:     {g['expected']!r}\n  jinja2: {got!r}")
        g["expected"], g["reference"] = got, "jinja2"
        replaced += 1
    elif got != g.get("expected") or (err is None) != ("error" not in g):
        disagreements += 1
        print(f"DIFF {g['template']} {g['case']} agp={g['add_generation_prompt']}\n  js:     {g.get('expected', g.get('error'))!r}\n  jinja2: {got if err is None else err!r}")
print(f"{len(data['goldens'])} model-template goldens checked, {replaced} taken from jinja2, {disagreements} disagreements")
if replaced:
    (here / "goldens.json").write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

features = []
for f in data["features"]:
    try:
        got, err = env.from_string(f["source"]).render(**data["feature_context"]), None
    except TemplateError as e:
        got, err = None, str(e)
    agrees = got == f.get("expected") and (err is None) == ("error" not in f)
    if not agrees:
        print(f"feature {f['name']}: JS port differs, using jinja2\n  js:     {f.get('expected', f.get('error'))!r}\n  jinja2: {got if err is None else err!r}")
    entry = {"name": f["name"], "source": f["source"], "agrees_with_js": agrees}
    if err is None:
        entry["expected"] = got
    else:
        entry["error"] = err
    features.append(entry)
(here / "feature-goldens.json").write_text(
    json.dumps({"generator": "jinja2 " + jinja2.__version__ + " (transformers settings)", "context": data["feature_context"], "features": features},
               ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
sys.exit(1 if disagreements else 0)
