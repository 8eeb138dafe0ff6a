"""The deploy recipe run, not only parsed: deploy/nginx/asgi_blog.conf in front of two daphne processes.

nginx gets a throwaway certificate, a cache folder and free loopback ports; the daphne processes
share a Redis of their own and trust nginx (BLOG_TRUSTED_PROXIES=127.0.0.1) as in
deploy/asgi_blog.env.example, and each writes an access log, so a test can count what reached
the app rather than what nginx answered.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.conftest import DEMO_PASSWORD
from tests.processes import PROJECT_ROOT, DaphneServer, free_port, stop, wait_for_port

RECIPE = PROJECT_ROOT / "deploy" / "nginx" / "asgi_blog.conf"
SERVER_NAME = "blog.example.com"
SITE_ORIGIN = f"https://{SERVER_NAME}"
# nginx lives in /usr/sbin, which is not on every user's PATH.
NGINX = shutil.which("nginx", path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin")


def render_recipe(
    *, http_port: int, https_port: int, upstreams: list[int], tls: Path, static_root: Path, cache: Path
) -> str:
    """The recipe with this test's ports, certificate, static files and cache; loopback IPv4 only."""
    text = RECIPE.read_text()
    replacements = [
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;", ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("listen [::]:443 ssl http2;", ""),
        ("server 127.0.0.1:8001;", f"server 127.0.0.1:{upstreams[0]};"),
        ("server 127.0.0.1:8002;", f"server 127.0.0.1:{upstreams[1]};"),
        ("/etc/asgi_blog/tls/", f"{tls}/"),
        ("/srv/asgi_blog/staticfiles/", f"{static_root}/"),
        ("proxy_cache_path /var/cache/nginx/asgi_blog ", f"proxy_cache_path {cache} "),
    ]
    for old, new in replacements:
        assert old in text, f"the recipe no longer has {old!r}: update this test's rendering"
        text = text.replace(old, new)
    return text


def nginx_main_config(work: Path, site: Path) -> str:
    """What /etc/nginx/nginx.conf provides around a site file, with every path in `work`."""
    temp_paths = "\n".join(
        f"    {kind}_temp_path {work / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, workers would run as nobody, who cannot read the test's static root.
    user = "user root;" if os.geteuid() == 0 else ""
    return f"""{user}
pid {work / "nginx.pid"};
error_log {work / "error.log"};
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
{temp_paths}
    include {site};
}}
"""


def throwaway_certificate(tls: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is not installed; the deploy recipe test needs it for a throwaway certificate")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={SERVER_NAME}"]
        + ["-keyout", str(tls / "privkey.pem"), "-out", str(tls / "fullchain.pem")],
        check=True,
        capture_output=True,
        timeout=60,
    )


@dataclass
class Site:
    """nginx on http_port and https_port in front of two daphne processes."""

    http_port: int
    https_port: int
    processes: list[DaphneServer]
    access_logs: list[Path]

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def wss(self, path: str) -> str:
        return f"wss://127.0.0.1:{self.https_port}{path}"

    def app_requests(self, path: str) -> int:
        """How many GETs of `path` (with its query string) reached either daphne process.

        nginx asks the app with GET for a HEAD it may cache, so GETs are all there is to count.
        """
        line = f'"GET {path}" '
        return sum(log.read_text().count(line) for log in self.access_logs if log.exists())


@contextmanager
def running_site(server_env: dict[str, str], redis_url: str, work: Path) -> Iterator[Site]:
    """nginx with the recipe in front of two daphne processes, all stopped by pid on the way out."""
    if NGINX is None:
        pytest.fail(
            "nginx is not installed: the deploy recipe test runs it. Install it with "
            "`sudo apt-get install nginx-light` (`make test` does so itself when run as root)."
        )
    env = {
        **server_env,
        "REDIS_URL": redis_url,
        "DJANGO_HTTPS": "1",
        "BLOG_TRUSTED_PROXIES": "127.0.0.1",
        "DJANGO_ALLOWED_HOSTS": f"{SERVER_NAME},127.0.0.1",
    }
    # Line-buffered files of their own (daphne's stdout is block-buffered when redirected).
    access_logs = [work / "daphne-access-1.log", work / "daphne-access-2.log"]
    processes = [DaphneServer(env=env, extra_args=["--access-log", str(log)]) for log in access_logs]
    try:
        for process in processes:
            process.start()
        throwaway_certificate(work)
        http_port, https_port = free_port(), free_port()
        site_file = work / "site.conf"
        site_file.write_text(
            render_recipe(
                http_port=http_port,
                https_port=https_port,
                upstreams=[process.port for process in processes],
                tls=work,
                static_root=Path(env["DJANGO_STATIC_ROOT"]),
                cache=work / "cache",
            )
        )
        main_config = work / "nginx.conf"
        main_config.write_text(nginx_main_config(work, site_file))
        command = [NGINX, "-p", str(work), "-e", str(work / "error.log"), "-c", str(main_config), "-g", "daemon off;"]
        nginx = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            wait_for_port(https_port, nginx, f"nginx (see {work / 'error.log'})")
            yield Site(http_port, https_port, processes, access_logs)
        finally:
            stop(nginx)
    finally:
        for process in processes:
            process.stop()


def browser(**headers: str) -> aiohttp.ClientSession:
    """A client that reaches nginx by address but names the site, as a browser on SERVER_NAME would."""
    return aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        headers={"Host": SERVER_NAME, **headers},
        connector=aiohttp.TCPConnector(ssl=False),
    )


async def log_in_through_nginx(client: aiohttp.ClientSession, site: Site, username: str) -> None:
    async with client.get(f"{site.https}/accounts/login/") as page:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', await page.text()).group(1)
    form = {"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}
    async with client.post(
        f"{site.https}/accounts/login/", data=form, headers={"Origin": SITE_ORIGIN}, allow_redirects=False
    ) as login:
        assert login.status == 302, "login through nginx failed"
