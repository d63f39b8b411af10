"""Use cases that read and write through `storage/`: assessments, periods, meetings,
attendance, evaluation, planning and sending notifications, membership.

They import `bot.rules`, `bot.render`, `bot.core` and `storage`, never handlers or channels.
"""
