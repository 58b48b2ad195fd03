import sys

import sklearn
from azureml.core import Run

run = Run.get_context()
run.log("sklearn", sklearn.__version__)
run.log("in_venv", sys.prefix != sys.base_prefix)
