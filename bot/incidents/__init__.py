"""Incidents: many customers with one problem, one notice from a lead, told to each of them.

surge.py alerts leads when many customers ask about one intent within minutes; store.py
keeps incidents, their texts per language and who was told; service.py publishes, tells
and closes; api.py is the agent HTTP API for it.
"""
