import os

from azureml.core import Run

run = Run.get_context()
print("scoring on", os.environ.get("AZUREML_RUN_ID"))
os.makedirs("outputs/checkpoints", exist_ok=True)
for epoch in range(3):
    with open(f"outputs/checkpoints/epoch={epoch}.ckpt", "w") as f:
        f.write(str(epoch))
    run.log("epoch", epoch)
