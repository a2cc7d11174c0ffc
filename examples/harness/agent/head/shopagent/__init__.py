"""MangaAssist's stock agent: a Converse tool loop over the shop's catalogue."""
