"""Benchmarks: each module's `main()` prints figures and ratios measured side by side in one run."""
