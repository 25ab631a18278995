"""The daily diary: pain and where, stool form, gut symptoms, what was eaten, probiotic,
exercise, stress and sleep; one entry per patient and day."""
