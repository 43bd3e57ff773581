"""The documentation builds with warnings as errors and covers the public API.

The Sphinx build runs in a subprocess, as a user or CI would run it:
``python -m sphinx -W --keep-going -b html docs <tmp>`` (on a temporary copy
of docs/ and examples/, so that the generated stubs stay out of the
checkout); the example gallery is rendered but not executed
(``SKQRNN_DOCS_RUN_EXAMPLES`` unset), since the examples train models and
have their own tests. About 20 s of CPU.
"""

import importlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
API_RST = DOCS / "api.rst"

# Public modules whose ``__all__`` the API reference must cover.
PUBLIC_MODULES = [
    "skqrnn",
    "skqrnn.base",
    "skqrnn.metrics",
    "skqrnn.preprocessing",
    "skqrnn.io",
    "skqrnn.datasets",
    "skqrnn.layers",
    "skqrnn.baselines",
    "skqrnn.submission",
]
DOC_PACKAGES = ["sphinx", "numpydoc", "sphinx_gallery", "pydata_sphinx_theme"]


def _missing_doc_packages():
    return [p for p in DOC_PACKAGES if importlib.util.find_spec(p) is None]


needs_sphinx = pytest.mark.skipif(
    bool(_missing_doc_packages()),
    reason="documentation tools not installed (pip install -e '.[docs]'): "
    + ", ".join(_missing_doc_packages()),
)


def _api_entries():
    """(dotted name, line, kind) of every autosummary and data entry in api.rst."""
    entries = []
    current = None
    in_autosummary = False
    indent = ""
    for lineno, line in enumerate(API_RST.read_text(encoding="utf-8").splitlines(), 1):
        m = re.match(r"^\s*\.\.\s+(?:current|auto)?module::\s*([\w.]+)\s*$", line)
        if m:
            current = m.group(1)
        m = re.match(r"^\s*\.\.\s+(?:py:)?data::\s*([\w.]+)\s*$", line)
        if m:  # a scorer object, documented by hand (its __doc__ is its class's)
            entries.append((f"{current}.{m.group(1)}", lineno, "data"))
            in_autosummary = False
            continue
        m = re.match(r"^(\s*)\.\.\s+autosummary::", line)
        if m:
            in_autosummary, indent = True, m.group(1)
            continue
        if in_autosummary:
            if not line.strip():
                continue
            if not line.startswith(indent + " "):
                in_autosummary = False
                continue
            item = line.strip()
            if item.startswith(":"):
                continue
            name = item.split()[0].lstrip("~")
            entries.append((f"{current}.{name}", lineno, "autosummary"))
    return entries


def _import_module(name):
    """The module, or None if it (or a package above it) does not exist yet.

    A folder without ``__init__.py`` (a namespace package: work in progress)
    counts as not existing.
    """
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            return None
        raise
    return module if getattr(module, "__file__", None) else None


def test_api_rst_parses_into_entries():
    entries = _api_entries()
    names = {n for n, _, _ in entries}
    # A few fixed points: the parser must see the three estimators and the
    # sections' modules, or the coverage tests below would check nothing.
    assert {"skqrnn.DenseNetClassifier", "skqrnn.QRNNClassifier",
            "skqrnn.DCQRNNClassifier", "skqrnn.layers.Dequantize"} <= names
    assert len(names) == len(entries), "an entry is listed twice in api.rst"


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_api_reference_covers_module_all(module_name):
    """Every name a public module exports has an entry in api.rst."""
    module = _import_module(module_name)
    if module is None:
        pytest.skip(f"{module_name} has not landed yet")
    exported = [n for n in getattr(module, "__all__", []) if not n.startswith("__")]
    if not exported:
        pytest.skip(f"{module_name} defines no __all__ yet")
    entries = _api_entries()
    documented = {n for n, _, _ in entries}
    # A class or function documented under another public path (e.g.
    # skqrnn.base.KerasClassifierBase as skqrnn.KerasClassifierBase) counts.
    documented_objects = set()
    for name, _, _ in entries:
        mod_name, _, attr = name.rpartition(".")
        mod = _import_module(mod_name)
        try:
            obj = getattr(mod, attr, None) if mod is not None else None
        except ImportError:  # a lazy export whose module has not landed
            continue
        if isinstance(obj, type) or callable(obj):
            documented_objects.add(id(obj))
    undocumented = [
        n for n in exported
        if f"{module_name}.{n}" not in documented
        and id(getattr(module, n, None)) not in documented_objects
    ]
    assert not undocumented, (
        f"docs/api.rst does not list {module_name}'s public names: {undocumented}"
    )


def test_api_reference_entries_import():
    """Every api.rst entry imports; entries of modules not written yet skip."""
    broken, pending = [], []
    for name, lineno, _ in _api_entries():
        module_name, _, attr = name.rpartition(".")
        module = _import_module(module_name)
        if module is None:
            pending.append(name)
            continue
        try:
            getattr(module, attr)
        except ModuleNotFoundError as exc:  # a lazy export whose module is missing
            pending.append(f"{name} ({exc.name} missing)")
        except AttributeError:
            broken.append(f"api.rst:{lineno}: {name}")
    assert not broken, "api.rst lists names that do not exist: " + ", ".join(broken)
    if pending:
        pytest.skip("modules not landed yet: " + ", ".join(pending))


# Guide pages whose ``>>>`` examples run in well under a second: their
# printed outputs are claims about the code, so they are checked here.
DOCTESTED_PAGES = ["user_guide/metrics.rst", "user_guide/data_formats.rst"]


@pytest.mark.parametrize("page", DOCTESTED_PAGES)
def test_user_guide_examples_run(page):
    import doctest

    result = doctest.testfile(
        str(DOCS / page), module_relative=False, verbose=False, report=True,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted > 0, f"{page} has no >>> examples"
    assert result.failed == 0, f"{result.failed} example(s) of docs/{page} failed (see output)"


# Every module of the package whose docstrings hold ``>>>`` examples: the
# numpydoc "Examples" sections the API reference shows. (__main__ runs the
# command line on import.)
def _modules_with_examples():
    import pkgutil

    import skqrnn

    names = []
    for info in pkgutil.walk_packages(skqrnn.__path__, "skqrnn."):
        if info.name.endswith("__main__"):
            continue
        spec = importlib.util.find_spec(info.name)
        if not spec.origin.endswith(".py"):  # the compiled skqrnn._top_k
            continue
        if ">>>" in Path(spec.origin).read_text(encoding="utf-8"):
            names.append(info.name)
    return sorted(names)


@pytest.mark.parametrize("cls_name", ["DenseNetClassifier", "QRNNClassifier",
                                      "DCQRNNClassifier", "AveragingClassifier",
                                      "DistilledClassifier", "KerasClassifierBase"])
def test_estimator_docstrings_document_every_parameter_with_its_default(cls_name):
    """Each ``__init__`` parameter has a Parameters entry whose stated default is
    the signature's (the classifiers share one text for their training
    parameters, filled in from each signature)."""
    import ast
    import inspect

    from numpydoc.docscrape import ClassDoc

    import skqrnn

    cls = getattr(skqrnn, cls_name)
    entries = {p.name: p.type for p in ClassDoc(cls)["Parameters"]}
    for name, param in inspect.signature(cls.__init__).parameters.items():
        if name == "self":
            continue
        assert name in entries, f"{cls_name} does not document {name!r}"
        if param.default is inspect.Parameter.empty:
            continue
        stated = entries[name].rsplit("default=", 1)
        assert len(stated) == 2, f"{cls_name}.{name}: no default stated ({entries[name]!r})"
        assert ast.literal_eval(stated[1].strip()) == param.default, (
            f"{cls_name}.{name}: documented default {stated[1]!r}, signature {param.default!r}")


@pytest.mark.parametrize("module_name", _modules_with_examples())
def test_docstring_examples_run(module_name):
    import doctest

    module = importlib.import_module(module_name)
    result = doctest.testmod(module, report=True,
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {module_name} failed"


def test_docstring_example_modules_are_found():
    # The collection above must not go quiet: the estimators' examples are in it.
    assert {"skqrnn.densenet", "skqrnn.qrnn", "skqrnn.metrics", "skqrnn.layers.dequantize",
            "skqrnn.io._yt8m"} <= set(_modules_with_examples())


@needs_sphinx
def test_api_filter_drops_missing_names_only():
    """The partial-build guard in conf.py keeps what imports, drops the rest."""
    sys.path.insert(0, str(DOCS))
    try:
        conf = importlib.import_module("conf")
    finally:
        sys.path.remove(str(DOCS))
    text = "\n".join([
        "=====", "Title", "=====", "",
        "Math", "====", "", ".. automodule:: math", "", ".. currentmodule:: math", "",
        ".. autosummary::", "   :toctree: generated/", "", "   sqrt", "   no_such_fn", "",
        "Gone", "====", "", ".. automodule:: skqrnn_no_such_module", "",
        ".. autosummary::", "", "   thing", "",
        "Empty", "=====", "", ".. currentmodule:: json", "",
        ".. autosummary::", "", "   not_in_json", "", "after", "",
    ])
    filtered, missing = conf.filter_api_source(text)
    assert missing == ["math.no_such_fn", "skqrnn_no_such_module", "json.not_in_json"]
    assert "   sqrt" in filtered and "no_such_fn" not in filtered
    assert "Gone" not in filtered and "thing" not in filtered
    # An autosummary left without entries is dropped; the text after it stays.
    assert "Empty" in filtered and filtered.count("autosummary::") == 1
    assert "after" in filtered


@pytest.fixture(scope="module")
def built_html(tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    html, doctrees = out / "html", out / "doctrees"
    # Build from a copy of docs/ and examples/ (same layout): autosummary and
    # sphinx-gallery write into the source folder, and the checkout must stay
    # untouched (and two test runs must not share those files).
    skip = shutil.ignore_patterns("_build", "generated", "auto_examples", "__pycache__")
    src = out / "src"
    shutil.copytree(DOCS, src / "docs", ignore=skip)
    shutil.copytree(ROOT / "examples", src / "examples", ignore=skip)
    env = dict(os.environ)
    env.pop("SKQRNN_DOCS_RUN_EXAMPLES", None)
    env.pop("SKQRNN_DOCS_INTERSPHINX", None)
    # Every module api.rst names has landed: a name that does not import is
    # an error, not a partial build.
    env["SKQRNN_DOCS_STRICT"] = "1"
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
           "-d", str(doctrees), str(src / "docs"), str(html)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, (
        f"sphinx-build failed ({proc.returncode}):\n{proc.stderr[-6000:]}\n"
        f"--- stdout tail ---\n{proc.stdout[-3000:]}"
    )
    return html


@pytest.mark.slow
@needs_sphinx
def test_docs_build_without_warnings(built_html):
    for page in ["index", "getting_started", "api", "auto_examples/index",
                 "user_guide/index", "user_guide/data_formats", "user_guide/models",
                 "user_guide/metrics", "user_guide/backends", "user_guide/scaling",
                 "user_guide/cli"]:
        assert (built_html / f"{page}.html").is_file(), f"{page}.html not built"
    # Every example script has its gallery page (rendered, not executed).
    for script in sorted((ROOT / "examples").glob("*.py")):
        if not script.name.startswith("_"):
            page = built_html / "auto_examples" / f"{script.stem}.html"
            assert page.is_file(), f"no gallery page for examples/{script.name}"
    for page in built_html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        # docutils makes "GAP@20" a mailto: link; conf.py turns those back into text.
        assert "mailto:" not in text, page
        # The generated tables and help texts (docs/sphinxext) found the code.
        assert "not available in this build" not in text, page
    # Class pages list the methods skqrnn defines (also inherited ones, such as
    # fit from KerasClassifierBase), not scikit-learn's or Keras's own.
    dn = (built_html / "generated" / "skqrnn.DenseNetClassifier.html").read_text(
        encoding="utf-8")
    for method in ("fit", "partial_fit", "predict_proba", "predict", "score", "save"):
        assert f'id="skqrnn.DenseNetClassifier.{method}"' in dn, method
    for foreign in ("set_fit_request", "get_metadata_routing", "set_params"):
        assert f'id="skqrnn.DenseNetClassifier.{foreign}"' not in dn, foreign
    qrnn = (built_html / "generated" / "skqrnn.layers.QRNN.html").read_text(encoding="utf-8")
    assert 'id="skqrnn.layers.QRNN.from_config"' not in qrnn
    # The examples that use a class are shown on its page (sphinx-gallery).
    if any("DenseNetClassifier" in p.read_text(encoding="utf-8")
           for p in (ROOT / "examples").glob("*.py")):
        assert "Gallery examples using" in dn
    cli = (built_html / "user_guide" / "cli.html").read_text(encoding="utf-8")
    for command in ("demo", "train", "evaluate", "predict"):
        assert f"usage: skqrnn {command}" in cli, command
    models = (built_html / "user_guide" / "models.html").read_text(encoding="utf-8")
    for caption in ("DenseNetClassifier hyperparameters", "QRNNClassifier hyperparameters",
                    "DCQRNNClassifier hyperparameters",
                    "Training parameters shared by the classifiers"):
        assert caption in models, caption


@pytest.mark.slow
@needs_sphinx
def test_built_api_pages_document_every_importable_entry(built_html):
    api_html = (built_html / "api.html").read_text(encoding="utf-8")
    checked = 0
    for name, _, kind in _api_entries():
        module_name, _, attr = name.rpartition(".")
        module = _import_module(module_name)
        try:
            obj = getattr(module, attr) if module is not None else None
        except (AttributeError, ImportError):
            obj = None
        if obj is None:
            continue
        if kind == "data":
            assert f'id="{name}"' in api_html, f"api.html does not describe {name}"
            continue
        page = built_html / "generated" / f"{name}.html"
        assert page.is_file(), f"no API page for {name}"
        assert f'href="generated/{name}.html' in api_html, f"api.html does not link {name}"
        text = page.read_text(encoding="utf-8")
        if isinstance(obj, type):  # Keras layers: __init__'s signature, not __new__'s
            signature = re.sub(r"<[^>]+>", "", text.split('class="sig-name descname"', 1)[-1])
            assert not signature.split("[source]")[0].rstrip().endswith("(*args, **kwargs)"), \
                f"{name}: the page shows (*args, **kwargs) instead of the parameters"
        # The numpydoc "Parameters" section rendered (not left as raw text).
        if (getattr(obj, "__doc__", None) or "").find("Parameters\n") >= 0:
            assert "Parameters" in text and "----------" not in text, name
        checked += 1
    assert checked >= 1


@pytest.mark.slow
@needs_sphinx
def test_user_guide_renders_formulas_and_diagrams(built_html):
    metrics = (built_html / "user_guide" / "metrics.html").read_text(encoding="utf-8")
    assert "math notranslate" in metrics  # MathJax blocks, i.e. the formulas
    models = (built_html / "user_guide" / "models.html").read_text(encoding="utf-8")
    assert models.count(".svg") >= 3, "the three model diagrams"
    for svg in (DOCS / "_static").glob("*.svg"):
        assert (built_html / "_static" / svg.name).is_file()
