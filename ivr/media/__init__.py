"""The media server: one pjsua2 process per worker (engine, worker, ASR link)."""
