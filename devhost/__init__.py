"""Runs the Functions app locally without Azure Functions Core Tools.

It serves the app's HTTP routes, feeds its queue function from the storage queue and
fires its timer, calling the same function objects the Functions runtime calls.
"""
