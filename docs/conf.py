"""Sphinx configuration of the imagearray documentation site.

Build it with ``tools/build-docs.sh`` (``python -m sphinx -W --keep-going -b html docs
build/docs``) after installing the package and its ``docs`` extra
(``pip install -e ".[docs]"``). autodoc imports the installed package, compiled Cython
extensions included: nothing is mocked, so a docstring that does not import or does
not parse fails the build. No GPU is needed: ``import imagearray`` works without one.
"""

from __future__ import annotations

import imagearray

project = "imagearray"
author = "imagearray developers"
copyright = "imagearray developers"  # noqa: A001 - Sphinx's name for it
release = imagearray.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",  # docs/design.md, read by tools/check_layers.py, stays Markdown
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "gallery/*.ipynb", "gallery/*.py"]
default_role = "any"
highlight_language = "python3"

# autodoc: the real package, members in source order, signatures from the code.
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc Parameters sections say the types
autodoc_inherit_docstrings = False  # enum members and numpy.uint64 methods
autosummary_generate = False  # the summary tables link to entries on the same page

# numpydoc: the NumPy/CuPy docstring convention.
numpydoc_show_class_members = False  # each page lists the members it documents
numpydoc_class_members_toctree = False
numpydoc_use_plots = False

# sphinx-gallery: the pages of docs/gallery/ are made from examples/plot_*.py, which
# the build does NOT run (they want a GPU, which the docs build has not):
# each script's docstring shows its picture, a PNG in _static/gallery/ rendered on
# the GPU machine by tools/render-gallery.sh and committed, and names it as the
# thumbnail (``sphinx_gallery_thumbnail_path``).
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "gallery",
    "plot_gallery": "False",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(__init__|_common)\.py",
    "download_all_examples": False,
    "write_computation_times": False,
    "line_numbers": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
}

html_theme = "pydata_sphinx_theme"
html_title = f"imagearray {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": []}
html_show_sourcelink = False
html_static_path = ["_static"]
html_css_files = ["imagearray.css"]


def _check_public_names_documented(app, env) -> None:
    """Warn (an error under ``-W``) for a public name that no page documents: a name
    added to ``imagearray.__all__`` or ``imagearray.ndimage.__all__`` must reach the
    API reference. An object documented under another of its names counts."""
    import importlib

    from sphinx.util import logging

    import imagearray.ndimage

    def resolve(fullname: str):
        parts = fullname.split(".")
        for i in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:i]))
            except ImportError:
                continue
            try:
                for name in parts[i:]:
                    obj = getattr(obj, name)
            except AttributeError:
                return None
            return obj
        return None

    documented = {id(resolve(name)) for name in env.get_domain("py").objects}
    public = [("imagearray", imagearray, n) for n in imagearray.__all__]
    public += [("imagearray.ndimage", imagearray.ndimage, n) for n in imagearray.ndimage.__all__]
    for modname, module, name in public:
        if id(getattr(module, name)) not in documented:
            logging.getLogger(__name__).warning(
                "%s.%s is public but no page of docs/reference documents it", modname, name
            )


def setup(app):
    app.connect("env-check-consistency", _check_public_names_documented)
