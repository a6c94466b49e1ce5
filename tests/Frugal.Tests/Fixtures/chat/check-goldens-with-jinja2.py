"""Cross-checks goldens.json (made by @huggingface/jinja) against Python's jinja2 set up the way Hugging Face
transformers renders chat templates (transformers/utils/chat_template_utils.py: ImmutableSandboxedEnvironment,
trim_blocks, lstrip_blocks, loopcontrols, its own tojson and raise_exception). Prints every disagreement.
    python3 check-goldens-with-jinja2.py
"""
import json
import pathlib
import sys

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
    if got != g.get("expected") or (err is None) != ("error" not in g):
        disagreements += 1
        print(f"DIFF {g['template']} {g['case']} agp={g['add_generation_prompt']}\n  js:     {g.get('expected', g.get('error'))!r}\n  jinja2: {got if err is None else err!r}")
print(f"{len(data['goldens'])} goldens checked, {disagreements} disagreements")
sys.exit(1 if disagreements else 0)
