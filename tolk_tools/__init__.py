"""Offline tools, run by hand or by `make`, never by the service: the content check and
translation (`python -m bot content ...`), the benchmark (`python -m bot bench`) and the
NLU variant generator. They run in the gateway's environment; what they measure of Rasa's
side runs in Rasa's (tolk_tools/rasa_text.py). See docs/architecture.md."""
