"""gutaxis.stats."""
