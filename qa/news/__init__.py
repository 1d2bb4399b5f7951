"""News-aware answers: what an article's words mean in time (``timex``: time expressions found and
resolved against the article's date), what a question asks of time (``question_time``), who
published an article and under which headline (``outlets``, ``headline``), teasers inside story
bodies (``teasers``), and answers that changed between reports of different dates (``changed``).
Each module stands alone; import the one you need."""
