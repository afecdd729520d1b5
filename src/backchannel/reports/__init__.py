"""Reports: the readouts (HTML and PDF) and the charts they share with the pages.

Pure rendering below the services: each function takes what an audience may see and
returns bytes or text, deterministically (no clock, no network, no storage).
"""
