"""The audit trail: who read or wrote which patient's data, when, from where, allowed or not."""
