"""redis-preflight: is the Redis behind your application really ready?"""

__version__ = "0.1.0"
