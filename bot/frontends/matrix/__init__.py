"""The Matrix front-end (matrix-nio): client and sync loop, reading events, sending."""
