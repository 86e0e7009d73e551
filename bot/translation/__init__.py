"""The translation layer: any language in, the customer's language out, no PII leaked.

One module per concern:
- ``backends``: deep-translator backends behind one blocking interface, chosen by name.
- ``resilience``: what makes a backend safe to call from the event loop (thread, timeout,
  retries with backoff, circuit breaker, chunking, batching, answer validation).
- ``masking``: PII and glossary terms replaced by placeholders before translation and
  restored after; the same masking redacts logs.
- ``memory``: every translation cached in the database; human-approved entries win.
- ``service``: the pipeline the gateway calls (mask -> memory -> translator -> unmask).
"""
