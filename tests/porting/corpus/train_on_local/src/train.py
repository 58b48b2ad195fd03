import os

import joblib
from azureml.core.run import Run
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import train_test_split

os.makedirs("./outputs", exist_ok=True)
X, y = load_diabetes(return_X_y=True)
run = Run.get_context()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
alphas = [0.0, 0.5, 1.0]
for alpha in alphas:
    reg = Ridge(alpha=alpha).fit(X_train, y_train)
    preds = reg.predict(X_test)
    mse = mean_squared_error(preds, y_test)
    run.log("alpha", alpha)
    run.log("mse", mse)
    model_file_name = f"ridge_{alpha:.2f}.pkl"
    with open(model_file_name, "wb") as file:
        joblib.dump(value=reg, filename=os.path.join("./outputs/", model_file_name))
    print(f"alpha is {alpha:.2f}, and mse is {mse:0.2f}")
