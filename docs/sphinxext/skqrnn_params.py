"""``.. skqrnn-params::`` -- a hyperparameter table read from an estimator.

The user guide's tables of hyperparameters are generated from the code, so
that they cannot drift from it: the default comes from the signature of
``__init__`` and the description from the numpydoc ``Parameters`` section of
the class docstring. Usage::

    .. skqrnn-params:: skqrnn.QRNNClassifier
       :only: units, n_layers, window

``:only:`` selects and orders the parameters (all of them by default);
``:caption:`` sets the table's title.
"""

import importlib
import inspect

from docutils import nodes
from docutils.parsers.rst import directives
from docutils.statemachine import StringList
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)


def _import(dotted):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def _parameters(cls):
    """{name: description lines} from the class docstring's Parameters section."""
    from numpydoc.docscrape import ClassDoc

    doc = ClassDoc(cls, config={"show_class_members": False})
    out = {}
    for param in doc["Parameters"]:
        # "kernel_initializer, bias_initializer" documents several at once.
        for name in param.name.split(","):
            out[name.strip()] = list(param.desc)
    return out


def _default(cls, name):
    param = inspect.signature(cls.__init__).parameters.get(name)
    if param is None or param.default is inspect.Parameter.empty:
        return "required"
    return f"``{param.default!r}``"


class SkqrnnParams(SphinxDirective):
    required_arguments = 1
    has_content = False
    option_spec = {"only": directives.unchanged, "caption": directives.unchanged}

    def run(self):
        target = self.arguments[0]
        try:
            cls = _import(target)
        except Exception as exc:  # a module not written yet: say so, visibly
            para = nodes.paragraph(
                text=f"(The parameters of {target} are not available in this build: {exc}.)")
            return [para]
        described = _parameters(cls)
        names = ([n.strip() for n in self.options["only"].split(",") if n.strip()]
                 if "only" in self.options else list(described))
        signature = inspect.signature(cls.__init__).parameters
        unknown = [n for n in names if n not in signature]
        if unknown:
            raise self.error(f"skqrnn-params: {target} has no parameter(s) {unknown}")
        caption = self.options.get("caption", f"{cls.__name__} hyperparameters")
        lines = [f".. list-table:: {caption}", "   :header-rows: 1",
                 "   :widths: 20 18 62", "", "   * - parameter", "     - default",
                 "     - meaning"]
        for name in names:
            desc = described.get(name)
            if not desc:
                raise self.error(
                    f"skqrnn-params: {target}.{name} is not described in the class "
                    "docstring's Parameters section")
            lines.append(f"   * - ``{name}``")
            lines.append(f"     - {_default(cls, name)}")
            lines.append(f"     - {desc[0]}")
            lines.extend(f"       {line}" for line in desc[1:])
        node = nodes.container(classes=["skqrnn-params"])
        self.state.nested_parse(StringList(lines, source=f"<skqrnn-params {target}>"),
                                self.content_offset, node)
        return node.children


def setup(app):
    app.add_directive("skqrnn-params", SkqrnnParams)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
