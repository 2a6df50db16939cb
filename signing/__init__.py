"""Digital signatures for Qujat: keys, PAdES and CMS signing, verification and QR verification links.

Pure Python on purpose: nothing here imports Django, so the CLI and tests run without settings.
"""
