"""hyperofa: initialize the embeddings of an extended vocabulary (random / OFA / HyperOFA)."""

__version__ = "0.1.0"
