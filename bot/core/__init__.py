"""The vocabulary every floor shares: settings, channel-neutral chat messages, translation.

Imports nothing of chibo's but itself.
"""
