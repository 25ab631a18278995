"""Lab results of a patient: one entered by hand, or many from a lab CSV
(:mod:`gutaxis.io.labs`), stored as reported and in canonical units."""
