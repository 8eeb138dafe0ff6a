"""The deploy recipe run, not only parsed: deploy/nginx/asgi_blog.conf in front of two daphne processes.

nginx gets a throwaway certificate and free loopback ports; the daphne processes share a Redis
of their own and trust nginx (BLOG_TRUSTED_PROXIES=127.0.0.1) as in deploy/asgi_blog.env.example.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.conftest import DEMO_PASSWORD, first_published_post_id, receive
from tests.processes import PROJECT_ROOT, DaphneServer, free_port, stop, wait_for_port

RECIPE = PROJECT_ROOT / "deploy" / "nginx" / "asgi_blog.conf"
SERVER_NAME = "blog.example.com"
SITE_ORIGIN = f"https://{SERVER_NAME}"
# nginx lives in /usr/sbin, which is not on every user's PATH.
NGINX = shutil.which("nginx", path=os.environ.get("PATH", "") + os.pathsep + "/usr/sbin:/sbin")
# The documented limits (deploy/nginx/asgi_blog.conf, docs/deployment.md).
CONNECTIONS_PER_ADDRESS = 50


def render_recipe(*, http_port: int, https_port: int, upstreams: list[int], tls: Path, static_root: Path) -> str:
    """The recipe with this test's ports, certificate and static files; loopback IPv4 only."""
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

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    def wss(self, path: str) -> str:
        return f"wss://127.0.0.1:{self.https_port}{path}"


@pytest.fixture(scope="module")
def site(server_env, private_redis, tmp_path_factory) -> Iterator[Site]:
    if NGINX is None:
        pytest.fail(
            "nginx is not installed: the deploy recipe test runs it. Install it with "
            "`sudo apt-get install nginx-light` (`make test` does so itself when run as root)."
        )
    env = {
        **server_env,
        "REDIS_URL": private_redis,
        "DJANGO_HTTPS": "1",
        "BLOG_TRUSTED_PROXIES": "127.0.0.1",
        "DJANGO_ALLOWED_HOSTS": f"{SERVER_NAME},127.0.0.1",
    }
    processes = [DaphneServer(env=env).start(), DaphneServer(env=env).start()]
    work = tmp_path_factory.mktemp("nginx")
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
        )
    )
    main_config = work / "nginx.conf"
    main_config.write_text(nginx_main_config(work, site_file))
    command = [NGINX, "-p", str(work), "-e", str(work / "error.log"), "-c", str(main_config), "-g", "daemon off;"]
    nginx = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        wait_for_port(https_port, nginx, f"nginx (see {work / 'error.log'})")
        yield Site(http_port, https_port, processes)
    finally:
        stop(nginx)
        for process in processes:
            process.stop()


def browser(**headers: str) -> aiohttp.ClientSession:
    """A client that reaches nginx by address but names the site, as a browser on SERVER_NAME would."""
    return aiohttp.ClientSession(
        cookie_jar=aiohttp.CookieJar(unsafe=True),
        headers={"Host": SERVER_NAME, **headers},
        connector=aiohttp.TCPConnector(ssl=False),
    )


async def test_healthz_answers_on_plain_http_and_everything_else_is_sent_to_https(site):
    async with aiohttp.ClientSession() as probe:
        # A probe by address: nginx names the site, or Django would refuse the host with 400.
        async with probe.get(f"http://127.0.0.1:{site.http_port}/healthz") as health:
            assert health.status == 200
            assert await health.json() == {"database": "ok", "channel_layer": "ok"}
        async with probe.get(f"http://127.0.0.1:{site.http_port}/blog/", allow_redirects=False) as page:
            assert page.status == 301
            assert page.headers["Location"] == "https://127.0.0.1/blog/"


async def test_pages_and_static_files_are_served_over_https(site):
    async with browser() as client:
        async with client.get(f"{site.https}/blog/", allow_redirects=False) as page:
            # 200, not a redirect: daphne believed nginx's X-Forwarded-Proto.
            assert page.status == 200
            assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        post_id = await first_published_post_id(site.processes[0], headers={"X-Forwarded-Proto": "https"})
        async with client.get(f"{site.https}/blog/posts/{post_id}/") as post_page:
            script = re.search(r'src="(/static/blog/live-comments\.[0-9a-f]{12}\.js)"', await post_page.text()).group(1)
        async with client.get(site.https + script) as static:
            assert static.status == 200
            # nginx's headers (expires 1y, add_header), not WhiteNoise's: nginx served the file.
            assert static.headers.getall("Cache-Control") == ["max-age=31536000", "public, immutable"]


async def log_in_through_nginx(client: aiohttp.ClientSession, site: Site, username: str) -> None:
    async with client.get(f"{site.https}/accounts/login/") as page:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', await page.text()).group(1)
    form = {"username": username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}
    async with client.post(
        f"{site.https}/accounts/login/", data=form, headers={"Origin": SITE_ORIGIN}, allow_redirects=False
    ) as login:
        assert login.status == 302, "login through nginx failed"


async def test_a_comment_over_a_socket_through_nginx_reaches_readers_on_both_processes(site):
    """Each process has a reader of its own; whichever process nginx chose for the writer, one is the other."""
    post_id = await first_published_post_id(site.processes[0], headers={"X-Forwarded-Proto": "https"})
    path = f"/ws/posts/{post_id}/comments/"
    async with browser() as writer, aiohttp.ClientSession() as readers:
        await log_in_through_nginx(writer, site, "writer")
        async with (
            writer.ws_connect(site.wss(path), origin=SITE_ORIGIN) as writer_ws,
            readers.ws_connect(site.processes[0].ws_url(path), origin=site.processes[0].origin) as first,
            readers.ws_connect(site.processes[1].ws_url(path), origin=site.processes[1].origin) as second,
        ):
            assert (await receive(writer_ws))["user"] == "writer"
            await receive(first), await receive(second)
            await writer_ws.send_json({"type": "comment.create", "body": "Through nginx", "client_id": "nginx-1"})
            for reader in (first, second):
                created = await receive(reader)
                assert (created["type"], created["comment"]["body"]) == ("comment.created", "Through nginx")


@pytest.mark.parametrize("origin", ["https://evil.example", f"http://{SERVER_NAME}"], ids=["foreign", "plain-http"])
async def test_a_socket_from_another_origin_is_refused_through_nginx(site, origin):
    post_id = await first_published_post_id(site.processes[0], headers={"X-Forwarded-Proto": "https"})
    async with browser() as client:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect(site.wss(f"/ws/posts/{post_id}/comments/"), origin=origin)
    assert refused.value.status == 403


async def test_nginx_limits_the_requests_of_one_address(site):
    """A few connections (far under the connection limit) asking as fast as they can soon get 429."""
    statuses: list[int] = []

    async def ask_until_refused(client: aiohttp.ClientSession) -> None:
        for _ in range(40):
            # A page Django answers cheaply (404), so the test measures nginx, not the app.
            async with client.get(f"{site.https}/no-such-page/") as response:
                statuses.append(response.status)
            if 429 in statuses:
                return

    async with browser() as client:
        await asyncio.gather(*(ask_until_refused(client) for _ in range(8)))
    assert 429 in statuses
    assert statuses[0] == 404


async def test_nginx_limits_the_connections_of_one_address(site):
    """Sockets are not rate limited but count as connections: past the limit, 429."""
    post_id = await first_published_post_id(site.processes[0], headers={"X-Forwarded-Proto": "https"})
    url = site.wss(f"/ws/posts/{post_id}/comments/")
    held = []
    async with browser() as client:
        try:
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                for _ in range(CONNECTIONS_PER_ADDRESS + 5):
                    held.append(await client.ws_connect(url, origin=SITE_ORIGIN))
            assert refused.value.status == 429
            assert CONNECTIONS_PER_ADDRESS - 5 <= len(held) <= CONNECTIONS_PER_ADDRESS
        finally:
            await asyncio.gather(*(ws.close() for ws in held))
