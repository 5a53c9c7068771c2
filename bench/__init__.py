"""Benchmark of shiryo against a bare read-into-one-DataFrame floor (issue 8).

``python bench/run.py --files N`` generates N department workbooks (cached under /tmp), then
times the floor, the product's collect flow and the rendering of the 資料, each in its own
process. See ``bench/RESULTS.md`` for the figures.
"""
