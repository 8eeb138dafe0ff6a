"""axe-core in the browser tests: the page as it stands checked against axe's rules, with the
serious and critical violations described well enough to fix from the test's failure alone.

axe-core comes from the axe-playwright-python wheel (requirements-dev.txt), which ships its
axe.min.js; the script is evaluated through the DevTools protocol, which the page's
Content-Security-Policy does not govern, so the page runs exactly as a reader's does.
"""

from __future__ import annotations

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

# What fails a test. axe's "moderate" and "minor" findings are advice, looked at by hand.
FAILING_IMPACTS = frozenset({"serious", "critical"})

_axe = Axe()


async def serious_violations(page: Page) -> list[str]:
    """Each serious or critical violation on the page, one line per element it names."""
    results = await _axe.run(page, options={"resultTypes": ["violations"]})
    found = []
    for violation in results.response["violations"]:
        if violation["impact"] not in FAILING_IMPACTS:
            continue
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            found.append(f"{violation['id']} ({violation['impact']}) at {target}: {node['failureSummary']}")
    return found


async def assert_accessible(page: Page, what: str) -> None:
    found = await serious_violations(page)
    assert found == [], f"axe found serious or critical violations on {what}:\n" + "\n".join(found)
