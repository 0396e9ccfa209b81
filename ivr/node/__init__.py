"""The node's processes: supervisor, preflight checks, the ASR service process, logs."""
