"""What the bot did not understand (`python -m bot report unanswered`, the agent API's
`/api/v1/agent/unanswered`): the messages, grouped by similarity, and training-example
drafts for the content team."""
