"""One trial of the sweep: Ridge regression on scikit-learn's diabetes data with the
``--alpha`` HyperDrive passes; logs ``mse`` once per (pretend) epoch so early-termination
policies have intervals to compare."""

import argparse
import os

import joblib
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

from runtrack import Run

parser = argparse.ArgumentParser()
parser.add_argument("--alpha", type=float, default=1.0)
parser.add_argument("--epochs", type=int, default=3)
args = parser.parse_args()

run = Run.get_context()
features, target = load_diabetes(return_X_y=True)
x_train, x_test, y_train, y_test = train_test_split(features, target, test_size=0.2, random_state=0)
model = Ridge(alpha=args.alpha).fit(x_train, y_train)
mse = mean_squared_error(y_test, model.predict(x_test))
run.log("alpha", args.alpha)
for _ in range(args.epochs):
    run.log("mse", mse)
os.makedirs("outputs", exist_ok=True)
joblib.dump(model, "outputs/model.pkl")
print(f"alpha {args.alpha:.3f}: mse {mse:.2f}")
