"""Rendering template versions in a sandbox, in worker processes with bounded time and memory."""

READY = b'{"ready": true}\n'
"""What a worker writes once started, so a render's deadline never counts its start-up."""
