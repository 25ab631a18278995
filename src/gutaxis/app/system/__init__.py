"""Health of the running app (no login needed, no patient data)."""
