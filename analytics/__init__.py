"""Across calls and tickets: hotspots (clustering, heat, bursts) and KPI maths — pure logic."""
