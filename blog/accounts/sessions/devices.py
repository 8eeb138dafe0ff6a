"""What a user agent says about the device behind a session, in words a person recognises.

ua-parser reads it with uap-core's rules, the table most log tools use, kept up to date as
new browsers and systems appear; a hand-written guess would be wrong within a year. Only
the browser's and the system's families are kept ("Firefox on Linux"): a browser's update
is not a new device, and a version number is one more thing to fingerprint.
"""

from __future__ import annotations

import ipaddress

import ua_parser

from blog.accounts.models import USER_AGENT_MAX_LENGTH

UNKNOWN = "Unknown device"


def device_label(user_agent: str) -> str:
    """ "Chrome on Windows", "Mobile Safari on iOS", or UNKNOWN when the agent names neither."""
    parsed = ua_parser.parse(user_agent[:USER_AGENT_MAX_LENGTH])
    browser = parsed.user_agent.family if parsed.user_agent and parsed.user_agent.family != "Other" else None
    system = parsed.os.family if parsed.os and parsed.os.family != "Other" else None
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or UNKNOWN


def stored_address(address: str | None) -> str | None:
    """The address as the model stores it: None for what is not an IP address (a Unix socket's path)."""
    if not address:
        return None
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None
