"""The outgoing proxy read from the environment, as httpx and curl read it."""

from __future__ import annotations

import pytest

from bot.frontends.proxy import proxy_for


@pytest.mark.parametrize(("url", "env", "proxy"), [
    ("https://api.telegram.org/bot1/getMe", {}, None),
    ("https://api.telegram.org/bot1/getMe", {"HTTPS_PROXY": "http://proxy:3128"},
     "http://proxy:3128"),
    ("https://api.telegram.org/bot1/getMe", {"https_proxy": "proxy.intern:8080"},
     "http://proxy.intern:8080"),
    ("https://api.telegram.org/bot1/getMe", {"HTTP_PROXY": "http://p:1"}, None),
    ("http://127.0.0.1:8081/bot1/getMe", {"HTTP_PROXY": "http://p:1"}, "http://p:1"),
    ("https://api.telegram.org/bot1/getMe", {"ALL_PROXY": "http://all:1"}, "http://all:1"),
    ("https://api.telegram.org/bot1/getMe",
     {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "telegram.org"}, None),
    ("https://api.telegram.org/bot1/getMe",
     {"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".telegram.org"}, None),
    ("https://api.telegram.org/bot1/getMe",
     {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "gram.org"}, "http://p:1"),
    ("https://api.telegram.org/bot1/getMe", {"HTTPS_PROXY": "http://p:1", "no_proxy": "*"},
     None),
    ("http://bot-api.intern:8081/bot1/getMe",
     {"HTTP_PROXY": "http://p:1", "NO_PROXY": "bot-api.intern:8081"}, None),
    ("http://bot-api.intern:8081/bot1/getMe",
     {"HTTP_PROXY": "http://p:1", "NO_PROXY": "bot-api.intern:9000"}, "http://p:1"),
    ("https://matrix.stadt.example/_matrix/client",
     {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "stadt.example:443"}, None),
    ("https://matrix.stadt.example/_matrix/client",
     {"HTTPS_PROXY": "http://p:1", "NO_PROXY": " localhost , .stadt.example "}, None),
])
def test_proxy_for_reads_the_environment_as_httpx_and_curl_do(
        url: str, env: dict[str, str], proxy: str | None) -> None:
    assert proxy_for(url, env) == proxy
