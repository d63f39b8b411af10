"""Pure domain rules, no I/O: criteria frameworks, scoring (the one definition of each
rule), the meeting calendar and the assessment flow.

The ground floor: anything may use it; it imports only `bot.core`.
"""
