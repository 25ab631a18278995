"""Background jobs: a queue in the database (``jobs`` table), the analysis job that
``gutaxis worker`` runs, and the ``/api/v1/analyses`` API."""
