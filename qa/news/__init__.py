"""News-specific reading: who published an article and under which headline (``outlets``,
``headline``), teasers inside story bodies (``teasers``), and answers that changed between reports
of different dates (``changed``). Each module stands alone; import the one you need."""
