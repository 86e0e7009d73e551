"""Channel adapters: each turns its protocol into an `Inbound` and the `Outcome` back."""
