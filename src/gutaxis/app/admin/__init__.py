"""Administration: staff accounts (create, deactivate, change role, reset password) and the
audit trail pages. Admins see accounts and the trail, never clinical data."""
