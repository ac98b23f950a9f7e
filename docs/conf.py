"""Sphinx configuration for the hotdog docs site (`make docs`; the pages come from `_proc/`, written by docs/build.py).

Offline by construction: furo ships its own fonts-free CSS and JS, no page loads MathJax or the ipywidgets
bundle from a CDN, and search uses Sphinx's own index (works from file://)."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

project = 'hotdog'
author = 'hotdog developers'
copyright = '2026 onwards, hotdog developers'

extensions = ['myst_nb', 'sphinx.ext.autodoc', 'sphinx.ext.viewcode']
html_theme = 'furo'
html_title = 'hotdog'
html_static_path = []
html_show_sourcelink = False          # no links to the processed notebooks' text
html_copy_source = False
html_permalinks_icon = '#'

# The site shows the notebooks' committed outputs and nbdev's rendered `show_doc` cells; it does not execute
# notebooks (nbdev_test already runs them, and nbdev's processing removes the export cells they need).
nb_execution_mode = 'off'
nb_render_markdown_format = 'myst'    # show_doc output is Markdown with tables and roles
nb_ipywidgets_js = {}                 # never load require.js and the widget manager from a CDN
nb_merge_streams = True
myst_enable_extensions = ['colon_fence']
myst_heading_anchors = 0
suppress_warnings = []

exclude_patterns = ['_site', '.doctrees', '.jupyter_cache', 'jupyter_execute', '**.ipynb_checkpoints']
master_doc = 'index'

autodoc_member_order = 'bysource'
autodoc_typehints = 'signature'
autodoc_default_options = {'members': True, 'undoc-members': True, 'show-inheritance': False}
autodoc_preserve_defaults = True
# Docstrings here are one Markdown-ish line; keep autodoc from reading them as reStructuredText markup it
# would warn about (see docs/build.py's `docstring_lines`).
sys.path.insert(0, str(ROOT/'docs'))


def setup(app):
    from build import docstring_lines
    app.connect('autodoc-process-docstring', docstring_lines)
