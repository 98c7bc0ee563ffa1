"""The report and verdict model, the review rules and the HTTP API handlers."""
