import http.client
import json
import threading
import urllib.error
import urllib.request

import pytest

from app import make_server

# Talk to 127.0.0.1 directly even if the environment sets an HTTP proxy.
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def base_url():
    """A fresh server (and store) per test, on a free port on the loopback address."""
    server = make_server("127.0.0.1", 0, version="1.2.3", quiet=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def call(url, body=None, raw=None):
    """GET, or POST when a body is given; returns (status, headers, decoded JSON)."""
    data = raw if raw is not None else None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with opener.open(req, timeout=5) as res:
            return res.status, res.headers, json.loads(res.read())
    except urllib.error.HTTPError as err:
        return err.code, err.headers, json.loads(err.read())


def test_healthz_reports_ok_and_version(base_url):
    status, headers, body = call(base_url + "/healthz")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert body == {"status": "ok", "version": "1.2.3"}


def test_items_start_empty(base_url):
    assert call(base_url + "/items")[::2] == (200, {"items": []})


def test_create_list_and_fetch(base_url):
    status, headers, body = call(base_url + "/items", {"name": "  apple ", "quantity": 3})
    assert (status, headers["Location"], body) == (201, "/items/1", {"id": 1, "name": "apple", "quantity": 3})
    call(base_url + "/items", {"name": "pear"})
    assert call(base_url + "/items")[2]["items"] == [
        {"id": 1, "name": "apple", "quantity": 3},
        {"id": 2, "name": "pear", "quantity": 1},
    ]
    assert call(base_url + "/items/2")[::2] == (200, {"id": 2, "name": "pear", "quantity": 1})


def test_accepts_name_at_limit_and_zero_quantity(base_url):
    status, _, body = call(base_url + "/items", {"name": "x" * 100, "quantity": 0})
    assert (status, body["quantity"]) == (201, 0)


def test_unknown_item_is_404(base_url):
    for item_id in ("42", "abc"):
        status, _, body = call(f"{base_url}/items/{item_id}")
        assert (status, body["error"]) == (404, f"no item with id {item_id}")


def test_refuses_invalid_items_and_stores_nothing(base_url):
    cases = [
        ({"quantity": 1}, "name is required"),
        ({"name": "   "}, "name is required"),
        ({"name": "x" * 101}, "at most 100"),
        ({"name": "a", "quantity": -1}, "quantity"),
        ({"name": "a", "quantity": 1.5}, "quantity"),
        ({"name": "a", "quantity": True}, "quantity"),
        ([{"name": "a"}], "JSON object"),
    ]
    for body, message in cases:
        status, _, reply = call(base_url + "/items", body)
        assert status == 400, body
        assert message in reply["error"], (body, reply)
    assert call(base_url + "/items")[2] == {"items": []}


def test_refuses_malformed_json(base_url):
    status, _, body = call(base_url + "/items", raw=b'{"name": ')
    assert (status, body["error"].startswith("invalid request body")) == (400, True)


def test_refuses_body_over_10kb(base_url):
    status, _, body = call(base_url + "/items", {"name": "a", "pad": "x" * 11 * 1024})
    assert (status, body["error"]) == (413, "body must be at most 10240 bytes")


def test_requires_content_length(base_url):
    conn = http.client.HTTPConnection(base_url.removeprefix("http://"), timeout=5)
    conn.putrequest("POST", "/items")
    conn.endheaders()
    assert conn.getresponse().status == 411
    conn.close()


def test_unknown_routes_are_404(base_url):
    assert call(base_url + "/nope")[::2] == (404, {"error": "no route for GET /nope"})
    assert call(base_url + "/nope", {"name": "a"})[::2] == (404, {"error": "no route for POST /nope"})
