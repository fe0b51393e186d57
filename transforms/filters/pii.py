"""Replace e-mail addresses and public IPv4 addresses with fixed placeholders.

Private, loopback, link-local, multicast and documentation addresses are left alone: they name no
one. Version strings that look like addresses (1.2.3.4) are replaced like any other public IPv4
address; the rule cannot tell them apart.
"""

import ipaddress
import re

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b")
IPV4 = re.compile(r"(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![\d.])")


def redact_pii(text: str, email_placeholder: str, ip_placeholder: str) -> tuple[str, int, int]:
    """(text with placeholders, e-mail addresses replaced, IP addresses replaced)."""
    text, emails = EMAIL.subn(email_placeholder, text)
    ips = 0

    def public_only(match: re.Match) -> str:
        nonlocal ips
        if ipaddress.ip_address(match.group(0)).is_global:
            ips += 1
            return ip_placeholder
        return match.group(0)

    return IPV4.sub(public_only, text), emails, ips
