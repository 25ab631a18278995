"""Research view: the bridge from the clinic's tables to the engine, de-identification,
the cohort export and the ``/research`` page."""
