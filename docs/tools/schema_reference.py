"""Write the scenario-file reference (``docs/reference/scenario-schema.md``) from the schema.

The page is generated from :func:`sim.scenario.json_schema` — the same JSON Schema that
``salesim schema`` prints — so it cannot drift from the code: every field, its type, its
default and its description, model by model, in the order a scenario file reads. Defaults
that the schema cannot show (values made by a factory, such as a default distribution) are
read from the pydantic models behind it.

Usage, from the repository root::

    python docs/tools/schema_reference.py            # (re)write the page
    python docs/tools/schema_reference.py --check    # exit 1 if the page is stale, 0 if current
    python docs/tools/schema_reference.py --stdout   # print the page instead of writing it

The generated page is committed; a test runs ``--check`` so that a schema change without a
regenerated page fails.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "docs" / "reference" / "scenario-schema.md"
GENERATOR = "docs/tools/schema_reference.py"
DIST_ANCHOR = "distributions"


def _import_sim() -> tuple[dict[str, Any], Any]:
    """``(json_schema(), Scenario)``; the installed ``sim`` first, else this checkout's."""
    try:
        from sim.scenario import Scenario, json_schema
    except ImportError:
        sys.path.append(str(ROOT))  # last: an installed build keeps precedence
        from sim.scenario import Scenario, json_schema
    return json_schema(), Scenario


# --------------------------------------------------------------------------- text helpers


def _md(text: str) -> str:
    """reStructuredText-ish docstring text → Markdown inline text (``x`` → `x`)."""
    text = re.sub(r":(?:mod|class|func|meth|data|attr):`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`")


def _cell(text: str) -> str:
    """One table cell: a single line, YAML flow mappings as code (Markdown's attribute lists
    would read a trailing ``{...}`` as attributes), pipes outside code escaped."""
    line = " ".join(_md(text).split())
    parts = line.split("`")
    for i in range(0, len(parts), 2):  # outside code spans (a pipe inside one does not split the row)
        parts[i] = re.sub(r"\{[^{}`]*\}", lambda m: f"`{m.group(0)}`", parts[i])
    parts = "`".join(parts).split("`")
    for i in range(0, len(parts), 2):
        parts[i] = parts[i].replace("|", "\\|")
    return "`".join(parts)


def _paragraphs(text: str) -> list[str]:
    """A docstring as Markdown blocks: paragraphs joined into lines, ``* `` items kept as a list."""
    blocks: list[str] = []
    for raw in re.split(r"\n\s*\n", text.strip()):
        lines = [line.strip() for line in raw.splitlines() if line.strip()]
        if lines and lines[0].startswith("* "):
            items: list[str] = []
            for line in lines:
                if line.startswith("* ") or not items:
                    items.append(line[2:] if line.startswith("* ") else line)
                else:
                    items[-1] += " " + line
            blocks.append("\n".join(f"- {_md(item)}" for item in items))
        else:
            blocks.append(_md(" ".join(lines)))
    return blocks


def _value(value: Any) -> str:
    """A value as it would be written in a scenario file (YAML flow style)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return repr(value)
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value) if value == "" or re.search(r"[:#{}\[\],]|^\s|\s$", value) else value
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in value.items()) + "}"
    return str(value)


# --------------------------------------------------------------------------- the schema


class Schema:
    """The JSON Schema of scenario files, with the pydantic models behind its definitions."""

    def __init__(self, schema: dict[str, Any], scenario_model: Any) -> None:
        self.schema = schema
        self.defs: dict[str, dict[str, Any]] = schema.get("$defs", {})
        self.models = _models_by_name(scenario_model)
        self.root_name = scenario_model.__name__
        tagged = {
            name for name, spec in self.defs.items()
            if "const" in spec.get("properties", {}).get("dist", {})
        }
        self.dist_names = _first_union(schema, tagged) or sorted(tagged)
        """The distribution models, in the order of the schema's tagged union (the code's order)."""

    # ----------------------------------------------------------------- types

    @staticmethod
    def ref_name(node: dict[str, Any]) -> str | None:
        ref = node.get("$ref")
        return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None

    def is_dist_union(self, node: dict[str, Any]) -> bool:
        options = node.get("oneOf") or []
        return bool(options) and all(self.ref_name(o) in self.dist_names for o in options)

    def type_text(self, node: dict[str, Any]) -> str:
        """A person's description of a schema node's type, with its constraints."""
        name = self.ref_name(node)
        if name is not None:
            return f"[{name}](#{name.lower()})"
        if self.is_dist_union(node):
            return f"[distribution](#{DIST_ANCHOR})"
        if "anyOf" in node:
            options = node["anyOf"]
            shown = [self.type_text(o) for o in options if o.get("type") != "null"]
            text = " or ".join(shown)
            return text + (" or null" if len(shown) < len(options) else "")
        if "const" in node:
            return f"`{node['const']}`"
        if "enum" in node:
            return "one of " + ", ".join(f"`{v}`" for v in node["enum"])
        kind = node.get("type")
        if kind == "array":
            if "prefixItems" in node:
                return "[" + ", ".join(self.type_text(i) for i in node["prefixItems"]) + "]"
            text = "list of " + self.type_text(node.get("items", {}))
            return text + _size(node, "Items", "entries")
        if kind == "object":
            values = node.get("additionalProperties")
            if isinstance(values, dict):
                return "map of name → " + self.type_text(values) + _size(node, "Properties", "names")
            return "mapping"
        words = {"number": "number", "integer": "integer", "string": "text", "boolean": "true / false"}
        return words.get(kind, str(kind or "any")) + _bounds(node)

    def summary_of(self, node: dict[str, Any]) -> str:
        """The first sentence of the model a field holds (for fields without a description)."""
        for name, _suffix in self.children(node):
            if name in self.dist_names:
                return ""
            text = " ".join(self.defs[name].get("description", "").split())
            match = re.match(r"(.+?\.)(\s|$)", text)
            return match.group(1) if match else text
        return ""

    # ----------------------------------------------------------------- defaults

    def default_text(self, model: str, field: str, node: dict[str, Any], required: bool) -> str:
        if required:
            return "**required**"
        if "default" in node:
            return f"`{_value(node['default'])}`"
        made = self._factory_default(model, field)
        return made if made is not None else "–"

    def _factory_default(self, model: str, field: str) -> str | None:
        """The default of a field whose value a factory makes (absent from the JSON Schema)."""
        cls = self.models.get(model)
        if cls is None:
            return None
        for name, info in cls.model_fields.items():
            if (info.alias or name) != field:
                continue
            value = info.get_default(call_default_factory=True)
            if hasattr(value, "model_dump"):
                if type(value).__name__ in self.dist_names:
                    return f"`{_value(value.model_dump(mode='json', by_alias=True))}`"
                return f"see [{type(value).__name__}](#{type(value).__name__.lower()})"
            return f"`{_value(value)}`"
        return None

    # ----------------------------------------------------------------- walking

    def children(self, node: dict[str, Any]) -> Iterator[tuple[str, str]]:
        """``(definition name, path suffix)`` of the models a field holds (maps: ``.<name>``; lists: ``[]``)."""
        name = self.ref_name(node)
        if name is not None:
            yield name, ""
            return
        for option in node.get("anyOf", []) + node.get("oneOf", []):
            yield from self.children(option)
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            for child, suffix in self.children(node["items"]):
                yield child, "[]" + suffix
        if node.get("type") == "object" and isinstance(node.get("additionalProperties"), dict):
            for child, suffix in self.children(node["additionalProperties"]):
                yield child, ".<name>" + suffix

    def walk(self) -> tuple[list[str], dict[str, list[str]], dict[str, list[str]]]:
        """Models in reading order (breadth first from the top level), the paths each is used
        at, and the paths that take a distribution."""
        order: list[str] = []
        paths: dict[str, list[str]] = {}
        dist_paths: dict[str, list[str]] = {}
        queue: list[tuple[str, dict[str, Any], str]] = [(self.root_name, self.schema, "")]
        while queue:
            model, spec, prefix = queue.pop(0)
            for field, node in spec.get("properties", {}).items():
                path = f"{prefix}.{field}" if prefix else field
                if self.is_dist_union(node) or any(self.is_dist_union(o) for o in node.get("anyOf", [])):
                    dist_paths.setdefault(path, []).append(model)
                    continue
                for child, suffix in self.children(node):
                    if child in self.dist_names:
                        continue
                    child_path = path + suffix
                    known = paths.setdefault(child, [])
                    if child_path not in known:
                        known.append(child_path)
                    if child not in order:
                        order.append(child)
                        queue.append((child, self.defs[child], child_path))
        return order, paths, dist_paths


def _first_union(node: Any, tagged: set[str]) -> list[str]:
    """The definition names of the first ``oneOf`` (depth first) whose options are all in ``tagged``."""
    if isinstance(node, dict):
        options = node.get("oneOf")
        if options:
            names = [Schema.ref_name(o) for o in options]
            if all(n in tagged for n in names):
                return [n for n in names if n is not None]
        children: Any = node.values()
    elif isinstance(node, list):
        children = node
    else:
        return []
    for child in children:
        found = _first_union(child, tagged)
        if found:
            return found
    return []


def _size(node: dict[str, Any], what: str, noun: str) -> str:
    low, high = node.get(f"min{what}"), node.get(f"max{what}")
    if low is not None and low == high:
        return f" (exactly {low})"
    parts = [f"at least {low}" if low else "", f"at most {high}" if high is not None else ""]
    parts = [p for p in parts if p]
    singular = {"entries": "entry", "names": "name"}
    plural = noun if (high if high is not None else low) != 1 else singular.get(noun, noun)
    return f" ({', '.join(parts)} {plural})" if parts else ""


def _bounds(node: dict[str, Any]) -> str:
    marks = [("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<")]
    parts = [f"{sign} {node[key]:g}" for key, sign in marks if key in node]
    if "minLength" in node:
        parts.append(f"at least {node['minLength']} character{'s' if node['minLength'] != 1 else ''}")
    if "pattern" in node:
        parts.append(f"matching `{node['pattern']}`")
    return f" ({', '.join(parts)})" if parts else ""


def _models_by_name(root: Any) -> dict[str, Any]:
    """Every pydantic model reachable from ``root``'s fields, by class name (the schema's keys)."""
    found: dict[str, Any] = {}

    def visit(annotation: Any) -> None:
        if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
            if annotation.__name__ in found:
                return
            found[annotation.__name__] = annotation
            for info in annotation.model_fields.values():
                visit(info.annotation)
            return
        for arg in typing.get_args(annotation):
            visit(arg)

    visit(root)
    return found


# --------------------------------------------------------------------------- the page


HEADER = f"""\
<!-- Generated by {GENERATOR} from sim.scenario.json_schema(). Do not edit by hand:
     run `python {GENERATOR}` after changing the schema (a test runs it with --check). -->

# Scenario file reference

Every field a scenario file may hold, generated from the schema the simulator validates
against (the same one `salesim schema` prints for editors). Models are listed in the order a
scenario file reads, top level first; **Used at** gives the dotted path of each, as `--set`
writes it (`<name>` is a key you choose, such as a role or segment name; `[]` is an item of a
list). Unknown fields are errors, so a misspelt field is reported rather than ignored.

Types: a *map of name → X* is a mapping whose keys you choose; a *[distribution](#{DIST_ANCHOR})*
is written `{{dist: NAME, ...}}` or as a bare number (a constant). How to write a scenario:
[Scenario files](../guides/scenario-files.md); what each figure means and where the shipped
values come from: [Default figures](../background/default-figures.md).
"""


def _field_table(schema: Schema, model: str, spec: dict[str, Any]) -> list[str]:
    required = set(spec.get("required", []))
    rows = ["| field | type | default | description |", "|---|---|---|---|"]
    for field, node in spec.get("properties", {}).items():
        description = node.get("description") or schema.summary_of(node)
        rows.append(
            f"| `{field}` | {schema.type_text(node)} | "
            f"{schema.default_text(model, field, node, field in required)} | {_cell(description)} |"
        )
    return rows


def render(schema_json: dict[str, Any], scenario_model: Any) -> str:
    schema = Schema(schema_json, scenario_model)
    order, paths, dist_paths = schema.walk()
    out = [HEADER]
    out += ["## Top level {#top-level}", ""]
    out += [*_paragraphs(schema_json.get("description", "")), ""]
    out += [*_field_table(schema, schema.root_name, schema_json), ""]
    for name in order:
        spec = schema.defs[name]
        out += [f"## {name} {{#{name.lower()}}}", ""]
        out += ["**Used at:** " + ", ".join(f"`{p}`" for p in paths[name]), ""]
        for block in _paragraphs(spec.get("description", "")):
            out += [block, ""]
        out += [*_field_table(schema, name, spec), ""]
    out += [f"## Distributions {{#{DIST_ANCHOR}}}", ""]
    out += [
        "A field that takes a distribution is written as a mapping with a `dist` tag and the "
        "parameters of that distribution, e.g. `{dist: lognormal, median: 60, sigma: 0.4}`, or as a "
        "bare number, which means a constant. Values are drawn by inverse transform of a uniform "
        "drawn when the lead, rep or account is created, so two scenarios run with the same seed "
        "draw the same values.",
        "",
        "Fields that take a distribution: " + ", ".join(f"`{p}`" for p in dist_paths) + ".",
        "",
    ]
    for name in schema.dist_names:
        spec = schema.defs[name]
        tag = spec["properties"]["dist"]["const"]
        out += [f"### `{tag}` {{#{name.lower()}}}", ""]
        for block in _paragraphs(spec.get("description", "")):
            out += [block, ""]
        out += [*_field_table(schema, name, spec), ""]
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the committed page is stale")
    parser.add_argument("--stdout", action="store_true", help="print the page instead of writing it")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"the page (default {OUTPUT.relative_to(ROOT)})")
    args = parser.parse_args(argv)
    schema_json, scenario_model = _import_sim()
    page = render(schema_json, scenario_model)
    if args.stdout:
        sys.stdout.write(page)
        return 0
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current == page:
            return 0
        diff = difflib.unified_diff(current.splitlines(), page.splitlines(), str(args.output), "generated",
                                    lineterm="", n=1)
        print(f"{args.output} is stale: run `python {GENERATOR}`", file=sys.stderr)
        for line in list(diff)[:40]:
            print(line, file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(page, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
