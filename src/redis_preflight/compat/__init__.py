"""Other libraries' private APIs, one small module each, so an upgrade breaks in one known place.

Each use says why the public API does not do, and tests/test_compat.py pins the behaviour across
the versions the dependency range allows.
"""
