"""Enumerate every named URL route of the project (UI, API, admin)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver


def all_route_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns: list, namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, ns)
            elif isinstance(entry, URLPattern):
                if entry.name is None and namespace == "admin:":
                    continue  # the admin's legacy redirect to the change view; checked via admin_routes()
                if entry.name is None:
                    raise AssertionError(f"unnamed route {entry.pattern!s}: every route needs a name")
                names.add(f"{namespace}{entry.name}")

    walk(get_resolver().url_patterns, "")
    return names


def admin_routes() -> list[tuple[str, list[str]]]:
    """(name, parameter names) of every admin route."""
    from django.contrib import admin

    routes = []
    for pattern in admin.site.urls[0]:
        stack = [pattern]
        while stack:
            entry = stack.pop()
            if isinstance(entry, URLResolver):
                stack.extend(entry.url_patterns)
            elif entry.name:  # unnamed ones only redirect to the named change view
                routes.append((entry.name, list(entry.pattern.regex.groupindex)))
    return routes
