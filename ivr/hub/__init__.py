"""The hub: call logic (flows, seating, tickets of calls, console) and its process assembly."""
