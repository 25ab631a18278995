"""gutaxis.io."""
