"""Import the gallery's scripts (examples/plot_*.py) as modules, by path: examples/
is not a package, and its scripts import their helper as ``_common``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SCRIPTS = sorted(p.stem for p in EXAMPLES.glob("plot_*.py"))


def load(name: str) -> ModuleType:
    """``examples/<name>.py`` as a module (not run as ``__main__``)."""
    if str(EXAMPLES) not in sys.path:
        sys.path.insert(0, str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"gallery_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
