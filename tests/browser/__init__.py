"""Browser tests: the whole dialogue in Chromium, through the pages a person uses."""
