"""API schemas (pydantic), kept apart from the domain's dataclasses: one module
per resource, converted at the router's edge."""
