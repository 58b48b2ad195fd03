"""runtrack's stand-in for the ``azureml`` namespace (see ``runtrack_azureml``).

Imported only when no real ``azureml`` package is installed; says so once on stderr.
"""

import sys

from runtrack._version import __version__ as _version

sys.stderr.write(
    f"runtrack {_version}: azureml-core is not installed, so 'azureml' imports are served "
    "by runtrack (docs/porting.md; RUNTRACK_AZUREML_SHIM=0 turns this off)\n"
)
