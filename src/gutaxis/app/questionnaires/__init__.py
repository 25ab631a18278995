"""Questionnaires from the instrument registry: scheduled per patient, answered in the
portal, scored by the engine exactly as the manuals say; reminders when one is due."""
