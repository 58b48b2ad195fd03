import argparse

import numpy as np
from azureml.core import Run
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

parser = argparse.ArgumentParser()
parser.add_argument("--reg_rate", type=float, dest="reg", default=0.01)
parser.add_argument("--max-iter", type=int, default=200)
args = parser.parse_args()

run = Run.get_context()
X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
run.log("Regularization Rate", np.float64(args.reg))
model = LogisticRegression(C=1 / args.reg, max_iter=args.max_iter).fit(X_train, y_train)
acc = np.average(model.predict(X_test) == y_test)
run.log("Accuracy", np.float64(acc))
run.log_list("classes", sorted(set(int(c) for c in y)))
run.complete()
