"""Forget old sign-ins (the sessions page's records), keeping BLOG_SIGN_IN_HISTORY_DAYS of them.

The records of ended sessions are what tells a usual device and address from a new one
(a new pair sends a sign-in notice), so they are kept a while, not for ever: where someone
signed in from is personal data. Meant for a timer (deploy/systemd/).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from blog.accounts.sessions.services import sign_ins_prune


class Command(BaseCommand):
    help = "Delete sign-in records that ended, or were last seen, more than BLOG_SIGN_IN_HISTORY_DAYS ago."

    def handle(self, *args: object, **options: object) -> None:
        older_than = timezone.now() - timedelta(days=settings.BLOG_SIGN_IN_HISTORY_DAYS)
        self.stdout.write(f"removed {sign_ins_prune(older_than=older_than)} sign-in records")
