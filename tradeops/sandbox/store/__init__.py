"""The sandbox's store generator: history, live session and store faults (see ../__init__.py)."""
