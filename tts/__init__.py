"""Speech synthesis (espeak-ng) and the rendered prompt cache."""
