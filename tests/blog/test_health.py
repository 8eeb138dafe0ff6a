from __future__ import annotations

import pytest
from django.db import connection

from blog import health

pytestmark = pytest.mark.django_db(transaction=True)


async def test_healthz_reports_both_parts_up(async_client):
    response = await async_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "channel_layer": "ok"}
    assert "no-cache" in response["Cache-Control"]


async def test_healthz_names_a_channel_layer_that_is_down(async_client, monkeypatch):
    async def layer_down():
        raise ConnectionError("redis is down")

    monkeypatch.setattr(health, "channel_layer_answers", layer_down)
    response = await async_client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "channel_layer": "down"}


async def test_healthz_names_a_database_that_is_down(async_client, monkeypatch):
    def database_down():
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(health, "database_answers", database_down)
    response = await async_client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "down", "channel_layer": "ok"}
