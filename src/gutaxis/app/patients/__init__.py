"""Patients: records, identities (their own table), the clinician's list with flags."""
