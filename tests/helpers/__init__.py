"""What the project's tests share, written once: real servers and misbehaving peers, waiting, and
reading a run's outcome and report. Test modules import from here, never from each other.

outcomes.py  FAST, expect()                     clients.py   client_of(), wait_until()
faults.py    tarpit and other hostile peers       tls.py       certificates and TLS redis-servers
topologies.py  clusters and sentinels             health.py    health endpoints
keys.py      keyspaces with planted defects       server.py    the documented ACL user, commandstats
browser.py   report.html in headless Chromium
providers.py, provider_proxy.py  provider-shaped servers and reply shapes (Redis Enterprise's)
"""
