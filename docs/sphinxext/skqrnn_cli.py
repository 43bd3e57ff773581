"""``.. skqrnn-cli-help:: [COMMAND]`` -- the ``skqrnn`` command's ``--help`` text.

The text is produced by ``skqrnn.cli.build_parser()`` at build time, so the
documented options are always those of the installed command line.
"""

import os

from docutils import nodes
from sphinx.util.docutils import SphinxDirective

WIDTH = 72  # argparse wraps to $COLUMNS; 72 fits the page without scrolling


def cli_help(command=None):
    from skqrnn.cli import build_parser

    old = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDTH)
    try:
        parser = build_parser()
        if command:
            subparsers = next(a for a in parser._actions if a.choices and command in a.choices)
            parser = subparsers.choices[command]
        return parser.format_help()
    finally:
        if old is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = old


class SkqrnnCliHelp(SphinxDirective):
    optional_arguments = 1
    has_content = False

    def run(self):
        command = self.arguments[0] if self.arguments else None
        try:
            text = cli_help(command)
        except Exception as exc:  # the CLI not importable in this build: say so
            return [nodes.paragraph(text=f"(skqrnn {command or ''} --help is not "
                                         f"available in this build: {exc}.)")]
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def setup(app):
    app.add_directive("skqrnn-cli-help", SkqrnnCliHelp)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
