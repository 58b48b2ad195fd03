# A pipeline-step script: it reports to its own run and to the parent (pipeline) run
import argparse
import os

from azureml.core import Run

parser = argparse.ArgumentParser()
parser.add_argument("--rows", type=int)
args = parser.parse_args()

run = Run.get_context()
parent = run.parent
run.log("rows", args.rows)
parent.log("prep_rows", args.rows)
parent.tag("stage", "prepared")
parent.add_properties({"prep_step": run.id})
os.makedirs("outputs", exist_ok=True)
with open("outputs/prepped.csv", "w") as f:
    f.write("a,b\n" * args.rows)
run.complete()
