"""The Hydra pipeline: typed config, stages (sparsity → coloring → verify → evaluate), summaries.

It wires the library together and holds no math of its own.
"""
