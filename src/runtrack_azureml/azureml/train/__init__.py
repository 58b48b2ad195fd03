"""``azureml.train`` (HyperDrive lives in ``azureml.train.hyperdrive``)."""
