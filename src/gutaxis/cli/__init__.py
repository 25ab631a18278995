"""The ``gutaxis`` command line: thin commands that parse, call the engine, present."""
