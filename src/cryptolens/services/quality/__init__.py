"""Zone-quality models: training from stored history, versioned files, predictions."""
