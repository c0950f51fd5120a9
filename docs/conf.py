"""Sphinx configuration: ``python -m sphinx docs docs/_build`` (needs the docs extra)."""

project = "imagearray"
extensions = ["sphinx.ext.autodoc", "sphinx.ext.napoleon"]
autodoc_mock_imports = ["cupy", "cuda"]
napoleon_numpy_docstring = True
html_theme = "alabaster"
