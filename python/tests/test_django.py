"""The Django decorator through RequestFactory: 204, 400, 401, 405 and 413,
the secret from settings, and ``request.body``/``request.POST`` read again in
the view."""

from __future__ import annotations

import json
import time

import django
from django.conf import settings

if not settings.configured:
    settings.configure(WEBHOOK_SECRET="unset", ALLOWED_HOSTS=["testserver"], USE_TZ=True)
    django.setup()

from django.http import HttpRequest, HttpResponse, JsonResponse  # noqa: E402
from django.test import RequestFactory, override_settings  # noqa: E402

from conftest import SECRET, signed  # noqa: E402
from webhook_signature.django import VerifiedDelivery, verified_webhook  # noqa: E402

factory = RequestFactory()
calls: list[str] = []


@verified_webhook(max_body=1024)
def receive(request: HttpRequest, delivery: VerifiedDelivery, source: str = "") -> HttpResponse:
    calls.append(delivery.id)
    return JsonResponse({"id": delivery.id, "source": source, "body": json.loads(request.body), "post": request.POST.dict()})


@verified_webhook(SECRET, max_body=1024)
async def receive_async(request: HttpRequest, delivery: VerifiedDelivery) -> HttpResponse:
    return HttpResponse(request.body, status=200)


def post(body: bytes, headers: dict[str, str], content_type: str = "application/json") -> HttpRequest:
    return factory.post("/hook", data=body, content_type=content_type, headers=headers)


def test_a_verified_delivery_reaches_the_view_which_reads_the_body_again() -> None:
    body = b'{"test": 2432232314}'
    with override_settings(WEBHOOK_SECRET=SECRET):
        response = receive(post(body, signed(body, msg_id="msg_dj")), source="billing")
    assert response.status_code == 200
    assert json.loads(response.content) == {"id": "msg_dj", "source": "billing", "body": {"test": 2432232314}, "post": {}}
    assert getattr(receive, "csrf_exempt", False)


def test_a_form_body_is_parsed_after_verification() -> None:
    body = b"a=1"
    # The view's json.loads(request.body) fails on a form: read POST only through a form view.
    request = post(body, signed(body), content_type="application/x-www-form-urlencoded")

    @verified_webhook(max_body=1024)
    def form(request: HttpRequest, delivery: VerifiedDelivery) -> HttpResponse:
        return JsonResponse({"post": request.POST.dict(), "body": request.body.decode()})

    with override_settings(WEBHOOK_SECRET=SECRET):
        assert json.loads(form(request).content) == {"post": {"a": "1"}, "body": "a=1"}


def test_refusals_never_reach_the_view() -> None:
    body = b'{"test": 1}'
    before = len(calls)
    cases = [
        (post(body + b" ", signed(body)), 401),
        (post(body, signed(body, timestamp=int(time.time()) - 3600)), 401),
        (post(body, {k: v for k, v in signed(body).items() if k != "webhook-signature"}), 400),
        (post(body, {**signed(body), "webhook-timestamp": "soon"}), 400),
        (post(b"x" * 2000, signed(b"x" * 2000)), 413),
        (factory.get("/hook", headers=signed(body)), 405),
    ]
    for request, status in cases:
        with override_settings(WEBHOOK_SECRET=SECRET):
            response = receive(request)
        assert response.status_code == status
        assert b"signature" not in response.content.lower()
    assert len(calls) == before


def test_an_async_view() -> None:
    import asyncio

    body = b'{"test": 2}'
    response = asyncio.run(receive_async(post(body, signed(body))))
    assert (response.status_code, response.content) == (200, body)
    assert asyncio.run(receive_async(post(body + b" ", signed(body)))).status_code == 401
