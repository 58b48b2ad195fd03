"""Readable run ids and friendly display names."""

from __future__ import annotations

import time

_ADJECTIVES = (
    "amber",
    "brave",
    "calm",
    "clever",
    "crisp",
    "eager",
    "gentle",
    "golden",
    "happy",
    "keen",
    "lively",
    "lucid",
    "mellow",
    "nimble",
    "quiet",
    "rapid",
    "sharp",
    "silver",
    "steady",
    "sunny",
    "swift",
    "tidy",
    "vivid",
    "warm",
    "wise",
    "bold",
    "bright",
    "cosmic",
    "frosty",
    "jolly",
)
_NOUNS = (
    "anchor",
    "apple",
    "badger",
    "cloud",
    "comet",
    "falcon",
    "fern",
    "garden",
    "harbor",
    "island",
    "kettle",
    "lantern",
    "maple",
    "meadow",
    "otter",
    "panda",
    "pepper",
    "pine",
    "river",
    "rocket",
    "sail",
    "spruce",
    "stone",
    "tiger",
    "tulip",
    "valley",
    "willow",
    "yak",
    "zebra",
    "orbit",
)


def new_run_id(experiment: str) -> str:
    """``<experiment>_<unix seconds>_<8 hex>``: sortable, readable, unique."""
    import uuid  # (platform) not at import time

    return f"{experiment}_{int(time.time())}_{uuid.uuid4().hex[:8]}"


def new_display_name() -> str:
    """``<adjective>_<noun>_<4 digits>``, drawn from the OS's randomness: the program's
    ``random`` state is neither used nor changed (nor is a generator seeded per call)."""
    import random

    rng = random.SystemRandom()
    return f"{rng.choice(_ADJECTIVES)}_{rng.choice(_NOUNS)}_{rng.randrange(10_000):04d}"
