"""Synthetic inputs at paper scale (XLM-R 250k → Glot500 401k, ColexNet+ 3.6M × 200) and the
per-stage children that `bench.paper_scale` times.

The leading underscore keeps `python -m bench` from taking this package for a benchmark module.
"""
