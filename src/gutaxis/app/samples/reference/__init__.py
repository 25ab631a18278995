"""The reference cohorts of the gut-health panel (``references.json``, package data) and
the script that builds them (``make_reference.py``)."""
