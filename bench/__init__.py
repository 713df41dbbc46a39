"""Performance benchmarks, measured in a real pseudo-terminal.

``python -m bench`` prints ``name=value`` lines on stdout and diagnostics on stderr.
The harness (:mod:`bench.pty_driver`) runs a program in a pty as a user over SSH
would see it, renders what it writes with pyte, and times key presses to the end
of the frame they cause. Ratios compare sportello with a bare Textual app
(:mod:`bench.bare_app`) measured side by side in the same run.
"""
