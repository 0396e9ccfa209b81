"""Message types, topic names and the bus (memory and MQTT backends)."""
