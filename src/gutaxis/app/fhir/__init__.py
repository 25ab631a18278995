"""FHIR R4 export: one patient's identified Bundle and the de-identified cohort Bundle."""
