"""Channel adapters behind one `Channel` interface (base.py), listed in registry.py."""
