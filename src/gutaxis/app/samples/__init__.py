"""Microbiome samples of a patient: uploads validated by the engine's readers, the
gut-health panel of each sample against a shipped reference cohort."""
