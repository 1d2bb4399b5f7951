"""News-aware answers: what an article's words mean in time (``timex``: time expressions found and
resolved against the article's date) and what a question asks of time (``question_time``)."""
