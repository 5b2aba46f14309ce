"""Warms the parsers once, in the parser processes' fork server, when it is imported.

`ParserPool` names this module as the fork server's preload: the server imports
unstructured's partitioners and loads spaCy once, and every parser process forked
from it starts warm in milliseconds instead of seconds. Nothing else imports it.
"""

from __future__ import annotations

from ingest.extract import Extractor

Extractor().warm_up()
