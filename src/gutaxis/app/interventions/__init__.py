"""Interventions a patient tries (probiotic strain and dose, diet, exercise, stress
management, medication) with start and stop, and their n-of-1 evaluation by the engine."""
