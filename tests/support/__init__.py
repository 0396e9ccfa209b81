"""Fakes, peers and helpers shared by the tests (no test module imports another)."""
