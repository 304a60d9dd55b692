"""Loads the redis-preflight plugin for `pytest --redis-url URL` run from the project root."""

pytest_plugins = ["redis_preflight.plugin"]
