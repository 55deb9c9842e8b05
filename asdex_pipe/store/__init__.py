"""Artifact persistence: file formats (npz, Zarr v3) and the content-addressed store."""
