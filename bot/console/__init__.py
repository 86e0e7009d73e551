"""The agent console at /console: login, live queue, transcript, reply, notes, resolve."""
