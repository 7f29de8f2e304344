"""The interactive set-up: the only package that prompts.

flow.py runs the steps; questions.py holds the questions, flags and answer checks as data; terminal.py is what a
real terminal supplies (questionary, a spinner, the gateway calls), injected so tests drive every branch with
scripted answers.
"""
