"""Server-rendered HTML pages. Every value is escaped with html.escape."""

from __future__ import annotations

from html import escape
from typing import Any

CSS = """
body { font-family: system-ui, sans-serif; margin: 0; background: #f5f6fa; color: #1c2030; }
header { background: #23306b; color: #fff; padding: 1rem 2rem; }
header a { color: #fff; text-decoration: none; font-weight: 600; }
main { max-width: 52rem; margin: 2rem auto; background: #fff; padding: 2rem; border-radius: 10px; }
table { border-collapse: collapse; width: 100%; margin-bottom: 1.5rem; }
th, td { text-align: left; padding: .5rem; border-bottom: 1px solid #e4e6ef; }
.error { border-left: 6px solid #c0392b; padding-left: 1rem; }
.error code { background: #f6eceb; }
form.inline { display: inline; }
input, textarea { width: 100%; padding: .4rem; margin: .2rem 0 .8rem; box-sizing: border-box; }
button { padding: .45rem 1rem; }
footer { color: #6b7185; font-size: .85rem; margin-top: 2rem; }
"""

HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def layout(title: str, body: str, app_name: str, backend_url: str) -> str:
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f"<header><a href=\"/\">{escape(app_name)}</a></header><main>{body}"
        f"<footer>Frontend {escape(app_name)} &middot; data from the backend API at "
        f"<code>{escape(backend_url)}</code></footer></main></body></html>"
    )


def items_page(items: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{int(item['id'])}</td><td><a href=\"/items/{int(item['id'])}\">{escape(str(item['name']))}</a></td>"
        f"<td>{escape(str(item.get('description', '')))}</td>"
        f"<td><form class=\"inline\" method=\"post\" action=\"/items/{int(item['id'])}/delete\">"
        "<button type=\"submit\">Delete</button></form></td></tr>"
        for item in items
    )
    table = (
        "<table><thead><tr><th>#</th><th>Name</th><th>Description</th><th></th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        if items
        else "<p>No items yet.</p>"
    )
    form = (
        "<h2>Add an item</h2><form method=\"post\" action=\"/items\">"
        "<label>Name<input name=\"name\" required maxlength=\"200\"></label>"
        "<label>Description<textarea name=\"description\" maxlength=\"2000\"></textarea></label>"
        "<button type=\"submit\">Add</button></form>"
    )
    return f"<h1>Items</h1>{table}{form}"


def item_page(item: dict[str, Any]) -> str:
    return (
        f"<h1>{escape(str(item['name']))}</h1><p>{escape(str(item.get('description', '')))}</p>"
        f"<p>Created {escape(str(item.get('created_at', '')))}, updated {escape(str(item.get('updated_at', '')))}</p>"
        "<p><a href=\"/\">Back to the list</a></p>"
    )


def error_page(status_code: int, title: str, explanation: str) -> str:
    return (
        f"<div class=\"error\"><h1>{status_code} &ndash; {escape(title)}</h1>"
        f"<p>{escape(explanation)}</p>"
        "<p>The frontend itself is running; only the data from the backend is missing. "
        "Reload the page in a moment.</p></div><p><a href=\"/\">Back to the list</a></p>"
    )
