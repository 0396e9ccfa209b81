"""The 12345 work order (工单): model, lifecycle, deadlines, duplicates, persistence.

- ``tickets.model``: :class:`Ticket`, :class:`TicketDraft`, statuses, ratings, numbers;
- ``tickets.lifecycle``: ``transition(ticket, action, actor, now, ...)`` and its rules;
- ``tickets.deadlines``: working-day deadlines over a holiday calendar;
- ``tickets.duplicates``: ``find_duplicate(ticket, candidates, rules)``;
- ``tickets.callbacks``: the callback task (回电): ``request_callback``, ``callback_done``;
- ``tickets.store``: :class:`TicketStore` (SQLAlchemy, Alembic migrations).

The hub writes a draft from a call with ``TicketStore.intake(draft, now)``.
"""
