#!/usr/bin/env python3
"""Check the imports of the imagearray package against its layer order.

The order comes from docs/design.md: the fenced block after the line
``<!-- layers -->``, one layer per line, bottom layer first, each line
``name: pattern pattern ...``; ``#`` lines in the block are comments. A pattern
``imagearray.memory`` covers that module and every module below it; the longest
pattern that matches decides a module's layer. The root pattern ``imagearray``
names the package's ``__init__`` only, so that a new module is placed on purpose.

Modules are ``imagearray/**/*.py`` (``*.pyi`` stubs, ``__pycache__`` and build
folders skipped) and ``cython_src/imagearray/**/*.pyx|*.pxd`` (a .pyx and .pxd of
one name are one module). Imports of imagearray modules are collected everywhere
in a file (functions, classes, try and if blocks), except ``if TYPE_CHECKING:``
bodies: with ``ast`` for Python, with a line parser for Cython. The check fails,
one ``path:line: message`` line per problem, on:

* a module that no pattern covers;
* an import up the order (the importer's layer below the imported module's);
* an import cycle, function-level imports included (one line per distinct
  shortest cycle through each module of a cycle);
* a Cython module importing a Python module other than ``imagearray._errors``;
* a function-level import of an imagearray module in a .py file with no comment
  on its line or the line above saying why (the project allows them only where
  they measurably save import time);
* an import of an imagearray module that does not exist, or a relative import
  that leaves the package.

Usage: ``python tools/check_layers.py [--root DIR] [--graph]``.
"""

from __future__ import annotations

import argparse
import ast
import io
import re
import sys
import tokenize
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "imagearray"
ERRORS = f"{PACKAGE}._errors"
DOC = "docs/design.md"
MARKER = "<!-- layers -->"
SKIP_DIRS = {"__pycache__", "build", "dist"}
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_CY_FROM = re.compile(r"from\s+(\.+[\w.]*|[A-Za-z_][\w.]*)\s+c?import\s+(.+)")
_CY_IMPORT = re.compile(r"c?import\s+(.+)")


@dataclass
class Layer:
    name: str
    index: int
    patterns: list[str]


@dataclass
class Module:
    name: str
    sources: list[Path] = field(default_factory=list)

    @property
    def is_python(self) -> bool:
        """Implemented in Python: a .py source and no .pyx."""
        suffixes = {s.suffix for s in self.sources}
        return ".py" in suffixes and ".pyx" not in suffixes

    @property
    def main_source(self) -> Path:
        return min(self.sources, key=lambda s: [".py", ".pyx", ".pxd"].index(s.suffix))


@dataclass
class Ref:
    """One imported name: ``base`` and, for ``from base import a, b``, the names."""

    line: int
    end: int
    base: str
    names: list[str] | None
    function_level: bool = False


Problem = tuple[str, int, str]


def read_layers(root: Path) -> tuple[list[Layer], list[Problem]]:
    try:
        lines = (root / DOC).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        return [], [(DOC, 1, f"cannot read the layer table: {exc.strerror}")]
    marker = next((i for i, line in enumerate(lines) if line.strip() == MARKER), None)
    if marker is None:
        return [], [(DOC, 1, f"no '{MARKER}' line: the layer table is missing")]
    i = marker + 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    fence = re.match(r"\s*(`{3,}|~{3,})", lines[i]) if i < len(lines) else None
    if fence is None:
        return [], [(DOC, marker + 1, f"no fenced block after '{MARKER}'")]
    closing = re.compile(rf"\s*{re.escape(fence.group(1)[0])}{{{len(fence.group(1))},}}\s*")
    layers: list[Layer] = []
    problems: list[Problem] = []
    owner: dict[str, str] = {}
    for no in range(i + 2, len(lines) + 1):
        text = lines[no - 1].strip()
        if closing.fullmatch(text):
            break
        if not text or text.startswith("#"):
            continue
        name, colon, rest = text.partition(":")
        name, patterns = name.strip(), rest.split()
        if not colon or not re.fullmatch(r"[\w-]+", name) or not patterns:
            problems.append((DOC, no, "a layer line is 'name: module-pattern ...'"))
            continue
        if any(layer.name == name for layer in layers):
            problems.append((DOC, no, f"layer {name} is named twice"))
        for pattern in patterns:
            if not _DOTTED.fullmatch(pattern):
                problems.append((DOC, no, f"{pattern!r} is not a dotted module name"))
            elif pattern in owner:
                problems.append((DOC, no, f"{pattern} is in layers {owner[pattern]} and {name}"))
            owner.setdefault(pattern, name)
        layers.append(Layer(name, len(layers), patterns))
    else:
        problems.append((DOC, i + 1, "the layer table's fenced block is not closed"))
    if not layers and not problems:
        problems.append((DOC, i + 1, "the layer table is empty"))
    return layers, problems


def layer_of(name: str, table: dict[str, Layer]) -> Layer | None:
    """The layer of the longest pattern covering ``name``."""
    if name in table:
        return table[name]
    parts = name.split(".")
    for k in range(len(parts) - 1, 1, -1):  # the root pattern covers the package only
        layer = table.get(".".join(parts[:k]))
        if layer is not None:
            return layer
    return None


def discover(root: Path) -> dict[str, Module]:
    modules: dict[str, Module] = {}
    for base, suffixes in ((root, {".py"}), (root / "cython_src", {".pyx", ".pxd"})):
        top = base / PACKAGE
        if not top.is_dir():
            continue
        for path in sorted(top.rglob("*")):
            rel = path.relative_to(base)
            dirs = rel.parts[:-1]
            if any(d in SKIP_DIRS or d.startswith(".") or d.endswith(".egg-info") for d in dirs):
                continue
            if path.suffix not in suffixes or not path.is_file():
                continue
            parts = rel.with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            name = ".".join(parts)
            modules.setdefault(name, Module(name)).sources.append(path)
    return modules


def _absolute(module: str, is_package: bool, level: int, name: str | None) -> str | None:
    """The absolute name of ``from .{level}name import``; None when it leaves the package."""
    parts = (module if is_package else module.rpartition(".")[0]).split(".")
    if level - 1 >= len(parts):
        return None
    base = ".".join(parts[: len(parts) - level + 1])
    return f"{base}.{name}" if name else base


def _is_type_checking(test: ast.expr) -> bool:
    return getattr(test, "id", getattr(test, "attr", None)) == "TYPE_CHECKING"


class _PyImports(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool) -> None:
        self.module, self.is_package = module, is_package
        self.depth = 0
        self.refs: list[Ref] = []
        self.bad_relative: list[int] = []

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_If(self, node: ast.If) -> None:
        test, body = node.test, node.body + node.orelse
        if _is_type_checking(test):  # typing-only imports are not run
            body = node.orelse
        elif isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            body = node.body if _is_type_checking(test.operand) else body
        for stmt in body:
            self.visit(stmt)

    def _add(self, node: ast.stmt, base: str, names: list[str] | None) -> None:
        end = node.end_lineno or node.lineno
        self.refs.append(Ref(node.lineno, end, base, names, self.depth > 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(node, alias.name, None)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = node.module or ""
        if node.level:
            resolved = _absolute(self.module, self.is_package, node.level, node.module)
            if resolved is None:
                self.bad_relative.append(node.lineno)
                return
            base = resolved
        self._add(node, base, [alias.name for alias in node.names])


def _comment_lines(text: str) -> set[int]:
    try:
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)
        return {tok.start[0] for tok in tokens if tok.type == tokenize.COMMENT}
    except (tokenize.TokenError, SyntaxError):
        return set()


def _blank_strings(text: str) -> str:
    """``text`` with comments and string literals (triple-quoted too) made spaces."""
    out: list[str] = []
    i, n = 0, len(text)
    special = re.compile(r"[#'\"]")
    while i < n:
        m = special.search(text, i)
        out.append(text[i : m.start() if m else n])
        if m is None:
            break
        i = m.start()
        if text[i] == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
        else:
            quote = text[i] * 3 if text.startswith(text[i] * 3, i) else text[i]
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                if len(quote) == 1 and text[j] == "\n":
                    break
                j += 2 if text[j] == "\\" else 1
            if text.startswith(quote, j):
                j += len(quote)
        out.append(re.sub(r"[^\n]", " ", text[i:j]))
        i = j
    return "".join(out)


def _cython_refs(text: str, module: str, is_package: bool) -> tuple[list[Ref], list[int]]:
    refs: list[Ref] = []
    bad_relative: list[int] = []
    buf: list[str] = []
    start, depth = 0, 0
    for no, line in enumerate(_blank_strings(text).split("\n"), 1):
        if not buf:
            start = no
        buf.append(line)
        depth = max(0, depth + sum(map(line.count, "([{")) - sum(map(line.count, ")]}")))
        if depth or line.rstrip().endswith("\\"):
            continue
        logical = " ".join(buf).replace("\\", " ")
        buf, depth = [], 0
        for stmt in logical.split(";"):
            stmt = " ".join(stmt.split())
            if m := _CY_FROM.fullmatch(stmt):
                base = m.group(1)
                if base.startswith("."):
                    level = len(base) - len(base.lstrip("."))
                    resolved = _absolute(module, is_package, level, base.lstrip(".") or None)
                    if resolved is None:
                        bad_relative.append(start)
                        continue
                    base = resolved
                names = [n.split()[0] for n in m.group(2).strip("() ").split(",") if n.strip()]
                refs.append(Ref(start, no, base, names))
            elif m := _CY_IMPORT.fullmatch(stmt):
                for part in m.group(1).split(","):
                    if part.strip():
                        refs.append(Ref(start, no, part.split()[0], None))
    return refs, bad_relative


def _targets(ref: Ref, modules: dict[str, Module]) -> list[str]:
    if ref.base != PACKAGE and not ref.base.startswith(PACKAGE + "."):
        return []
    if ref.names is None:
        return [ref.base]
    found = [f"{ref.base}.{n}" if f"{ref.base}.{n}" in modules else ref.base for n in ref.names]
    return list(dict.fromkeys(found))


def _cycles(edges: dict[str, dict[str, Problem]]) -> list[list[str]]:
    """The distinct shortest cycles through each module, each starting at its least name."""
    found: dict[tuple[str, ...], None] = {}
    for start in sorted(edges):
        parent: dict[str, str] = {}
        queue = deque([start])
        while queue and start not in parent:
            node = queue.popleft()
            for nxt in sorted(edges.get(node, ())):
                if nxt not in parent:
                    parent[nxt] = node
                    queue.append(nxt)
        if start in parent:
            cycle = [start]
            while parent[cycle[-1]] != start:
                cycle.append(parent[cycle[-1]])
            cycle.reverse()
            k = cycle.index(min(cycle))
            found[tuple(cycle[k:] + cycle[:k])] = None
    return [list(c) for c in found]


@dataclass
class Result:
    problems: list[Problem]
    modules: dict[str, Module] = field(default_factory=dict)
    layers: list[Layer] = field(default_factory=list)
    table: dict[str, Layer] = field(default_factory=dict)  # pattern -> layer
    edges: dict[str, dict[str, Problem]] = field(default_factory=dict)  # first import's place
    imports: int = 0


def _read_refs(src: Path, mod: Module) -> tuple[list[Ref], list[int], set[int]]:
    """The imports of one source file, the lines of escaping relative imports, comment lines."""
    text = src.read_text(encoding="utf-8", errors="replace")
    if src.suffix != ".py":
        return (*_cython_refs(text, mod.name, src.stem == "__init__"), set())
    visitor = _PyImports(mod.name, src.stem == "__init__")
    visitor.visit(ast.parse(text, filename=str(src)))
    return visitor.refs, visitor.bad_relative, _comment_lines(text)


def check(root: Path) -> Result:
    layers, problems = read_layers(root)
    if problems:
        return Result(problems)
    table = {pattern: layer for layer in layers for pattern in layer.patterns}
    result = Result(problems, discover(root), layers, table)
    modules = result.modules

    def judge(mod: Module, src: Path, ref: Ref, target: str, comments: set[int]) -> list[str]:
        if target not in modules:
            return [f"imports {target}, which is not a module of the package"]
        found = []
        mine, theirs = layer_of(mod.name, table), layer_of(target, table)
        if mine is not None and theirs is not None and mine.index < theirs.index:
            found.append(
                f"{mod.name} (layer {mine.name}) imports {target} (layer {theirs.name}), "
                "which is above it in the layer order"
            )
        if src.suffix != ".py" and modules[target].is_python and target != ERRORS:
            found.append(
                f"{mod.name} imports the Python module {target}: "
                f"the Cython layer may import only {ERRORS} from Python"
            )
        if ref.function_level and not comments & set(range(ref.line - 1, ref.end + 1)):
            found.append(f"function-level import of {target} without a comment saying why")
        return found

    for mod in modules.values():
        edges = result.edges.setdefault(mod.name, {})
        if layer_of(mod.name, table) is None:
            rel = mod.main_source.relative_to(root).as_posix()
            problems.append((rel, 1, f"{mod.name} is not in the layer table of {DOC}"))
        for src in mod.sources:
            rel = src.relative_to(root).as_posix()
            try:
                refs, bad_relative, comments = _read_refs(src, mod)
            except SyntaxError as exc:
                problems.append((rel, exc.lineno or 1, f"cannot parse: {exc.msg}"))
                continue
            for line in bad_relative:
                problems.append((rel, line, "relative import beyond the top-level package"))
            for ref in refs:
                for target in _targets(ref, modules):
                    problems += [(rel, ref.line, m) for m in judge(mod, src, ref, target, comments)]
                    here = (rel, ref.line, "")
                    result.imports += target in modules
                    if target in modules and target != mod.name:
                        edges[target] = min(edges.get(target, here), here)
    for cycle in _cycles(result.edges):
        rel, line, _ = result.edges[cycle[0]][cycle[1]]
        problems.append((rel, line, "import cycle: " + " -> ".join([*cycle, cycle[0]])))
    result.problems = sorted(set(problems))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_root = Path(__file__).resolve().parent.parent
    parser.add_argument("--root", type=Path, default=default_root, help="the repository root")
    parser.add_argument("--graph", action="store_true", help="print modules, layers, imports")
    args = parser.parse_args(argv)
    result = check(args.root.resolve())
    if args.graph:
        layers = {n: layer_of(n, result.table) for n in result.modules}

        def order(name: str) -> tuple[int, str]:
            return (layers[name].index if layers[name] else -1, name)

        def label(name: str) -> str:
            return f"{name} [{layers[name].name if layers[name] else '?'}]"

        for name in sorted(result.modules, key=order):
            imported = ", ".join(label(t) for t in sorted(result.edges[name], key=order))
            print(f"{label(name)} -> {imported or '(nothing)'}")
    for path, line, message in result.problems:
        print(f"{path}:{line}: {message}")
    if result.problems:
        print(f"check_layers: {len(result.problems)} problem(s)", file=sys.stderr)
        return 1
    print(
        f"check_layers: {len(result.modules)} modules, {result.imports} imports, "
        f"{len(result.layers)} layers: ok"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
