"""Pyrometer core: model, analyses, formats, recording, launch and attach. Never imports Qt."""
