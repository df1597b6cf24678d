"""YAML layer for salesim scenarios.

This module loads scenario files while remembering where every value came
from (file and line), resolves ``extends:`` chains, applies ``--set``
overrides, and turns pydantic ``ValidationError`` objects into messages a
person can act on (``file:line: dotted.path: message``).

Every problem found in a file is collected and raised at once as a
:class:`ScenarioError`, so callers can print ``str(exc)`` and exit without a
traceback.

Examples
--------
>>> doc = load_document_from_string("name: demo\\nroles:\\n  ae: {headcount: 3}\\n")
>>> doc.source_map[("roles", "ae", "headcount")]
('<string>', 3)
>>> apply_overrides(doc, ["roles.ae.headcount=8"]).data["roles"]["ae"]["headcount"]
8
"""

from __future__ import annotations

import copy
import datetime
import difflib
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pydantic
import yaml

from sim.scenario.limits import MAX_SCENARIO_BYTES as _MAX_BYTES

__all__ = [
    "Document",
    "Problem",
    "ScenarioError",
    "SourceMap",
    "apply_overrides",
    "load_document",
    "load_document_from_string",
    "lookup_line",
    "problems_from_validation_error",
    "yaml_dump",
]

PathTuple = tuple[str | int, ...]
#: Path tuple -> ``(file, line)`` of the key or list item at that path.
#: ``line`` is 1-based, or ``None`` when the value has no line (``--set``).
SourceMap = dict[PathTuple, tuple[str, int | None]]

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_VALUE_TAG = "tag:yaml.org,2002:value"

#: Upper bound on constructed YAML nodes, to stop alias "billion laughs" blow-ups.
_MAX_NODES = 1_000_000
#: Longest input repr shown in messages.
_MAX_REPR = 60
_OVERRIDE_FILE = "--set"
_EXTENDS = "extends"


# ---------------------------------------------------------------------------
# Public data types
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One problem in a scenario, located as precisely as possible.

    Parameters
    ----------
    file : str
        The file as the user named it, ``"--set"`` for command-line overrides
        or ``"<string>"`` for text loaded from a string.
    line : int or None
        1-based line number, or ``None`` when unknown.
    path : str
        Dotted field path such as ``"roles.ae.headcount"`` (list indices as
        numbers, e.g. ``"inbound.seasonality.3"``); ``""`` for the whole
        document.
    message : str
        What is wrong or what was expected, written for a person.
    """

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        """Format as ``file:line: path: message``, omitting missing pieces."""
        location = self.file or ""
        if self.line is not None:
            location = f"{location}:{self.line}" if location else f"line {self.line}"
        parts = [p for p in (location, self.path) if p]
        parts.append(self.message)
        return ": ".join(parts)


def _problem_sort_key(problem: Problem) -> tuple[str, int]:
    return (problem.file, -1 if problem.line is None else problem.line)


class ScenarioError(Exception):
    """All problems found while loading or validating a scenario.

    Parameters
    ----------
    problems : iterable of Problem
        The problems; stored sorted by ``(file, line)`` (problems without a
        line come first within their file).

    Attributes
    ----------
    problems : list of Problem
        The sorted problems.
    document : Document or None
        What could still be loaded (e.g. with duplicate keys, last one wins), so that
        field validation can report its problems in the same pass.
    """

    def __init__(self, problems: Iterable[Problem], document: Document | None = None) -> None:
        self.problems: list[Problem] = sorted(problems, key=_problem_sort_key)
        self.document = document
        super().__init__(self.problems)

    def __reduce__(self):  # keep pickling simple (executors ship exceptions between processes)
        return (ScenarioError, (self.problems,))

    def __str__(self) -> str:
        """Return one problem per line."""
        return "\n".join(str(p) for p in self.problems)


@dataclass
class Document:
    """A loaded scenario document.

    Attributes
    ----------
    data : dict
        Plain Python data after the ``extends`` merge (the ``extends`` key is
        removed).
    source_map : SourceMap
        For every mapping key and list item (nested), where it was defined;
        after merging and overriding the last writer wins.
    file : str
        The top file, as the user named it.
    files : list of str
        All files read: the top file first, then its bases in chain order.
    """

    data: dict[str, Any]
    source_map: SourceMap
    file: str
    files: list[str]


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------


def _dotted(path: Iterable[str | int]) -> str:
    return ".".join(str(p) for p in path)


def _kind(value: Any) -> str:
    """Describe the type of a YAML value for a person."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _show(value: Any) -> str:
    """Render a scalar the way it would be written in YAML, truncated."""
    if value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = repr(value)
    if len(text) > _MAX_REPR:
        text = text[: _MAX_REPR - 3] + "..."
    return text


def _line_of(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _drop_under(source_map: SourceMap, prefixes: Iterable[PathTuple]) -> None:
    """Remove, in place, every entry at or below one of ``prefixes``."""
    drop = set(prefixes)
    if not drop:
        return
    lengths = sorted({len(p) for p in drop})
    stale = [
        path for path in source_map if any(path[:n] in drop for n in lengths if n <= len(path))
    ]
    for path in stale:
        del source_map[path]


def _map_value(
    source_map: SourceMap, path: PathTuple, value: Any, where: tuple[str, int | None]
) -> None:
    """Point ``path`` and every key/item nested in ``value`` at ``where``."""
    source_map[path] = where
    if isinstance(value, dict):
        for key, sub in value.items():
            _map_value(source_map, (*path, key), sub, where)
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            _map_value(source_map, (*path, index), sub, where)


# ---------------------------------------------------------------------------
# YAML loading with line tracking
# ---------------------------------------------------------------------------


class _TooLargeError(Exception):
    """Raised when a document expands to more nodes than :data:`_MAX_NODES`."""


class _TrackingLoader(yaml.SafeLoader):
    """SafeLoader that records line numbers and reports duplicate keys.

    Instead of PyYAML's generic construction, :meth:`load_tracked` walks the
    composed node graph itself so that it knows the path of every value. It
    records the line of each mapping key and list item in ``source_map`` and
    collects problems (duplicate keys, non-string keys, recursive aliases,
    unknown tags) in ``problems`` rather than stopping at the first one.

    Parameters
    ----------
    stream : str
        The YAML text.
    file : str
        File name used in source-map entries and problems.
    """

    def __init__(self, stream: str, file: str) -> None:
        super().__init__(stream)
        self.file = file
        self.source_map: SourceMap = {}
        self.problems: list[Problem] = []
        self._active: set[int] = set()
        self._flattening: set[int] = set()
        self._budget = _MAX_NODES

    # -- entry point -------------------------------------------------------

    def load_tracked(self) -> tuple[Any, int | None]:
        """Compose and construct the single document in the stream.

        Returns
        -------
        data : Any
            The constructed document (``None`` for an empty stream).
        line : int or None
            Line where the top-level node starts, ``None`` for an empty stream.

        Raises
        ------
        yaml.MarkedYAMLError
            On syntax errors (raised by PyYAML's composer).
        """
        node = self.get_single_node()
        if node is None:
            return None, None
        return self._construct(node, ()), _line_of(node)

    # -- helpers -----------------------------------------------------------

    def _report(self, line: int | None, path: PathTuple | str, message: str) -> None:
        dotted = path if isinstance(path, str) else _dotted(path)
        self.problems.append(Problem(self.file, line, dotted, message))

    def _construct(self, node: yaml.Node, path: PathTuple) -> Any:
        self._budget -= 1
        if self._budget < 0:
            raise _TooLargeError
        is_map = isinstance(node, yaml.MappingNode) and node.tag == _MAP_TAG
        is_seq = isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG
        if not (is_map or is_seq):
            return self._construct_other(node, path)
        if id(node) in self._active:
            self._report(
                _line_of(node),
                path,
                "recursive alias (a value that contains itself) is not allowed",
            )
            return None
        self._active.add(id(node))
        try:
            if is_map:
                return self._construct_mapping_tracked(node, path)
            return self._construct_sequence_tracked(node, path)
        finally:
            self._active.discard(id(node))

    def _construct_other(self, node: yaml.Node, path: PathTuple) -> Any:
        """Construct scalars and specially tagged collections with PyYAML."""
        try:
            return self.construct_object(node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            mark = exc.problem_mark or node.start_mark
            self._report(mark.line + 1, path, f"YAML error: {exc.problem or exc.context}")
            return None
        except ValueError as exc:  # a timestamp that is no date: 2026-02-30
            self._report(_line_of(node), path, f"{_show(node.value)} is not a valid date ({exc})")
            return None

    def _construct_sequence_tracked(self, node: yaml.SequenceNode, path: PathTuple) -> list[Any]:
        result = []
        for index, item in enumerate(node.value):
            item_path = (*path, index)
            self.source_map[item_path] = (self.file, _line_of(item))
            result.append(self._construct(item, item_path))
        return result

    def _construct_key(
        self, key_node: yaml.Node, path: PathTuple, report: bool
    ) -> tuple[bool, Any]:
        """Construct a mapping key; return ``(ok, key)``; report bad keys."""
        if key_node.tag == _VALUE_TAG:  # the bare "=" key; PyYAML treats it as a string
            return True, key_node.value
        if not isinstance(key_node, yaml.ScalarNode):
            if report:
                got = "a list" if isinstance(key_node, yaml.SequenceNode) else "a mapping"
                self._report(_line_of(key_node), path, f"keys must be strings (got {got} as a key)")
            return False, None
        try:
            key = self.construct_object(key_node, deep=True)
        except yaml.constructor.ConstructorError as exc:
            if report:
                self._report(_line_of(key_node), path, f"YAML error: {exc.problem or exc.context}")
            return False, None
        if isinstance(key, str):
            return True, key
        if isinstance(key, int) and not isinstance(key, bool):  # e.g. months: {6: 8, 12: 10}
            return True, key
        if isinstance(key, datetime.date) and not isinstance(key, datetime.datetime):  # {2026-06-01: 10}
            return True, key
        if report:
            raw = key_node.value
            self._report(
                _line_of(key_node),
                (*path, raw),
                f"keys must be strings: {raw!r} was read as {_kind(key)} ({_show(key)}); "
                f'write it in quotes, e.g. "{raw}"',
            )
        return False, None

    def _merge_sources(self, node: yaml.MappingNode, path: PathTuple) -> list[tuple[Any, Any]]:
        """Return ``(key_node, value_node)`` pairs pulled in by ``<<`` merge keys.

        Pairs are ordered from lowest to highest priority (later pairs win),
        mirroring PyYAML's ``flatten_mapping`` but without mutating the nodes.
        """
        pairs: list[tuple[Any, Any]] = []
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                continue
            if isinstance(value_node, yaml.MappingNode):
                sources = [value_node]
            elif isinstance(value_node, yaml.SequenceNode):
                sources = list(value_node.value)
            else:
                sources = [value_node]
            for source in reversed(sources):  # earlier sources take precedence
                if not (isinstance(source, yaml.MappingNode) and source.tag == _MAP_TAG):
                    self._report(
                        _line_of(source),
                        path,
                        "the merge key '<<' expects a mapping or a list of mappings",
                    )
                    continue
                pairs.extend(self._flatten(source, path))
        return pairs

    def _flatten(self, node: yaml.MappingNode, path: PathTuple) -> list[tuple[Any, Any]]:
        if id(node) in self._flattening:
            self._report(_line_of(node), path, "recursive merge ('<<') is not allowed")
            return []
        self._flattening.add(id(node))
        try:
            merged = self._merge_sources(node, path)
            explicit = [(k, v) for k, v in node.value if k.tag != _MERGE_TAG]
            return merged + explicit
        finally:
            self._flattening.discard(id(node))

    def _construct_mapping_tracked(self, node: yaml.MappingNode, path: PathTuple) -> dict[str, Any]:
        # key -> (key node, value node); merged keys first, explicit keys override them.
        entries: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in self._merge_sources(node, path):
            ok, key = self._construct_key(key_node, path, report=False)
            if ok:
                entries[key] = (key_node, value_node)

        first_seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            ok, key = self._construct_key(key_node, path, report=True)
            line = _line_of(key_node)
            if not ok:
                # Still walk the value so problems nested inside it are reported too
                # (the document is rejected anyway, so its source-map entries don't matter).
                raw = key_node.value if isinstance(key_node, yaml.ScalarNode) else "?"
                self._construct(value_node, (*path, raw))
                continue
            if key in first_seen:
                self._report(
                    line,
                    (*path, key),
                    f"duplicate key {key!r} (first defined at line {first_seen[key]})",
                )
                # Report problems inside the value being shadowed as well.
                self._construct(entries[key][1], (*path, key))
            else:
                first_seen[key] = line
            entries[key] = (key_node, value_node)

        result: dict[str, Any] = {}
        for key, (key_node, value_node) in entries.items():
            key_path = (*path, key)
            self.source_map[key_path] = (self.file, _line_of(key_node))
            result[key] = self._construct(value_node, key_path)
        return result


@dataclass
class _Parsed:
    data: Any
    source_map: SourceMap
    problems: list[Problem]
    ok: bool  # False when the text could not be parsed at all
    line: int | None = None  # line of the top-level node


def _parse(text: str, file: str) -> _Parsed:
    """Parse YAML text, collecting problems instead of raising."""
    try:
        loader = _TrackingLoader(text, file)
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        if isinstance(exc.character, int):
            message = f"special character #x{exc.character:04x} is not allowed in YAML text"
        else:  # pragma: no cover - only byte streams report undecodable characters
            message = f"cannot read the text: {exc.reason}"
        return _Parsed(None, {}, [Problem(file, line, "", message)], ok=False)
    try:
        data, line = loader.load_tracked()
    except yaml.MarkedYAMLError as exc:
        return _Parsed(None, {}, [_syntax_problem(exc, file)], ok=False)
    except yaml.YAMLError as exc:  # pragma: no cover - defensive: unmarked PyYAML errors
        return _Parsed(None, {}, [Problem(file, None, "", f"YAML error: {exc}")], ok=False)
    except RecursionError:
        message = "the document is nested too deeply"
        return _Parsed(None, {}, [Problem(file, None, "", message)], ok=False)
    except _TooLargeError:
        message = "the document is too large (too many values, possibly from repeated aliases)"
        return _Parsed(None, {}, [Problem(file, None, "", message)], ok=False)
    finally:
        loader.dispose()
    return _Parsed(data, loader.source_map, loader.problems, ok=True, line=line)


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else None
    kind = (
        "YAML error" if isinstance(exc, yaml.constructor.ConstructorError) else "YAML syntax error"
    )
    detail = exc.problem or exc.context or "invalid YAML"
    if exc.problem and exc.context and exc.problem.startswith("but "):
        # e.g. "expected a single document in the stream, but found another document"
        return Problem(file, line, "", f"{kind}: {exc.context}, {exc.problem}")
    message = f"{kind}: {detail}"
    if exc.problem and exc.context and exc.context_mark is not None:
        context_line = exc.context_mark.line + 1
        if context_line != line:
            message += f" ({exc.context} started at line {context_line})"
    return Problem(file, line, "", message)


def _too_large(size: int | None) -> str:
    mib = _MAX_BYTES / 2**20
    what = f"the file has {size / 2**20:,.1f} MiB" if size is not None else "the file does not end"
    return f"{what}; a scenario file has at most {mib:g} MiB"


def _read_text(fs_path: str, display: str) -> tuple[str | None, Problem | None]:
    """Read a file as text; return ``(text, None)`` or ``(None, problem)``. A file larger than
    :data:`~sim.scenario.limits.MAX_SCENARIO_BYTES`, or a stream that does not end (``/dev/zero``),
    is refused after reading at most that much."""
    try:
        with open(fs_path, "rb") as handle:
            info = os.fstat(handle.fileno())
            if stat.S_ISREG(info.st_mode) and info.st_size > _MAX_BYTES:
                return None, Problem(display, None, "", _too_large(info.st_size))
            raw = handle.read(_MAX_BYTES + 1)
            if len(raw) > _MAX_BYTES:
                return None, Problem(display, None, "", _too_large(None if not stat.S_ISREG(info.st_mode)
                                                                   else info.st_size))
    except FileNotFoundError:
        return None, Problem(display, None, "", "file not found")
    except IsADirectoryError:
        return None, Problem(display, None, "", "is a directory, not a scenario file")
    except PermissionError:
        return None, Problem(display, None, "", "cannot read the file: permission denied")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        return None, Problem(display, None, "", f"cannot read the file: {reason}")
    try:
        if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
            return raw.decode("utf-16"), None
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start : exc.start + 1].hex()
        return None, Problem(display, line, "", f"the file is not valid UTF-8 text (byte 0x{bad})")


# ---------------------------------------------------------------------------
# extends: resolution and merging
# ---------------------------------------------------------------------------


def _deep_merge(
    base: dict[str, Any],
    base_map: SourceMap,
    child: dict[str, Any],
    child_map: SourceMap,
) -> tuple[dict[str, Any], SourceMap]:
    """Merge ``child`` over ``base``: mappings merge, everything else replaces."""
    source_map = dict(base_map)
    replaced: list[PathTuple] = []

    def merge(into: dict[str, Any], over: dict[str, Any], path: PathTuple) -> None:
        for key, value in over.items():
            key_path = (*path, key)
            current = into.get(key)
            if key in into and isinstance(current, dict) and isinstance(value, dict):
                merge(current, value, key_path)
            else:
                if key in into:
                    replaced.append(key_path)
                into[key] = value

    result = base  # both inputs are freshly constructed, so merging in place is safe
    merge(result, child, ())
    _drop_under(source_map, replaced)
    source_map.update(child_map)
    return result, source_map


class _Loader:
    """Loads a scenario and its ``extends`` chain, collecting all problems."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.files: list[str] = []

    def load(
        self,
        text: str,
        display: str,
        base_dir: str,
        chain: list[tuple[str, str]],
    ) -> tuple[dict[str, Any], SourceMap] | None:
        """Load ``text`` (named ``display``) and merge it over its bases.

        Parameters
        ----------
        text : str
            YAML text.
        display : str
            Name of the file for messages.
        base_dir : str
            Folder against which ``extends`` paths are resolved (``""`` for cwd).
        chain : list of (str, str)
            ``(real path, display name)`` of the files extending this one,
            including this one, used to detect cycles.

        Returns
        -------
        tuple or None
            ``(data, source_map)``, or ``None`` if the document was unusable.
        """
        self.files.append(display)
        parsed = _parse(text, display)
        self.problems.extend(parsed.problems)
        if not parsed.ok:
            return None
        data = parsed.data
        if not isinstance(data, dict):
            got = "an empty document" if data is None else _kind(data)
            self.problems.append(
                Problem(
                    display,
                    parsed.line,
                    "",
                    f"the scenario must be a mapping of fields (got {got})",
                )
            )
            return None
        source_map = parsed.source_map
        if _EXTENDS not in data:
            return data, source_map

        target = data.pop(_EXTENDS)
        _, ext_line = source_map.get((_EXTENDS,), (display, None))
        _drop_under(source_map, [(_EXTENDS,)])
        if not isinstance(target, str) or not target.strip():
            got = _show(target) if _is_scalar(target) else _kind(target)
            self.problems.append(
                Problem(
                    display,
                    ext_line,
                    _EXTENDS,
                    f"extends must be the path of a base scenario file (got {got})",
                )
            )
            return data, source_map

        target = target.strip()
        fs_path = os.path.normpath(os.path.join(base_dir, target))
        real = os.path.realpath(fs_path)
        if any(real == seen for seen, _ in chain):
            names = " -> ".join([*(name for _, name in chain), fs_path])
            self.problems.append(Problem(display, ext_line, _EXTENDS, f"extends cycle: {names}"))
            return data, source_map

        base_text, problem = _read_text(fs_path, fs_path)
        if base_text is None:
            assert problem is not None
            if problem.line is not None:  # e.g. bad encoding: the base's own line is better
                self.problems.append(problem)
                return data, source_map
            self.problems.append(
                Problem(
                    display,
                    ext_line,
                    _EXTENDS,
                    f"cannot use base scenario '{fs_path}': {problem.message}",
                )
            )
            return data, source_map

        base = self.load(base_text, fs_path, os.path.dirname(fs_path), [*chain, (real, fs_path)])
        if base is None:
            return data, source_map
        base_data, base_map = base
        return _deep_merge(base_data, base_map, data, source_map)


def load_document(path: str | os.PathLike[str]) -> Document:
    """Load a scenario file, resolving ``extends`` chains.

    Parameters
    ----------
    path : str or os.PathLike
        The scenario file. It is named in problems exactly as given.

    Returns
    -------
    Document
        The merged data, its source map and the list of files read.

    Raises
    ------
    ScenarioError
        With every problem found: unreadable files, YAML syntax errors,
        duplicate or non-string keys, a non-mapping document, bad or cyclic
        ``extends``.
    """
    display = os.fspath(path)
    text, problem = _read_text(display, display)
    if text is None:
        assert problem is not None
        raise ScenarioError([problem])
    real = os.path.realpath(display)
    return _finish(text, display, os.path.dirname(display), [(real, display)])


def load_document_from_string(text: str, file: str = "<string>") -> Document:
    """Load a scenario from YAML text.

    Parameters
    ----------
    text : str
        YAML text.
    file : str, optional
        Name used in problems and the source map (default ``"<string>"``).

    Returns
    -------
    Document
        As for :func:`load_document`; ``extends`` paths are resolved relative
        to the current working directory.

    Raises
    ------
    ScenarioError
        With every problem found.
    """
    return _finish(text, file, "", [(f"\0{file}", file)])


def _finish(text: str, display: str, base_dir: str, chain: list[tuple[str, str]]) -> Document:
    loader = _Loader()
    result = loader.load(text, display, base_dir, chain)
    if result is None:
        raise ScenarioError(loader.problems)
    data, source_map = result
    _resolve_org_files(data, source_map, base_dir if display.startswith("<") else None, loader)
    document = Document(data=data, source_map=source_map, file=display, files=loader.files)
    if loader.problems:
        raise ScenarioError(loader.problems, document=document)
    return document


_ORG_FROM = "org_from"


def _resolve_org_files(data: dict[str, Any], source_map: SourceMap, string_dir: str | None, loader: _Loader) -> None:
    """``reorg[i].org_from: pod.yaml``: the target org is that file's ``org:`` block (after its own
    ``extends``), with the reorg's inline ``org`` merged over it as ``extends`` merges. The path is
    relative to the file that names it. Problems go to ``loader.problems``."""
    changes = data.get("reorg")
    if not isinstance(changes, list):
        return
    for i, change in enumerate(changes):
        if not isinstance(change, dict) or _ORG_FROM not in change:
            continue
        ref = change.pop(_ORG_FROM)
        file, line = source_map.pop(("reorg", i, _ORG_FROM), ("<string>", None))
        dotted = f"reorg.{i}.{_ORG_FROM}"
        if not isinstance(ref, str) or not ref:
            loader.problems.append(Problem(file, line, dotted, "org_from must be the path of a scenario file whose "
                                                               f"org: block is the target org (got {ref!r})"))
            continue
        folder = string_dir if string_dir is not None and file.startswith("<") else os.path.dirname(file)
        try:
            other = load_document(os.path.join(folder, ref))
        except ScenarioError as exc:
            loader.problems.append(Problem(file, line, dotted, f"cannot use {ref!r} as the target org: "
                                                               + "; ".join(str(p) for p in exc.problems)))
            continue
        base = other.data.get("org")
        if not isinstance(base, dict):
            loader.problems.append(Problem(file, line, dotted, f"{ref!r} has no org: block to reorganize into"))
            continue
        prefix: PathTuple = ("reorg", i, "org")
        base_map = {key[1:]: where for key, where in other.source_map.items() if key[:1] == ("org",)}
        inline = change.get("org") if isinstance(change.get("org"), dict) else {}
        inline_map = {key[3:]: where for key, where in source_map.items() if key[:3] == prefix and len(key) > 3}
        merged, merged_map = _deep_merge(base, base_map, inline, inline_map)
        change["org"] = merged
        _drop_under(source_map, [key for key in source_map if key[:3] == prefix and len(key) > 3])
        source_map.setdefault(prefix, (file, line))
        source_map.update({(*prefix, *key): where for key, where in merged_map.items()})


# ---------------------------------------------------------------------------
# --set overrides
# ---------------------------------------------------------------------------


class _OverrideError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _step(container: Any, component: str, path: list[str | int]) -> str | int:
    """Return the key or index for ``component`` inside ``container``."""
    if isinstance(container, dict):
        return component
    if isinstance(container, list):
        where = _dotted(path) or "the document"
        if not re.fullmatch(r"\d+", component):
            if not container:
                raise _OverrideError(f"'{where}' is an empty list; it has no item '{component}'")
            raise _OverrideError(
                f"'{where}' is a list; use a number from 0 to {len(container) - 1} "
                f"instead of '{component}'"
            )
        index = int(component)
        if index >= len(container):
            items = "item" if len(container) == 1 else "items"
            raise _OverrideError(
                f"index {index} is out of range: '{where}' has {len(container)} {items}"
            )
        return index
    shown = _show(container) if _is_scalar(container) else _kind(container)
    raise _OverrideError(
        f"cannot set '{component}' inside '{_dotted(path)}', which is {_kind(container)} "
        f"({shown}), not a mapping or a list"
    )


def _override_one(
    data: dict[str, Any], source_map: SourceMap, components: list[str], value: Any, origin: str
) -> None:
    """Set ``value`` at ``components`` in ``data`` and ``source_map`` (in place)."""
    where: tuple[str, int | None] = (origin, None)
    container: Any = data
    path: list[str | int] = []
    for component in components[:-1]:
        key = _step(container, component, path)
        if isinstance(container, dict) and key not in container:
            container[key] = {}
            source_map[(*path, key)] = where
        path.append(key)
        container = container[key]
    key = _step(container, components[-1], path)
    full = (*path, key)
    container[key] = value
    _drop_under(source_map, [full])
    _map_value(source_map, full, value, where)


def _unknown_name(
    data: dict[str, Any], components: list[str], named_maps: Mapping[PathTuple, str], dotted: str, text: str
) -> str | None:
    """Why ``components`` may not be set without ``+``: the name of a role, segment, ... (a key of
    one of ``named_maps``) that the document does not define; None if every name exists."""
    node: Any = data
    for depth, component in enumerate(components[:-1]):
        path = tuple(components[: depth + 1])
        node = node.get(component) if isinstance(node, dict) else None
        kind = named_maps.get(path)
        if kind is None:
            continue
        name = components[depth + 1]
        defined = list(node) if isinstance(node, dict) else []
        if name in defined:
            continue
        shown = ", ".join(str(k) for k in defined) or "none"
        message = f"{kind} {name!r} does not exist ({_dotted(path)}: {shown})"
        close = difflib.get_close_matches(name, [str(k) for k in defined], n=1)
        close = close or [k for k in defined if str(k).lower() == name.lower()]
        message += f"; did you mean {close[0]!r}?" if close else "."
        value = text.partition("=")[2]
        return message + f" To add a new {kind}, write --set '+{dotted}={value}'"
    return None


def apply_overrides(
    doc: Document, overrides: Sequence[str], named_maps: Mapping[PathTuple, str] | None = None
) -> Document:
    """Apply ``--set PATH=VALUE`` overrides to a document.

    Parameters
    ----------
    doc : Document
        The document; it is not modified.
    overrides : sequence of str
        Items like ``"roles.ae.headcount=8"``. The text is split at the first
        ``=``; the path is split on ``.``; numeric components index lists.
        The value is parsed with ``yaml.safe_load`` (``8`` -> int, ``0.5`` ->
        float, ``true`` -> bool, ``[1, 2]`` -> list, ``{a: 1}`` -> dict,
        anything else -> string). Missing intermediate mappings are created.
        A leading ``+`` (``+roles.vp.headcount=1``) allows the override to add
        a name to one of ``named_maps``.
    named_maps : mapping, optional
        Paths of maps of named things (``("roles",)`` -> ``"role"``): an
        override that would create a name in one of them without ``+`` is a
        problem (most often a typo: ``roles.AE`` for ``roles.ae``), with a
        "did you mean".

    Returns
    -------
    Document
        A new document; source-map entries of overridden values point to
        ``("--set <override text>", None)``.

    Raises
    ------
    ScenarioError
        With a problem (file ``"--set"``) for every malformed override: no
        ``=``, empty path, unparsable value, non-numeric or out-of-range list
        index, or a path that descends into a scalar.
    """
    data = copy.deepcopy(doc.data)
    source_map = dict(doc.source_map)
    problems: list[Problem] = []
    for text in overrides:
        raw_path, sep, raw_value = text.partition("=")
        dotted = raw_path.strip()
        adding = dotted.startswith("+")
        dotted = dotted.removeprefix("+").strip()
        if not sep:
            problems.append(
                Problem(
                    _OVERRIDE_FILE,
                    None,
                    dotted,
                    f"expected PATH=VALUE (e.g. roles.ae.headcount=8), got {text!r}",
                )
            )
            continue
        if not dotted:
            problems.append(
                Problem(_OVERRIDE_FILE, None, "", f"empty field path before '=' in {text!r}")
            )
            continue
        components = [c.strip() for c in dotted.split(".")]
        if any(not c for c in components):
            problems.append(Problem(_OVERRIDE_FILE, None, dotted, "empty component in field path"))
            continue
        try:
            value = yaml.safe_load(raw_value)
        except (yaml.YAMLError, ValueError) as exc:  # ValueError: a timestamp that is no date (2026-02-30)
            detail = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            problems.append(
                Problem(_OVERRIDE_FILE, None, dotted, f"cannot parse value {raw_value!r}: {detail}")
            )
            continue
        unknown = None if adding or not named_maps else _unknown_name(data, components, named_maps, dotted, text)
        if unknown is not None:
            problems.append(Problem(_OVERRIDE_FILE, None, dotted, unknown))
            continue
        try:
            _override_one(data, source_map, components, value, f"{_OVERRIDE_FILE} {text}")
        except _OverrideError as exc:
            problems.append(Problem(_OVERRIDE_FILE, None, dotted, exc.message))
    if problems:
        raise ScenarioError(problems)
    return Document(data=data, source_map=source_map, file=doc.file, files=list(doc.files))


# ---------------------------------------------------------------------------
# Locating and explaining validation errors
# ---------------------------------------------------------------------------


def lookup_line(
    source_map: SourceMap, path: tuple[str | int, ...], default_file: str
) -> tuple[str, int | None]:
    """Find where ``path`` (or its closest recorded ancestor) was defined.

    Parameters
    ----------
    source_map : SourceMap
        Map from path tuples to ``(file, line)``.
    path : tuple
        Path of the value of interest.
    default_file : str
        File returned when no prefix of ``path`` is in the map.

    Returns
    -------
    tuple of (str, int or None)
        ``(file, line)`` of the longest prefix of ``path`` present in the
        map, else ``(default_file, None)``.
    """
    for length in range(len(path), -1, -1):
        found = source_map.get(tuple(path[:length]))
        if found is not None:
            return found
    return default_file, None


def _quoted_choices(text: str) -> list[str]:
    """Extract ``'a'``-style quoted choices from a pydantic expectation text."""
    return re.findall(r"'((?:[^'\\]|\\.)*)'", text)


def _did_you_mean(word: Any, choices: Iterable[str]) -> str:
    if not isinstance(word, str):
        return ""
    options = [c for c in choices if isinstance(c, str) and c != word]
    matches = difflib.get_close_matches(word, options, n=1)
    return f"; did you mean '{matches[0]}'?" if matches else ""


def _got(value: Any) -> str:
    if _is_scalar(value):
        return f"got {_show(value)}"
    return f"got {_kind(value)}"


def _child(node: Any, segment: str | int) -> tuple[bool, Any]:
    """Return ``(True, value)`` if ``segment`` is a key/index of ``node``."""
    if isinstance(node, dict) and isinstance(segment, str) and segment in node:
        return True, node[segment]
    if (
        isinstance(node, list)
        and isinstance(segment, int)
        and not isinstance(segment, bool)
        and 0 <= segment < len(node)
    ):
        return True, node[segment]
    return False, None


def _resolve_loc(loc: Sequence[str | int], data: Any, keep_missing_last: bool) -> list[str | int]:
    """Keep only the ``loc`` segments that exist in ``data``.

    Segments that pydantic adds for unions, tags and validator functions do not
    exist in the data and are dropped; a missing last segment is kept when
    ``keep_missing_last`` is true (it names a missing required field).
    """
    kept: list[str | int] = []
    node = data
    for position, segment in enumerate(loc):
        found, child = _child(node, segment)
        if found:
            kept.append(segment)
            node = child
        elif keep_missing_last and position == len(loc) - 1:
            kept.append(segment)
    return kept


def _value_at(data: Any, path: Sequence[str | int]) -> Any:
    for segment in path:
        data = data[segment]
    return data


def _message(
    err: Any,
    path: list[str | int],
    allowed_keys: Callable[[tuple[str | int, ...]], Iterable[str] | None] | None,
) -> str:
    kind: str = err.get("type", "")
    msg: str = err.get("msg", "")
    value = err.get("input")
    ctx = err.get("ctx") or {}

    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        name = path[-1] if path else "?"
        text = f"unknown field '{name}' (not allowed here)"
        if allowed_keys is not None:
            try:
                allowed = allowed_keys(tuple(path[:-1]))
                text += _did_you_mean(name, list(allowed or ()))
            except Exception:  # a faulty hint callback must not hide the real problem
                pass
        return text
    if kind in ("literal_error", "enum"):
        return f"{msg}; {_got(value)}" + _did_you_mean(
            value, _quoted_choices(str(ctx.get("expected", "")))
        )
    if kind == "union_tag_invalid":
        expected = str(ctx.get("expected_tags", ""))
        tag = ctx.get("tag", value)
        return f"Input should be one of {expected}; got {_show(tag)}" + _did_you_mean(
            tag, _quoted_choices(expected)
        )
    if kind == "union_tag_not_found":
        field = str(ctx.get("discriminator", "")).strip("'")
        if path and path[-1] == field:
            return "required field is missing (it selects which kind this is)"
        return f"required field '{field}' is missing (it selects which kind this is)"
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "assertion_error":
        return msg.removeprefix("Assertion failed, ")
    return f"{msg}; {_got(value)}"


def problems_from_validation_error(
    exc: pydantic.ValidationError,
    doc: Document,
    allowed_keys: Callable[[tuple[str | int, ...]], Iterable[str] | None] | None = None,
) -> list[Problem]:
    """Turn a pydantic ``ValidationError`` into located, human problems.

    Parameters
    ----------
    exc : pydantic.ValidationError
        The error raised when validating ``doc.data``.
    doc : Document
        The document that was validated (for paths and lines).
    allowed_keys : callable, optional
        Given the path tuple of a mapping, returns the field names allowed
        there; used to suggest ``did you mean 'x'?`` for unknown fields.

    Returns
    -------
    list of Problem
        One problem per error in ``exc.errors()``, in pydantic's order. Paths
        drop pydantic's extra ``loc`` segments (union tags, validator names,
        member types); the line is that of the value, or of its closest
        ancestor when the value is missing.
    """
    problems: list[Problem] = []
    for err in exc.errors(include_url=False):
        kind = err.get("type", "")
        path = _resolve_loc(err.get("loc", ()), doc.data, keep_missing_last=kind == "missing")
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            # Name the discriminator field itself: present (bad tag) or missing.
            field = str((err.get("ctx") or {}).get("discriminator", "")).strip("'")
            try:
                holder = _value_at(doc.data, path)
            except (KeyError, IndexError, TypeError):
                holder = None
            present = isinstance(holder, dict) and field in holder
            if field.isidentifier() and present == (kind == "union_tag_invalid"):
                path = [*path, field]
        file, line = lookup_line(doc.source_map, tuple(path), doc.file)
        problems.append(Problem(file, line, _dotted(path), _message(err, path, allowed_keys)))
    return problems


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def yaml_dump(data: Any) -> str:
    """Dump plain data as YAML, keeping key order and non-ASCII text.

    Parameters
    ----------
    data : Any
        Plain Python data (dicts, lists, scalars).

    Returns
    -------
    str
        YAML text.
    """
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
