"""Mark the output blocks of the performance page for their own style.

The page includes ``BENCHMARKS.md``, whose blocks are the benchmarks' printed
output: tables up to 110 characters wide. Every literal block of the page gets
the class ``benchmark-output``, which ``docs/_static/geneperm.css`` sets in a
type small enough for such a table to fit the column.
"""

from docutils import nodes

PAGES = {"user_guide/performance"}
CLASS = "benchmark-output"


def mark_output_blocks(app, doctree):
    if app.env.docname in PAGES:
        for block in doctree.findall(nodes.literal_block):
            block["classes"].append(CLASS)


def setup(app):
    app.connect("doctree-read", mark_output_blocks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
