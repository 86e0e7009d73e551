"""Tolk: the gateway between customers' channels, the translation layer and Rasa.

Nothing in this package imports ``rasa``: the internet-facing service must be able to
move to its own environment on a supported Python without a rewrite.
"""
