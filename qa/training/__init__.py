"""Training the span reader: data preparation (``data``), the training loop (``train``), scoring on
the tuning split (``tuning``), weight handling (``weights``) and export of the shipped weights
(``export``). Nothing in ``qa.reader`` or the run-time pipeline imports this package."""
