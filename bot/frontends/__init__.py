"""The front-ends: each turns one messenger's events into the core's and sends its replies."""
