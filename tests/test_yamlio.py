"""Tests for :mod:`sim.scenario.yamlio`: line tracking, extends, overrides and error messages."""

from __future__ import annotations

import copy
import pickle
import re
import textwrap
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Literal
from unittest.mock import ANY

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.scenario.yamlio import (
    Document,
    Problem,
    ScenarioError,
    apply_overrides,
    load_document,
    load_document_from_string,
    lookup_line,
    problems_from_validation_error,
    yaml_dump,
)


def write(folder: Path, name: str, text: str) -> Path:
    """Write dedented ``text`` to ``folder/name`` (creating folders) and return the path."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems_of(excinfo: pytest.ExceptionInfo[ScenarioError]) -> list[Problem]:
    return excinfo.value.problems


ProblemSpec = tuple[object, object, tuple[str, ...]]
"""An expected problem: (line, dotted path, message patterns). ``ANY`` leaves a field unchecked; each
pattern must match the message (``re.search``: ``^`` for its start, ``$`` for its end)."""


def exact(message: str) -> str:
    """The pattern of exactly ``message``."""
    return f"^{re.escape(message)}$"


def assert_problems(problems: list[Problem], expected: list[ProblemSpec]) -> None:
    """``problems`` are the ``expected`` ones, in order, and no more."""
    assert len(problems) == len(expected), problems
    for problem, (line, path, patterns) in zip(problems, expected, strict=True):
        assert (problem.line, problem.path) == (line, path), problem
        for pattern in patterns:
            assert re.search(pattern, problem.message), (pattern, problem)


# ---------------------------------------------------------------------------
# Problem / ScenarioError
# ---------------------------------------------------------------------------


class TestProblemFormatting:
    def test_full(self) -> None:
        p = Problem("a.yaml", 3, "roles.ae", "bad")
        assert str(p) == "a.yaml:3: roles.ae: bad"

    def test_without_line(self) -> None:
        assert str(Problem("a.yaml", None, "x", "bad")) == "a.yaml: x: bad"

    def test_without_path(self) -> None:
        assert str(Problem("a.yaml", 7, "", "bad")) == "a.yaml:7: bad"

    def test_only_message(self) -> None:
        assert str(Problem("", None, "", "bad")) == "bad"

    def test_error_sorts_and_prints_one_per_line(self) -> None:
        err = ScenarioError(
            [
                Problem("b.yaml", 1, "x", "m1"),
                Problem("a.yaml", 9, "y", "m2"),
                Problem("a.yaml", 2, "z", "m3"),
                Problem("a.yaml", None, "", "m4"),
            ]
        )
        assert [(p.file, p.line) for p in err.problems] == [
            ("a.yaml", None),
            ("a.yaml", 2),
            ("a.yaml", 9),
            ("b.yaml", 1),
        ]
        assert str(err).splitlines() == [
            "a.yaml: m4",
            "a.yaml:2: z: m3",
            "a.yaml:9: y: m2",
            "b.yaml:1: x: m1",
        ]

    def test_error_pickles(self) -> None:
        err = ScenarioError([Problem("a.yaml", 1, "x", "bad")])
        again = pickle.loads(pickle.dumps(err))
        assert again.problems == err.problems
        assert str(again) == str(err)


# ---------------------------------------------------------------------------
# Loading and line numbers
# ---------------------------------------------------------------------------


# A document that cannot load, and the problems it must give (``ProblemSpec``).
LOADING_PROBLEMS = [
    pytest.param("a: 1\na: 2\na: 3\n", [(2, "a", (exact("duplicate key 'a' (first defined at line 1)"),)),
                                         (3, "a", (exact("duplicate key 'a' (first defined at line 1)"),))],
                 id="three_occurrences_refer_to_first"),
    pytest.param("a:\n  x: 1\n  x: 2\na: 3\n", [(3, "a.x", ()), (4, "a", ())],
                 id="problems_inside_shadowed_duplicate_reported"),
    pytest.param("yes:\n  a: 1\n  a: 2\n", [(1, ANY, ()), (3, ANY, ())],
                 id="problems_nested_under_bad_key_still_reported"),
    pytest.param("a: [1, 2\nb: 3\n", [(2, ANY, ("^YAML syntax error:",))], id="unclosed_flow_sequence"),
    pytest.param("a: 1\n---\nb: 2\n", [(2, ANY, ("single document",))], id="multiple_documents"),
    *(pytest.param(text, [(ANY, "", (exact(f"the scenario must be a mapping of fields (got {got})"),))],
                   id=f"top_level_must_be_mapping:{case}")
      for case, text, got in [("list", "- a\n- b\n", "a list"), ("string", "just text\n", "a string"),
                              ("number", "42\n", "a number"), ("empty", "", "an empty document"),
                              ("comment", "# only a comment\n", "an empty document")]),
    pytest.param("name: x\nschedule:\n  on: 1\n  off: 0\n  1.5: 3\n",
                 [(3, "schedule.on", ("^keys must be strings", "'on'")),
                  (4, "schedule.off", ("^keys must be strings",)),
                  (5, "schedule.1.5", ("^keys must be strings",))],
                 id="non_string_keys_are_reported_not_crashing"),
    pytest.param("a: !!python/object:os.system {}\n", [(1, "a", ())], id="unsafe_tags_rejected"),
]


class TestLoading:
    def test_nested_key_and_list_item_lines(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            "s.yaml",
            """
            name: demo
            roles:
              ae:
                headcount: 3
                max_open_opportunities: 25
            inbound:
              seasonality:
                - 1.0
                - 1.1
                - 0.9
              flow: [1, 2]
            """,
        )
        doc = load_document(path)
        sm = doc.source_map
        f = str(path)
        assert doc.file == f
        assert doc.files == [f]
        assert sm[("name",)] == (f, 1)
        assert sm[("roles",)] == (f, 2)
        assert sm[("roles", "ae")] == (f, 3)
        assert sm[("roles", "ae", "max_open_opportunities")] == (f, 5)
        assert sm[("inbound", "seasonality")] == (f, 7)
        assert sm[("inbound", "seasonality", 0)] == (f, 8)
        assert sm[("inbound", "seasonality", 2)] == (f, 10)
        assert sm[("inbound", "flow", 1)] == (f, 11)
        assert doc.data == {
            "name": "demo",
            "roles": {"ae": {"headcount": 3, "max_open_opportunities": 25}},
            "inbound": {"seasonality": [1.0, 1.1, 0.9], "flow": [1, 2]},
        }

    def test_list_of_mappings(self) -> None:
        doc = load_document_from_string("items:\n  - a: 1\n    b: 2\n  - a: 3\n")
        assert doc.source_map[("items", 0)] == ("<string>", 2)
        assert doc.source_map[("items", 0, "b")] == ("<string>", 3)
        assert doc.source_map[("items", 1, "a")] == ("<string>", 4)

    def test_accepts_pathlike_and_keeps_name_as_given(self, tmp_path: Path) -> None:
        path = write(tmp_path, "s.yaml", "name: x\n")
        assert load_document(path).file == str(path)

    def test_two_duplicate_keys_both_reported(self, tmp_path: Path) -> None:
        path = write(
            tmp_path,
            "dup.yaml",
            """
            name: demo
            roles:
              ae:
                headcount: 3
              sdr:
                headcount: 2
              ae:
                headcount: 4
            name: other
            """,
        )
        with pytest.raises(ScenarioError) as excinfo:
            load_document(path)
        problems = problems_of(excinfo)
        assert [(p.line, p.path, p.message) for p in problems] == [
            (7, "roles.ae", "duplicate key 'ae' (first defined at line 3)"),
            (9, "name", "duplicate key 'name' (first defined at line 1)"),
        ]
        assert all(p.file == str(path) for p in problems)

    def test_merge_key_is_not_a_duplicate(self) -> None:
        text = "base: &b {x: 1, y: 2}\nchild:\n  <<: *b\n  y: 3\n"
        doc = load_document_from_string(text)
        assert doc.data["child"] == {"x": 1, "y": 3}
        assert doc.source_map[("child", "x")] == ("<string>", 1)
        assert doc.source_map[("child", "y")] == ("<string>", 4)

    def test_syntax_error_has_line(self, tmp_path: Path) -> None:
        path = write(tmp_path, "bad.yaml", "name: demo\nroles:\n  ae: headcount: 3\n")
        with pytest.raises(ScenarioError) as excinfo:
            load_document(path)
        (problem,) = problems_of(excinfo)
        assert problem.file == str(path)
        assert problem.line == 3
        assert problem.path == ""
        assert problem.message == "YAML syntax error: mapping values are not allowed here"

    @pytest.mark.parametrize(("text", "expected"), LOADING_PROBLEMS)
    def test_problems_of_a_bad_document(self, text: str, expected: list[ProblemSpec]) -> None:
        with pytest.raises(ScenarioError) as excinfo:
            load_document_from_string(text)
        assert_problems(problems_of(excinfo), expected)

    def test_missing_file(self, tmp_path: Path) -> None:
        missing = str(tmp_path / "nope.yaml")
        with pytest.raises(ScenarioError) as excinfo:
            load_document(missing)
        assert problems_of(excinfo) == [Problem(missing, None, "", "file not found")]
        assert str(excinfo.value) == f"{missing}: file not found"

    def test_directory(self, tmp_path: Path) -> None:
        with pytest.raises(ScenarioError) as excinfo:
            load_document(tmp_path)
        (problem,) = problems_of(excinfo)
        assert problem.file == str(tmp_path)
        assert "directory" in problem.message

    def test_invalid_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "bin.yaml"
        path.write_bytes(b"name: ok\nother: \xff\xfe\n")
        with pytest.raises(ScenarioError) as excinfo:
            load_document(path)
        (problem,) = problems_of(excinfo)
        assert problem.line == 2
        assert "UTF-8" in problem.message

    def test_integer_keys_are_allowed_for_months(self) -> None:
        doc = load_document_from_string("hiring:\n  targets:\n    ae: {6: 8, 12: 10}\n")
        assert doc.data["hiring"]["targets"]["ae"] == {6: 8, 12: 10}
        assert doc.source_map[("hiring", "targets", "ae", 12)][1] == 3

    def test_recursive_alias_is_a_problem(self) -> None:
        with pytest.raises(ScenarioError):
            load_document_from_string("a: &x [1, *x]\n")

    def test_aliases_are_independent_copies(self) -> None:
        doc = load_document_from_string("a: &x {k: [1]}\nb: *x\n")
        doc.data["a"]["k"].append(2)
        assert doc.data["b"] == {"k": [1]}


# ---------------------------------------------------------------------------
# extends
# ---------------------------------------------------------------------------


class TestExtends:
    def test_merge_maps_replace_lists_and_scalars(self, tmp_path: Path) -> None:
        base = write(
            tmp_path,
            "base.yaml",
            """
            name: base
            roles:
              ae:
                headcount: 3
                quota: 100
              sdr:
                headcount: 2
            inbound:
              seasonality: [1, 1, 1, 1]
              mix:
                a: 1
            mode: simple
            kept: true
            """,
        )
        child = write(
            tmp_path,
            "child.yaml",
            """
            extends: base.yaml
            name: child
            roles:
              ae:
                headcount: 5
            inbound:
              seasonality:
                - 2
              mix: 7
            mode:
              kind: complex
            kept: null
            """,
        )
        doc = load_document(child)
        assert doc.data == {
            "name": "child",
            "roles": {"ae": {"headcount": 5, "quota": 100}, "sdr": {"headcount": 2}},
            "inbound": {"seasonality": [2], "mix": 7},
            "mode": {"kind": "complex"},
            "kept": None,
        }
        assert "extends" not in doc.data
        assert doc.file == str(child)
        assert doc.files == [str(child), str(base)]

        sm = doc.source_map
        c, b = str(child), str(base)
        assert ("extends",) not in sm
        assert sm[("name",)] == (c, 2)
        assert sm[("roles", "ae", "headcount")] == (c, 5)
        assert sm[("roles", "ae", "quota")] == (b, 5)
        assert sm[("roles", "sdr", "headcount")] == (b, 7)
        assert sm[("inbound", "seasonality")] == (c, 7)
        assert sm[("inbound", "seasonality", 0)] == (c, 8)
        # stale entries of replaced values are gone
        assert ("inbound", "seasonality", 1) not in sm
        assert ("inbound", "mix", "a") not in sm
        assert sm[("inbound", "mix")] == (c, 9)
        assert sm[("mode", "kind")] == (c, 11)
        assert sm[("kept",)] == (c, 12)

    def test_chain_of_two(self, tmp_path: Path) -> None:
        a = write(tmp_path, "a.yaml", "x: 1\ny: 1\nz: 1\n")
        b = write(tmp_path, "b.yaml", "extends: a.yaml\ny: 2\nz: 2\n")
        c = write(tmp_path, "c.yaml", "extends: b.yaml\nz: 3\n")
        doc = load_document(c)
        assert doc.data == {"x": 1, "y": 2, "z": 3}
        assert doc.files == [str(c), str(b), str(a)]
        assert doc.source_map[("x",)] == (str(a), 1)
        assert doc.source_map[("y",)] == (str(b), 2)
        assert doc.source_map[("z",)] == (str(c), 2)

    def test_cycle_detected(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        write(tmp_path, "a.yaml", "extends: b.yaml\nx: 1\n")
        write(tmp_path, "b.yaml", "y: 2\nextends: a.yaml\n")
        with pytest.raises(ScenarioError) as excinfo:
            load_document("a.yaml")
        (problem,) = problems_of(excinfo)
        assert problem.file == "b.yaml"
        assert problem.line == 2
        assert problem.path == "extends"
        assert problem.message == "extends cycle: a.yaml -> b.yaml -> a.yaml"

    def test_self_cycle(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        write(tmp_path, "a.yaml", "extends: ./a.yaml\n")
        with pytest.raises(ScenarioError) as excinfo:
            load_document("a.yaml")
        assert str(excinfo.value) == "a.yaml:1: extends: extends cycle: a.yaml -> a.yaml"

    def test_relative_to_extending_file_folder(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        write(tmp_path, "scenarios/base.yaml", "name: base\nteam: {size: 1}\n")
        write(tmp_path, "scenarios/common/shared.yaml", "extends: ../base.yaml\nshared: 1\n")
        write(
            tmp_path,
            "scenarios/variants/v1.yaml",
            "extends: ../common/shared.yaml\nteam:\n  size: 2\n",
        )
        doc = load_document("scenarios/variants/v1.yaml")
        assert doc.data == {"name": "base", "team": {"size": 2}, "shared": 1}
        assert doc.files == [
            "scenarios/variants/v1.yaml",
            "scenarios/common/shared.yaml",
            "scenarios/base.yaml",
        ]
        assert doc.source_map[("name",)] == ("scenarios/base.yaml", 1)
        assert doc.source_map[("team", "size")] == ("scenarios/variants/v1.yaml", 3)

    def test_from_string_resolves_relative_to_cwd(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        write(tmp_path, "sc/base.yaml", "a: 1\nb: 1\n")
        doc = load_document_from_string("extends: sc/base.yaml\nb: 2\n")
        assert doc.data == {"a": 1, "b": 2}
        assert doc.files == ["<string>", "sc/base.yaml"]
        assert doc.source_map[("b",)] == ("<string>", 2)
        assert doc.source_map[("a",)] == ("sc/base.yaml", 1)

    def test_missing_base(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        write(tmp_path, "c.yaml", "name: x\nextends: nothere.yaml\n")
        with pytest.raises(ScenarioError) as excinfo:
            load_document("c.yaml")
        (problem,) = problems_of(excinfo)
        assert (problem.file, problem.line, problem.path) == ("c.yaml", 2, "extends")
        assert "nothere.yaml" in problem.message
        assert "file not found" in problem.message

    @pytest.mark.parametrize("value", ["3", "[a.yaml]", "null", "''"])
    def test_extends_must_be_a_path(self, value: str) -> None:
        with pytest.raises(ScenarioError) as excinfo:
            load_document_from_string(f"name: x\nextends: {value}\n")
        (problem,) = problems_of(excinfo)
        assert (problem.line, problem.path) == (2, "extends")
        assert problem.message.startswith("extends must be the path of a base scenario file")

    def test_problems_in_child_and_base_reported_together(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        write(tmp_path, "base.yaml", "a: [1\n")
        write(tmp_path, "child.yaml", "extends: base.yaml\nx: 1\nx: 2\n")
        with pytest.raises(ScenarioError) as excinfo:
            load_document("child.yaml")
        assert [(p.file, p.line) for p in problems_of(excinfo)] == [
            ("base.yaml", 2),
            ("child.yaml", 3),
        ]

    def test_base_must_be_mapping(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        write(tmp_path, "base.yaml", "- 1\n")
        write(tmp_path, "child.yaml", "extends: base.yaml\n")
        with pytest.raises(ScenarioError) as excinfo:
            load_document("child.yaml")
        (problem,) = problems_of(excinfo)
        assert problem.file == "base.yaml"
        assert "got a list" in problem.message

    def test_nested_extends_key_is_plain_data(self) -> None:
        doc = load_document_from_string("a:\n  extends: whatever\n")
        assert doc.data == {"a": {"extends": "whatever"}}


# ---------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------


BASE_TEXT = """\
name: demo
roles:
  ae:
    headcount: 3
    ramp: {months: 3}
inbound:
  seasonality: [1, 1, 1]
"""


@pytest.fixture
def doc() -> Document:
    return load_document_from_string(BASE_TEXT, file="s.yaml")


class TestOverrides:
    @pytest.mark.parametrize(
        ("override", "path", "expected"),
        [
            ("roles.ae.headcount=8", ("roles", "ae", "headcount"), 8),
            ("roles.ae.share=0.5", ("roles", "ae", "share"), 0.5),
            ("roles.ae.enabled=true", ("roles", "ae", "enabled"), True),
            ("inbound.seasonality=[1,1,1.2]", ("inbound", "seasonality"), [1, 1, 1.2]),
            ("name=variant", ("name",), "variant"),
            ("name=a=b", ("name",), "a=b"),
            ("roles.ae.ramp={a: 1}", ("roles", "ae", "ramp"), {"a": 1}),
            ("roles.ae.ramp=", ("roles", "ae", "ramp"), None),
            ("name='8'", ("name",), "8"),
        ],
    )
    def test_value_parsing(
        self, doc: Document, override: str, path: tuple[str, ...], expected: object
    ) -> None:
        new = apply_overrides(doc, [override])
        value: object = new.data
        for key in path:
            assert isinstance(value, dict)
            value = value[key]
        assert value == expected
        assert type(value) is type(expected)
        assert new.source_map[path] == (f"--set {override}", None)

    def test_list_index(self, doc: Document) -> None:
        new = apply_overrides(doc, ["inbound.seasonality.1=2.5"])
        assert new.data["inbound"]["seasonality"] == [1, 2.5, 1]
        assert new.source_map[("inbound", "seasonality", 1)] == (
            "--set inbound.seasonality.1=2.5",
            None,
        )
        assert new.source_map[("inbound", "seasonality", 0)] == ("s.yaml", 7)

    def test_creates_missing_mappings(self, doc: Document) -> None:
        new = apply_overrides(doc, ["roles.csm.comp.base=5"])
        assert new.data["roles"]["csm"] == {"comp": {"base": 5}}
        origin = ("--set roles.csm.comp.base=5", None)
        assert new.source_map[("roles", "csm")] == origin
        assert new.source_map[("roles", "csm", "comp")] == origin
        assert new.source_map[("roles", "csm", "comp", "base")] == origin
        assert new.source_map[("roles",)] == ("s.yaml", 2)

    def test_replacing_mapping_drops_stale_entries_and_maps_nested(self, doc: Document) -> None:
        new = apply_overrides(doc, ["roles.ae={headcount: 1, extra: [1, 2]}"])
        origin = ("--set roles.ae={headcount: 1, extra: [1, 2]}", None)
        assert ("roles", "ae", "ramp") not in new.source_map
        assert ("roles", "ae", "ramp", "months") not in new.source_map
        assert new.source_map[("roles", "ae", "extra", 1)] == origin

    def test_later_override_wins(self, doc: Document) -> None:
        new = apply_overrides(doc, ["name=a", "name=b"])
        assert new.data["name"] == "b"
        assert new.source_map[("name",)] == ("--set name=b", None)

    def test_input_not_mutated(self, doc: Document) -> None:
        data_before = copy.deepcopy(doc.data)
        map_before = dict(doc.source_map)
        files_before = list(doc.files)
        new = apply_overrides(
            doc, ["roles.ae.headcount=8", "roles.new.x=1", "inbound.seasonality.0=9"]
        )
        assert doc.data == data_before
        assert doc.source_map == map_before
        assert doc.files == files_before
        assert new is not doc
        assert new.file == doc.file
        assert new.files == doc.files

    def test_no_overrides_gives_equal_copy(self, doc: Document) -> None:
        new = apply_overrides(doc, [])
        assert new == doc
        assert new.data is not doc.data

    @pytest.mark.parametrize(
        ("override", "path", "fragment"),
        [
            ("roles.ae.headcount", "roles.ae.headcount", "PATH=VALUE"),
            ("=3", "", "empty field path"),
            ("roles..ae=3", "roles..ae", "empty component"),
            ("inbound.seasonality.3=2", "inbound.seasonality.3", "out of range"),
            ("inbound.seasonality.x=2", "inbound.seasonality.x", "is a list"),
            ("roles.ae.headcount.max=2", "roles.ae.headcount.max", "inside 'roles.ae.headcount'"),
            ("name.first=2", "name.first", "not a mapping"),
            ("name=[1, 2", "name", "cannot parse value"),
        ],
    )
    def test_errors(self, doc: Document, override: str, path: str, fragment: str) -> None:
        with pytest.raises(ScenarioError) as excinfo:
            apply_overrides(doc, [override])
        (problem,) = problems_of(excinfo)
        assert problem.file == "--set"
        assert problem.line is None
        assert problem.path == path
        assert fragment in problem.message

    def test_all_errors_collected(self, doc: Document) -> None:
        with pytest.raises(ScenarioError) as excinfo:
            apply_overrides(doc, ["oops", "name=ok", "inbound.seasonality.9=1"])
        assert [p.path for p in problems_of(excinfo)] == ["oops", "inbound.seasonality.9"]
        assert doc.data["name"] == "demo"


# ---------------------------------------------------------------------------
# lookup_line
# ---------------------------------------------------------------------------


class TestLookupLine:
    SM = {  # noqa: RUF012 - read-only test data
        ("a",): ("f.yaml", 1),
        ("a", "b"): ("f.yaml", 2),
        ("a", "b", 0): ("g.yaml", 5),
    }

    def test_exact(self) -> None:
        assert lookup_line(self.SM, ("a", "b", 0), "d") == ("g.yaml", 5)

    def test_longest_prefix(self) -> None:
        assert lookup_line(self.SM, ("a", "b", "missing", 3), "d") == ("f.yaml", 2)
        assert lookup_line(self.SM, ("a", "zzz"), "d") == ("f.yaml", 1)

    def test_default(self) -> None:
        assert lookup_line(self.SM, ("zzz",), "d.yaml") == ("d.yaml", None)
        assert lookup_line(self.SM, (), "d.yaml") == ("d.yaml", None)

    def test_none_line(self) -> None:
        sm = {("a",): ("--set a=1", None)}
        assert lookup_line(sm, ("a", "b"), "d") == ("--set a=1", None)


# ---------------------------------------------------------------------------
# problems_from_validation_error
# ---------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Normal(_Strict):
    dist: Literal["normal"]
    mean: float
    sd: float = Field(ge=0)


class LogNormal(_Strict):
    dist: Literal["lognormal"]
    mu: float
    sigma: float = Field(gt=0)


Dist = Annotated[Normal | LogNormal, Field(discriminator="dist")]


class Segment(_Strict):
    churn_monthly: float = Field(ge=0, le=1)
    plan: Literal["basic", "pro", "enterprise"] = "basic"


class Scenario(_Strict):
    name: str
    segments: dict[str, Segment] = {}
    deal_size: Dist | None = None
    seasonality: list[float] = []


def allowed_keys(path: tuple[str | int, ...]) -> Iterable[str]:
    """Field names allowed at ``path`` in :class:`Scenario` (enough for the tests)."""
    if path == ():
        return Scenario.model_fields
    if len(path) == 2 and path[0] == "segments":
        return Segment.model_fields
    if path == ("deal_size",):
        return {*Normal.model_fields, *LogNormal.model_fields}
    return ()


def validation_problems(text: str, **kwargs: object) -> list[Problem]:
    doc = load_document_from_string(textwrap.dedent(text).lstrip("\n"), file="sc.yaml")
    return problems_for(doc, **kwargs)


def problems_for(doc: Document, **kwargs: object) -> list[Problem]:
    with pytest.raises(ValidationError) as excinfo:
        Scenario.model_validate(doc.data)
    return problems_from_validation_error(excinfo.value, doc, **kwargs)  # type: ignore[arg-type]


def by_path(problems: list[Problem]) -> dict[str, Problem]:
    result = {p.path: p for p in problems}
    assert len(result) == len(problems), problems
    return result


def _broken_hints(path: tuple[str | int, ...]) -> Iterable[str]:
    raise KeyError(path)


# A document that loads but does not validate against :class:`Scenario`: (text, ``allowed_keys``
# hints or None, the problems it must give as ``ProblemSpec``).
VALIDATION_PROBLEMS = [
    pytest.param("name: x\nnmae: y\n", None, [(2, "nmae", (exact("unknown field 'nmae' (not allowed here)"),))],
                 id="unknown_field_without_hint"),
    pytest.param("name: x\nzzzz: 1\n", allowed_keys,
                 [(ANY, ANY, (exact("unknown field 'zzzz' (not allowed here)"),))],
                 id="unknown_field_no_close_match"),
    pytest.param("name: x\nnmae: 1\n", _broken_hints, [(ANY, ANY, (exact("unknown field 'nmae' (not allowed here)"),))],
                 id="faulty_hint_callback_is_ignored"),
    pytest.param("name: x\ndeal_size:\n  dist: lognormal\n  mu: 1\n", None,
                 [(2, "deal_size.sigma", (exact("required field is missing"),))],
                 id="missing_field_inside_union_member"),
    pytest.param("name: x\ndeal_size:\n  dist: lognormall\n  mu: 1\n", None,
                 [(3, "deal_size.dist", ("'normal', 'lognormal'", "got 'lognormall'",
                                         re.escape("did you mean 'lognormal'?") + "$"))],
                 id="bad_discriminator_points_at_tag"),
    pytest.param("name: x\ndeal_size:\n  mu: 1\n", None, [(2, "deal_size.dist", ("^required field is missing",))],
                 id="missing_discriminator"),
    pytest.param("segments: {}\n", None, [(None, "name", (exact("required field is missing"),))],
                 id="missing_top_level_field_has_no_line"),
    pytest.param("name: x\nsegments: [1, 2]\n", None, [(2, "segments", ("got a list$",))],
                 id="wrong_container_type"),
]


class TestValidationProblems:
    TEXT = """
    name: demo
    segments:
      smb:
        churn_monthly: 1.5
        plan: premium
      ent:
        churn_rate: 0.01
    deal_size:
      dist: lognormal
      mu: 10
      sigma: -1
    seasonality: [1, x, 1]
    """

    def test_paths_lines_and_messages(self) -> None:
        problems = by_path(validation_problems(self.TEXT, allowed_keys=allowed_keys))
        assert set(problems) == {
            "segments.smb.churn_monthly",
            "segments.smb.plan",
            "segments.ent.churn_monthly",
            "segments.ent.churn_rate",
            "deal_size.sigma",
            "seasonality.1",
        }
        assert all(p.file == "sc.yaml" for p in problems.values())

        churn = problems["segments.smb.churn_monthly"]
        assert churn.line == 4
        assert churn.message == "Input should be less than or equal to 1; got 1.5"
        assert str(churn) == (
            "sc.yaml:4: segments.smb.churn_monthly: "
            "Input should be less than or equal to 1; got 1.5"
        )

        plan = problems["segments.smb.plan"]
        assert plan.line == 5
        assert plan.message == "Input should be 'basic', 'pro' or 'enterprise'; got 'premium'"

        missing = problems["segments.ent.churn_monthly"]
        assert missing.line == 6  # the parent mapping's line
        assert missing.message == "required field is missing"

        unknown = problems["segments.ent.churn_rate"]
        assert unknown.line == 7
        assert unknown.message == (
            "unknown field 'churn_rate' (not allowed here); did you mean 'churn_monthly'?"
        )

        sigma = problems["deal_size.sigma"]  # the 'lognormal' tag segment is stripped
        assert sigma.line == 11
        assert sigma.message == "Input should be greater than 0; got -1"

        item = problems["seasonality.1"]
        assert item.line == 12
        assert item.message.startswith("Input should be a valid number")
        assert item.message.endswith("got 'x'")

    @pytest.mark.parametrize(("text", "hints", "expected"), VALIDATION_PROBLEMS)
    def test_problem_of_a_bad_field(self, text: str, hints: object, expected: list[ProblemSpec]) -> None:
        kwargs = {} if hints is None else {"allowed_keys": hints}
        problems = validation_problems(text, **kwargs)
        assert all(p.file == "sc.yaml" for p in problems)
        assert_problems(problems, expected)

    def test_union_member_type_segments_stripped(self) -> None:
        class WithUnion(_Strict):
            value: float | list[float]

        doc = load_document_from_string("value: abc\n", file="u.yaml")
        with pytest.raises(ValidationError) as excinfo:
            WithUnion.model_validate(doc.data)
        problems = problems_from_validation_error(excinfo.value, doc)
        assert len(problems) == 2
        assert {(p.path, p.line) for p in problems} == {("value", 1)}

    def test_value_error_prefix_stripped_and_long_input_truncated(self) -> None:
        from pydantic import field_validator

        class Checked(_Strict):
            name: str
            code: int = 0

            @field_validator("name")
            @classmethod
            def _short(cls, v: str) -> str:
                if len(v) > 5:
                    raise ValueError("name is too long")
                return v

        doc = load_document_from_string(f"name: {'n' * 100}\ncode: {'c' * 100}\n")
        with pytest.raises(ValidationError) as excinfo:
            Checked.model_validate(doc.data)
        problems = by_path(problems_from_validation_error(excinfo.value, doc))
        assert problems["name"].message == "name is too long"
        code = problems["code"].message
        got = code.split("; got ", 1)[1]
        assert len(got) == 60
        assert got.endswith("...")

    def test_error_in_base_file_points_to_base(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.chdir(tmp_path)
        write(tmp_path, "base.yaml", "name: b\nsegments:\n  smb:\n    churn_monthly: 2\n")
        write(tmp_path, "child.yaml", "extends: base.yaml\nname: c\n")
        (problem,) = problems_for(load_document("child.yaml"))
        assert (problem.file, problem.line, problem.path) == (
            "base.yaml",
            4,
            "segments.smb.churn_monthly",
        )

    def test_error_from_override_points_to_set(self) -> None:
        doc = load_document_from_string("name: x\n", file="sc.yaml")
        doc = apply_overrides(doc, ["segments.smb.churn_monthly=-0.1"])
        (problem,) = problems_for(doc)
        assert problem.file == "--set segments.smb.churn_monthly=-0.1"
        assert problem.line is None
        assert str(problem) == (
            "--set segments.smb.churn_monthly=-0.1: segments.smb.churn_monthly: "
            "Input should be greater than or equal to 0; got -0.1"
        )


# ---------------------------------------------------------------------------
# yaml_dump
# ---------------------------------------------------------------------------


def test_yaml_dump_keeps_order_and_unicode() -> None:
    data = {"zeta": 1, "alpha": {"ü": "café", "list": [1, 2.5, None, True]}}
    text = yaml_dump(data)
    assert text.index("zeta") < text.index("alpha")
    assert "café" in text
    assert yaml.safe_load(text) == data


def test_dump_then_load_roundtrip() -> None:
    doc = load_document_from_string(BASE_TEXT)
    assert load_document_from_string(yaml_dump(doc.data)).data == doc.data
