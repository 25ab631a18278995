"""The clinician's view of one patient: the timeline (diary, scores, interventions, labs,
samples), gut-health panels, evaluations and the shareable report (HTML and PDF)."""
