"""Follow-up questions, answered extractively: a conversation is data (``Conversation`` of
``Turn``s), ``FollowUpResolver`` reads a question against it, ``ConversationalAsker`` answers it
through the Pipeline with history-aware retrieval and a standalone rewrite for the reader."""
from .asker import ConversationalAsker, Reply
from .expand import HistoryExpander
from .resolve import FollowUpResolver, Resolution
from .search import HistorySearch
from .turns import Conversation, Turn

__all__ = ["Conversation", "ConversationalAsker", "FollowUpResolver", "HistoryExpander", "HistorySearch",
           "Reply", "Resolution", "Turn"]
