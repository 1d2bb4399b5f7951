"""Serving the chat on a newsroom's network: login throttling, sessions that end, Host/Origin
checks, loopback by address, upload bounds (``guard``, ``throttle``, ``sessions``, ``hosts``,
``uploads``). Import the submodules; this package imports nothing, so ``qa.auth`` may use
``qa.security.hosts`` without a cycle."""
