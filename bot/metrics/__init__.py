"""The figures a support lead runs the service by (README "Metrics and their definitions").

`query.py` says which slice (period, language, channel), `data.py` reads it from the
database, `figures.py` computes one figure per function, `report.py` prints them and
draws the charts (`python -m bot report --since 7d`).
"""
