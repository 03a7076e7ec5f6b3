"""Cached stages: each module turns typed inputs into a cache key, builds the artifact once
(`hyperofa.artifacts.cached_stage`) and loads it. This is the only layer that reads or writes
stage files; the functions it wraps are pure."""
