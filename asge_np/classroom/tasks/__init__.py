"""Task sources of the classroom assignment (see :mod:`asge_np.classroom`).

Each file is plain Python in the "percent" cell format (``# %%`` starts a cell), so it runs as a
script, opens as a notebook in Jupyter (jupytext) or VS Code, and converts to an nbgrader
notebook.  Never import these modules: running one executes its tests.
"""
