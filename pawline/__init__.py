"""Paw-line: the domain layer of the messaging dashboard (models, services; no Flask requests)."""
