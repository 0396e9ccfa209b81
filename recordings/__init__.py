"""Per-leg recording files, manifests, hashes and the hash chain."""
