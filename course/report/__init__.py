"""The report: pure functions from the exported data to figures and markdown includes.

It never trains. `render()` reads docs/generated/data/*.csv and provenance.json and writes
docs/generated/figures/*.png and docs/generated/*.md, which the hand-written pages include.
"""
