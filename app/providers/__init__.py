"""Clients, keys, prices and the response cache (no Qt).

Importing this package first makes the `openai` SDK's type packages lazy (`lazy_sdk_types`), so
every module here that imports `openai` skips building the ~470 type modules a chat never uses.
"""

from app.providers import lazy_sdk_types

lazy_sdk_types.install()
