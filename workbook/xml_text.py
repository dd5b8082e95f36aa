"""Text made safe for XML, as `xml.sax.saxutils` makes it (same output), without its import.

`xml.sax.saxutils` imports `urllib.request`, and with it `http.client` and `email`: about 25 ms of a
class set's start-up spent on modules no workbook needs."""

from __future__ import annotations


def escape(text: str) -> str:
    """&, < and > as entities (`saxutils.escape`)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def quoteattr(text: str) -> str:
    """An attribute value with its quotes (`saxutils.quoteattr`): double quotes unless the text holds one."""
    text = escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' in text:
        if "'" in text:
            return '"{}"'.format(text.replace('"', "&quot;"))
        return f"'{text}'"
    return f'"{text}"'
