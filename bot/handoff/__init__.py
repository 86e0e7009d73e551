"""Handing conversations to people: when to escalate (``escalation``); the queue, routing
and the agent console follow (issue 4)."""
