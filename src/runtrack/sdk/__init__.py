"""The Azure-ML-shaped user API: Workspace, Experiment, Run."""
