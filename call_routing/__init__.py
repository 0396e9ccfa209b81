"""Understanding callers and allocating seats, as pure logic (no I/O)."""
