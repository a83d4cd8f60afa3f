"""The bad-input corpus: tables of user mistakes, run by tests/test_bad_inputs.py."""
