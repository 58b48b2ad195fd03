"""Sweep Ridge regression's alpha on scikit-learn's diabetes data; log alpha and mse."""

import os

import joblib
from mylib import get_alphas
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

from runtrack import Run

os.makedirs("./outputs", exist_ok=True)
run = Run.get_context()  # the submitted run (an offline run when started by hand)

features, target = load_diabetes(return_X_y=True)
x_train, x_test, y_train, y_test = train_test_split(features, target, test_size=0.2, random_state=0)

for alpha in get_alphas():
    model = Ridge(alpha=alpha).fit(x_train, y_train)
    mse = mean_squared_error(model.predict(x_test), y_test)
    run.log("alpha", alpha)
    run.log("mse", mse)
    joblib.dump(model, f"./outputs/ridge_{alpha:.2f}.pkl")
    print(f"alpha is {alpha:.2f}, and mse is {mse:0.2f}")
