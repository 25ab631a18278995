"""gutaxis.instruments."""
