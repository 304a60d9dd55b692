"""Probes observe the server and return frozen, typed results; they never assert."""
