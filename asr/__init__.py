"""Offline Mandarin speech recognition: engines, normalisation, model management."""
