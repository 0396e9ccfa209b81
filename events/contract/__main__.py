"""``python -m events.contract > docs/events.md``."""

from events.contract import main

main()
