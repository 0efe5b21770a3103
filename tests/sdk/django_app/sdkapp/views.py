"""The same API as the Node test apps (tests/sdk/node/routes.js)."""

import json
import time

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

ITEMS = {1: "Umbrella", 2: "Raincoat", 42: "Towel"}


def _respond(request, data, status=200):
    response = JsonResponse(data, status=status)
    # Customer identified by the app itself: it tags the RESPONSE with treblle-user-id.
    user = request.headers.get("x-test-user") or request.GET.get("as_user")
    if user:
        response["treblle-user-id"] = user
    return response


def item(request, item_id):
    if item_id not in ITEMS:
        return _respond(request, {"error": "not found"}, status=404)
    return _respond(request, {"id": item_id, "name": ITEMS[item_id]})


@csrf_exempt
def orders(request):
    if request.method != "POST":
        return _respond(request, {"error": "method not allowed"}, status=405)
    body = json.loads(request.body or b"{}")
    response = _respond(
        request,
        {"order_id": 1001, "item_id": body.get("item_id", 1), "quantity": body.get("quantity", 1), "status": "created"},
        status=201,
    )
    # A session cookie on the response, as a header: the SDK sends response headers (not
    # Django's response.cookies) to Treblle, unmasked.
    response["Set-Cookie"] = "order_session=SECRET-set-cookie-from-app; HttpOnly; Path=/"
    return response


def profile(request, user_id):
    return _respond(request, {"id": user_id, "name": f"User {user_id}", "plan": "pro"})


def slow(request):
    ms = min(int(request.GET.get("ms", 200)), 5000)
    time.sleep(ms / 1000)
    return _respond(request, {"slept_ms": ms})


def search(request):
    return _respond(request, {"q": request.GET.get("q", ""), "results": []})
