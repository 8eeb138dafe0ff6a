"""ASGI entry point: HTTP goes to Django, WebSockets to the Channels router.

Both first pass through TrustedProxyMiddleware, which takes the client address
and scheme from a proxy listed in BLOG_TRUSTED_PROXIES (and from no one else),
so pages, django-axes, the comment limits and the socket see the same address.
The WebSocket side accepts only the site's own origin (or CSRF_TRUSTED_ORIGINS),
logging refusals, then admits at most BLOG_HANDSHAKES_IN_FLIGHT handshakes at
once (realtime/admission.py: the others are told with 1013 when to come back,
before any session or database work), and reads the same Django session as HTTP
(a read-only, fallback-aware version of Channels' AuthMiddlewareStack).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asgi_blog.settings")
# Set up Django before importing anything that touches models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from asgi_blog.gc_tuning import tune_for_long_lived_sockets  # noqa: E402
from asgi_blog.proxy import TrustedProxyMiddleware  # noqa: E402
from asgi_blog.startup import require_collected_static_files  # noqa: E402
from realtime.admission import HandshakeAdmission  # noqa: E402
from realtime.auth import SessionAuthMiddlewareStack  # noqa: E402
from realtime.origin import SiteOriginValidator  # noqa: E402
from realtime.routing import websocket_urlpatterns  # noqa: E402

# With debug off and no `collectstatic`, stop here with a message rather than answer 500 on every page.
require_collected_static_files()

tune_for_long_lived_sockets()

application = TrustedProxyMiddleware(
    ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": SiteOriginValidator(
                HandshakeAdmission(SessionAuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
            ),
        }
    )
)
