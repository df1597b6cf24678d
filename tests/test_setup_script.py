"""setup.py: a regular install compiles the core when it can and falls back to pure Python when
it cannot (unless SALESIM_COMPILE=1 makes that an error); an editable install is never compiled
(its compiled modules would outlive edits to their sources)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path
from typing import Any

import pytest

SETUP = Path(__file__).resolve().parents[1] / "setup.py"


@pytest.fixture
def setup_script() -> dict[str, Any]:
    """setup.py's globals, loaded without running setup()."""
    return runpy.run_path(str(SETUP), run_name="setup_under_test")


@pytest.fixture
def without_mypyc(monkeypatch):
    """As in a build environment before pip has installed mypy into it."""
    monkeypatch.setitem(sys.modules, "mypyc", None)
    monkeypatch.setitem(sys.modules, "mypyc.build", None)


@pytest.mark.parametrize("value", ["0", "off", " No "])
def test_the_variable_at_0_makes_a_pure_python_build(setup_script, value):
    for argv in (["setup.py", "egg_info"], ["setup.py", "bdist_wheel"], ["setup.py", "editable_wheel"]):
        assert setup_script["compiled_core"](argv, {"SALESIM_COMPILE": value}) == {}


@pytest.mark.parametrize("environ", [{}, {"SALESIM_COMPILE": ""}, {"SALESIM_COMPILE": "auto"}])
def test_an_editable_install_is_pure_python_by_default(setup_script, environ):
    assert setup_script["compiled_core"](["setup.py", "editable_wheel"], environ) == {}


def test_a_compiled_editable_install_is_refused_with_a_reason(setup_script):
    with pytest.raises(SystemExit) as refused:
        setup_script["compiled_core"](["setup.py", "editable_wheel"], {"SALESIM_COMPILE": "1"})
    assert "pip install -e" in str(refused.value) and "SALESIM_COMPILE" in str(refused.value)


def test_an_unknown_value_is_refused_naming_the_accepted_ones(setup_script):
    with pytest.raises(SystemExit) as refused:
        setup_script["compiled_core"](["setup.py", "bdist_wheel"], {"SALESIM_COMPILE": "maybe"})
    assert "'maybe'" in str(refused.value) and "auto" in str(refused.value)


@pytest.mark.parametrize("environ", [{}, {"SALESIM_COMPILE": "1"}])
def test_asking_what_a_build_needs_names_mypy_and_the_typed_libraries(setup_script, environ, without_mypyc):
    needs = setup_script["compiled_core"](["setup.py", "egg_info"], environ)
    assert "ext_modules" not in needs
    assert any(r.startswith("mypy") for r in needs["setup_requires"])
    assert any(r.startswith(("simpy", "numpy")) for r in needs["setup_requires"])


def test_without_mypyc_a_default_build_is_pure_and_says_why(setup_script, without_mypyc, capsys):
    assert setup_script["compiled_core"](["setup.py", "bdist_wheel"], {}) == {}
    said = capsys.readouterr().err
    assert "mypy" in said and "pure-Python" in said and "SALESIM_COMPILE=1" in said


def test_without_mypyc_a_requested_build_fails(setup_script, without_mypyc):
    with pytest.raises(SystemExit) as refused:
        setup_script["compiled_core"](["setup.py", "bdist_wheel"], {"SALESIM_COMPILE": "1"})
    assert "mypy" in str(refused.value)


@pytest.mark.integration
def test_a_default_build_that_fails_to_compile_installs_no_extension(setup_script, tmp_path, capsys):
    """A C compiler error in build_ext: every output removed, nothing raised, the reason said."""
    from setuptools import Distribution, Extension

    source = tmp_path / "broken.c"
    source.write_text("this is not C;\n")
    built = tmp_path / "lib"
    distribution = Distribution({"name": "broken", "ext_modules": [Extension("broken", [str(source)])]})
    command = setup_script["OptionalBuildExt"](distribution)
    command.build_lib = str(built)
    command.build_temp = str(tmp_path / "temp")
    command.ensure_finalized()
    command.run()
    assert command.extensions == []
    assert not list(built.rglob("*.so")) and not list(built.rglob("*.pyd"))
    said = capsys.readouterr().err
    assert "compiled core was not built" in said and "pure-Python" in said


def test_a_compiled_build_lets_the_c_compiler_inline_across_the_core(setup_script, monkeypatch):
    """The extensions mypyc makes get ``-fno-semantic-interposition`` (see ``LOCAL_CALLS_FLAG``),
    after mypyc's own flags, on GCC/Clang platforms."""
    import types

    from setuptools import Extension

    made: list[Extension] = []

    def mypycify(paths, **options):
        made.extend(Extension(f"m{i}", [path], extra_compile_args=["-O3"]) for i, path in enumerate(paths))
        return made

    fake = types.ModuleType("mypyc.build")
    fake.mypycify = mypycify
    monkeypatch.setitem(sys.modules, "mypyc", types.ModuleType("mypyc"))
    monkeypatch.setitem(sys.modules, "mypyc.build", fake)
    arguments = setup_script["compiled_core"](["setup.py", "bdist_wheel"], {"SALESIM_COMPILE": "1"})
    assert arguments["ext_modules"] == made and made
    flag = setup_script["LOCAL_CALLS_FLAG"]
    for extension in made:
        assert extension.extra_compile_args == (["-O3"] if sys.platform == "win32" else ["-O3", flag])
