"""The rules benchmark's parts: the generated pack, its translations, the synthetic inquiries.

Why a package: ``bench/rules_bench.py`` stays the entry point (check, time, report) and each
module here does one job, so a change to the pack or to one baseline is read in one place.
"""
