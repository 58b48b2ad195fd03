"""Every limit runtrack enforces, in one place (listed in docs/limits.md).

They are far above Azure ML's service limits on purpose: a tracker should not make
people encode variables into fewer metric names. Each is checked at the call that
would exceed it, with a :class:`runtrack.errors.LimitExceededError` that names it.
"""

from __future__ import annotations

MAX_METRIC_NAME_LENGTH = 255
MAX_METRIC_NAMES_PER_RUN = 10_000
MAX_STRING_VALUE_LENGTH = 10_000
MAX_TABLE_COLUMNS = 1_000
MAX_TAGS_PER_RUN = 1_000
MAX_TAG_KEY_LENGTH = 250
MAX_TAG_VALUE_LENGTH = 5_000
MAX_PROPERTIES_PER_RUN = 1_000
MAX_DISPLAY_NAME_LENGTH = 256
MAX_DESCRIPTION_LENGTH = 5_000
MAX_EXPERIMENT_NAME_LENGTH = 255
MAX_ARTIFACT_PATH_LENGTH = 5_000
MAX_CHILDREN_PER_CALL = 100
MAX_RUN_ID_LENGTH = 256
MAX_ERROR_MESSAGE_LENGTH = 20_000
MAX_BATCH_RECORDS = 100_000
MAX_LOG_LINE_CHARS = 2_000
MAX_INDEXED_LOG_LINES_PER_RUN = 1_000_000
SNAPSHOT_MAX_BYTES = 300 * 1024 * 1024
SNAPSHOT_MAX_FILES = 2_000

ALL: dict[str, int] = {
    name: value for name, value in globals().items() if name.startswith(("MAX_", "SNAPSHOT_"))
}
