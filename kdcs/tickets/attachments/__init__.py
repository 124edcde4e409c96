"""Evidence on a ticket (举证材料): uploads, paste from the clipboard, thumbnails, removal with a
reason, admin purge (``service``, ``routes``) and the per-reason evidence checklist
(``checklist``: seeded items, admin editing, what a ticket still misses)."""
