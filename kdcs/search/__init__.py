"""Chinese full-text search: the app builds its own index from overlapping character pairs.

* ``text`` — folding, words, tokens (pure Python, the same for every database);
* ``index`` — ``SearchIndex(name)``: the ``search_<name>`` table (FTS5 on SQLite,
  tsvector + GIN on PostgreSQL), put/delete/search/browse;
* ``highlight`` — ``<mark>`` highlights and snippets on the original text.

Why this design (measured for issue 10): FTS5's trigram tokenizer finds nothing
for a two-character query, jieba segmentation misses substrings, ``pg_trgm``
gives no trigrams for CJK in a C-locale database; character pairs searched as
phrases match exactly the documents that contain the query, on both databases.
"""

from .highlight import highlight, match_spans, snippet
from .index import Hit, Result, SearchIndex, is_search_table
from .text import fold, matches, query_words, tokens, words

__all__ = [
    "Hit", "Result", "SearchIndex", "fold", "highlight", "is_search_table", "match_spans", "matches",
    "query_words", "snippet", "tokens", "words",
]
