"""The screens: the dashboard, one conversation, help.

Each screen lives in its own module and is imported from there
(``sportello.screens.conversation.ConversationScreen``); this package imports nothing,
so that loading one screen never loads the others.
"""
