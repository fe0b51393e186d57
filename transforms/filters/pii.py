"""Replace e-mail addresses and public IPv4 addresses with fixed placeholders.

Private, loopback, link-local, multicast and documentation addresses are left alone: they name no
one. Version strings that look like addresses (1.2.3.4) are replaced like any other public IPv4
address; the rule cannot tell them apart.
"""

import ipaddress
import re

EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z]{2,}\b")
# A cheap pattern finds candidates; their edges and octets are checked in Python (a regex with
# look-arounds at every position costs more than the rest of the filter chain together).
IPV4_CANDIDATE = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}")


def redact_pii(text: str, email_placeholder: str, ip_placeholder: str) -> tuple[str, int, int]:
    """(text with placeholders, e-mail addresses replaced, IP addresses replaced)."""
    emails = ips = 0
    if "@" in text:
        text, emails = EMAIL.subn(email_placeholder, text)

    def public_only(match: re.Match) -> str:
        nonlocal ips
        candidate, start, end = match.group(0), match.start(), match.end()
        if (start and (text[start - 1].isdigit() or text[start - 1] == ".")) or (
                end < len(text) and (text[end].isdigit() or (text[end] == "." and text[end + 1: end + 2].isdigit()))):
            return candidate  # part of a longer number or dotted string: 1.2.3.4.5
        octets = candidate.split(".")
        if any(len(o) > 1 and o[0] == "0" for o in octets) or any(int(o) > 255 for o in octets):
            return candidate
        if ipaddress.ip_address(candidate).is_global:
            ips += 1
            return ip_placeholder
        return candidate

    return IPV4_CANDIDATE.sub(public_only, text), emails, ips
