"""gutaxis.gut."""
