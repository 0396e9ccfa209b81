"""Media workers, the hub call flows, the supervisor and the hotline CLI."""
