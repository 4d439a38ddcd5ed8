"""One rule for a TLS client: verify the server's certificate and name, TLS 1.2 or later."""

from __future__ import annotations

import ssl


def client_context(ca_file: str = "", client_cert: str = "", client_key: str = "") -> ssl.SSLContext:
    """A verifying client context (the system's CAs unless ``ca_file``); raises OSError or ssl.SSLError."""
    context = ssl.create_default_context(cafile=ca_file or None)
    if client_cert:
        context.load_cert_chain(client_cert, client_key or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context
