"""The hotline command line."""
